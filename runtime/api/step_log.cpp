#include "runtime/api/step_log.hpp"

#include <bit>
#include <cstdint>

namespace vireo::api {

template <class T>
void StepLog::Runs<T>::add(std::size_t i, T v) {
  static_assert(sizeof(T) == sizeof(std::uint64_t));
  if (runs.empty() || std::bit_cast<std::uint64_t>(runs.back().second) != std::bit_cast<std::uint64_t>(v))
    runs.emplace_back(i, v);
}

void StepLog::add(long step, double lr, double latent_weight, bool rejected, const std::string& refusal) {
  const std::size_t i = size_++;
  step_offsets_.add(i, step - static_cast<long>(i));
  lr_.add(i, lr);
  latent_weight_.add(i, latent_weight);
  if (rejected) refusals_.emplace_back(i, refusal);
}

std::vector<StepRecord> StepLog::records(const std::vector<double>& elbo) const {
  std::vector<StepRecord> out(size_);
  // Walks each list of runs alongside the steps.
  const auto fill = [&](const auto& runs, auto&& set) {
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const std::size_t end = r + 1 < runs.size() ? runs[r + 1].first : size_;
      for (std::size_t i = runs[r].first; i < end; ++i) set(out[i], i, runs[r].second);
    }
  };
  fill(step_offsets_.runs, [](StepRecord& s, std::size_t i, long offset) { s.step = static_cast<long>(i) + offset; });
  fill(lr_.runs, [](StepRecord& s, std::size_t, double v) { s.lr = v; });
  fill(latent_weight_.runs, [](StepRecord& s, std::size_t, double v) { s.latent_weight = v; });
  for (const auto& [i, why] : refusals_) {
    out[i].rejected = true;
    out[i].rejected_because = why;
  }
  for (std::size_t i = 0; i < size_ && i < elbo.size(); ++i) out[i].elbo = elbo[i];
  return out;
}

}  // namespace vireo::api
