// Calls of the standard library's functions (the rows of stdlib/signatures
// whose callable is Function), bound to tape operations by name.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <unordered_map>

#include "runtime/interp/interpreter.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::interp {

namespace {

using Unary = ad::Var (*)(ad::Var);

const std::unordered_map<std::string_view, Unary>& unary_table() {
  static const std::unordered_map<std::string_view, Unary> t = {
      {"exp", ad::exp},         {"log", ad::log},         {"log1p", ad::log1p},     {"expm1", ad::expm1},
      {"sqrt", ad::sqrt},       {"abs", ad::abs},         {"sin", ad::sin},         {"cos", ad::cos},
      {"tanh", ad::tanh},       {"sigmoid", ad::sigmoid}, {"logit", ad::logit},     {"softplus", ad::softplus},
      {"relu", ad::relu},       {"detach", ad::detach},
  };
  return t;
}

}  // namespace

Value Interpreter::call_builtin(Frame& f, const ir::Expr& e) {
  const sig::Signature& s = sig::get(e.ref);
  const ir::Body& b = *f.body;
  if (s.is_distribution())
    throw RunError(e.span, fmt::format("'{}' is a distribution; it can only stand on the right of `~`", s.name));
  // Operands in parameter order (no_expr when absent), then variadic extras.
  std::vector<ir::ExprId> ops;
  for (std::uint32_t i = 0; i < e.count; ++i) ops.push_back(b.operand(e, i));
  auto arg = [&](std::size_t i) -> Value {
    if (i >= ops.size() || ops[i] == ir::no_expr) throw RunError(e.span, fmt::format("'{}' is missing an argument", s.name));
    return eval(f, ops[i]);
  };
  auto has = [&](std::size_t i) { return i < ops.size() && ops[i] != ir::no_expr; };
  auto extras = [&](std::size_t from) {
    std::vector<std::int64_t> dims;
    for (std::size_t i = from; i < ops.size(); ++i) dims.push_back(eval_int(f, ops[i], "a dimension"));
    for (auto d : dims)
      if (d < 0) throw RunError(e.span, fmt::format("'{}': a dimension must not be negative; got {}", s.name, d));
    return ad::Shape(dims);
  };
  ad::Tape& tape = ctx_.tape();
  std::string_view name = s.name;
  try {
    if (auto it = unary_table().find(name); it != unary_table().end()) {
      Value x = arg(0);
      Kind k = (name == "abs" || name == "detach") ? x.kind : Kind::Real;
      return Value{it->second(x.var), k, x.plates};
    }
    if (name == "pow" || ((name == "min" || name == "max") && has(1))) {
      Value x = arg(0), y = arg(1);
      int ev = 0;
      PlateList plates = operand_plates(x, y, e.span, ev);
      ad::Var a = align(x, plates, ev), c = align(y, plates, ev);
      if (name == "pow") return Value{ad::pow(a, c), Kind::Real, plates};
      if (name == "min") return Value{ad::minimum(a, c), arithmetic_kind(x.kind, y.kind), plates};
      return Value{ad::maximum(a, c), arithmetic_kind(x.kind, y.kind), plates};
    }
    if (name == "softmax" || name == "log_softmax") {
      Value x = arg(0);
      return Value{name == "softmax" ? ad::softmax(x.var, -1) : ad::log_softmax(x.var, -1), Kind::Real, x.plates};
    }
    if (name == "logsumexp") return Value{ad::logsumexp(arg(0).var), Kind::Real, {}};
    if (name == "sum") {
      Value x = arg(0);
      return Value{ad::sum(x.var), x.kind == Kind::Real ? Kind::Real : Kind::Int, {}};
    }
    if (name == "mean") return Value{ad::mean(arg(0).var), Kind::Real, {}};
    if (name == "min" || name == "max") {
      Value x = arg(0);
      return Value{name == "min" ? ad::min(x.var) : ad::max(x.var), x.kind, {}};
    }
    if (name == "dot") return Value{ad::dot(arg(0).var, arg(1).var), Kind::Real, {}};
    if (name == "transpose") {
      Value x = arg(0);
      return Value{ad::transpose(x.var), x.kind, {}};
    }
    if (name == "zeros") return Value{ad::zeros(tape, extras(0)), Kind::Real, {}};
    if (name == "ones") return Value{ad::ones(tape, extras(0)), Kind::Real, {}};
    if (name == "fill") {
      // One number, or one number per plate element (then one array each).
      Value v = arg(0);
      ad::Shape dims = extras(1);
      if (v.plain() ? v.var.numel() != 1 : v.event_rank() != 0)
        throw RunError(e.span, fmt::format("fill's value must be one number{}; it has shape {}",
                                           v.plain() ? "" : " per plate element", ad::to_string(v.var.shape())));
      ad::Shape lead, shape;
      for (std::size_t p = 0; p < v.plates.size(); ++p) {
        lead.push_back(v.var.shape()[static_cast<int>(p)]);
        shape.push_back(v.var.shape()[static_cast<int>(p)]);
      }
      for (int d = 0; d < dims.rank(); ++d) {
        lead.push_back(1);
        shape.push_back(dims[d]);
      }
      return Value{ad::broadcast_to(ad::reshape(v.var, lead), shape), v.kind, v.plates};
    }
    if (name == "arange") {
      if (has(1)) {
        std::int64_t a = eval_int(f, ops[0], "arange's start"), z = eval_int(f, ops[1], "arange's stop");
        return Value{ad::arange(tape, static_cast<double>(a), static_cast<double>(z)), Kind::Int, {}};
      }
      return Value{ad::arange(tape, static_cast<double>(eval_int(f, ops[0], "arange's stop"))), Kind::Int, {}};
    }
    if (name == "one_hot") {
      Value x = arg(0);
      std::int64_t k = eval_int(f, ops[1], "num_classes");
      ad::IntTensor idx = to_ints(x.var, e.span, "one_hot's argument");
      for (std::int64_t j = 0; j < idx.numel(); ++j)
        if (idx[j] < 0 || idx[j] >= k)
          throw RunError(e.span, fmt::format("one_hot: class {} is outside 0..{}", idx[j], k - 1));
      return Value{ad::one_hot(tape, idx, k), Kind::Int, x.plates};
    }
    if (name == "size") {
      Value x = arg(0);
      std::int64_t dim = has(1) ? eval_int(f, ops[1], "size's dim") : 0;
      int base = x.plain() ? 0 : static_cast<int>(x.plates.size());
      if (dim < 0 || base + dim >= x.var.rank())
        throw RunError(e.span, fmt::format("size: dimension {} does not exist in shape {}", dim, ad::to_string(x.var.shape())));
      return Value{tape.constant(static_cast<double>(x.var.shape()[static_cast<int>(base + dim)])), Kind::Int, {}};
    }
  } catch (const RunError&) {
    throw;
  } catch (const std::exception& ex) {
    throw RunError(e.span, fmt::format("{}: {}", s.name, ex.what()));
  }
  throw RunError(e.span, fmt::format("'{}' has no implementation in the interpreter", s.name));
}

}  // namespace vireo::interp
