// Expression evaluation: every operation of the language on Values, with the
// plate alignment of value.hpp for binary operations.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "runtime/interp/interpreter.hpp"
#include "runtime/interp/deep_stack.hpp"

namespace vireo::interp {

Value Interpreter::eval(Frame& f, ir::ExprId id) {
  const ir::Body& b = *f.body;
  const ir::Expr& e = b.expr(id);
  ad::Tape& tape = ctx_.tape();
  using O = ir::Op;
  switch (e.op) {
    case O::Number:
      return Value{tape.constant(e.number), e.ref == 1 ? Kind::Int : Kind::Real, {}};
    case O::Bool:
      return Value{tape.constant(e.number), Kind::Bool, {}};
    case O::Slot: {
      auto i = static_cast<std::size_t>(e.ref);
      if (!f.bound[i])
        throw RunError(e.span, fmt::format("'{}' has no value here", b.slot_names[i]),
                       "give it a value on every path before this use");
      return f.slots[i];
    }
    case O::Data:
      return ctx_.data_value(e.ref);
    case O::Neg: {
      Value a = eval(f, b.operand(e, 0));
      return Value{-a.var, a.kind == Kind::Bool ? Kind::Int : a.kind, a.plates};
    }
    case O::Not: {
      Value a = eval(f, b.operand(e, 0));
      return Value{ad::operator==(a.var, 0.0), Kind::Bool, a.plates};
    }
    case O::CallBuiltin:
      return call_builtin(f, e);
    case O::CallFn:
      return call_fn(f, e);
    case O::CallHost:
      return call_host(f, e);
    case O::Index:
      return eval_index(f, e);
    case O::Vector:
      return eval_vector(f, e);
    case O::Slice:
      throw RunError(e.span, "a slice `a:b` can only appear inside brackets");
    default:
      return eval_binary(f, e);
  }
}

bool Interpreter::fold_scalar(Frame& f, ir::ExprId id, double& out, int depth) {
  const ir::Body& b = *f.body;
  const ir::Expr& e = b.expr(id);
  using O = ir::Op;
  switch (e.op) {
    case O::Number:
      out = e.number;
      return true;
    case O::Slot: {
      const auto i = static_cast<std::size_t>(e.ref);
      if (!f.bound[i]) return false;  // eval() reports it
      const Value& v = f.slots[i];
      if (!v.plain() || v.var.rank() != 0 || v.var.requires_grad()) return false;
      out = v.var.item();
      return true;
    }
    case O::Neg:
      if (depth > 8 || !fold_scalar(f, b.operand(e, 0), out, depth + 1)) return false;
      out = -out;
      return true;
    case O::Add:
    case O::Sub:
    case O::Mul: {
      double x = 0, y = 0;
      if (depth > 8 || !fold_scalar(f, b.operand(e, 0), x, depth + 1) || !fold_scalar(f, b.operand(e, 1), y, depth + 1))
        return false;
      out = e.op == O::Add ? x + y : e.op == O::Sub ? x - y : x * y;
      return true;
    }
    default:
      return false;
  }
}

Value Interpreter::eval_binary(Frame& f, const ir::Expr& e) {
  const ir::Body& b = *f.body;
  using O = ir::Op;
  // `A @ x + c` (either order) is one node when all three are plain arrays
  // (ad::matmul_add: the intercept added as the product comes out, and no
  // array between the product and the sum's gradient). The operands are
  // evaluated in the program's order, as below.
  if (e.op == O::Add) {
    const int at = b.expr(b.operand(e, 0)).op == O::MatMul ? 0 : b.expr(b.operand(e, 1)).op == O::MatMul ? 1 : -1;
    if (at >= 0) {
      const ir::Expr& mm = b.expr(b.operand(e, static_cast<std::uint32_t>(at)));
      Value c, p, q;
      if (at == 1) c = eval(f, b.operand(e, 0));
      p = eval(f, b.operand(mm, 0));
      q = eval(f, b.operand(mm, 1));
      if (at == 0) c = eval(f, b.operand(e, 1));
      if (p.plain() && q.plain() && c.plain()) {
        try {
          return Value{ad::matmul_add(p.var, q.var, c.var), arithmetic_kind(arithmetic_kind(p.kind, q.kind), c.kind), {}};
        } catch (const std::exception&) {
          // Reported below, by the op that fails, at its own span.
        }
      }
      Value m = apply_binary(mm, p, q);
      return at == 0 ? apply_binary(e, m, c) : apply_binary(e, c, m);
    }
  }
  Value x = eval(f, b.operand(e, 0));
  Value y = eval(f, b.operand(e, 1));
  return apply_binary(e, x, y);
}

Value Interpreter::apply_binary(const ir::Expr& e, const Value& x, const Value& y) {
  using O = ir::Op;
  try {
    if (e.op == O::MatMul) return eval_matmul(x, y, e.span);
    if (x.plain() && y.plain()) {  // no plates to line up (every operand outside plates, loop bodies)
      const ad::Var& a = x.var;
      const ad::Var& c = y.var;
      switch (e.op) {
        case O::Add: return Value{a + c, arithmetic_kind(x.kind, y.kind), {}};
        case O::Sub: return Value{a - c, arithmetic_kind(x.kind, y.kind), {}};
        case O::Mul: return Value{a * c, arithmetic_kind(x.kind, y.kind), {}};
        case O::Div: return Value{a / c, Kind::Real, {}};
        default: break;
      }
    }
    int ev = 0;
    PlateList plates = operand_plates(x, y, e.span, ev);
    ad::Var a = align(x, plates, ev), c = align(y, plates, ev);
    switch (e.op) {
      case O::Add: return Value{a + c, arithmetic_kind(x.kind, y.kind), plates};
      case O::Sub: return Value{a - c, arithmetic_kind(x.kind, y.kind), plates};
      case O::Mul: return Value{a * c, arithmetic_kind(x.kind, y.kind), plates};
      case O::Div: return Value{a / c, Kind::Real, plates};
      case O::Pow: return Value{ad::pow(a, c), arithmetic_kind(x.kind, y.kind), plates};
      case O::Lt: return Value{a < c, Kind::Bool, plates};
      case O::Le: return Value{a <= c, Kind::Bool, plates};
      case O::Gt: return Value{a > c, Kind::Bool, plates};
      case O::Ge: return Value{a >= c, Kind::Bool, plates};
      case O::Eq: return Value{a == c, Kind::Bool, plates};
      case O::Ne: return Value{a != c, Kind::Bool, plates};
      case O::And: return Value{(a != 0.0) * (c != 0.0), Kind::Bool, plates};
      case O::Or: return Value{ad::maximum(a != 0.0, c != 0.0), Kind::Bool, plates};
      default: break;
    }
  } catch (const RunError&) {
    throw;
  } catch (const std::exception& ex) {
    rethrow_tape_limit(e.span, ex);
    throw RunError(e.span, fmt::format("`{}` on shapes {} and {}: {}", ir::spelling(e.op), ad::to_string(x.var.shape()),
                                       ad::to_string(y.var.shape()), ex.what()));
  }
  throw RunError(e.span, fmt::format("operator `{}` is not supported here", ir::spelling(e.op)));
}

PlateList Interpreter::operand_plates(const Value& x, const Value& y, lang::Span span, int& event_rank) {
  PlateList plates = union_plates(ctx_.plate_order(), {&x, &y});
  event_rank = std::max(x.plain() ? 0 : x.event_rank(), y.plain() ? 0 : y.event_rank());
  const Value* plain = x.plain() ? &x : y.plain() ? &y : nullptr;
  if (plates.empty() || !plain || plain->var.rank() <= event_rank) return plates;
  // Against a loop's iterations run as one batch, a plain array is every
  // iteration's own value: all its dims are per-element ones.
  if (plates.size() == 1 && plates[0] == loop_batch_plate) {
    event_rank = plain->var.rank();
    return plates;
  }
  // The plain array reaches into the plate dims: it is right-aligned against
  // the full shape, every open plate (size 1 where the value does not vary
  // along it) then the per-element shape (sig::broadcast_in, in the checker).
  PlateList open;
  for (const auto& fr : ctx_.open_plates()) open.push_back(fr.plate);
  bool all_open = std::all_of(plates.begin(), plates.end(),
                              [&](ir::PlateId p) { return std::find(open.begin(), open.end(), p) != open.end(); });
  if (all_open) plates = open;
  const int full = static_cast<int>(plates.size()) + event_rank;
  const ad::Shape& ps = plain->var.shape();
  if (ps.rank() > full)
    throw RunError(span, fmt::format("a plain array of shape {} has more dimensions than the plate-indexed value's full "
                                     "shape (its {} plate dimension(s), then {} per-element one(s))",
                                     ad::to_string(ps), plates.size(), event_rank));
  // A plain dim lined up with a plate must be that plate's size (or 1).
  if (all_open)
    for (int d = 0; d < ps.rank(); ++d) {
      int at = full - ps.rank() + d;
      if (at >= static_cast<int>(plates.size())) break;
      const auto& fr = ctx_.open_plates()[static_cast<std::size_t>(at)];
      if (ps[d] != 1 && ps[d] != fr.subsample)
        throw RunError(span, fmt::format("a plain array of shape {} lines up with plate '{}' of size {} but has {} there",
                                         ad::to_string(ps), fr.name, fr.subsample, ps[d]));
    }
  return plates;
}

// `@` with plate dimensions as batch dimensions: each element's vector or
// matrix is multiplied (a vector is a matrix of one row or column here).
Value Interpreter::eval_matmul(const Value& x, const Value& y, lang::Span span) {
  Kind kind = arithmetic_kind(x.kind, y.kind);
  if (x.plain() && y.plain()) return Value{ad::matmul(x.var, y.var), kind, {}};
  PlateList plates = union_plates(ctx_.plate_order(), {&x, &y});
  auto element_rank = [](const Value& v) { return v.plain() ? v.var.rank() : v.event_rank(); };
  int ex = element_rank(x), ey = element_rank(y);
  if (ex == 0 || ey == 0)
    throw RunError(span, fmt::format("`@` needs a vector or a matrix per element on both sides; got per-element ranks {} "
                                     "and {}",
                                     ex, ey));
  ad::Var a = align(x, plates, ex), b = align(y, plates, ey);
  auto insert_axis = [](ad::Var v, int from_end) {
    ad::Shape s;
    for (int d = 0; d < v.rank(); ++d) {
      if (d == v.rank() - from_end) s.push_back(1);
      s.push_back(v.shape()[d]);
    }
    if (from_end == 0) s.push_back(1);
    return ad::reshape(v, s);
  };
  if (ex == 1) a = insert_axis(a, 1);  // [.., L] -> [.., 1, L]
  if (ey == 1) b = insert_axis(b, 0);  // [.., L] -> [.., L, 1]
  ad::Var r = ad::matmul(a, b);
  ad::Shape out;
  for (int d = 0; d < r.rank(); ++d) {
    if (ex == 1 && d == r.rank() - 2) continue;
    if (ey == 1 && d == r.rank() - 1) continue;
    out.push_back(r.shape()[d]);
  }
  return Value{ad::reshape(r, out), kind, plates};
}

Value Interpreter::eval_vector(Frame& f, const ir::Expr& e) {
  const ir::Body& b = *f.body;
  std::vector<ad::Var> parts;
  Kind kind = Kind::Int;
  for (std::uint32_t i = 0; i < e.count; ++i) {
    Value v = eval(f, b.operand(e, i));
    if (!v.plain()) throw RunError(b.expr(b.operand(e, i)).span, "a vector literal's elements cannot be plate-indexed");
    if (v.kind == Kind::Real) kind = Kind::Real;
    parts.push_back(v.var);
  }
  if (parts.empty()) return Value{ctx_.tape().constant(ad::Tensor(ad::Shape{0})), Kind::Real, {}};
  try {
    return Value{ad::stack(parts, 0), kind, {}};
  } catch (const std::exception& ex) {
    rethrow_tape_limit(e.span, ex);
    throw RunError(e.span, fmt::format("the elements of a vector literal must have one shape: {}", ex.what()));
  }
}

Value Interpreter::eval_index(Frame& f, const ir::Expr& e) {
  const ir::Body& b = *f.body;
  Value base = eval(f, b.operand(e, 0));
  ad::Var x = base.var;
  int axis = base.plain() ? 0 : static_cast<int>(base.plates.size());  // index the event part of a plate-indexed value
  PlateList plates = base.plates;
  for (std::uint32_t k = 1; k < e.count; ++k) {
    const ir::Expr& sub = b.expr(b.operand(e, k));
    if (axis >= x.rank()) {
      if (base.plain())
        throw RunError(sub.span, fmt::format("too many subscripts for a value of shape {}", ad::to_string(base.var.shape())));
      ad::Shape element;
      for (int d = static_cast<int>(base.plates.size()); d < base.var.rank(); ++d) element.push_back(base.var.shape()[d]);
      throw RunError(sub.span, fmt::format("too many subscripts: the value is plate-indexed, so its subscripts address one "
                                           "element's shape {} (full shape {})",
                                           ad::to_string(element), ad::to_string(base.var.shape())));
    }
    std::int64_t n = x.shape()[axis];
    if (sub.op == ir::Op::Slice) {
      ir::ExprId lo_id = b.operand(sub, 0), hi_id = b.operand(sub, 1);
      std::int64_t lo = lo_id == ir::no_expr ? 0 : eval_int(f, lo_id, "a slice bound");
      std::int64_t hi = hi_id == ir::no_expr ? n : eval_int(f, hi_id, "a slice bound");
      if (lo < 0) lo += n;
      if (hi < 0) hi += n;
      if (lo < 0 || hi > n || lo > hi)
        throw RunError(sub.span, fmt::format("slice {}:{} is outside 0:{} (dimension {} of shape {})", lo, hi, n, axis,
                                             ad::to_string(x.shape())));
      x = ad::slice(x, axis, lo, hi);
      ++axis;
      continue;
    }
    double folded = 0;
    const bool scalar = fold_scalar(f, b.operand(e, k), folded);
    Value idx = scalar ? Value{} : eval(f, b.operand(e, k));
    if (scalar || idx.var.rank() == 0) {
      std::int64_t i = to_int(scalar ? folded : idx.var.item(), sub.span, "an index");
      if (i < -n || i >= n)
        throw RunError(sub.span, fmt::format("index {} is out of range for dimension {} of size {}", i, axis, n));
      if (i < 0) i += n;
      if (axis == 0) {  // the leading axis: one node that copies the element's block
        x = ad::index(x, i);
        continue;
      }
      ad::Var s = ad::slice(x, axis, i, i + 1);
      ad::Shape out;
      for (int d = 0; d < s.rank(); ++d)
        if (d != axis) out.push_back(s.shape()[d]);
      x = ad::reshape(s, out);
      continue;
    }
    // Gathering by an integer array: x[z].
    if (axis != 0 || !base.plain() || k != 1)
      throw RunError(sub.span, "gathering by an integer array works on the first subscript of a plain array",
                     "index a data item, a param or a value computed outside plates: `loc[z]`, `x[idx]`");
    ad::IntTensor z = to_ints(idx.var, sub.span, "an index");
    // A loop run as one batch indexes as its iterations would, one number
    // each: from the end when negative.
    if (idx.var.rank() == 1 && idx.plates.size() == 1 && idx.plates[0] == loop_batch_plate)
      for (std::int64_t j = 0; j < z.numel(); ++j)
        if (z[j] < 0 && z[j] >= -n) z[j] += n;
    for (std::int64_t j = 0; j < z.numel(); ++j)
      if (z[j] < 0 || z[j] >= n)
        throw RunError(sub.span, fmt::format("index {} is out of range for dimension 0 of size {}", z[j], n));
    x = ad::gather(x, z);
    plates = idx.plates;
    axis = idx.var.rank();
  }
  if (x.rank() < static_cast<int>(plates.size())) plates.clear();
  return Value{x, base.kind, plates};
}

Value Interpreter::call_fn(Frame& f, const ir::Expr& e) {
  const ir::Body& callee = ctx_.graph().body(e.ref);
  if (depth_ >= ctx_.max_call_depth())
    throw RunError(e.span, fmt::format("recursion deeper than {} calls of '{}'", ctx_.max_call_depth(), callee.name),
                   fmt::format("make sure the recursion ends (a stochastic stopping rule should stop with probability "
                               "1 quickly); a deeper one needs --max-depth N (up to {})",
                               Context::max_call_depth_limit))
        .set_limit();
  ctx_.check_deadline(e.span);
  Frame g;
  g.body = &callee;
  g.slots.resize(callee.slot_names.size());
  g.bound.assign(callee.slot_names.size(), false);
  for (std::uint32_t i = 0; i < e.count && i < callee.param_count; ++i) {
    g.slots[i] = eval(f, f.body->operand(e, i));
    g.bound[i] = true;
  }
  ++depth_;
  struct Down {
    int& d;
    ~Down() { --d; }
  } down{depth_};
  Flow flow = Flow::Next;
  auto body = [&] { flow = exec_block(g, callee.stmts); };
  // Every calls_per_segment-th nested call goes on on a stack of its own.
  if (depth_ % calls_per_segment == 0)
    run_on_own_stack(segment_stack_bytes, body);
  else
    body();
  if (flow != Flow::Return)
    throw RunError(e.span, fmt::format("'{}' ended without returning a value", callee.name), "end every path with `return`");
  return g.ret;
}

}  // namespace vireo::interp
