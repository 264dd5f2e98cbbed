// Optimizers for stochastic variational inference: SGD (with momentum), Adam,
// ClippedAdam, Adagrad and RMSprop, with PyTorch's and Pyro's update rules so
// that a fit ported from Pyro behaves the same. An optimizer keeps per-parameter
// state keyed by the parameter's name, because parameters can appear for the
// first time in the middle of training (per-site guides of models whose set
// of sites changes from run to run).
#pragma once
#include <Eigen/Core>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace vireo::optim {

struct OptimOptions {
  std::string name = "adam";  // adam | clipped_adam | sgd | adagrad | rmsprop
  double lr = 1e-2;
  double beta1 = 0.9, beta2 = 0.999;  // adam, clipped_adam
  double eps = -1;                    // < 0: the optimizer's own default (1e-8; Adagrad 1e-10)
  double momentum = 0;                // sgd, rmsprop
  bool nesterov = false;              // sgd
  double weight_decay = 0;
  double clip_norm = 10;              // clipped_adam: clamps every gradient element to ±clip_norm
  double lrd = 1;                     // clipped_adam: lr is multiplied by lrd before every step
  double alpha = 0.99;                // rmsprop smoothing
};

// One optimizer over named parameters; it minimises (gradients are of the loss).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Called once before the parameter updates of a step.
  virtual void begin_step() {}
  // value -= update(grad), for the parameter called `name`.
  virtual void update(const std::string& name, Eigen::Ref<Eigen::ArrayXd> value,
                      const Eigen::Ref<const Eigen::ArrayXd>& grad) = 0;
  // Current learning rate (after any decay), for progress output and schedules.
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }

  // The whole state (moments, step counts, current lr) so that a saved fit resumes exactly.
  virtual nlohmann::json state() const;
  virtual void load_state(const nlohmann::json& j);

 protected:
  explicit Optimizer(double lr) : lr_(lr) {}
  // Per-parameter buffers; which ones an optimizer uses is its own business.
  struct Slot {
    long step = 0;
    Eigen::ArrayXd m, v;
  };
  Slot& slot(const std::string& name, Eigen::Index size);
  std::map<std::string, Slot> slots_;
  double lr_;
};

// Builds the optimizer `o.name`. Throws std::invalid_argument for an unknown
// name, and for "lbfgs" with the reason it is refused for SVI.
std::unique_ptr<Optimizer> make_optimizer(const OptimOptions& o);

}  // namespace vireo::optim
