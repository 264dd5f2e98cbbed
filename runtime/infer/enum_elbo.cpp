#include "runtime/infer/enum_elbo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "runtime/handlers/replay.hpp"
#include "runtime/infer/dependencies.hpp"
#include "runtime/infer/nonfinite.hpp"
#include "runtime/interp/interpreter.hpp"
#include "stdlib/dist/registry.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::infer {

using handlers::MsgType;
using handlers::TraceSite;

// ---- which sites can be enumerated -----------------------------------------

Enumerability enumerable_sites(const ir::Graph& g, const std::set<std::string>& guide_samples) {
  Enumerability out;
  for (ir::SiteId id : g.model_sites) {
    const ir::Site& s = g.site(id);
    if (s.kind != ir::SiteKind::Sample || s.dist == sig::no_builtin) continue;
    const sig::Signature& sg = sig::get(s.dist);
    if (!sg.discrete) continue;
    const dist::Family* fam = dist::find_family(sg.name);
    auto refuse = [&](std::string why) { out.refused.emplace_back(id, std::move(why)); };
    if (!fam || !fam->enumeration) {
      refuse(fmt::format("'{}' has unbounded support ({})", s.name, sg.name));
      continue;
    }
    if (s.enumerate == ir::EnumerateOption::None) {
      refuse(fmt::format("'{}' is marked `with enumerate(none)`", s.name));
      continue;
    }
    if (guide_samples.count(s.name)) {
      refuse(fmt::format("the guide samples '{}'", s.name));
      continue;
    }
    std::string why;
    for (const ir::Edge& e : g.edges) {
      if (e.from != id || e.side != ir::BodyKind::Model || !why.empty()) continue;
      const ir::Site& to = g.site(e.to);
      if (e.control) {
        why = fmt::format("the value of '{}' decides whether or how often '{}' runs (a branch, loop bound, plate size "
                          "or recursion)",
                          s.name, to.name);
      } else if (e.data_flow && to.kind == ir::SiteKind::Sample && to.dist != sig::no_builtin &&
                 sig::get(to.dist).support == sig::Support::Interval && !sig::get(to.dist).discrete) {
        why = fmt::format("the support of the latent '{}' depends on the value of '{}'", to.name, s.name);
      }
    }
    if (!why.empty()) {
      refuse(std::move(why));
      continue;
    }
    out.sites.insert(id);
  }
  return out;
}

// ---- the elimination ---------------------------------------------------------

namespace {

// Gives the enumerated sites the values of one assignment and records which
// sites ran, with their supports.
class EnumerateHandler final : public handlers::Handler {
 public:
  EnumerateHandler(const std::set<ir::SiteId>& sites, ad::Tape& tape) : sites_(sites), tape_(tape) {}
  // Values by site name; a site without one takes 0.
  std::map<std::string, ad::Tensor> values;
  std::map<std::string, std::int64_t> uniform;  // the same value at every element
  std::vector<EnumSite> seen;

  void process(handlers::Message& msg) override {
    if (msg.type != MsgType::Sample || msg.is_observed || !msg.site || !sites_.count(msg.site->id)) return;
    const dist::Family* fam = dist::find_family(msg.fn->name());
    EnumSite site;
    site.name = msg.name;
    site.frames = msg.frames;
    site.support = fam->enumeration->support_size(*msg.fn);
    site.shape = msg.fn->batch_shape();
    site.statement = msg.site;
    site.loop_index = msg.loop_index;
    if (site.shape.numel() != [&] {
          std::int64_t n = 1;
          for (const auto& f : msg.frames) n *= f.subsample;
          return n;
        }())
      throw std::runtime_error(fmt::format(
          "site '{}' has shape {} beyond its plates; enumeration sums out one value per plate element: declare its "
          "elements in a plate (`plate k({}) {{ {} ~ … }}`)",
          msg.name, ad::to_string(site.shape), site.shape.numel(), msg.site->name));
    if (site.support > max_enumerated_support)
      throw std::runtime_error(fmt::format("site '{}' has {} values; enumeration takes at most {}", msg.name,
                                           site.support, max_enumerated_support));
    ad::Tensor v(site.shape, 0.0);
    if (auto it = values.find(msg.name); it != values.end()) {
      v = it->second;
    } else if (auto u = uniform.find(msg.name); u != uniform.end()) {
      v = ad::Tensor(site.shape, static_cast<double>(u->second));
    }
    seen.push_back(std::move(site));
    msg.value.var = tape_.constant(v);
    msg.value.kind = interp::Kind::Int;
    msg.value.plates.clear();
    for (const auto& f : msg.frames) msg.value.plates.push_back(f.plate);
    msg.has_value = true;
    msg.reparameterized = false;
    msg.done = true;
  }

 private:
  const std::set<ir::SiteId>& sites_;
  ad::Tape& tape_;
};

bool contains_frames(const handlers::Frames& have, const handlers::Frames& want) {
  for (const auto& w : want) {
    bool found = false;
    for (const auto& h : have) found = found || h.name == w.name;
    if (!found) return false;
  }
  return true;
}

bool same_frames(const handlers::Frames& a, const handlers::Frames& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name) return false;
  return true;
}

void run_model(interp::Context& ctx, const handlers::Trace& guide_trace, EnumerateHandler& h, handlers::Trace& out) {
  out.clear();
  h.seen.clear();
  handlers::TraceHandler trace(out);
  handlers::ReplayHandler replay(guide_trace);
  handlers::HandlerStack::Scoped s1(ctx.handlers(), trace);
  handlers::HandlerStack::Scoped s2(ctx.handlers(), h);
  handlers::HandlerStack::Scoped s3(ctx.handlers(), replay);
  interp::Interpreter(ctx).run(ctx.graph().model);
}

std::string names_of(const std::vector<EnumSite>& sites, std::size_t most = 4) {
  std::string out;
  for (std::size_t i = 0; i < sites.size() && i < most; ++i) out += (i ? ", '" : "'") + sites[i].name + "'";
  if (sites.size() > most) out += fmt::format(" and {} more", sites.size() - most);
  return out;
}

}  // namespace

namespace {

// Thrown when a chain's terms do not factor over consecutive states.
struct NotFirstOrder : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Whether the enumerated sites form a chain: three or more global sites,
// all iterations of one statement whose only loop is a `for` loop, in
// consecutive iterations, with one support size.
bool is_chain(const Elimination& e) {
  if (!e.locals.empty() || e.globals.size() < 3) return false;
  const EnumSite& first = e.globals.front();
  if (!first.statement || first.statement->loops.size() != 1 || first.loop_index.size() != 1) return false;
  for (std::size_t t = 0; t < e.globals.size(); ++t) {
    const EnumSite& s = e.globals[t];
    if (s.statement != first.statement || s.loop_index.size() != 1 ||
        s.loop_index[0] != first.loop_index[0] + static_cast<std::int64_t>(t) || s.support != first.support)
      return false;
  }
  return true;
}

// The chain's terms of one run: per iteration (by position), and the rest.
void chain_terms(ad::Tape& tape, const handlers::Trace& tr, const Elimination& e, std::vector<ad::Var>& per_step,
                 ad::Var& outside) {
  const ir::SlotId loop = e.globals.front().statement->loops[0];
  const std::int64_t t0 = e.globals.front().loop_index[0];
  const auto T = static_cast<std::int64_t>(e.globals.size());
  per_step.assign(static_cast<std::size_t>(T), tape.constant(0.0));
  outside = tape.constant(0.0);
  for (const auto& s : tr.sites()) {
    if (s.msg.type != MsgType::Sample || !s.has_log_prob || !s.msg.mask || s.msg.scale == 0) continue;
    ad::Var term = ad::sum(s.log_prob) * s.msg.scale;
    const ir::Site* st = s.msg.site;
    const bool in_loop = st && !st->loops.empty() && st->loops[0] == loop && !s.msg.loop_index.empty();
    const std::int64_t t = in_loop ? s.msg.loop_index[0] - t0 : -1;
    if (in_loop && t >= 0 && t < T) per_step[static_cast<std::size_t>(t)] = per_step[static_cast<std::size_t>(t)] + term;
    else outside = outside + term;
  }
}

Elimination eliminate_chain(interp::Context& ctx, const handlers::Trace& guide_trace, EnumerateHandler& h,
                            std::vector<handlers::Trace>& scratch, Elimination e) {
  ad::Tape& tape = ctx.tape();
  const std::int64_t K = e.globals.front().support;
  const auto T = static_cast<std::int64_t>(e.globals.size());
  if (K > 64)
    throw std::runtime_error(fmt::format("the chain {} has {} states; the forward algorithm here takes at most 64",
                                         names_of(e.globals), K));
  const auto runs = static_cast<std::size_t>(K * K + 1);
  if (scratch.size() < runs) scratch.resize(runs);
  // 1. Run (p, q) alternates the states p, q, p, …; the last run is irregular.
  std::vector<std::vector<ad::Var>> steps(runs);
  std::vector<ad::Var> outside(runs);
  std::vector<std::int64_t> check(static_cast<std::size_t>(T));
  // The check's states: a fixed pseudo-random sequence (splitmix64 of t),
  // periodic in no small period, so a dependence on older states shows.
  for (std::int64_t t = 0; t < T; ++t) {
    std::uint64_t z = static_cast<std::uint64_t>(t) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    check[static_cast<std::size_t>(t)] = static_cast<std::int64_t>((z ^ (z >> 31)) % static_cast<std::uint64_t>(K));
  }
  for (std::size_t r = 0; r < runs; ++r) {
    handlers::Trace& tr = scratch[r];
    if (r > 0) {
      h.values.clear();
      h.uniform.clear();
      for (std::int64_t t = 0; t < T; ++t) {
        const std::int64_t v = r + 1 == runs ? check[static_cast<std::size_t>(t)]
                                             : (t % 2 == 0 ? static_cast<std::int64_t>(r) / K : static_cast<std::int64_t>(r) % K);
        h.uniform[e.globals[static_cast<std::size_t>(t)].name] = v;
      }
      run_model(ctx, guide_trace, h, tr);
      if (h.seen.size() != e.globals.size())
        throw std::runtime_error(fmt::format("the values of the chain {} change which sites run; it cannot be summed out",
                                             names_of(e.globals)));
    }
    tr.compute_log_probs();
    chain_terms(tape, tr, e, steps[r], outside[r]);
  }
  // 2. The factor of iteration t at (p, q): run (p, q) when t is odd, run
  //    (q, p) when t is even (the states alternate from t = 0).
  auto factor = [&](std::int64_t t, std::int64_t p, std::int64_t q) -> const ad::Var& {
    const std::int64_t r = t % 2 == 1 ? p * K + q : q * K + p;
    return steps[static_cast<std::size_t>(r)][static_cast<std::size_t>(t)];
  };
  const double out0 = outside[0].item();
  for (std::size_t r = 1; r < runs; ++r)
    if (!(std::abs(outside[r].item() - out0) <= 1e-9 * std::max(1.0, std::abs(out0))))
      throw std::runtime_error(fmt::format("a term outside the loop of the chain {} depends on its states; it cannot be "
                                           "summed out step by step: use --elbo tracegraph",
                                           names_of(e.globals)));
  // 3. The check: the irregular run's terms are the tables' at its states.
  {
    double predicted = out0, seen = outside[runs - 1].item();
    for (std::int64_t t = 0; t < T; ++t) {
      const std::int64_t q = check[static_cast<std::size_t>(t)], p = t > 0 ? check[static_cast<std::size_t>(t - 1)] : 0;
      predicted += t == 0 ? factor(0, 0, q).item() : factor(t, p, q).item();
    }
    for (const auto& v : steps[runs - 1]) seen += v.item();
    if (!(std::abs(predicted - seen) <= 1e-8 * std::max(1.0, std::abs(seen))) && !(std::isinf(seen) && seen == predicted))
      throw NotFirstOrder(fmt::format(
          "the chain {} is not a first-order chain: an iteration's terms depend on more than its own and the previous "
          "state; it cannot be summed out step by step (use --elbo tracegraph)",
          names_of(e.globals)));
  }
  // 4. The forward algorithm, on the tape: alpha_t = logsumexp_p (alpha_{t−1}[p] + F_t[p, q]).
  e.chain = true;
  e.chain_factor.assign(static_cast<std::size_t>(T), {});
  std::vector<ad::Var> first;
  for (std::int64_t q = 0; q < K; ++q) {
    first.push_back(factor(0, 0, q));
    e.chain_factor[0].push_back(first.back().item());
  }
  ad::Var alpha = ad::stack(first, 0);  // [K]
  for (std::int64_t t = 1; t < T; ++t) {
    std::vector<ad::Var> cells;
    for (std::int64_t p = 0; p < K; ++p)
      for (std::int64_t q = 0; q < K; ++q) {
        cells.push_back(factor(t, p, q));
        e.chain_factor[static_cast<std::size_t>(t)].push_back(cells.back().item());
      }
    ad::Var F = ad::reshape(ad::stack(cells, 0), ad::Shape{K, K});
    alpha = ad::logsumexp(ad::reshape(alpha, ad::Shape{K, 1}) + F, 0);
  }
  e.log_joint = outside[0] + ad::logsumexp(alpha);
  return e;
}

}  // namespace

std::vector<std::int64_t> Elimination::digits(std::int64_t a, const std::vector<EnumSite>& sites) {
  std::vector<std::int64_t> d(sites.size());
  for (std::size_t i = sites.size(); i-- > 0;) {
    d[i] = a % sites[i].support;
    a /= sites[i].support;
  }
  return d;
}

Elimination eliminate(interp::Context& ctx, const std::set<ir::SiteId>& sites, const handlers::Trace& guide_trace,
                      std::vector<handlers::Trace>& scratch) {
  ad::Tape& tape = ctx.tape();
  Elimination e;
  EnumerateHandler h(sites, tape);
  if (scratch.empty()) scratch.resize(1);
  // 1. The first assignment (every site 0) shows which sites run.
  run_model(ctx, guide_trace, h, scratch[0]);
  const std::vector<EnumSite> layout = h.seen;
  for (const auto& s : layout) (s.frames.empty() ? e.globals : e.locals).push_back(s);
  for (const auto& s : e.locals) {
    if (e.local_frames.empty()) e.local_frames = s.frames;
    if (!same_frames(s.frames, e.local_frames))
      throw std::runtime_error(fmt::format(
          "sites '{}' and '{}' are enumerated in different plates; --elbo enum sums out sites of one set of plates "
          "only: mark one `with enumerate(none)`",
          e.locals.front().name, s.name));
  }
  // The graph's mixing plates (a static analysis), needed only with local sites.
  const std::set<std::string> mixing = e.local_frames.empty() ? std::set<std::string>{} : mixing_plates(ctx.graph());
  for (const auto& f : e.local_frames)
    if (mixing.count(f.name))
      throw std::runtime_error(fmt::format(
          "the elements of plate '{}' mix (a reduction over them, or a value read after it), so its enumerated sites "
          "({}) cannot be summed out element by element: use --elbo tracegraph",
          f.name, names_of(e.locals)));
  auto count = [](const std::vector<EnumSite>& v, std::int64_t& n) {
    for (const auto& s : v) {
      if (n > max_enumeration_runs / std::max<std::int64_t>(s.support, 1)) return false;
      n *= s.support;
    }
    return true;
  };
  bool fits = count(e.globals, e.global_count) && count(e.locals, e.local_count) &&
              e.global_count <= max_enumeration_runs / e.local_count;
  if (is_chain(e)) {
    try {
      return eliminate_chain(ctx, guide_trace, h, scratch, e);
    } catch (const NotFirstOrder&) {
      if (!fits) throw;  // else every joint assignment, below
    }
  }
  if (!fits)
    throw std::runtime_error(fmt::format(
        "enumerating {} would take more than {} runs of the model per draw (every combination of their values); "
        "sum out fewer sites (`with enumerate(none)`) or use --elbo tracegraph",
        names_of(layout), max_enumeration_runs));
  const std::int64_t runs = e.global_count * e.local_count;
  if (static_cast<std::int64_t>(scratch.size()) < runs) scratch.resize(static_cast<std::size_t>(runs));

  double local_scale = 1;
  for (const auto& f : e.local_frames) local_scale *= f.scale();
  ad::Shape local_shape;
  for (const auto& f : e.local_frames) local_shape.push_back(f.subsample);

  // 2. Every other assignment, and each run's two sums.
  std::vector<ad::Var> outside(static_cast<std::size_t>(runs)), inside(static_cast<std::size_t>(runs));
  for (std::int64_t r = 0; r < runs; ++r) {
    handlers::Trace& tr = scratch[static_cast<std::size_t>(r)];
    if (r > 0) {
      h.values.clear();
      h.uniform.clear();
      const auto gd = Elimination::digits(r / e.local_count, e.globals);
      const auto ld = Elimination::digits(r % e.local_count, e.locals);
      for (std::size_t i = 0; i < e.globals.size(); ++i) h.uniform[e.globals[i].name] = gd[i];
      for (std::size_t i = 0; i < e.locals.size(); ++i) h.uniform[e.locals[i].name] = ld[i];
      run_model(ctx, guide_trace, h, tr);
      bool same = h.seen.size() == layout.size();
      for (std::size_t i = 0; same && i < layout.size(); ++i) same = h.seen[i].name == layout[i].name;
      if (!same)
        throw std::runtime_error(fmt::format("the values of the enumerated sites {} change which sites run; they "
                                             "cannot be summed out: use --elbo tracegraph",
                                             names_of(layout)));
    }
    tr.compute_log_probs();
    ad::Var out = tape.constant(0.0);
    ad::Var in = ad::zeros(tape, local_shape);
    for (const auto& s : tr.sites()) {
      if (s.msg.type != MsgType::Sample || !s.has_log_prob || !s.msg.mask || s.msg.scale == 0) continue;
      if (!e.local_frames.empty() && contains_frames(s.msg.frames, e.local_frames))
        in = in + sum_to_frames(s.log_prob, s.msg.frames, e.local_frames) * (s.msg.scale / local_scale);
      else
        out = out + ad::sum(s.log_prob) * s.msg.scale;
    }
    outside[static_cast<std::size_t>(r)] = out;
    inside[static_cast<std::size_t>(r)] = in;
  }

  // 3. Eliminate: the local sites element by element, then the global ones.
  std::vector<ad::Var> per_global;
  e.local.resize(static_cast<std::size_t>(e.global_count));
  for (std::int64_t g = 0; g < e.global_count; ++g) {
    const auto base = static_cast<std::size_t>(g * e.local_count);
    const double b = outside[base].item();
    for (std::int64_t l = 1; l < e.local_count; ++l) {
      const double o = outside[base + static_cast<std::size_t>(l)].item();
      const double tol = 1e-9 * std::max(1.0, std::abs(b));
      if (!(std::abs(o - b) <= tol) && !(std::isinf(o) && o == b))
        throw std::runtime_error(fmt::format(
            "a term outside plate '{}' depends on the enumerated {}: the per-element sites cannot be summed out "
            "element by element; use --elbo tracegraph",
            e.local_frames.back().name, names_of(e.locals)));
    }
    ad::Var total = outside[base];
    if (!e.locals.empty()) {
      std::vector<ad::Var> terms;
      for (std::int64_t l = 0; l < e.local_count; ++l) {
        terms.push_back(inside[base + static_cast<std::size_t>(l)]);
        e.local[static_cast<std::size_t>(g)].push_back(terms.back().value());
      }
      total = total + ad::sum(ad::logsumexp(ad::stack(terms, 0), 0)) * local_scale;
    }
    per_global.push_back(total);
    e.log_global.push_back(total.item());
  }
  e.log_joint = per_global.size() == 1 ? per_global[0] : ad::logsumexp(ad::stack(per_global, 0));
  return e;
}

// ---- posterior of the enumerated sites -------------------------------------

namespace {

// Normalised probabilities from log weights (all −∞: uniform, to say nothing).
std::vector<double> normalised(const std::vector<double>& log_w) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : log_w) m = std::max(m, v);
  std::vector<double> p(log_w.size(), 1.0 / static_cast<double>(log_w.size()));
  if (!std::isfinite(m)) return p;
  double z = 0;
  for (std::size_t i = 0; i < log_w.size(); ++i) z += p[i] = std::exp(log_w[i] - m);
  for (double& v : p) v /= z;
  return p;
}

std::int64_t pick(const std::vector<double>& p, double u) {
  double c = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    c += p[i];
    if (u < c) return static_cast<std::int64_t>(i);
  }
  return static_cast<std::int64_t>(p.size()) - 1;
}

}  // namespace

namespace {

double lse(const std::vector<double>& v) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double z = 0;
  for (double x : v) z += std::exp(x - m);
  return m + std::log(z);
}

// A chain: marginals by forward–backward, a joint draw by forward filtering,
// backward sampling.
DiscreteDraw sample_chain(const Elimination& e, rng::Generator& gen) {
  DiscreteDraw out;
  const auto T = e.globals.size();
  const auto K = static_cast<std::size_t>(e.globals.front().support);
  const auto& F = e.chain_factor;
  std::vector<std::vector<double>> alpha(T, std::vector<double>(K)), beta(T, std::vector<double>(K, 0.0));
  alpha[0] = F[0];
  std::vector<double> v(K);
  for (std::size_t t = 1; t < T; ++t)
    for (std::size_t q = 0; q < K; ++q) {
      for (std::size_t p = 0; p < K; ++p) v[p] = alpha[t - 1][p] + F[t][p * K + q];
      alpha[t][q] = lse(v);
    }
  for (std::size_t t = T - 1; t-- > 0;)
    for (std::size_t p = 0; p < K; ++p) {
      for (std::size_t q = 0; q < K; ++q) v[q] = F[t + 1][p * K + q] + beta[t + 1][q];
      beta[t][p] = lse(v);
    }
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t q = 0; q < K; ++q) v[q] = alpha[t][q] + beta[t][q];
    out.probs[e.globals[t].name] = normalised(v);
  }
  std::int64_t next = pick(normalised(alpha[T - 1]), gen.uniform());
  out.values[e.globals[T - 1].name] = ad::Tensor(ad::Shape{}, static_cast<double>(next));
  for (std::size_t t = T - 1; t-- > 0;) {
    for (std::size_t p = 0; p < K; ++p) v[p] = alpha[t][p] + F[t + 1][p * K + static_cast<std::size_t>(next)];
    next = pick(normalised(v), gen.uniform());
    out.values[e.globals[t].name] = ad::Tensor(ad::Shape{}, static_cast<double>(next));
  }
  return out;
}

}  // namespace

DiscreteDraw sample_discrete(const Elimination& e, rng::Generator& gen) {
  if (e.chain) return sample_chain(e, gen);
  DiscreteDraw out;
  const std::vector<double> pg = normalised(e.log_global);
  // Global sites: their marginals, and one joint assignment.
  for (std::size_t i = 0; i < e.globals.size(); ++i) {
    std::vector<double> probs(static_cast<std::size_t>(e.globals[i].support), 0.0);
    for (std::int64_t g = 0; g < e.global_count; ++g)
      probs[static_cast<std::size_t>(Elimination::digits(g, e.globals)[i])] += pg[static_cast<std::size_t>(g)];
    out.probs[e.globals[i].name] = std::move(probs);
  }
  const std::int64_t g = pick(pg, gen.uniform());
  const auto gd = Elimination::digits(g, e.globals);
  for (std::size_t i = 0; i < e.globals.size(); ++i)
    out.values[e.globals[i].name] = ad::Tensor(ad::Shape{}, static_cast<double>(gd[i]));
  if (e.locals.empty()) return out;

  // Local sites: per element, p(l | g) ∝ exp(A_{g,l}[n]); the probabilities
  // are averaged over the global assignments, the values drawn given g.
  const std::int64_t n_elems = e.local[0][0].numel();
  for (const auto& s : e.locals)
    out.probs[s.name] = std::vector<double>(static_cast<std::size_t>(s.support * n_elems), 0.0);
  std::vector<ad::Tensor> values;
  for (const auto& s : e.locals) values.emplace_back(s.shape, 0.0);
  std::vector<double> log_w(static_cast<std::size_t>(e.local_count));
  for (std::int64_t n = 0; n < n_elems; ++n) {
    for (std::int64_t gg = 0; gg < e.global_count; ++gg) {
      for (std::int64_t l = 0; l < e.local_count; ++l)
        log_w[static_cast<std::size_t>(l)] = e.local[static_cast<std::size_t>(gg)][static_cast<std::size_t>(l)][n];
      const std::vector<double> pl = normalised(log_w);
      for (std::int64_t l = 0; l < e.local_count; ++l) {
        const auto ld = Elimination::digits(l, e.locals);
        for (std::size_t i = 0; i < e.locals.size(); ++i)
          out.probs[e.locals[i].name][static_cast<std::size_t>(ld[i] * n_elems + n)] +=
              pg[static_cast<std::size_t>(gg)] * pl[static_cast<std::size_t>(l)];
      }
      if (gg == g) {
        const auto ld = Elimination::digits(pick(pl, gen.uniform()), e.locals);
        for (std::size_t i = 0; i < e.locals.size(); ++i)
          if (n < values[i].numel()) values[i][n] = static_cast<double>(ld[i]);
      }
    }
  }
  for (std::size_t i = 0; i < e.locals.size(); ++i) out.values[e.locals[i].name] = values[i];
  return out;
}

namespace {

struct EnumeratedGuide {
  guide::Guide& g;
  const std::set<ir::SiteId>* before;
  EnumeratedGuide(guide::Guide& guide, const std::set<ir::SiteId>& sites) : g(guide), before(guide.enumerated_sites()) {
    g.set_enumerated(&sites);
  }
  ~EnumeratedGuide() { g.set_enumerated(before); }
};

void run_guide(interp::Context& ctx, guide::Guide& guide, handlers::Trace& out) {
  out.clear();
  handlers::TraceHandler trace(out);
  handlers::HandlerStack::Scoped s(ctx.handlers(), trace);
  guide.run(ctx);
}

}  // namespace

PosteriorDraw draw_posterior_enum(interp::Context& ctx, guide::Guide& guide, const std::set<ir::SiteId>& sites,
                                  bool predictive, std::vector<handlers::Trace>& scratch) {
  ctx.begin_step();
  EnumeratedGuide scope(guide, sites);
  handlers::Trace guide_trace;
  run_guide(ctx, guide, guide_trace);
  const Elimination e = eliminate(ctx, sites, guide_trace, scratch);
  DiscreteDraw d = sample_discrete(e, ctx.rng());
  EnumerateHandler h(sites, ctx.tape());
  h.values = d.values;
  PosteriorDraw out = replay_draw(ctx, guide_trace, predictive, &h);
  out.probs = std::move(d.probs);
  return out;
}

double enum_log_weight(interp::Context& ctx, guide::Guide& guide, const std::set<ir::SiteId>& sites,
                       std::vector<handlers::Trace>& scratch) {
  ctx.begin_step();
  EnumeratedGuide scope(guide, sites);
  handlers::Trace guide_trace;
  run_guide(ctx, guide, guide_trace);
  guide_trace.compute_log_probs();
  const Elimination e = eliminate(ctx, sites, guide_trace, scratch);
  return e.log_joint.item() -
         guide_trace.log_prob_sum(ctx.tape(), [](const TraceSite& s) { return is_latent(s); }).item();
}

// ---- the estimator ---------------------------------------------------------

TraceEnumElbo::TraceEnumElbo(const ir::Graph& graph, std::set<ir::SiteId> sites, int particles)
    : graph_(graph), sites_(std::move(sites)), particles_(particles) {
  if (particles < 1) throw std::invalid_argument("--particles must be at least 1");
}

ElboEstimate TraceEnumElbo::loss(interp::Context& ctx, guide::Guide& guide) {
  ad::Tape& tape = ctx.tape();
  struct Reset {
    guide::Guide& g;
    const std::set<ir::SiteId>* before = g.enumerated_sites();
    ~Reset() { g.set_enumerated(before); }
  } reset{guide};
  guide.set_enumerated(&sites_);
  if (guides_.size() != static_cast<std::size_t>(particles_)) guides_.resize(static_cast<std::size_t>(particles_));
  pending_ = baselines_;
  ElboEstimate out;
  ad::Var surrogate = tape.constant(0.0);
  double elbo_sum = 0;
  for (int p = 0; p < particles_; ++p) {
    handlers::Trace& gt = guides_[static_cast<std::size_t>(p)];
    gt.clear();
    {
      handlers::TraceHandler trace(gt);
      handlers::HandlerStack::Scoped s(ctx.handlers(), trace);
      guide.run(ctx);
    }
    for (const auto& s : gt.sites())
      if (is_latent(s) && s.msg.site)
        for (ir::SiteId id : sites_)
          if (graph_.site(id).name == s.msg.site->name && s.msg.site->body == graph_.guide)
            throw std::runtime_error(fmt::format(
                "the guide samples '{}', which --elbo enum sums out: remove it from the guide, or use --elbo "
                "tracegraph",
                s.msg.name));
    gt.compute_log_probs();
    guided_ = 0;
    for (const auto& s : gt.sites()) guided_ += is_latent(s);
    if (const double w = ctx.latent_weight(); w != 1.0)
      for (auto& s : gt.sites())
        if (is_latent(s)) s.msg.scale *= w;
    Elimination e = eliminate(ctx, sites_, gt, scratch_);
    // Every latent site of the model is guided or enumerated.
    for (const auto& s : scratch_[0].sites()) {
      if (!is_latent(s) || gt.find(s.msg.name)) continue;
      bool enumerated = false;
      for (const auto& x : e.globals) enumerated = enumerated || x.name == s.msg.name;
      for (const auto& x : e.locals) enumerated = enumerated || x.name == s.msg.name;
      if (!enumerated)
        throw std::runtime_error(fmt::format(
            "site '{}' is latent in the model but the guide has no site '{}'; add `{} ~ …` to the guide", s.msg.name,
            s.msg.name, s.msg.name));
    }
    ad::Var log_q = gt.log_prob_sum(tape, [](const TraceSite& s) { return is_latent(s); });
    ad::Var elbo = e.log_joint - log_q;
    const double value = elbo.item();
    elbo_sum += value;
    if (!std::isfinite(value) && out.nonfinite.empty()) out.nonfinite = describe_nonfinite(ParticleTraces{gt, scratch_[0]});
    // Score-function terms for discrete sites the guide draws; their own −log q
    // keeps its value but not its gradient (trace_elbo.cpp).
    ad::Var sur = e.log_joint - gt.log_prob_sum(tape, [](const TraceSite& s) { return is_latent(s) && s.msg.reparameterized; });
    for (const auto& s : gt.sites()) {
      if (!is_latent(s) || s.msg.reparameterized || !s.has_log_prob) continue;
      sur = sur - ad::detach(ad::sum(s.log_prob) * s.msg.scale);
      auto& [avg, n] = baselines_[s.msg.name];
      const double b = n > 0 ? avg : 0.0;
      sur = sur + ad::sum(s.log_prob) * (value - b);
      auto& [pa, pn] = pending_[s.msg.name];
      pa = pn > 0 ? 0.9 * pa + 0.1 * value : value;
      ++pn;
    }
    surrogate = surrogate + sur;
  }
  out.elbo = elbo_sum / particles_;
  out.loss = -surrogate / static_cast<double>(particles_);
  return out;
}

void TraceEnumElbo::end_step() { baselines_ = pending_; }

nlohmann::json TraceEnumElbo::state() const {
  if (baselines_.empty()) return nullptr;
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, v] : baselines_) j[name] = {{"value", v.first}, {"updates", v.second}};
  return j;
}

void TraceEnumElbo::load_state(const nlohmann::json& state) {
  if (state.is_null()) return;
  if (!state.is_object()) throw std::runtime_error("the enum ELBO's state must be an object of baselines");
  std::map<std::string, std::pair<double, long>> b;
  for (const auto& [name, v] : state.items()) {
    if (!v.is_object() || !v.contains("value") || !v["value"].is_number())
      throw std::runtime_error(fmt::format("the enum ELBO's baseline for '{}' is malformed", name));
    b[name] = {v["value"].get<double>(), v.value("updates", 1L)};
  }
  baselines_ = std::move(b);
}

}  // namespace vireo::infer
