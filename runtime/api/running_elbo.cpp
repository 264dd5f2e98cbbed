#include "runtime/api/running_elbo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace vireo::api {

namespace {

// Only finite ELBOs count, so a non-finite one is saved as null.
nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

double number(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
  throw std::runtime_error("running ELBO: not a number: " + j.dump());
}

long first_boundary(long step, long block) { return (step + block - 1) / block * block; }

}  // namespace

long RunningElbo::window_start(long steps) { return steps - std::min(steps, std::max(1L, steps / 10)); }

void RunningElbo::add(double elbo) {
  values_.push_back(elbo);
  const long end = steps();
  if (end % block == 0 && end - block >= first_boundary(first_, block)) {
    double sum = 0;
    long count = 0;
    for (long s = end - block; s < end; ++s)
      if (std::isfinite(value(s))) {
        sum += value(s);
        ++count;
      }
    block_sum_.push_back(sum);
    block_count_.push_back(count);
  }
}

double RunningElbo::mean() const {
  const long end = steps();
  long s = std::max(first_, window_start(end));  // first_ later only for a file saved without the record
  const long blocks_from = first_boundary(first_, block);
  double sum = 0;
  long count = 0;
  auto add_one = [&](long step) {
    if (std::isfinite(value(step))) {
      sum += value(step);
      ++count;
    }
  };
  for (; s < end && s % block != 0; ++s) add_one(s);
  for (; s + block <= end; s += block) {
    const auto k = static_cast<std::size_t>((s - blocks_from) / block);
    sum += block_sum_[k];
    count += block_count_[k];
  }
  for (; s < end; ++s) add_one(s);
  return count ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json RunningElbo::to_json() const {
  // From the block boundary at or before the window's start: a resumed fit's
  // windows start no earlier (steps − max(1, steps/10) never decreases).
  const long end = steps();
  const long from = std::max(first_, window_start(end) / block * block);
  nlohmann::json values = nlohmann::json::array();
  for (long s = from; s < end; ++s) values.push_back(number(value(s)));
  return {{"first", from}, {"values", values}};
}

RunningElbo RunningElbo::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("first") || !j["first"].is_number_integer() || !j.contains("values") ||
      !j["values"].is_array() || j["first"].get<long>() < 0)
    throw std::runtime_error("running ELBO: expected {\"first\": step, \"values\": [...]}");
  RunningElbo r = starting_at(j["first"].get<long>());
  for (const auto& v : j["values"]) r.add(number(v));
  return r;
}

RunningElbo RunningElbo::starting_at(long steps) {
  RunningElbo r;
  r.first_ = steps;
  return r;
}

}  // namespace vireo::api
