#include "runtime/interp/context.hpp"

namespace vireo::interp {

void Context::begin_step() {
  tape_.clear();
  data_vars_.assign(data_.values.size(), ad::Var{});
  data_ready_.assign(data_.values.size(), false);
  leaves_.clear();
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

ad::Var Context::param_leaf(const std::string& name) {
  auto it = leaves_.find(name);
  if (it != leaves_.end()) return it->second;
  params::Entry* e = store_.find(name);
  if (!e) throw std::logic_error("no parameter '" + name + "' in the store");
  ad::Tensor t(ad::Shape(e->shape), std::vector<double>(e->unconstrained.begin(), e->unconstrained.end()));
  ad::Var leaf = tape_.leaf(t);
  leaves_.emplace(name, leaf);
  return leaf;
}

}  // namespace vireo::interp
