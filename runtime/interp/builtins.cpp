// Calls of the standard library's functions: one implementation per
// Function row of the signature table (stdlib/signatures), bound to the rows
// once, by name, into a table indexed by BuiltinId; a call dispatches by its
// row's id. A row without an implementation (or an implementation naming no
// row) is refused when the table is built, at the first call of any builtin.
#include <fmt/format.h>

#include <boost/container/small_vector.hpp>

#include <cmath>
#include <stdexcept>
#include <utility>

#include "runtime/interp/interpreter.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::interp {

// What an implementation reads of its call: the arguments in parameter
// order (absent optional ones as no_expr), then the variadic extras.
struct Interpreter::BuiltinCall {
  Interpreter& in;
  Frame& f;
  const ir::Expr& e;
  const sig::Signature& s;
  boost::container::small_vector<ir::ExprId, 4> ops;

  bool has(std::size_t i) const { return i < ops.size() && ops[i] != ir::no_expr; }
  Value arg(std::size_t i) {
    if (!has(i)) throw RunError(e.span, fmt::format("'{}' is missing an argument", s.name));
    return in.eval(f, ops[i]);
  }
  std::int64_t integer(std::size_t i, const char* what) { return in.eval_int(f, ops[i], what); }
  // The variadic extras from `from` on, as dimensions.
  ad::Shape extras(std::size_t from) {
    std::vector<std::int64_t> dims;
    for (std::size_t i = from; i < ops.size(); ++i) dims.push_back(integer(i, "a dimension"));
    for (auto d : dims)
      if (d < 0) throw RunError(e.span, fmt::format("'{}': a dimension must not be negative; got {}", s.name, d));
    return ad::Shape(dims);
  }
  ad::Tape& tape() { return in.ctx_.tape(); }
  // Two operands of an elementwise operation, aligned (value.hpp).
  std::pair<ad::Var, ad::Var> aligned(const Value& x, const Value& y, PlateList& plates) {
    int ev = 0;
    plates = in.operand_plates(x, y, e.span, ev);
    return {align(x, plates, ev), align(y, plates, ev)};
  }
};

namespace {

using Call = Interpreter::BuiltinCall;
using Impl = Value (*)(Call&);

// f(x) elementwise; the result keeps x's element kind (abs, detach) or is real.
template <ad::Var (*F)(ad::Var), bool keep_kind = false>
Value unary(Call& c) {
  Value x = c.arg(0);
  return Value{F(x.var), keep_kind ? x.kind : Kind::Real, x.plates};
}

Value pow_(Call& c) {
  Value x = c.arg(0), y = c.arg(1);
  PlateList plates;
  auto [a, b] = c.aligned(x, y, plates);
  return Value{ad::pow(a, b), Kind::Real, plates};
}

// min(x) / max(x): the smallest / largest element; min(x, y) / max(x, y): elementwise.
template <bool is_min>
Value extremum(Call& c) {
  Value x = c.arg(0);
  if (!c.has(1)) return Value{is_min ? ad::min(x.var) : ad::max(x.var), x.kind, {}};
  Value y = c.arg(1);
  PlateList plates;
  auto [a, b] = c.aligned(x, y, plates);
  return Value{is_min ? ad::minimum(a, b) : ad::maximum(a, b), arithmetic_kind(x.kind, y.kind), plates};
}

Value softmax_(Call& c) {
  Value x = c.arg(0);
  return Value{ad::softmax(x.var, -1), Kind::Real, x.plates};
}
Value log_softmax_(Call& c) {
  Value x = c.arg(0);
  return Value{ad::log_softmax(x.var, -1), Kind::Real, x.plates};
}
Value logsumexp_(Call& c) { return Value{ad::logsumexp(c.arg(0).var), Kind::Real, {}}; }
Value sum_(Call& c) {
  Value x = c.arg(0);
  return Value{ad::sum(x.var), x.kind == Kind::Real ? Kind::Real : Kind::Int, {}};
}
Value mean_(Call& c) { return Value{ad::mean(c.arg(0).var), Kind::Real, {}}; }
Value dot_(Call& c) { return Value{ad::dot(c.arg(0).var, c.arg(1).var), Kind::Real, {}}; }
Value transpose_(Call& c) {
  Value x = c.arg(0);
  return Value{ad::transpose(x.var), x.kind, {}};
}
// dense(x, W, b): x @ W + b as one tape node (ad::dense); x a vector or a
// matrix of rows, per plate element or plain (every leading axis a row).
Value dense_(Call& c) {
  Value x = c.arg(0), w = c.arg(1), b = c.arg(2);
  if (!w.plain() || !b.plain() || w.var.rank() != 2 || b.var.rank() != 1)
    throw RunError(c.e.span, fmt::format("dense needs one weight matrix W [in, out] and one bias vector b [out]; got {} "
                                         "and {}",
                                         ad::to_string(w.var.shape()), ad::to_string(b.var.shape())));
  const int ex = x.plain() ? x.var.rank() : x.event_rank();
  if (ex == 0 || x.var.shape()[x.var.rank() - 1] != w.var.shape()[0] || b.var.shape()[0] != w.var.shape()[1])
    throw RunError(c.e.span, fmt::format("dense(x, W, b): x {} does not fit W {} and b {} (x's last dimension must be "
                                         "W's first, b's length W's second)",
                                         ad::to_string(x.var.shape()), ad::to_string(w.var.shape()),
                                         ad::to_string(b.var.shape())));
  return Value{ad::dense(x.var, w.var, b.var), Kind::Real, x.plates};
}
Value zeros_(Call& c) { return Value{ad::zeros(c.tape(), c.extras(0)), Kind::Real, {}}; }
Value ones_(Call& c) { return Value{ad::ones(c.tape(), c.extras(0)), Kind::Real, {}}; }

// One number, or one number per plate element (then one array each).
Value fill_(Call& c) {
  Value v = c.arg(0);
  ad::Shape dims = c.extras(1);
  if (v.plain() ? v.var.numel() != 1 : v.event_rank() != 0)
    throw RunError(c.e.span, fmt::format("fill's value must be one number{}; it has shape {}",
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

Value arange_(Call& c) {
  if (c.has(1)) {
    std::int64_t a = c.integer(0, "arange's start"), z = c.integer(1, "arange's stop");
    return Value{ad::arange(c.tape(), static_cast<double>(a), static_cast<double>(z)), Kind::Int, {}};
  }
  return Value{ad::arange(c.tape(), static_cast<double>(c.integer(0, "arange's stop"))), Kind::Int, {}};
}

Value one_hot_(Call& c) {
  Value x = c.arg(0);
  std::int64_t k = c.integer(1, "num_classes");
  ad::IntTensor idx = to_ints(x.var, c.e.span, "one_hot's argument");
  for (std::int64_t j = 0; j < idx.numel(); ++j)
    if (idx[j] < 0 || idx[j] >= k)
      throw RunError(c.e.span, fmt::format("one_hot: class {} is outside 0..{}", idx[j], k - 1));
  return Value{ad::one_hot(c.tape(), idx, k), Kind::Int, x.plates};
}

// size(x, dim): a plate-indexed value's dims are counted per element.
Value size_(Call& c) {
  Value x = c.arg(0);
  std::int64_t dim = c.has(1) ? c.integer(1, "size's dim") : 0;
  int base = x.plain() ? 0 : static_cast<int>(x.plates.size());
  if (dim < 0 || base + dim >= x.var.rank())
    throw RunError(c.e.span, fmt::format("size: dimension {} does not exist in shape {}", dim, ad::to_string(x.var.shape())));
  return Value{c.tape().constant(static_cast<double>(x.var.shape()[static_cast<int>(base + dim)])), Kind::Int, {}};
}

std::vector<Impl> bind_implementations() {
  const std::pair<std::string_view, Impl> rows[] = {
      {"exp", unary<ad::exp>},         {"log", unary<ad::log>},         {"log1p", unary<ad::log1p>},
      {"expm1", unary<ad::expm1>},     {"sqrt", unary<ad::sqrt>},       {"abs", unary<ad::abs, true>},
      {"sin", unary<ad::sin>},         {"cos", unary<ad::cos>},         {"tanh", unary<ad::tanh>},
      {"sigmoid", unary<ad::sigmoid>}, {"logit", unary<ad::logit>},     {"softplus", unary<ad::softplus>},
      {"relu", unary<ad::relu>},       {"detach", unary<ad::detach, true>},
      {"pow", pow_},                   {"min", extremum<true>},         {"max", extremum<false>},
      {"softmax", softmax_},           {"log_softmax", log_softmax_},   {"logsumexp", logsumexp_},
      {"sum", sum_},                   {"mean", mean_},                 {"dot", dot_},
      {"transpose", transpose_},       {"zeros", zeros_},               {"ones", ones_},
      {"fill", fill_},                 {"arange", arange_},             {"one_hot", one_hot_},
      {"size", size_},                 {"dense", dense_},
  };
  std::vector<Impl> table(sig::signatures().size(), nullptr);
  for (const auto& [name, impl] : rows) {
    const sig::Signature* s = sig::find(name);
    if (!s || s->callable != sig::Callable::Function)
      throw std::logic_error(fmt::format("the interpreter implements '{}', which is no function of the signature table", name));
    table[static_cast<std::size_t>(s->id)] = impl;
  }
  for (const auto& s : sig::signatures())
    if (s.callable == sig::Callable::Function && !table[static_cast<std::size_t>(s.id)])
      throw std::logic_error(fmt::format("the signature table's function '{}' has no implementation in the interpreter", s.name));
  return table;
}

const std::vector<Impl>& implementations() {
  static const std::vector<Impl> table = bind_implementations();  // immutable after first use
  return table;
}

}  // namespace

Value Interpreter::call_builtin(Frame& f, const ir::Expr& e) {
  const sig::Signature& s = sig::get(e.ref);
  if (s.is_distribution())
    throw RunError(e.span, fmt::format("'{}' is a distribution; it can only stand on the right of `~`", s.name));
  if (s.is_initializer())  // exec_param draws a param's initialiser; the checker refuses one anywhere else
    throw RunError(e.span, fmt::format("{}() is a random initialiser, valid only as a param's initial value", s.name),
                   fmt::format("write it as `param W: real[4, 3] = {}(…)`", s.name));
  BuiltinCall call{*this, f, e, s, {}};
  for (std::uint32_t i = 0; i < e.count; ++i) call.ops.push_back(f.body->operand(e, i));
  try {
    return implementations()[static_cast<std::size_t>(s.id)](call);
  } catch (const RunError&) {
    throw;
  } catch (const std::exception& ex) {
    rethrow_tape_limit(e.span, ex);
    throw RunError(e.span, fmt::format("{}: {}", s.name, ex.what()));
  }
}

}  // namespace vireo::interp
