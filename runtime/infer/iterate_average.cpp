#include "runtime/infer/iterate_average.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vireo::infer {

void IterateAverage::add(const params::ParamStore& store) {
  for (const params::Entry& e : store.entries()) {
    Sum& s = sums_[e.name];
    if (s.n == 0 || s.sum.size() != e.unconstrained.size()) {
      // First seen (or reshaped, which only a reloaded store can do): start afresh.
      s.sum = e.unconstrained;
      s.n = 1;
    } else {
      s.sum += e.unconstrained;
      ++s.n;
    }
  }
  ++count_;
}

void IterateAverage::write(params::ParamStore& store) const {
  for (params::Entry& e : store.entries()) {
    auto it = sums_.find(e.name);
    if (it == sums_.end() || it->second.n == 0 || it->second.sum.size() != e.unconstrained.size()) continue;
    e.unconstrained = it->second.sum / static_cast<double>(it->second.n);
  }
}

long averaged_steps(long steps, double fraction) {
  if (!(fraction >= 0 && fraction <= 1)) throw std::invalid_argument("--average-last must lie in [0, 1]");
  if (fraction == 0 || steps <= 0) return 0;
  return std::max(1L, std::lround(static_cast<double>(steps) * fraction));
}

}  // namespace vireo::infer
