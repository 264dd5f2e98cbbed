// Learning-rate schedules: the factor that multiplies the base learning rate
// at step t (0-based). Parts multiply, written joined by '+':
//   exp:G          G^t                      (exponential decay, e.g. exp:0.999)
//   step:N:G       G^floor(t / N)           (step decay)
//   inv_sqrt:N     1 / sqrt(1 + t / N)      (a slow decay that never stops the fit: the steps
//                                            still add up to any distance; Stan's ADVI decays as t^(−1/2) too)
//   warmup:N       min(1, (t + 1) / N)      (linear warm-up over the first N steps)
//   warmup:100+exp:0.999, say. Empty or "none": the constant 1.
#pragma once
#include <string>
#include <vector>

namespace vireo::optim {

class Schedule {
 public:
  Schedule() = default;
  // Throws std::invalid_argument with the accepted forms.
  static Schedule parse(const std::string& text);
  double factor(long step) const;
  bool constant() const { return parts_.empty(); }
  const std::string& text() const { return text_; }

 private:
  struct Part {
    enum Kind { Exp, Step, InvSqrt, Warmup } kind;
    double gamma = 1;
    long every = 1;
  };
  std::vector<Part> parts_;
  std::string text_;
};

}  // namespace vireo::optim
