// Internal: iteration over a broadcast output with the matching flat offsets
// of each input (NumPy rules; a size-1 or missing axis has stride 0).
// Used by the elementwise, comparison and matmul families for the general
// case; callers take the same-shape and scalar fast paths themselves.
#pragma once

#include "runtime/ad/tensor.hpp"

#include <array>
#include <cstdint>

namespace vireo::ad::detail {

// Calls f(out_offset, std::array<int64, N> input_offsets) for every element of `out`.
template <std::size_t N, class F>
void broadcast_loop(const Shape& out, const std::array<const Shape*, N>& ins, F&& f) {
  const int r = out.rank();
  std::array<std::int64_t, N> off{};
  if (out.numel() == 0) return;
  if (r == 0) {
    f(std::int64_t{0}, off);
    return;
  }
  std::int64_t strides[N][kMaxRank];
  for (std::size_t k = 0; k < N; ++k) {
    const Shape& s = *ins[k];
    std::int64_t stride = 1;
    for (int d = r - 1; d >= 0; --d) {
      const int sd = d - (r - s.rank());
      const std::int64_t dim = sd >= 0 ? s[sd] : 1;
      strides[k][d] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
  }
  std::int64_t idx[kMaxRank] = {};
  const std::int64_t inner = out[r - 1];
  std::int64_t o = 0;
  for (;;) {
    std::array<std::int64_t, N> cur = off;
    for (std::int64_t j = 0; j < inner; ++j) {
      f(o + j, cur);
      for (std::size_t k = 0; k < N; ++k) cur[k] += strides[k][r - 1];
    }
    o += inner;
    int d = r - 2;
    for (; d >= 0; --d) {
      ++idx[d];
      for (std::size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (idx[d] < out[d]) break;
      for (std::size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * out[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace vireo::ad::detail
