// dist_test_util.hpp — building distributions from plain numbers in tests.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "runtime/ad/ad.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/registry.hpp"

namespace vireo::dist::testing {

// A parameter value: a number, a vector or a matrix (rows).
inline ad::Tensor vec(std::vector<double> v) { return ad::Tensor::vector(std::move(v)); }
inline ad::Tensor mat(std::vector<std::vector<double>> rows) {
  std::vector<double> flat;
  for (auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return ad::Tensor(ad::Shape{static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows[0].size())},
                    flat);
}

using NamedTensors = std::vector<std::pair<std::string, ad::Tensor>>;

// The distribution `name` with each parameter a leaf of `tape`.
inline DistributionPtr make_with_leaves(const std::string& name, ad::Tape& tape, const NamedTensors& params) {
  Params p;
  for (const auto& [k, v] : params) p.emplace(k, tape.leaf(v));
  return make_distribution(name, tape, p);
}

}  // namespace vireo::dist::testing
