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
#include <unordered_map>
#include <vector>

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
// A step has two phases, so that a step found non-finite halfway can be
// refused without a trace (svi.hpp):
//   begin_step(lr)   opens a step at learning rate lr (ClippedAdam decays it
//                    by lrd first) and drops any step proposed but not committed;
//   propose(...)     per parameter: its value after the step, written to
//                    `next`; the moments it would have go to the slot's
//                    scratch; nothing the optimizer keeps changes;
//   commit()         the proposed moments, step counts and learning rate
//                    become the state.
// Per-step state lives only in commit() (STYLE.md: state that advances once
// per step changes in one place). The scratch buffers outlive the step, so
// after a parameter's first step none of this allocates.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;  // its slot pointers point into its own map
  Optimizer& operator=(const Optimizer&) = delete;
  void begin_step(double lr);
  void begin_step() { begin_step(lr_); }
  // next = value after this step's update of the parameter `name`.
  void propose(const std::string& name, const Eigen::Ref<const Eigen::ArrayXd>& value,
               const Eigen::Ref<const Eigen::ArrayXd>& grad, Eigen::ArrayXd& next);
  // The same, for a caller that numbers its parameters (the store's entry
  // index): `key` finds the slot again without hashing the name.
  void propose(std::size_t key, const std::string& name, const Eigen::Ref<const Eigen::ArrayXd>& value,
               const Eigen::Ref<const Eigen::ArrayXd>& grad, Eigen::ArrayXd& next);
  void commit();
  // A whole step of one parameter, in place: begin_step(), propose, commit.
  void update(const std::string& name, Eigen::ArrayXd& value, const Eigen::Ref<const Eigen::ArrayXd>& grad);
  // Current learning rate (after any decay of committed steps), for progress output and schedules.
  double lr() const { return lr_; }
  // The learning rate of the step begun last (lr() until a step is begun).
  double step_lr() const { return step_lr_; }
  void set_lr(double lr) { lr_ = step_lr_ = lr; }

  // The whole state (moments, step counts, current lr) so that a saved fit resumes exactly.
  virtual nlohmann::json state() const;
  virtual void load_state(const nlohmann::json& j);

 protected:
  explicit Optimizer(double lr) : lr_(lr), step_lr_(lr) {}
  // Per-parameter buffers; which ones an optimizer uses is its own business.
  // m, v, step: the state; next_m, next_v, next_step: a proposed step's.
  struct Slot {
    long step = 0;
    Eigen::ArrayXd m, v;
    long next_step = 0;
    Eigen::ArrayXd next_m, next_v;
    bool pending = false;  // proposed in the step begun last, not committed
  };
  // The learning rate of a step begun at `lr` (ClippedAdam: lr·lrd).
  virtual double decayed(double lr) const { return lr; }
  // Which of a slot's moments compute() writes (commit() takes those).
  enum Moments { None = 0, M = 1, V = 2, MV = 3 };
  virtual Moments moments() const = 0;
  // Writes next, next_step and the next_m / next_v that moments() names,
  // from the slot's state, x and g at learning rate lr_step; changes nothing else.
  virtual void compute(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const Eigen::Ref<const Eigen::ArrayXd>& g,
                       double lr_step, Eigen::ArrayXd& next) = 0;

 private:
  // By parameter name; hashed, not ordered: a model with a site per loop
  // iteration has thousands of parameters (state() writes them sorted).
  using Slots = std::unordered_map<std::string, Slot>;
  void discard();
  Slots slots_;
  Slot no_slot_;  // handed to compute() by an optimizer without moments (plain SGD)
  // This step's slots, for commit(); storage reused. Pointers, which a
  // rehash leaves valid (iterators it does not).
  std::vector<Slots::value_type*> proposed_;
  // propose(key, …)'s slots by key; checked against the name, and emptied
  // when a slot is erased.
  std::vector<Slots::value_type*> keyed_;
  Slots::value_type* slot_of(const std::string& name, const Eigen::Ref<const Eigen::ArrayXd>& value);
  void propose_at(Slots::value_type* it, const Eigen::Ref<const Eigen::ArrayXd>& value,
                  const Eigen::Ref<const Eigen::ArrayXd>& grad, Eigen::ArrayXd& next);
  double lr_;
  double step_lr_;
};

// Builds the optimizer `o.name`. Throws std::invalid_argument for an unknown
// name, and for "lbfgs" with the reason it is refused for SVI.
std::unique_ptr<Optimizer> make_optimizer(const OptimOptions& o);

}  // namespace vireo::optim
