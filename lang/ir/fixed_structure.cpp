// Whether every execution of the model and guide performs the same
// operations on arrays of the same shapes, whatever values the latent
// sites and parameters take: the condition under which an SVI step may be
// recorded once and replayed on new draws and parameters
// (runtime/infer/compiled_step.hpp).
//
// A value is *varying* when it may differ between executions with the same
// data: a latent draw, a parameter, a deterministic value, a fn's argument
// (fn bodies are checked once, for any argument), and whatever is computed
// from one. The structure is fixed when no varying value decides
//   * an `if` (or the evaluation of `and` / `or`, which stop early),
//   * the bounds of a `for`, a plate's size, a slice's bounds, or a subscript
//     (which element is read: a discrete draw used as an index),
//   * the shape or bounds of a declared type, or a `scale` weight,
//   * an argument that a builtin reads as a number (the dims of zeros, the
//     classes of one_hot, any integer result),
// and the program calls no host function (its result is outside the
// program) and no recursive fn, and subsamples no plate (each step draws
// its own indices). The analysis is flow-insensitive: a variable that is
// varying anywhere is varying everywhere, which can only say no more often.
#include "lang/ir/lower.hpp"

#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

#include "stdlib/signatures/signature.hpp"

namespace vireo::ir {

namespace {

class StructureCheck {
 public:
  explicit StructureCheck(const Graph& g) : g_(g) {}

  // Empty when fixed; else what varies, with the span of the statement or expression.
  std::string why;
  Span where{};

  void body(BodyId id) {
    if (!why.empty() || !visited_.insert(id).second) return;
    const Body& b = g_.body(id);
    if (b.recursive) return fail(b.span, "a recursive fn");
    std::vector<bool> varying(b.slot_names.size(), false);
    for (std::size_t i = 0; i < b.param_count && i < varying.size(); ++i) varying[i] = true;
    // Mark to a fixed point (a loop may write a variable after reading it), then check.
    for (bool changed = true; changed;) {
      changed = false;
      mark(b, b.stmts, varying, changed);
    }
    check(b, b.stmts, varying);
  }

 private:
  void fail(Span at, std::string what) {
    if (!why.empty()) return;
    why = std::move(what);
    where = at;
  }

  bool varies(const Body& b, ExprId id, const std::vector<bool>& varying) const {
    if (id == no_expr) return false;
    const Expr& e = b.expr(id);
    if (e.op == Op::Slot) return varying[static_cast<std::size_t>(e.ref)];
    if (e.op == Op::Number || e.op == Op::Bool || e.op == Op::Data) return false;
    for (std::uint32_t i = 0; i < e.count; ++i)
      if (varies(b, b.operand(e, i), varying)) return true;
    // A call of a fn whose body draws or reads parameters varies even with fixed arguments.
    if (e.op == Op::CallFn) return true;
    return false;
  }

  static void set(std::vector<bool>& varying, SlotId slot, bool v, bool& changed) {
    if (slot == none || !v || varying[static_cast<std::size_t>(slot)]) return;
    varying[static_cast<std::size_t>(slot)] = true;
    changed = true;
  }

  void mark(const Body& b, const std::vector<Stmt>& stmts, std::vector<bool>& varying, bool& changed) {
    for (const Stmt& s : stmts) {
      switch (s.kind) {
        case StmtKind::Sample:
        case StmtKind::Param:
        case StmtKind::Deterministic:
          set(varying, g_.site(s.site).slot, true, changed);
          break;
        case StmtKind::Let:
        case StmtKind::Assign:
          set(varying, s.slot, varies(b, s.value, varying), changed);
          break;
        case StmtKind::For:
          set(varying, s.slot, varies(b, s.value, varying) || varies(b, s.value2, varying), changed);
          break;
        default:
          break;
      }
      mark(b, s.body, varying, changed);
      mark(b, s.else_body, varying, changed);
    }
  }

  void check(const Body& b, const std::vector<Stmt>& stmts, const std::vector<bool>& varying) {
    for (const Stmt& s : stmts) {
      if (!why.empty()) return;
      switch (s.kind) {
        case StmtKind::If:
          if (varies(b, s.value, varying)) return fail(s.span, "an `if` on a value that depends on latent sites or parameters");
          break;
        case StmtKind::For:
          if (varies(b, s.value, varying) || varies(b, s.value2, varying))
            return fail(s.span, "a `for` whose bounds depend on latent sites or parameters");
          break;
        case StmtKind::Scale:
          if (varies(b, s.value, varying)) return fail(s.span, "a `scale` weight that depends on latent sites or parameters");
          break;
        case StmtKind::Plate: {
          const Plate& p = g_.plate(s.plate);
          if (p.subsample != no_expr) return fail(s.span, "a subsampled plate (each step draws its own indices)");
          if (varies(b, p.size, varying)) return fail(s.span, "a plate whose size depends on latent sites or parameters");
          break;
        }
        default:
          break;
      }
      if (s.site != none) site(b, g_.site(s.site), varying);
      expr(b, s.value, varying);
      expr(b, s.value2, varying);
      check(b, s.body, varying);
      check(b, s.else_body, varying);
    }
  }

  void site(const Body& b, const Site& x, const std::vector<bool>& varying) {
    for (ExprId d : x.type.dims)
      if (varies(b, d, varying)) return fail(x.span, "a declared shape that depends on latent sites or parameters");
    if (varies(b, x.type.lower, varying) || varies(b, x.type.upper, varying))
      return fail(x.span, "declared bounds that depend on latent sites or parameters");
    expr(b, x.dist_call, varying);
    expr(b, x.value, varying);
  }

  void expr(const Body& b, ExprId id, const std::vector<bool>& varying) {
    if (id == no_expr || !why.empty()) return;
    const Expr& e = b.expr(id);
    switch (e.op) {
      case Op::CallHost:
        return fail(e.span, "a call of a host function");
      case Op::CallFn:
        body(e.ref);
        break;
      case Op::CallBuiltin: {
        // Sizes, classes and dims are read as numbers when the call runs
        // (zeros(n), one_hot(x, K), size(x, d)), as is an integer result.
        const sig::Signature& f = sig::get(e.ref);
        const bool reads_numbers = f.kind == sig::ValueKind::Int || f.shape == sig::ShapeRule::SizeArgs ||
                                   f.shape == sig::ShapeRule::Fill || f.shape == sig::ShapeRule::Arange ||
                                   f.shape == sig::ShapeRule::OneHot || f.shape == sig::ShapeRule::Size;
        if (reads_numbers && varies(b, id, varying))
          return fail(e.span, fmt::format("`{}` of a value that depends on latent sites or parameters", f.name));
        break;
      }
      case Op::And:
      case Op::Or:
        if (varies(b, id, varying)) return fail(e.span, "`and` / `or` on values that depend on latent sites or parameters");
        break;
      case Op::Index:
        for (std::uint32_t k = 1; k < e.count; ++k)
          if (varies(b, b.operand(e, k), varying))
            return fail(e.span, "a subscript that depends on latent sites or parameters");
        break;
      case Op::Slice:
        if (varies(b, id, varying)) return fail(e.span, "slice bounds that depend on latent sites or parameters");
        break;
      default:
        break;
    }
    for (std::uint32_t i = 0; i < e.count; ++i) expr(b, b.operand(e, i), varying);
  }

  const Graph& g_;
  std::set<BodyId> visited_;
};

}  // namespace

void mark_fixed_structure(Graph& graph) {
  StructureCheck check(graph);
  if (graph.model != none) check.body(graph.model);
  if (graph.guide != none) check.body(graph.guide);
  graph.fixed_structure = check.why.empty();
  graph.varying_structure = check.why;
  graph.varying_structure_at = check.where;
}

}  // namespace vireo::ir
