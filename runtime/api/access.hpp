// detail::Access: how runtime/api reaches the implementation behind the
// public classes (include/vireo/vireo.hpp declares it a friend of each, so
// that no `impl()` or internal constructor is visible to hosts). Internal to
// runtime/api.
#pragma once
#include <memory>

#include "vireo/vireo.hpp"

namespace vireo::detail {

struct Access {
  static const ModelImpl& impl(const Model& m) { return *m.impl_; }
  static std::shared_ptr<const ModelImpl> shared(const Model& m) { return m.impl_; }
  static const DataImpl& impl(const Data& d) { return *d.impl_; }
  static Data make_data(std::unique_ptr<DataImpl> impl);  // data.cpp
  static const HostTable& table(const HostFunctions& h) { return *h.table_; }
  static std::shared_ptr<const HostTable> shared(const HostFunctions& h) { return h.table_; }
  static const ModelImpl& model_of(const Fit& f);  // report.cpp: the model a fit was made from
};

}  // namespace vireo::detail
