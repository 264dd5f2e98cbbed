// Shared by the vireo_ad tests: deterministic random tensors and the gradcheck oracle.
#pragma once

#include "runtime/ad/ad.hpp"
#include "support/gradcheck.hpp"

#include <boost/test/unit_test.hpp>

#include <random>

namespace vireo::ad::test {

using testing::gradcheck;

inline Tensor uniform(const Shape& s, double lo, double hi, unsigned seed = 1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor t(s);
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = u(gen);
  return t;
}

#define VIREO_CHECK_GRAD(f, ...)                              \
  do {                                                        \
    auto vireo_r_ = ::vireo::testing::gradcheck(f, __VA_ARGS__); \
    BOOST_TEST(vireo_r_.ok, vireo_r_.message);                \
  } while (0)

}  // namespace vireo::ad::test
