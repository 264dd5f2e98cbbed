// Host functions: rows of the signature table's kind (Callable::Host) that a
// host program registers for one model (vireo::HostFunctions). Each model
// holds its own immutable HostTable — there is no global registry, so models
// compiled on different threads with different functions never meet. The
// checker resolves calls against it after the builtins, the lowering turns a
// call into Op::CallHost with the row's index, and the interpreter calls the
// row's `value` (and, in the backward sweep, its `vjp`).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stdlib/signatures/signature.hpp"

namespace vireo::sig {

// An array as the host sees it: its shape and its values in row-major order.
struct HostValue {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

struct HostRow {
  std::string name, summary;
  std::vector<std::string> param_names;
  // Per argument its shape ({} a scalar); an extent of -1 takes any size.
  std::vector<std::vector<std::int64_t>> arg_shapes;
  // At most one extent -1: taken from the number of values returned.
  std::vector<std::int64_t> result_shape;
  std::function<HostValue(const std::vector<HostValue>&)> value;
  // The vector-Jacobian product: (arguments, result, d loss / d result) ->
  // d loss / d argument, one per argument of its shape. Empty: no gradient.
  std::function<std::vector<HostValue>(const std::vector<HostValue>&, const HostValue&, const HostValue&)> vjp;
  // The row itself; its string_views point into the strings above, so a
  // HostRow never moves (make_host_row gives it a fixed address).
  Signature signature;

  bool has_gradient() const { return static_cast<bool>(vjp); }
  // "[3]", "[?, 2]", "scalar"
  static std::string shape_text(const std::vector<std::int64_t>& shape);
};

// Builds a row from `row`'s owned fields (name, param_names, summary, shapes)
// and points its Signature at them.
std::shared_ptr<const HostRow> make_host_row(HostRow row);

class HostTable {
 public:
  // Index of the row named `name`, or -1.
  int find(std::string_view name) const;
  const HostRow& row(int index) const { return *rows_.at(static_cast<std::size_t>(index)); }
  std::size_t size() const { return rows_.size(); }
  std::vector<std::string> names() const;
  void add(std::shared_ptr<const HostRow> row) { rows_.push_back(std::move(row)); }

 private:
  std::vector<std::shared_ptr<const HostRow>> rows_;  // rows are shared by copies of the table
};

}  // namespace vireo::sig
