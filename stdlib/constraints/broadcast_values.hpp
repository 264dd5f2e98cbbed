// broadcast_values.hpp — NumPy broadcasting of a plain Tensor's values to a
// target shape, off the tape (for samplers and support checks, which need
// parameter values element by element but no gradient).
#pragma once

#include "runtime/ad/tensor.hpp"

namespace vireo::constraints {

// `t` broadcast to `target` (t's shape must broadcast to it; throws otherwise).
inline ad::Tensor broadcast_values(const ad::Tensor& t, const ad::Shape& target) {
  if (t.shape() == target) return t;
  if (!(ad::broadcast_shapes(t.shape(), target) == target))
    throw std::invalid_argument("cannot broadcast " + ad::to_string(t.shape()) + " to " +
                                ad::to_string(target));
  ad::Tensor out(target);
  const int r = target.rank(), offset = r - t.rank();
  std::int64_t strides[ad::kMaxRank] = {};
  std::int64_t stride = 1;
  for (int d = r - 1; d >= offset; --d) {
    const std::int64_t dim = t.shape()[d - offset];
    strides[d] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  std::int64_t index[ad::kMaxRank] = {};
  for (std::int64_t o = 0; o < out.numel(); ++o) {
    std::int64_t src = 0;
    for (int d = 0; d < r; ++d) src += index[d] * strides[d];
    out[o] = t[src];
    for (int d = r - 1; d >= 0; --d) {
      if (++index[d] < target[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace vireo::constraints
