// Calls of host functions (stdlib/signatures/host_table.hpp): each argument's
// value is copied out of the tape and checked against its declared shape, the
// host's `value` computes the result, and — when an argument carries a
// gradient — the tape records one node whose backward calls the host's
// `vjp`. A function registered without one is refused there: the checker
// refuses the calls it can see depend on a latent site or a param; this is
// the check for what it cannot see.
#include <fmt/format.h>

#include <stdexcept>
#include <utility>

#include "runtime/interp/interpreter.hpp"
#include "stdlib/signatures/host_table.hpp"

namespace vireo::interp {
namespace {

bool fits(const std::vector<std::int64_t>& want, const ad::Shape& got) {
  if (static_cast<std::size_t>(got.rank()) != want.size()) return false;
  for (std::size_t d = 0; d < want.size(); ++d)
    if (want[d] >= 0 && want[d] != got[static_cast<int>(d)]) return false;
  return true;
}

// The declared result shape with its free extent (-1) taken from `count`
// values; empty optional when the count cannot fill it.
std::optional<ad::Shape> result_shape(const std::vector<std::int64_t>& declared, std::size_t count) {
  std::int64_t fixed = 1;
  int free = -1;
  for (std::size_t d = 0; d < declared.size(); ++d) {
    if (declared[d] < 0) free = static_cast<int>(d);
    else fixed *= declared[d];
  }
  std::vector<std::int64_t> dims = declared;
  const auto n = static_cast<std::int64_t>(count);
  if (free < 0) {
    if (n != fixed) return std::nullopt;
  } else {
    if (fixed == 0 || n % fixed != 0) return std::nullopt;
    dims[static_cast<std::size_t>(free)] = n / fixed;
  }
  return ad::Shape(dims);
}

}  // namespace

Value Interpreter::call_host(Frame& f, const ir::Expr& e) {
  if (!ctx_.graph().hosts) throw RunError(e.span, "a host function call in a model compiled without host functions");
  const sig::HostRow& row = ctx_.graph().hosts->row(e.ref);
  std::vector<ad::Var> inputs;
  std::vector<sig::HostValue> args;
  bool needs_gradient = false;
  std::string latent_arg;
  for (std::uint32_t i = 0; i < e.count; ++i) {
    const ir::ExprId op = f.body->operand(e, i);
    if (op == ir::no_expr) throw RunError(e.span, fmt::format("'{}' is missing an argument", row.name));
    Value v = eval(f, op);
    const std::string& param = row.param_names[i];
    if (!v.plain())
      throw RunError(f.body->expr(op).span,
                     fmt::format("{}'s argument {} varies along a plate; a host function takes whole arrays", row.name,
                                 param),
                     "call it outside the plate");
    if (!fits(row.arg_shapes[i], v.var.shape()))
      throw RunError(f.body->expr(op).span,
                     fmt::format("{} takes {} of shape {}; got {}", row.name, param,
                                 sig::HostRow::shape_text(row.arg_shapes[i]), ad::to_string(v.var.shape())));
    if (v.var.requires_grad() && !needs_gradient) {
      needs_gradient = true;
      latent_arg = param;
    }
    const double* data = v.var.data();
    args.push_back({v.var.shape().to_vector(), std::vector<double>(data, data + v.var.numel())});
    inputs.push_back(v.var);
  }
  if (needs_gradient && !row.has_gradient())
    throw RunError(e.span,
                   fmt::format("host function '{}' has no gradient, but its argument {} depends on a latent site or a "
                               "param here",
                               row.name, latent_arg),
                   fmt::format("register '{}' with a gradient (HostFunction::gradient), or call it on data only", row.name));

  sig::HostValue out;
  try {
    out = row.value(args);
  } catch (const std::exception& ex) {
    throw RunError(e.span, fmt::format("host function '{}' failed: {}", row.name, ex.what()));
  }
  std::optional<ad::Shape> shape = result_shape(row.result_shape, out.values.size());
  if (!shape)
    throw RunError(e.span, fmt::format("host function '{}' returned {} values; its result is declared {}", row.name,
                                       out.values.size(), sig::HostRow::shape_text(row.result_shape)));
  out.shape = shape->to_vector();

  ad::Tape& tape = ctx_.tape();
  if (!needs_gradient) {
    ad::Var r = tape.push(*shape, nullptr);
    std::copy(out.values.begin(), out.values.end(), tape.val(r));
    return Value{r, Kind::Real, {}};
  }
  const lang::Span span = e.span;
  const sig::HostRow* host = &row;  // the graph's table outlives every tape that runs it
  auto backward = [host, span, args = std::move(args), result = out](ad::Tape& t, const ad::Node& n) {
    sig::HostValue adjoint{result.shape, std::vector<double>(t.adj(n), t.adj(n) + n.numel)};
    std::vector<sig::HostValue> grads;
    try {
      grads = host->vjp(args, result, adjoint);
    } catch (const std::exception& ex) {
      throw RunError(span, fmt::format("the gradient of host function '{}' failed: {}", host->name, ex.what()));
    }
    if (grads.size() != args.size())
      throw RunError(span, fmt::format("the gradient of host function '{}' returned {} arrays for its {} arguments",
                                       host->name, grads.size(), args.size()));
    std::vector<std::int32_t> ins = t.custom_inputs(n);
    for (std::size_t k = 0; k < ins.size(); ++k) {
      const ad::Node& in = t.node(ins[k]);
      if (in.adj < 0) continue;
      if (static_cast<std::int64_t>(grads[k].values.size()) != in.numel)
        throw RunError(span, fmt::format("the gradient of host function '{}' for {} has {} values; the argument has {}",
                                         host->name, host->param_names[k], grads[k].values.size(), in.numel));
      double* a = t.adj(in);
      for (std::int64_t j = 0; j < in.numel; ++j) a[j] += grads[k].values[static_cast<std::size_t>(j)];
    }
  };
  ad::Var r = tape.push_custom(*shape, inputs, std::move(backward));
  std::copy(out.values.begin(), out.values.end(), tape.val(r));
  return Value{r, Kind::Real, {}};
}

}  // namespace vireo::interp
