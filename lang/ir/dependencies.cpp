// Static dependency edges between sites (graph.hpp, "Dependency edges").
//
// An abstract interpretation of each side (model, guide) in which the value
// of every slot is the set of sites it may depend on, each marked exact or
// not:
//   1. Walk the side's root body; expressions give the union of their
//      operands' sets; a site statement adds edges from its arguments' set
//      (data flow) and from the current control set (control), then its slot
//      holds {itself}.
//   2. `if` analyses both branches from the same state, with the condition's
//      set added to the control set, and joins them; an `if` that may return
//      adds its condition to the control set of the rest of its block.
//   3. `for` runs its body until the slots stop changing; what a pass adds
//      to a slot is, at the next pass's start, loop-carried: inexact.
//   4. A fn call adds its arguments to the callee's parameter sets, its
//      arguments and control set to the callee's entry control set, and
//      yields the callee's return set. Recursive callees' parameters and
//      returns are inexact.
//   5. Fns reached from the root are analysed with those sets; everything
//      repeats until no set and no edge changes (sets only grow, so this
//      terminates).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "lang/ir/lower.hpp"

namespace vireo::ir {
namespace {

using DepSet = std::map<SiteId, bool>;  // site -> exact

bool merge(DepSet& into, const DepSet& from) {
  bool changed = false;
  for (const auto& [s, exact] : from) {
    auto [it, inserted] = into.emplace(s, exact);
    if (inserted) changed = true;
    else if (exact && !it->second) it->second = true, changed = true;
  }
  return changed;
}

DepSet weakened(DepSet d) {
  for (auto& [s, exact] : d) exact = false;
  return d;
}

DepSet joined(DepSet a, const DepSet& b) {
  merge(a, b);
  return a;
}

struct EdgeState {
  bool data_flow = false, control = false, exact = false;
};

class Analysis {
 public:
  Analysis(const Graph& g, BodyKind side, std::vector<BodyId> fns) : g_(g), side_(side), fns_(std::move(fns)) {}

  void run(BodyId root, std::vector<Edge>& out, std::vector<HostDependence>& host_out,
           std::vector<HostEdge>& hosts_out) {
    // Sets only grow and are bounded, so this terminates; the cap is a guard.
    for (int round = 0; round < 100; ++round) {
      changed_ = false;
      analyze_body(root, {}, {});
      for (BodyId f : fns_) {
        const Body& b = g_.body(f);
        std::vector<DepSet> params = fn_params_[f];
        params.resize(b.param_count);
        analyze_body(f, params, fn_entry_[f]);
      }
      if (!changed_) break;
    }
    for (const auto& [key, e] : edges_)
      out.push_back(Edge{key.first, key.second, side_, e.data_flow, e.control, e.exact});
    for (const auto& [body, call, site] : host_deps_) host_out.push_back(HostDependence{body, call, site});
    for (const auto& [row, to] : host_edges_) hosts_out.push_back(HostEdge{row, to, side_});
  }

 private:
  struct Frame {
    BodyId body;
    std::vector<DepSet> slots;
  };

  void analyze_body(BodyId id, const std::vector<DepSet>& params, const DepSet& control) {
    const Body& b = g_.body(id);
    Frame f{id, std::vector<DepSet>(b.slot_names.size())};
    for (std::size_t i = 0; i < params.size() && i < f.slots.size(); ++i) f.slots[i] = params[i];
    bool may_return = false;
    analyze_block(f, b.stmts, control, may_return);
  }

  const Body& body(const Frame& f) const { return g_.body(f.body); }

  DepSet eval(Frame& f, ExprId id, const DepSet& control) {
    if (id == no_expr) return {};
    const Body& b = body(f);
    const Expr& e = b.expr(id);
    switch (e.op) {
      case Op::Number:
      case Op::Bool:
      case Op::Data: return {};
      case Op::Slot: return e.ref >= 0 && static_cast<std::size_t>(e.ref) < f.slots.size() ? f.slots[e.ref] : DepSet{};
      case Op::CallFn: {
        const Body& callee = g_.body(e.ref);
        std::vector<DepSet> args;
        DepSet all;
        for (std::uint32_t i = 0; i < e.count; ++i) {
          args.push_back(eval(f, b.operand(e, i), control));
          merge(all, args.back());
        }
        auto& params = fn_params_[e.ref];
        params.resize(callee.param_count);
        for (std::size_t i = 0; i < args.size() && i < params.size(); ++i)
          changed_ |= merge(params[i], callee.recursive ? weakened(args[i]) : args[i]);
        changed_ |= merge(fn_entry_[e.ref], callee.recursive ? weakened(joined(all, control)) : joined(all, control));
        return callee.recursive ? weakened(fn_return_[e.ref]) : fn_return_[e.ref];
      }
      case Op::CallHost: {
        DepSet out;
        for (std::uint32_t i = 0; i < e.count; ++i) merge(out, eval(f, b.operand(e, i), control));
        if (g_.hosts && !g_.hosts->row(e.ref).has_gradient())
          for (const auto& [s, exact] : out)
            if (s >= 0) host_deps_.insert({f.body, id, s});
        // The call is a source of its own, so that the sites it feeds are known (HostEdge).
        out.emplace(host_source(e.ref), true);
        return out;
      }
      default: {
        DepSet out;
        for (std::uint32_t i = 0; i < e.count; ++i) merge(out, eval(f, b.operand(e, i), control));
        return out;
      }
    }
  }

  // Host calls without a gradient and the sites their arguments may depend on.
  std::set<std::tuple<BodyId, ExprId, SiteId>> host_deps_;
  // In a DepSet, a host function's call stands as the source -2 - row; its
  // edges to sites are kept apart from the site edges.
  static SiteId host_source(std::int32_t row) { return -2 - row; }
  std::set<std::pair<std::int32_t, SiteId>> host_edges_;

  void add_edges(SiteId to, const DepSet& data, const DepSet& control) {
    auto add = [&](SiteId from, bool exact, bool is_data) {
      if (from < 0) {
        changed_ |= host_edges_.insert({-2 - from, to}).second;
        return;
      }
      auto [it, inserted] = edges_.try_emplace({from, to});
      EdgeState& e = it->second;
      EdgeState before = e;
      (is_data ? e.data_flow : e.control) = true;
      e.exact = e.exact || exact;
      if (inserted || before.data_flow != e.data_flow || before.control != e.control || before.exact != e.exact)
        changed_ = true;
    };
    for (const auto& [s, exact] : data) add(s, exact, true);
    for (const auto& [s, exact] : control) add(s, exact, false);
  }

  void write(Frame& f, SlotId slot, DepSet value) {
    if (slot >= 0 && static_cast<std::size_t>(slot) < f.slots.size()) f.slots[slot] = std::move(value);
  }

  // Returns the set deciding an early return inside the block (valid when may_return).
  DepSet analyze_block(Frame& f, const std::vector<Stmt>& stmts, DepSet control, bool& may_return) {
    DepSet guard;
    for (const auto& s : stmts) {
      bool returns = false;
      DepSet g = analyze_stmt(f, s, control, returns);
      if (returns) {
        may_return = true;
        merge(guard, g);
        merge(control, g);  // the rest of the block runs only if the return did not happen
      }
    }
    return guard;
  }

  DepSet analyze_stmt(Frame& f, const Stmt& s, const DepSet& control, bool& may_return) {
    const Body& b = body(f);
    switch (s.kind) {
      case StmtKind::Sample: {
        const Site& site = g_.site(s.site);
        DepSet data = eval(f, site.dist_call, control);
        for (ExprId d : site.type.dims) merge(data, eval(f, d, control));
        add_edges(s.site, data, control);
        write(f, s.slot, DepSet{{s.site, true}});
        return {};
      }
      case StmtKind::Observe: {
        const Site& site = g_.site(s.site);
        DepSet data = eval(f, site.dist_call, control);
        merge(data, eval(f, site.value, control));
        add_edges(s.site, data, control);
        return {};
      }
      case StmtKind::Deterministic: {
        DepSet data = eval(f, s.value, control);
        add_edges(s.site, data, control);
        write(f, s.slot, DepSet{{s.site, true}});
        return {};
      }
      case StmtKind::Factor:
        add_edges(s.site, eval(f, s.value, control), control);
        return {};
      case StmtKind::Param:
        // A param is one learned value whatever led to its statement: no edges into it.
        eval(f, s.value, control);
        write(f, s.slot, DepSet{{s.site, true}});
        return {};
      case StmtKind::Let: write(f, s.slot, eval(f, s.value, control)); return {};
      case StmtKind::Assign: write(f, s.slot, joined(eval(f, s.value, control), control)); return {};
      case StmtKind::Return: {
        DepSet v = joined(eval(f, s.value, control), control);
        if (b.kind == BodyKind::Fn) changed_ |= merge(fn_return_[f.body], v);
        may_return = true;
        return {};
      }
      case StmtKind::Plate: {
        const Plate& p = g_.plate(s.plate);
        DepSet size = joined(eval(f, p.size, control), eval(f, p.subsample, control));
        if (p.index_slot != none) write(f, p.index_slot, size);
        bool returns = false;
        DepSet guard = analyze_block(f, s.body, joined(control, size), returns);
        may_return = returns;
        return guard;
      }
      case StmtKind::Scale: {
        bool returns = false;
        DepSet guard = analyze_block(f, s.body, control, returns);
        may_return = returns;
        return guard;
      }
      case StmtKind::If: {
        DepSet cond = eval(f, s.value, control);
        DepSet inner = joined(control, cond);
        Frame then_f = f;
        bool r1 = false, r2 = false;
        DepSet guard = analyze_block(then_f, s.body, inner, r1);
        Frame else_f = f;
        merge(guard, analyze_block(else_f, s.else_body, inner, r2));
        for (std::size_t i = 0; i < f.slots.size(); ++i) {
          f.slots[i] = then_f.slots[i];
          merge(f.slots[i], else_f.slots[i]);
        }
        may_return = r1 || r2;
        return joined(guard, cond);
      }
      case StmtKind::For: {
        DepSet bounds = joined(eval(f, s.value, control), eval(f, s.value2, control));
        DepSet inner = joined(control, bounds);
        std::vector<DepSet> before = f.slots;
        DepSet guard;
        bool returns = false;
        // Passes until the slots at the end of an iteration stop changing.
        std::vector<DepSet> start = before;
        for (int pass = 0; pass < 16; ++pass) {
          f.slots = start;
          write(f, s.slot, bounds);
          merge(guard, analyze_block(f, s.body, inner, returns));
          std::vector<DepSet> next = before;
          bool grew = false;
          for (std::size_t i = 0; i < f.slots.size(); ++i) {
            DepSet carried;
            for (const auto& [site, exact] : f.slots[i])
              if (!before[i].count(site)) carried.emplace(site, false);
            merge(next[i], carried);
            grew |= merge(start[i], next[i]);
          }
          if (!grew) break;
        }
        // After the loop: the last iteration's values, or the entry values (no iteration).
        for (std::size_t i = 0; i < f.slots.size(); ++i) merge(f.slots[i], before[i]);
        may_return = returns;
        return returns ? joined(guard, bounds) : guard;
      }
    }
    return {};
  }

  const Graph& g_;
  BodyKind side_;
  std::vector<BodyId> fns_;
  std::map<BodyId, std::vector<DepSet>> fn_params_;
  std::map<BodyId, DepSet> fn_entry_, fn_return_;
  std::map<std::pair<SiteId, SiteId>, EdgeState> edges_;
  bool changed_ = false;
};

void collect_calls(const Body& b, std::set<BodyId>& out) {
  for (const auto& e : b.exprs)
    if (e.op == Op::CallFn) out.insert(e.ref);
}

// Fns reachable from `root` through one or more calls, in BodyId order
// (`root` itself only when it is recursive).
std::vector<BodyId> reachable_fns(const Graph& g, BodyId root) {
  std::set<BodyId> seen;
  std::vector<BodyId> todo{root};
  while (!todo.empty()) {
    BodyId b = todo.back();
    todo.pop_back();
    std::set<BodyId> calls;
    collect_calls(g.body(b), calls);
    for (BodyId c : calls)
      if (seen.insert(c).second) todo.push_back(c);
  }
  return {seen.begin(), seen.end()};
}

}  // namespace

void compute_dependencies(Graph& g) {
  g.edges.clear();
  g.model_sites.clear();
  g.guide_sites.clear();
  g.host_dependences.clear();
  g.host_edges.clear();
  for (std::size_t i = 0; i < g.bodies.size(); ++i) {
    if (g.bodies[i].kind != BodyKind::Fn) continue;
    std::vector<BodyId> r = reachable_fns(g, static_cast<BodyId>(i));
    g.bodies[i].recursive = std::find(r.begin(), r.end(), static_cast<BodyId>(i)) != r.end();
  }
  for (BodyKind side : {BodyKind::Model, BodyKind::Guide}) {
    BodyId root = side == BodyKind::Model ? g.model : g.guide;
    if (root == none) continue;
    std::vector<BodyId> fns = reachable_fns(g, root);
    std::vector<SiteId>& sites = side == BodyKind::Model ? g.model_sites : g.guide_sites;
    for (const auto& s : g.sites)
      if (s.body == root || std::find(fns.begin(), fns.end(), s.body) != fns.end()) sites.push_back(s.id);
    Analysis(g, side, fns).run(root, g.edges, g.host_dependences, g.host_edges);
  }
}

}  // namespace vireo::ir
