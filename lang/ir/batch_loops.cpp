// Which `for` loops of the model an SVI step may run as one batch.
//
// A loop like Stan's `for (t in 2:T) y[t] ~ normal(phi * y[t-1], sigma)`
// scores data one iteration at a time, but nothing in an iteration depends on
// another: the log density is the same sum whether the iterations run one by
// one or all at once on arrays with the iterations as their first dimension —
// as if the body were a plate whose index is the loop variable. Run one by
// one, each iteration costs a trip through the interpreter, the handlers and
// the trace; run at once, the loop costs about what its plate form does.
//
// Latent sites do not stop this when their values are known before the loop
// runs, as they are when the model is scored at a guide's draws (an SVI
// step): then even a random walk, `x ~ Normal(x, sigma)`, is a sum of terms
// each of which reads known values — this iteration's draw and the previous
// one's, which is the batch of draws shifted by one.
//
// A loop qualifies when running it as a batch cannot change any number or
// any error the one-by-one run would give:
//   * it is a statement of the model's own body, outside plates and other
//     loops (it runs at most once per execution, so its sites never repeat);
//   * its body holds only `let`, `deterministic`, `observe`, `factor` and
//     `~` statements: no param, no assignment `x = e` to a variable outside,
//     no nested control flow;
//   * a variable from outside the loop that a `~` statement writes (state
//     carried to the next iteration) is written by that one statement only;
//   * every site in it has a name no other statement of the program has (so
//     the batch's one trace entry cannot hide a name clash);
//   * an observe site's target varies with the loop and has no written type;
//   * every expression that varies with the loop (the loop variable, lets of
//     such values, the draws of its `~` sites and the state they carry) is
//     elementwise along the iterations: arithmetic and
//     comparisons, `@`, the elementwise functions of the signature table
//     (exp, pow, detach, …), a distribution's arguments, or a subscript whose first index varies of a
//     value that does not; a varying value is never an argument of another
//     function, of a user fn or host function, a slice bound, a later
//     subscript or an element of a vector literal.
// Values that do not vary (data, params, latent values from before the loop)
// are free to appear anywhere, as in any loop.
#include <string>
#include <vector>

#include "lang/ir/lower.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::ir {

namespace {

// A function whose result element i reads element i of its arguments only
// (the signature table's Mixing::Never, with a broadcast or same shape):
// given a batch of iterations it computes each iteration's result.
bool elementwise(const sig::Signature& f) {
  return f.mixing == sig::Mixing::Never && (f.shape == sig::ShapeRule::Elementwise || f.shape == sig::ShapeRule::SameAsFirst);
}

class LoopCheck {
 public:
  LoopCheck(const Graph& g, const Body& b, SlotId loop) : g_(g), b_(b), loop_(loop), varying_(b.slot_names.size(), false) {
    varying_[static_cast<std::size_t>(loop)] = true;
  }

  // The loop's latent sites and carried state, valid after stmts() said yes.
  BatchLoop result;

  bool stmts(const std::vector<Stmt>& body) {
    // State carried in: a `~` statement writing a variable declared before
    // the loop (slots are numbered in source order, the loop variable's
    // after every outer one). Its value varies before that statement too.
    for (const Stmt& s : body) {
      if (s.kind != StmtKind::Sample) continue;
      const Site& x = g_.site(s.site);
      if (x.slot == none || x.slot >= loop_) continue;
      for (const auto& c : result.carried)
        if (c.slot == x.slot) return false;  // written twice in one iteration
      result.carried.push_back({x.slot, x.id});
      varying_[static_cast<std::size_t>(x.slot)] = true;
    }
    for (const Stmt& s : body) {
      switch (s.kind) {
        case StmtKind::Let: {
          bool v = false;
          if (!expr(s.value, v)) return false;
          varying_[static_cast<std::size_t>(s.slot)] = v;
          break;
        }
        case StmtKind::Observe:
        case StmtKind::Factor:
          if (!site(g_.site(s.site))) return false;
          break;
        case StmtKind::Sample: {
          const Site& x = g_.site(s.site);
          if (!site(x)) return false;
          result.latent.push_back(x.id);
          if (x.slot != none) varying_[static_cast<std::size_t>(x.slot)] = true;
          break;
        }
        case StmtKind::Deterministic: {  // a let that the trace records
          const Site& d = g_.site(s.site);
          bool v = false;
          if (!site(d) || !expr(d.value, v)) return false;
          varying_[static_cast<std::size_t>(d.slot)] = v;
          break;
        }
        default:
          return false;
      }
    }
    return true;
  }

 private:
  bool site(const Site& site) {
    if (site.loops.size() != 1 || !site.plates.empty() || site.baseline.given) return false;
    for (const Site& other : g_.sites)
      if (other.id != site.id && other.name == site.name) return false;
    bool v = false;
    if (!expr(site.value, v)) return false;
    if (site.kind == SiteKind::Observe && (!v || site.type.given)) return false;
    if (site.kind == SiteKind::Sample && site.type.given) {  // `x: real<lower=a>[K] ~ …`: the same in every iteration
      for (ExprId d : site.type.dims)
        if (!expr(d, v) || v) return false;
      if (!expr(site.type.lower, v) || v || !expr(site.type.upper, v) || v) return false;
    }
    if (site.kind == SiteKind::Observe || site.kind == SiteKind::Sample) {
      const Expr& call = b_.expr(site.dist_call);
      for (std::uint32_t i = 0; i < call.count; ++i) {
        ExprId op = b_.operand(call, i);
        bool w = false;
        if (op != no_expr && !expr(op, w)) return false;
      }
    }
    return true;
  }

  // Whether `id` may be evaluated with the loop variable a batch of
  // iterations; `varying` says whether its value differs between them.
  bool expr(ExprId id, bool& varying) {
    varying = false;
    if (id == no_expr) return true;
    const Expr& e = b_.expr(id);
    switch (e.op) {
      case Op::Number:
      case Op::Bool:
      case Op::Data:
        return true;
      case Op::Slot:
        varying = varying_[static_cast<std::size_t>(e.ref)];
        return true;
      case Op::Neg:
      case Op::Not:
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
      case Op::MatMul:
      case Op::Pow:
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge:
      case Op::Eq:
      case Op::Ne:
      case Op::And:
      case Op::Or:
        for (std::uint32_t i = 0; i < e.count; ++i) {
          bool v = false;
          if (!expr(b_.operand(e, i), v)) return false;
          varying = varying || v;
        }
        return true;
      case Op::CallBuiltin: {
        for (std::uint32_t i = 0; i < e.count; ++i) {
          bool v = false;
          if (!expr(b_.operand(e, i), v)) return false;
          varying = varying || v;
        }
        return !varying || elementwise(sig::get(e.ref));
      }
      case Op::Index: {
        bool base = false;
        if (!expr(b_.operand(e, 0), base) || base) return false;
        for (std::uint32_t k = 1; k < e.count; ++k) {
          const Expr& sub = b_.expr(b_.operand(e, k));
          bool v = false;
          if (sub.op == Op::Slice) {
            for (std::uint32_t j = 0; j < sub.count; ++j)
              if (!expr(b_.operand(sub, j), v) || v) return false;
            continue;
          }
          if (!expr(b_.operand(e, k), v)) return false;
          if (v && k != 1) return false;
          varying = varying || v;
        }
        return true;
      }
      case Op::Vector:
        for (std::uint32_t i = 0; i < e.count; ++i) {
          bool v = false;
          if (!expr(b_.operand(e, i), v) || v) return false;
        }
        return true;
      default:  // user and host functions may hold sites or see the batch whole; slices outside brackets
        return false;
    }
  }

  const Graph& g_;
  const Body& b_;
  SlotId loop_;
  std::vector<bool> varying_;
};

void mark(Graph& g, const Body& b, std::vector<Stmt>& stmts) {
  for (Stmt& s : stmts) {
    if (s.kind == StmtKind::For) {
      LoopCheck check(g, b, s.slot);
      s.batchable = check.stmts(s.body);
      if (!s.batchable) continue;
      s.batch_loop = static_cast<std::int32_t>(g.batch_loops.size());
      check.result.frame = "for " + b.slot_names.at(static_cast<std::size_t>(s.slot));
      for (SiteId id : check.result.latent) g.sites.at(static_cast<std::size_t>(id)).batch_loop = s.batch_loop;
      g.batch_loops.push_back(std::move(check.result));
    } else if (s.kind == StmtKind::If || s.kind == StmtKind::Scale) {
      mark(g, b, s.body);
      mark(g, b, s.else_body);
    }
  }
}

}  // namespace

void mark_batchable_loops(Graph& graph) {
  if (graph.model == none) return;
  graph.batch_loops.clear();
  Body& model = graph.bodies.at(static_cast<std::size_t>(graph.model));
  mark(graph, model, model.stmts);
}

}  // namespace vireo::ir
