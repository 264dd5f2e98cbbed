// Learning-rate schedules: the factor that multiplies the base learning rate
// at step t (0-based). Parts multiply, written joined by '+':
//   exp:G          G^t                      (exponential decay, e.g. exp:0.999)
//   step:N:G       G^floor(t / N)           (step decay)
//   inv_sqrt:N     1 / sqrt(1 + t / N)      (a slow decay that never stops the fit: the steps
//                                            still add up to any distance; Stan's ADVI decays as t^(−1/2) too)
//   warmup:N       min(1, (t + 1) / N)      (linear warm-up over the first N steps)
//   plateau:N      1 while the ELBO rises, then 1 / sqrt(1 + (t − t₀) / N) from the step t₀
//                  where it stopped rising (an adaptive inv_sqrt:N; see below)
//   warmup:100+exp:0.999, say. Empty or "none": the constant 1.
//
// plateau:N watches the ELBO of every applied step (end_step) in blocks of N
// steps: once three blocks in a row each average no higher than the block
// before, the ELBO has stopped rising and the decay starts at the next step.
// A constant rate moves far quickly while the fit still climbs (a far start
// needs it); the decay then settles the jitter a constant rate leaves. One
// block's fall is often noise; three in a row, rarely while the fit still
// climbs. The decision is a function of the ELBOs alone: state() holds all it
// needs, so a fit resumed from a saved state decides as one that never stopped.
#pragma once
#include <optional>
#include <nlohmann/json.hpp>
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

  // Whether a part depends on the ELBOs (plateau:N), so that end_step and
  // the state matter.
  bool adaptive() const { return plateau_.has_value(); }
  // The end of an applied step t (0-based, steps applied before it) whose
  // ELBO estimate was `elbo`: SVI's one end-of-step call. Non-finite ELBOs
  // are not counted. Nothing else changes the state.
  void end_step(long step, double elbo);
  // plateau:N: the step from which the decay runs, or −1 while the ELBO rises.
  long decay_start() const { return plateau_ ? plateau_->start : -1; }
  // What end_step has gathered ({} for a schedule that is not adaptive), and
  // its inverse; load_state throws std::runtime_error on a malformed state,
  // changing nothing.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& j);

 private:
  struct Part {
    enum Kind { Exp, Step, InvSqrt, Warmup, Plateau } kind;
    double gamma = 1;
    long every = 1;
  };
  // plateau:N's record: the block in progress, the last complete block's
  // mean, how many blocks in a row have not risen, and the decay's first step.
  struct Plateau {
    static constexpr int flat_blocks = 3;  // blocks in a row not above the one before that end the rise
    long every = 1;
    long start = -1;
    long count = 0;
    double sum = 0;
    bool has_previous = false;
    double previous_mean = 0;
    int flat = 0;
  };
  std::vector<Part> parts_;
  std::string text_;
  std::optional<Plateau> plateau_;
};

}  // namespace vireo::optim
