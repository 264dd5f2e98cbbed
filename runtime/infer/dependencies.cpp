#include "runtime/infer/dependencies.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include "runtime/infer/trace_elbo.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::infer {

using handlers::MsgType;
using handlers::TraceSite;

namespace {

bool is_term(const TraceSite& s) { return s.msg.type == MsgType::Sample && s.msg.site; }

// ---- walking statements and expressions -----------------------------------

// Every statement of `stmts` and of the blocks nested in them, parents first.
void flatten(const std::vector<ir::Stmt>& stmts, std::vector<const ir::Stmt*>& out) {
  for (const auto& s : stmts) {
    out.push_back(&s);
    flatten(s.body, out);
    flatten(s.else_body, out);
  }
}

// The roots of the expressions a statement evaluates itself (not those of
// the statements nested in it).
std::vector<ir::ExprId> own_exprs(const ir::Graph& g, const ir::Stmt& s) {
  std::vector<ir::ExprId> out{s.value, s.value2};
  if (s.site != ir::none) {
    const ir::Site& site = g.site(s.site);
    out.insert(out.end(), {site.dist_call, site.value, site.type.lower, site.type.upper, site.baseline.value, site.baseline.net});
    out.insert(out.end(), site.type.dims.begin(), site.type.dims.end());
  }
  if (s.kind == ir::StmtKind::Plate) {
    const ir::Plate& p = g.plate(s.plate);
    out.insert(out.end(), {p.size, p.subsample});
  }
  out.erase(std::remove(out.begin(), out.end(), ir::no_expr), out.end());
  return out;
}

bool refers_to(const ir::Body& b, ir::ExprId id, const std::set<ir::SlotId>& slots) {
  if (id == ir::no_expr) return false;
  const ir::Expr& e = b.expr(id);
  if (e.op == ir::Op::Slot) return slots.count(e.ref) > 0;
  for (std::uint32_t i = 0; i < e.count; ++i)
    if (refers_to(b, b.operand(e, i), slots)) return true;
  return false;
}

// Operations whose result element may combine several elements of a
// plate-indexed operand: `@` and vector literals, and the builtins whose row
// in the signature table says so (sig::Mixing); host functions always.
bool mixes_elements(const ir::Expr& e, const ir::Body& b) {
  if (e.op == ir::Op::MatMul || e.op == ir::Op::Vector) return true;
  if (e.op == ir::Op::CallHost) return true;  // the host's code may read any element
  if (e.op != ir::Op::CallBuiltin) return false;
  int present = 0;
  for (std::uint32_t i = 0; i < e.count; ++i) present += b.operand(e, i) != ir::no_expr ? 1 : 0;
  return sig::get(e.ref).mixes_elements(present);
}

// Whether expression `id` applies an element-mixing operation (or a call of
// a fn in `mixing_fns`) to a value that refers to `slots`.
bool mixes(const ir::Body& b, ir::ExprId id, const std::set<ir::SlotId>& slots, const std::set<ir::BodyId>& mixing_fns) {
  if (id == ir::no_expr) return false;
  const ir::Expr& e = b.expr(id);
  bool suspect = mixes_elements(e, b) || (e.op == ir::Op::CallFn && mixing_fns.count(e.ref));
  for (std::uint32_t i = 0; i < e.count; ++i) {
    ir::ExprId op = b.operand(e, i);
    if (suspect && refers_to(b, op, slots)) return true;
    if (mixes(b, op, slots, mixing_fns)) return true;
  }
  return false;
}

// The slots a statement writes itself.
ir::SlotId written(const ir::Stmt& s) {
  switch (s.kind) {
    case ir::StmtKind::Observe:
    case ir::StmtKind::Factor:
    case ir::StmtKind::If:
    case ir::StmtKind::Return:
    case ir::StmtKind::Scale: return ir::none;
    default: return s.slot;
  }
}

// Whether two instances' loop indices agree on the first `k` loops.
bool agree(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b, std::size_t k) {
  for (std::size_t i = 0; i < k && i < a.size() && i < b.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

Downstream::Downstream(const ir::Graph& graph, bool guide_runs_model)
    : graph_(graph), guide_side_(guide_runs_model ? ir::BodyKind::Model : ir::BodyKind::Guide), n_(graph.sites.size()) {
  model_reach_ = close(ir::BodyKind::Model, /*stop_at_replayed=*/true);
  guide_reach_ = close(guide_side_, /*stop_at_replayed=*/false);
  find_carrying_loops();
  find_mixing_plates();
}

// For every source, a breadth-first search over the states (site, path
// exact so far, entered by a control edge): Exact marks a path of exact
// edges only, Inexact a path through at least one inexact edge; both may
// hold. With `stop_at_replayed` (the model, replayed against the guide) a
// path does not go on through a latent sample site it entered by a data
// edge: that site's value is the guide's, not computed from the source.
std::vector<std::uint8_t> Downstream::close(ir::BodyKind side, bool stop_at_replayed) const {
  std::vector<std::vector<const ir::Edge*>> out(n_);
  for (const auto& e : graph_.edges)
    if (e.side == side) out[static_cast<std::size_t>(e.from)].push_back(&e);
  std::vector<std::uint8_t> r(n_ * n_, None);
  struct State {
    std::size_t site;
    bool exact, control;
  };
  for (std::size_t a = 0; a < n_; ++a) {
    std::deque<State> todo;
    std::vector<std::uint8_t> seen(n_, 0);  // 4 bits per site: (exact, control)
    for (const auto* e : out[a]) todo.push_back({static_cast<std::size_t>(e->to), e->exact, e->control});
    while (!todo.empty()) {
      State st = todo.front();
      todo.pop_front();
      auto bit = static_cast<std::uint8_t>(1u << ((st.exact ? 0 : 2) + (st.control ? 1 : 0)));
      if (seen[st.site] & bit) continue;
      seen[st.site] |= bit;
      r[a * n_ + st.site] |= st.exact ? Exact : Inexact;
      if (stop_at_replayed && !st.control && graph_.sites[st.site].kind == ir::SiteKind::Sample) continue;
      for (const auto* e : out[st.site])
        todo.push_back({static_cast<std::size_t>(e->to), st.exact && e->exact, e->control});
    }
  }
  return r;
}

// A `for` loop carries state when a statement in it writes a variable
// declared outside it (a variable some statement outside the loop writes,
// or a fn parameter).
void Downstream::find_carrying_loops() {
  for (std::size_t bi = 0; bi < graph_.bodies.size(); ++bi) {
    const ir::Body& b = graph_.bodies[bi];
    if (b.kind == ir::BodyKind::Data) continue;
    std::vector<const ir::Stmt*> all;
    flatten(b.stmts, all);
    for (const ir::Stmt* loop : all) {
      if (loop->kind != ir::StmtKind::For) continue;
      std::vector<const ir::Stmt*> inside;
      flatten(loop->body, inside);
      std::set<ir::SlotId> in, outside;
      for (const ir::Stmt* s : inside)
        if (written(*s) != ir::none) in.insert(written(*s));
      for (const ir::Stmt* s : all)
        if (s != loop && written(*s) != ir::none && std::find(inside.begin(), inside.end(), s) == inside.end())
          outside.insert(written(*s));
      for (std::size_t p = 0; p < b.param_count; ++p) outside.insert(static_cast<ir::SlotId>(p));
      bool carries = std::any_of(in.begin(), in.end(), [&](ir::SlotId s) { return outside.count(s) > 0; });
      if (carries) carrying_.insert({static_cast<ir::BodyId>(bi), loop->slot});
    }
  }
}

// A plate's elements may mix when a value computed from the plate's sites
// (a slot they write, or a let/assignment in the plate reading one) is
//   (a) passed inside the plate to an element-mixing operation, or to a fn
//       that contains one, or returned from inside the plate; or
//   (b) read anywhere outside the plate statement (after it, in a later
//       iteration of a loop around it, in another plate of the same name),
//       where it is a plain array that no longer lines up with the plate.
void Downstream::find_mixing_plates() { mixing_ = infer::mixing_plates(graph_); }

std::set<std::string> mixing_plates(const ir::Graph& graph_) {
  std::set<std::string> mixing_;
  // Fns containing an element-mixing operation, directly or through their calls.
  std::set<ir::BodyId> mixing_fns;
  for (bool grew = true; grew;) {
    grew = false;
    for (std::size_t bi = 0; bi < graph_.bodies.size(); ++bi) {
      const ir::Body& b = graph_.bodies[bi];
      if (b.kind != ir::BodyKind::Fn || mixing_fns.count(static_cast<ir::BodyId>(bi))) continue;
      bool m = std::any_of(b.exprs.begin(), b.exprs.end(), [&](const ir::Expr& e) {
        return mixes_elements(e, b) || (e.op == ir::Op::CallFn && mixing_fns.count(e.ref));
      });
      if (m) grew = mixing_fns.insert(static_cast<ir::BodyId>(bi)).second || grew;
    }
  }
  for (const auto& b : graph_.bodies) {
    if (b.kind == ir::BodyKind::Data) continue;
    std::vector<const ir::Stmt*> all;
    flatten(b.stmts, all);
    for (const ir::Stmt* plate : all) {
      if (plate->kind != ir::StmtKind::Plate) continue;
      const std::string& name = graph_.plate(plate->plate).name;
      if (mixing_.count(name)) continue;
      std::vector<const ir::Stmt*> inside;
      flatten(plate->body, inside);
      // 1. The slots holding values computed from the plate's sites.
      std::set<ir::SlotId> tainted;
      for (const ir::Stmt* s : inside)
        if ((s->kind == ir::StmtKind::Sample || s->kind == ir::StmtKind::Deterministic) && s->slot != ir::none)
          tainted.insert(s->slot);
      for (bool grew = true; grew;) {
        grew = false;
        for (const ir::Stmt* s : inside)
          if ((s->kind == ir::StmtKind::Let || s->kind == ir::StmtKind::Assign) && !tainted.count(s->slot) &&
              refers_to(b, s->value, tainted))
            grew = tainted.insert(s->slot).second || grew;
      }
      if (tainted.empty()) continue;
      // 2. (a) inside the plate.
      bool mixing = false;
      for (const ir::Stmt* s : inside) {
        for (ir::ExprId e : own_exprs(graph_, *s)) mixing = mixing || mixes(b, e, tainted, mixing_fns);
        if (s->kind == ir::StmtKind::Return) mixing = mixing || refers_to(b, s->value, tainted);
      }
      // 3. (b) outside it (the plate's own size expressions included).
      for (const ir::Stmt* s : all) {
        if (std::find(inside.begin(), inside.end(), s) != inside.end()) continue;
        for (ir::ExprId e : own_exprs(graph_, *s)) mixing = mixing || refers_to(b, e, tainted);
      }
      if (mixing) mixing_.insert(name);
    }
  }
  return mixing_;
}

// Whether the instance `to` (at to_pos) is related to the instance `from`
// (at from_pos) given the reach flags of their statements.
bool Downstream::relates(const TraceSite& from, std::size_t from_pos, const TraceSite& to,
                                         std::size_t to_pos, std::uint8_t r) const {
  if ((r & Inexact) && to_pos > from_pos) return true;
  if (!(r & Exact)) return false;
  // The `for` statements both sit in: the common prefix of their loops, in one body.
  const ir::Site& a = *from.msg.site;
  const ir::Site& b = *to.msg.site;
  std::size_t shared = 0;
  if (a.body == b.body)
    while (shared < a.loops.size() && shared < b.loops.size() && a.loops[shared] == b.loops[shared]) ++shared;
  // Up to the outermost shared loop that carries state, the same iteration;
  // from there on, the same iteration or any later instance.
  std::size_t k = 0;
  while (k < shared && !carrying_.count({a.body, a.loops[k]})) ++k;
  if (!agree(from.msg.loop_index, to.msg.loop_index, k)) return false;
  return agree(from.msg.loop_index, to.msg.loop_index, shared) || (k < shared && to_pos > from_pos);
}

void Downstream::related(const handlers::Trace& trace, std::size_t from_pos, const std::vector<std::uint8_t>& table,
                         std::vector<std::size_t>& out, std::vector<bool>& seen) const {
  const auto& sites = trace.sites();
  const TraceSite& from = sites[from_pos];
  for (std::size_t j = 0; j < sites.size(); ++j) {
    if (seen[j] || !is_term(sites[j])) continue;
    std::uint8_t r = reach(table, from.msg.site->id, sites[j].msg.site->id);
    if (r == None || !relates(from, from_pos, sites[j], j, r)) continue;
    seen[j] = true;
    out.push_back(j);
  }
}

Downstream::Terms Downstream::of(const handlers::Trace& guide, const handlers::Trace& model, std::size_t s) const {
  Terms t;
  std::vector<bool> gseen(guide.size(), false), mseen(model.size(), false);
  gseen[s] = true;
  t.guide.push_back(s);
  related(guide, s, guide_reach_, t.guide, gseen);
  // Each guide term's value is replayed into the model at the site of the same name.
  for (std::size_t k = 0; k < t.guide.size(); ++k) {
    const TraceSite& u = guide.sites()[t.guide[k]];
    const TraceSite* m = model.find(u.msg.name);
    if (!m || !is_term(*m)) continue;
    auto pos = static_cast<std::size_t>(m - model.sites().data());
    if (!mseen[pos]) {
      mseen[pos] = true;
      t.model.push_back(pos);
    }
    related(model, pos, model_reach_, t.model, mseen);
  }
  std::sort(t.guide.begin(), t.guide.end());
  std::sort(t.model.begin(), t.model.end());
  return t;
}

ad::Var Downstream::align(const ad::Var& lp, const handlers::Frames& have,
                          const handlers::Frames& want) const {
  return sum_to_frames(lp, have, want, &mixing_);
}

}  // namespace vireo::infer
