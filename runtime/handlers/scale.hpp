// Scale: multiplies the log-densities of the sites inside by a factor (the
// language's `scale w { … }`, KL annealing, mini-batch rescaling).
#pragma once
#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class ScaleHandler final : public Handler {
 public:
  explicit ScaleHandler(double factor) : factor_(factor) {}
  void process(Message& msg) override { msg.scale *= factor_; }

 private:
  double factor_;
};

}  // namespace vireo::handlers
