// Iterate averaging (Polyak & Juditsky 1992; Ruppert 1988): at a constant
// learning rate stochastic gradients leave the parameters jittering around
// where they would settle, and the mean of the last iterates sits closer to
// it than any one of them. Averaging the tail of a run, the share of the
// steps in which the fit has stopped climbing, buys what a decaying learning
// rate would without having to choose the decay.
//
// Averages are taken in the unconstrained space the optimizer works in, per
// parameter entry over the steps since it first appeared (a site first met
// late in the window is averaged over fewer steps). The optimizer's state is
// not touched: training can go on from the averaged point.
#pragma once
#include <Eigen/Core>
#include <map>
#include <string>

#include "runtime/params/param_store.hpp"

namespace vireo::infer {

class IterateAverage {
 public:
  // Adds the store's current values to the running means.
  void add(const params::ParamStore& store);
  long count() const { return count_; }
  // Replaces each entry's value by its mean over the iterates added (entries
  // never added are left as they are). Does nothing when nothing was added.
  void write(params::ParamStore& store) const;

 private:
  struct Sum {
    Eigen::ArrayXd sum;
    long n = 0;
  };
  std::map<std::string, Sum> sums_;
  long count_ = 0;
};

// The number of final steps to average when a run of `steps` averages the
// last `fraction` of them (0: none; otherwise at least one).
long averaged_steps(long steps, double fraction);

}  // namespace vireo::infer
