#include "runtime/interp/context.hpp"

#include <stdexcept>

namespace vireo::interp {

void Context::begin_step() {
  tape_.clear();
  data_vars_.assign(data_.values.size(), ad::Var{});
  data_ready_.assign(data_.values.size(), false);
  num_leaves_ = 0;
  leaf_index_.clear();
  open_plates_.clear();
  subsample_indices_.clear();
}

Value Context::data_value(int index) {
  auto i = static_cast<std::size_t>(index);
  if (data_ready_.size() != data_.values.size()) begin_step();
  if (!data_ready_[i]) {
    data_vars_[i] = tape_.borrow(data_.values[i]);
    data_ready_[i] = true;
  }
  return Value{data_vars_[i], data_.kinds[i], {}};
}

const ad::Var& ParamLeaves::at(const std::string& name) const {
  for (const auto& [n, leaf] : *this)
    if (n == name) return leaf;
  throw std::out_of_range("no parameter leaf '" + name + "' in this step");
}

ad::Var Context::param_leaf(const std::string& name) {
  if (const std::size_t* k = leaf_index_.find(name)) return leaves_[*k].second;
  params::Entry* e = store_.find(name);
  if (!e) throw std::logic_error("no parameter '" + name + "' in the store");
  const ad::Shape shape(e->shape);
  if (shape.numel() != e->unconstrained.size())
    throw std::invalid_argument("Tensor: " + std::to_string(e->unconstrained.size()) +
                                " values do not fill shape " + ad::to_string(shape));
  ad::Var leaf = tape_.leaf(shape, e->unconstrained.data());
  const std::size_t k = num_leaves_++;
  if (k < leaves_.size()) {
    leaves_[k].first = name;
    leaves_[k].second = leaf;
  } else {
    leaves_.emplace_back(name, leaf);
  }
  leaf_index_.insert(name, k);
  return leaf;
}

}  // namespace vireo::interp
