// Fit::step_history, kept compactly. A fit records every step it takes, and
// on a small model a record of the step's number, ELBO, learning rate,
// annealing weight and refusal (72 bytes) cost more than the step's
// arithmetic writes: every fresh page of a growing history is a page fault,
// and a doubling vector touches each page twice. Most of a record repeats
// the step before's: the step numbers count up by one between loads, the
// learning rate and annealing weight change only under a schedule or a
// ramp, and few steps are refused. So the ELBOs stay one array (the fit's
// elbo_history()); the rest is kept as runs and a list of refusals, and the
// records are built when asked for.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <vireo/vireo.hpp>

namespace vireo::api {

class StepLog {
 public:
  // The record of the next step (index size()); its ELBO is the caller's
  // elbo[size()]. `refusal`: the guard's reason when it refused the step.
  void add(long step, double lr, double latent_weight, bool rejected, const std::string& refusal);
  std::size_t size() const { return size_; }
  // Every step's record, elbo[i] the ELBO of step i.
  std::vector<StepRecord> records(const std::vector<double>& elbo) const;

 private:
  // A value per step, stored once for each stretch of steps that share it:
  // (first index, value). Numbers are compared by their bits.
  template <class T>
  struct Runs {
    std::vector<std::pair<std::size_t, T>> runs;
    void add(std::size_t i, T v);
  };

  std::size_t size_ = 0;
  Runs<long> step_offsets_;  // step − index
  Runs<double> lr_, latent_weight_;
  std::vector<std::pair<std::size_t, std::string>> refusals_;  // (index, reason), in order
};

}  // namespace vireo::api
