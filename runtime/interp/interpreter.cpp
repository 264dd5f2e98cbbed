#include "runtime/interp/interpreter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "runtime/handlers/plate.hpp"
#include "runtime/handlers/scale.hpp"
#include "runtime/handlers/trace.hpp"
#include "stdlib/dist/checks.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::interp {

using handlers::Message;
using handlers::MsgType;

std::int64_t to_int(double x, lang::Span span, const char* what) {
  if (!(std::floor(x) == x) || std::abs(x) > 9.0e15)
    throw RunError(span, fmt::format("{} must be a whole number; got {}", what, x));
  return static_cast<std::int64_t>(x);
}

RunError site_error(const ir::Site* site, const std::string& name, const std::exception& e) {
  rethrow_tape_limit(site ? site->span : lang::Span{}, e);
  return RunError(site ? site->span : lang::Span{}, fmt::format("at site '{}': {}", name, e.what()))
      .set_numeric(dynamic_cast<const dist::ParameterError*>(&e) != nullptr);
}

ad::IntTensor to_ints(const ad::Var& v, lang::Span span, const char* what) {
  const double* p = v.data();
  std::vector<std::int64_t> out(static_cast<std::size_t>(v.numel()));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = to_int(p[i], span, what);
  return ad::IntTensor(v.shape(), std::move(out));
}

void Interpreter::run(ir::BodyId body) {
  for (auto& o : scratch_->loop_occurrences) {
    o.seen.clear();
    o.increasing = true;
  }
  scratch_->repeated.clear();
  scratch_->plain_occurrences.assign(ctx_.graph().sites.size(), 0);
  depth_ = 0;
  sites_ = 0;
  ctx_.check_deadline_now(ctx_.graph().body(body).span);
  Frame f;
  f.body = &ctx_.graph().body(body);
  f.slots.resize(f.body->slot_names.size());
  f.bound.assign(f.body->slot_names.size(), false);
  exec_block(f, f.body->stmts);
}

Value Interpreter::eval_data_expr(ir::ExprId e) {
  Frame f;
  f.body = &ctx_.graph().body(ctx_.graph().data_body);
  f.slots.resize(f.body->slot_names.size());
  f.bound.assign(f.body->slot_names.size(), false);
  return eval(f, e);
}

Interpreter::Flow Interpreter::exec_block(Frame& f, const std::vector<ir::Stmt>& stmts) {
  for (const auto& s : stmts) {
    try {
      if (exec(f, s) == Flow::Return) return Flow::Return;
    } catch (const ad::TapeLimitError& e) {  // innermost statement first; then it is a RunError
      rethrow_tape_limit(s.span, e);
    }
  }
  return Flow::Next;
}

Interpreter::Flow Interpreter::exec(Frame& f, const ir::Stmt& s) {
  using K = ir::StmtKind;
  switch (s.kind) {
    case K::Observe:
    case K::Factor:
      if (latent_only_) return Flow::Next;
      if (s.kind == K::Factor) {
        exec_site(f, s);
        return Flow::Next;
      }
      [[fallthrough]];
    case K::Sample:
    case K::Deterministic:
      exec_site(f, s);
      return Flow::Next;
    case K::Param:
      exec_param(f, s);
      return Flow::Next;
    case K::Let:
    case K::Assign:
      f.slots[static_cast<std::size_t>(s.slot)] = eval(f, s.value);
      f.bound[static_cast<std::size_t>(s.slot)] = true;
      return Flow::Next;
    case K::Plate:
      return exec_plate(f, s);
    case K::For: {
      std::int64_t lo = eval_int(f, s.value, "a loop bound");
      std::int64_t hi = eval_int(f, s.value2, "a loop bound");
      // As one batch, when the step allows it (Context::batch_loops) and the
      // loop is no longer than the sites limit and 2^24 iterations: a longer
      // one runs one iteration at a time, as it would without batches, and
      // meets the sites or the time limit; nothing of its size is allocated.
      if (s.batchable && hi - lo > 1 && hi - lo <= std::min<std::int64_t>(ctx_.limits().max_sites, 1 << 24) &&
          ctx_.batch_loops() &&
          ctx_.open_plates().empty() && depth_ == 0 && !batch_.on &&
          std::find(ctx_.data().missing.begin(), ctx_.data().missing.end(), true) == ctx_.data().missing.end())
        if (std::optional<Flow> flow = exec_batched_for(f, s, lo, hi)) return *flow;
      for (std::int64_t i = lo; i < hi; ++i) {
        ctx_.check_deadline(s.span);
        f.slots[static_cast<std::size_t>(s.slot)] = Value{ctx_.tape().constant(static_cast<double>(i)), Kind::Int, {}};
        f.bound[static_cast<std::size_t>(s.slot)] = true;
        if (exec_block(f, s.body) == Flow::Return) return Flow::Return;
      }
      return Flow::Next;
    }
    case K::If: {
      Value c = eval(f, s.value);
      if (c.var.numel() != 1)
        throw RunError(f.body->expr(s.value).span,
                       fmt::format("an `if` condition must be one value; this one has shape {}", ad::to_string(c.var.shape())),
                       "use `where`-style arithmetic for per-element choices, or reduce with sum/min/max");
      if (c.var.item() != 0) return exec_block(f, s.body);
      if (s.has_else) return exec_block(f, s.else_body);
      return Flow::Next;
    }
    case K::Return:
      f.ret = eval(f, s.value);
      return Flow::Return;
    case K::Scale: {
      double w = eval_number(f, s.value, "a scale weight");
      if (!(w >= 0) || !std::isfinite(w))
        throw RunError(s.span, fmt::format("a scale weight must be finite and non-negative; got {}", w));
      handlers::ScaleHandler h(w);
      handlers::HandlerStack::Scoped scope(ctx_.handlers(), h);
      return exec_block(f, s.body);
    }
  }
  return Flow::Next;
}

namespace {

void append_int(std::string& s, std::int64_t i) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  s.append(buf, r.ptr);
}

}  // namespace

std::string batch_site_name(const std::string& base, std::int64_t first, std::int64_t end) {
  std::string name = base;
  name += '[';
  append_int(name, first);
  name += "..";
  append_int(name, end);
  name += ']';
  return name;
}

int Interpreter::loop_occurrence(const ir::Site& site, const std::int64_t* index) {
  const auto id = static_cast<std::size_t>(site.id);
  const std::size_t n = site.loops.size();
  auto& all = scratch_->loop_occurrences;
  if (id >= all.size()) all.resize(id + 1);
  RunScratch::LoopOccurrences& o = all[id];
  if (o.increasing &&
      (o.seen.empty() || std::lexicographical_compare(o.seen.end() - static_cast<std::ptrdiff_t>(n), o.seen.end(), index, index + n))) {
    o.seen.insert(o.seen.end(), index, index + n);
    return 0;
  }
  o.increasing = false;
  // Met before the order broke: once, if among the increasing tuples.
  int k = 0;
  std::size_t lo = 0, hi = o.seen.size() / n;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    const std::int64_t* t = o.seen.data() + mid * n;
    if (std::lexicographical_compare(t, t + n, index, index + n))
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < o.seen.size() / n && std::equal(index, index + n, o.seen.data() + lo * n)) k = 1;
  std::vector<std::int64_t> key;
  key.reserve(n + 1);
  key.push_back(site.id);
  key.insert(key.end(), index, index + n);
  return k + scratch_->repeated[std::move(key)]++;
}

std::string Interpreter::site_name(Frame& f, const ir::Site& site, std::vector<std::int64_t>* loop_index) {
  std::string name = site.name;
  if (site.loops.empty()) {  // the common case: counted by statement, no key to build
    const auto id = static_cast<std::size_t>(site.id);
    auto& plain = scratch_->plain_occurrences;
    if (id >= plain.size()) plain.resize(id + 1, 0);
    int k = plain[id]++;
    if (k > 0) {
      name += '#';
      append_int(name, k);
    }
    return name;
  }
  std::vector<std::int64_t>& index = scratch_->index;
  index.clear();
  for (ir::SlotId loop : site.loops) {
    const Value& v = f.slots[static_cast<std::size_t>(loop)];
    auto i = static_cast<std::int64_t>(v.var.item());
    name += '[';
    append_int(name, i);
    name += ']';
    index.push_back(i);
  }
  if (loop_index) loop_index->assign(index.begin(), index.end());
  const int k = loop_occurrence(site, index.data());
  if (k > 0) {
    name += '#';
    append_int(name, k);
  }
  return name;
}

void Interpreter::exec_site(Frame& f, const ir::Stmt& s) {
  const ir::Site& site = ctx_.graph().site(s.site);
  sites_ += batch_.on ? batch_.count : 1;  // a batch stands for as many sites as iterations
  if (sites_ > ctx_.limits().max_sites)
    throw limit_error(site.span,
                      fmt::format("the sites limit: this execution ran more than {} sites (Limits::max_sites)",
                                  ctx_.limits().max_sites),
                      "raise it with --max-sites N (FitOptions::limits.max_sites), or vectorise the loop as a plate");
  ctx_.check_deadline(site.span);
  Message msg;
  if (batch_.on) {  // y[1..T]: the iterations' sites y[1] … y[T - 1]
    msg.name = batch_site_name(site.name, batch_.first, batch_.first + batch_.count);
    msg.batch_first = batch_.first;
  } else {
    msg.name = site_name(f, site, &msg.loop_index);
  }
  msg.site = &site;
  if (site.baseline.value != ir::no_expr) msg.baseline_value = eval(f, site.baseline.value);
  if (site.baseline.net != ir::no_expr) msg.baseline_input = eval(f, site.baseline.net);
  msg.rng = &ctx_.rng();
  msg.tape = &ctx_.tape();
  if (site.kind == ir::SiteKind::Deterministic) {
    msg.type = MsgType::Deterministic;
    msg.value = eval(f, site.value);
    msg.has_value = true;
    msg.done = true;
  } else if (site.kind == ir::SiteKind::Factor) {
    // An observed site whose log-density is the term itself (pyro.factor):
    // every estimator counts it in log p, as it counts observed data.
    msg.type = MsgType::Sample;
    ad::Var term = factor_term(f, site);
    msg.fn = dist::factor_term(term);
    msg.value = Value{term, Kind::Real, {}};
    msg.log_prob = term;
    msg.has_value = true;
    msg.is_observed = true;
    msg.done = true;
  } else {
    msg.type = MsgType::Sample;
    if (site.kind == ir::SiteKind::Observe) msg.value = eval(f, site.value);
    msg.fn = site_distribution(f, site, site.kind == ir::SiteKind::Observe ? &msg.value : nullptr);
    if (site.kind == ir::SiteKind::Observe) {
      msg.has_value = true;
      msg.is_observed = true;
      msg.done = true;
    }
  }
  try {
    ctx_.handlers().apply(msg);
  } catch (const RunError&) {
    throw;
  } catch (const std::exception& e) {
    throw site_error(&site, msg.name, e);
  }
  if (site.slot == ir::none) return;
  Value v = msg.value;
  if (msg.type == MsgType::Sample) {
    v.kind = msg.fn->is_discrete() ? Kind::Int : Kind::Real;
    v.plates.clear();
    const auto& open = ctx_.open_plates();
    if (v.var.rank() >= static_cast<int>(open.size()))
      for (const auto& fr : open) v.plates.push_back(fr.plate);
  }
  f.slots[static_cast<std::size_t>(site.slot)] = v;
  f.bound[static_cast<std::size_t>(site.slot)] = true;
}

void Interpreter::forget_plate(Frame& f, ir::PlateId plate) {
  for (auto& v : f.slots) {
    auto it = std::find(v.plates.begin(), v.plates.end(), plate);
    if (it != v.plates.end()) v.plates.erase(it);
  }
}

Interpreter::Flow Interpreter::exec_plate(Frame& f, const ir::Stmt& s) {
  const ir::Plate& plate = ctx_.graph().plate(s.plate);
  std::int64_t size = eval_int(f, plate.size, "a plate size");
  if (size < 0) throw RunError(plate.span, fmt::format("plate '{}' has a negative size ({})", plate.name, size));
  std::int64_t inner = size;
  const bool subsampled = plate.subsample != ir::no_expr;
  // A data-parallel fit's plate holds this rank's rows of the whole (Context::Shard).
  const Context::Shard* shard = ctx_.shard() && ctx_.shard()->plate == plate.name ? &*ctx_.shard() : nullptr;
  const std::int64_t whole = shard ? shard->total : size;
  if (subsampled) {
    inner = eval_int(f, plate.subsample, "a subsample size");
    if (inner < 1 || inner > whole)
      throw RunError(plate.span, fmt::format("plate '{}': subsample = {} must be between 1 and the size {}", plate.name, inner, whole));
    // Each rank takes its share of the batch from its own rows.
    if (shard)
      inner = std::clamp<std::int64_t>(std::llround(static_cast<double>(inner) * static_cast<double>(size) / static_cast<double>(whole)),
                                       1, std::max<std::int64_t>(size, 1));
    if (ctx_.full_plates()) inner = size;
  }
  handlers::Frame frame{plate.id, plate.name, size, inner};
  if (shard && size > 0) frame.weight = static_cast<double>(whole) / static_cast<double>(size);
  // Draws inside a sharded plate (and its subsample) come from a stream of
  // their own, forked from a copy of the current one, so that the stream the
  // global sites draw from moves on alike on every rank.
  std::optional<rng::Generator> own_rng;
  struct RestoreRng {
    Context& c;
    rng::Generator* g = nullptr;
    ~RestoreRng() {
      if (g) c.set_rng(*g);
    }
  } restore_rng{ctx_};
  if (shard) {
    rng::Generator copy = ctx_.rng();
    std::uint64_t key = copy.next_u64() ^ ((shard->stream + 1) * 0x9E3779B97F4A7C15ULL);
    own_rng.emplace(rng::splitmix64(key));
    restore_rng.g = &ctx_.rng();
    ctx_.set_rng(*own_rng);
  }
  handlers::PlateHandler h(frame);
  handlers::HandlerStack::Scoped scope(ctx_.handlers(), h);
  ctx_.open_plates().push_back(frame);
  struct Pop {
    Context& c;
    ~Pop() { c.open_plates().pop_back(); }
  } pop{ctx_};

  // The indices of a subsampled plate are a site of their own, so that the
  // guide chooses them and the model, replayed against the guide, reuses them.
  Value idx;
  if (subsampled) {
    Message msg;
    msg.type = MsgType::Subsample;
    msg.name = plate.name;
    msg.rng = &ctx_.rng();
    msg.tape = &ctx_.tape();
    if (ctx_.full_plates()) {
      msg.indices.resize(static_cast<std::size_t>(size));
      for (std::int64_t i = 0; i < size; ++i) msg.indices[static_cast<std::size_t>(i)] = static_cast<double>(i);
    } else {
      ctx_.subsampled_plates()[plate.name] = {size, inner};
      if (const std::optional<std::uint64_t> k = ctx_.epoch_step()) msg.indices = ctx_.epoch_batch(plate.name, size, inner, *k);
    }
    ctx_.handlers().apply(msg);
    idx = msg.value;
    ctx_.subsample_indices()[plate.id] = to_ints(idx.var, plate.span, "a subsample index");
  } else if (plate.index_slot != ir::none) {
    idx = Value{ad::arange(ctx_.tape(), static_cast<double>(size)), Kind::Int, {}};
  }
  if (plate.index_slot != ir::none) {
    idx.kind = Kind::Int;
    idx.plates = {plate.id};
    f.slots[static_cast<std::size_t>(plate.index_slot)] = idx;
    f.bound[static_cast<std::size_t>(plate.index_slot)] = true;
  }
  Flow flow = exec_block(f, s.body);
  // Names bound in the plate stay visible after it as plain arrays whose
  // leading dimensions are the plate's.
  forget_plate(f, plate.id);
  return flow;
}

std::optional<Interpreter::Flow> Interpreter::exec_batched_for(Frame& f, const ir::Stmt& s, std::int64_t lo, std::int64_t hi) {
  const std::int64_t n = hi - lo;
  const ir::BatchLoop& loop = ctx_.graph().batch_loops.at(static_cast<std::size_t>(s.batch_loop));
  // Latent sites: their draws must be known before the batch starts, each as
  // one batched draw in the trace this execution replays; the state they
  // carry in must be one iteration's value. Otherwise (the guide's own run,
  // a guide that drew them one by one, prior draws) the loop runs one
  // iteration at a time; nothing has happened yet.
  struct Carry {
    std::size_t slot;
    ad::Var initial, draws;
  };
  std::vector<Carry> carries;
  if (!loop.latent.empty()) {
    const handlers::Trace* replayed = ctx_.replayed();
    if (latent_only_ || !replayed) return std::nullopt;
    auto draws = [&](ir::SiteId id) -> const ad::Var* {
      const handlers::TraceSite* r = replayed->find(batch_site_name(ctx_.graph().site(id).name, lo, hi));
      if (!r || r->msg.batch_first != lo || !r->msg.has_value || r->msg.is_observed) return nullptr;
      const ad::Var& x = r->msg.value.var;
      return x.valid() && x.rank() >= 1 && x.shape()[0] == n ? &x : nullptr;
    };
    for (ir::SiteId id : loop.latent)
      if (!draws(id)) return std::nullopt;
    for (const auto& c : loop.carried) {
      const auto slot = static_cast<std::size_t>(c.slot);
      const ad::Var& x = *draws(c.site);
      const Value& before = f.slots[slot];
      ad::Shape one;
      for (int d = 1; d < x.rank(); ++d) one.push_back(x.shape()[d]);
      if (!f.bound[slot] || !before.plates.empty() || !(before.var.shape() == one)) return std::nullopt;
      carries.push_back({slot, before.var, x});
    }
  }
  ctx_.check_deadline(s.span);
  // A frame of its own, named so that no plate's frame matches it (plate
  // names are identifiers): the estimators sum the batch's log-densities as
  // they sum a site's outside every plate.
  handlers::Frame frame{loop_batch_plate, loop.frame, n, n};
  handlers::PlateHandler h(frame);
  handlers::HandlerStack::Scoped scope(ctx_.handlers(), h);
  ctx_.open_plates().push_back(frame);
  batch_ = {true, lo, n};
  struct End {
    Interpreter& in;
    ~End() {
      in.ctx_.open_plates().pop_back();
      in.batch_ = {};
    }
  } end{*this};
  const auto slot = static_cast<std::size_t>(s.slot);
  f.slots[slot] = Value{ad::arange(ctx_.tape(), static_cast<double>(lo), static_cast<double>(hi)), Kind::Int, {loop_batch_plate}};
  f.bound[slot] = true;
  // Carried state, as each iteration reads it before its `~` statement: the
  // previous iteration's draw, the value from before the loop in the first.
  for (const Carry& c : carries) {
    ad::Shape lead{1};
    for (auto d : c.initial.shape()) lead.push_back(d);
    ad::Var first = ad::reshape(c.initial, lead);
    ad::Var previous = n == 1 ? first : ad::concat({first, ad::slice(c.draws, 0, 0, n - 1)}, 0);
    f.slots[c.slot] = Value{previous, Kind::Real, {loop_batch_plate}};
  }
  Flow flow = exec_block(f, s.body);
  forget_plate(f, loop_batch_plate);
  // After the loop a carried variable holds the last iteration's draw.
  for (const Carry& c : carries) f.slots[c.slot].var = ad::index(f.slots[c.slot].var, n - 1);
  return flow;
}

std::vector<std::int64_t> Interpreter::eval_dims(Frame& f, const std::vector<ir::ExprId>& dims) {
  std::vector<std::int64_t> out;
  for (ir::ExprId d : dims) {
    std::int64_t n = eval_int(f, d, "a dimension");
    if (n < 0) throw RunError(f.body->expr(d).span, fmt::format("a dimension must not be negative; got {}", n));
    out.push_back(n);
  }
  return out;
}

std::int64_t Interpreter::eval_int(Frame& f, ir::ExprId e, const char* what) {
  double folded = 0;
  if (fold_scalar(f, e, folded)) return to_int(folded, f.body->expr(e).span, what);
  Value v = eval(f, e);
  if (v.var.numel() != 1)
    throw RunError(f.body->expr(e).span, fmt::format("{} must be one number; this has shape {}", what, ad::to_string(v.var.shape())));
  return to_int(v.var.item(), f.body->expr(e).span, what);
}

double Interpreter::eval_number(Frame& f, ir::ExprId e, const char* what) {
  Value v = eval(f, e);
  if (v.var.numel() != 1)
    throw RunError(f.body->expr(e).span, fmt::format("{} must be one number; this has shape {}", what, ad::to_string(v.var.shape())));
  return v.var.item();
}

}  // namespace vireo::interp
