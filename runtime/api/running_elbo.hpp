// The running ELBO a fit reports: the mean of the finite step ELBOs over the
// last tenth of all its steps (at least one), counting steps taken before a
// save and load. The window's sum is taken in an order fixed by step numbers
// (entries up to a block boundary, whole blocks of 64 steps, the rest), never
// by where this object's record starts, so that a fit resumed from saved
// parameters reports the same bits as one that never stopped; what it needs
// of the steps before a save (the tail of the window, from a block boundary)
// is saved with the parameters.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

namespace vireo::api {

class RunningElbo {
 public:
  // Records the ELBO of the next step (any value; only finite ones count).
  void add(double elbo);
  // Steps recorded, counting those before a load.
  long steps() const { return first_ + static_cast<long>(values_.size()); }
  // The mean over the window; NaN when it holds no finite ELBO.
  double mean() const;

  // What a resumed fit needs: {"first": step, "values": [...]}, a
  // non-finite value (which does not count) as null.
  nlohmann::json to_json() const;
  // The record saved by to_json(); throws std::runtime_error when malformed.
  static RunningElbo from_json(const nlohmann::json& j);
  // A record starting after `steps` unknown steps (a file saved without one).
  static RunningElbo starting_at(long steps);

 private:
  static constexpr long block = 64;
  // The first step of the window over `steps` steps.
  static long window_start(long steps);
  double value(long step) const { return values_[static_cast<std::size_t>(step - first_)]; }

  long first_ = 0;               // a multiple of `block` unless nothing before it is known
  std::vector<double> values_;   // steps first_, first_ + 1, …
  std::vector<double> block_sum_;  // finite values of each whole block from the first boundary ≥ first_, in order
  std::vector<long> block_count_;
};

}  // namespace vireo::api
