#include "runtime/optim/optimizer.hpp"
#include "runtime/par/parallel.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace vireo::optim {

void Optimizer::discard() {
  // A parameter first seen in a step that was not committed leaves no slot.
  for (Slots::value_type* it : proposed_) {
    it->second.pending = false;
    if (it->second.step == 0) {
      slots_.erase(slots_.find(it->first));
      keyed_.clear();
    }
  }
  proposed_.clear();
}

void Optimizer::begin_step(double lr) {
  discard();
  step_lr_ = decayed(lr);
}

Optimizer::Slots::value_type* Optimizer::slot_of(const std::string& name, const Eigen::Ref<const Eigen::ArrayXd>& value) {
  Slots::value_type* it = &*slots_.try_emplace(name).first;
  Slot& s = it->second;
  if (s.m.size() != value.size()) {  // first sight of this parameter (or its shape changed on load)
    s.step = 0;
    s.m = Eigen::ArrayXd::Zero(value.size());
    s.v = Eigen::ArrayXd::Zero(value.size());
  }
  return it;
}

void Optimizer::propose_at(Slots::value_type* it, const Eigen::Ref<const Eigen::ArrayXd>& value,
                           const Eigen::Ref<const Eigen::ArrayXd>& grad, Eigen::ArrayXd& next) {
  Slot& s = it->second;
  compute(s, value, grad, step_lr_, next);
  if (!s.pending) proposed_.push_back(it);
  s.pending = true;
}

void Optimizer::propose(const std::string& name, const Eigen::Ref<const Eigen::ArrayXd>& value,
                        const Eigen::Ref<const Eigen::ArrayXd>& grad, Eigen::ArrayXd& next) {
  if (moments() == None) {
    compute(no_slot_, value, grad, step_lr_, next);
    return;
  }
  propose_at(slot_of(name, value), value, grad, next);
}

void Optimizer::propose(std::size_t key, const std::string& name, const Eigen::Ref<const Eigen::ArrayXd>& value,
                        const Eigen::Ref<const Eigen::ArrayXd>& grad, Eigen::ArrayXd& next) {
  if (moments() == None) {
    compute(no_slot_, value, grad, step_lr_, next);
    return;
  }
  if (key >= keyed_.size()) keyed_.resize(key + 1, nullptr);
  Slots::value_type*& it = keyed_[key];
  if (!it || it->first != name || it->second.m.size() != value.size()) it = slot_of(name, value);
  propose_at(it, value, grad, next);
}

void Optimizer::commit() {
  const Moments used = moments();
  for (Slots::value_type* it : proposed_) {
    Slot& s = it->second;
    s.pending = false;
    s.step = s.next_step;
    if (used & M) s.m.swap(s.next_m);  // O(1); the old buffer is the next step's scratch
    if (used & V) s.v.swap(s.next_v);
  }
  proposed_.clear();
  lr_ = step_lr_;
}

void Optimizer::update(const std::string& name, Eigen::ArrayXd& value, const Eigen::Ref<const Eigen::ArrayXd>& grad) {
  begin_step();
  Eigen::ArrayXd next;
  propose(name, value, grad, next);
  commit();
  value.swap(next);
}

nlohmann::json Optimizer::state() const {
  nlohmann::json j;
  j["lr"] = lr_;
  nlohmann::json slots = nlohmann::json::object();
  for (const auto& [name, s] : slots_) {
    if (s.step == 0) continue;  // proposed, never committed: no state yet
    slots[name] = {{"step", s.step},
                   {"m", std::vector<double>(s.m.begin(), s.m.end())},
                   {"v", std::vector<double>(s.v.begin(), s.v.end())}};
  }
  j["slots"] = slots;
  return j;
}

void Optimizer::load_state(const nlohmann::json& j) {
  lr_ = step_lr_ = j.at("lr").get<double>();
  proposed_.clear();
  keyed_.clear();
  slots_.clear();
  for (const auto& [name, s] : j.at("slots").items()) {
    auto m = s.at("m").get<std::vector<double>>();
    auto v = s.at("v").get<std::vector<double>>();
    Slot& slot = slots_[name];
    slot.step = s.at("step").get<long>();
    slot.m = Eigen::Map<Eigen::ArrayXd>(m.data(), static_cast<Eigen::Index>(m.size()));
    slot.v = Eigen::Map<Eigen::ArrayXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  }
}

namespace {

// SGD with momentum, PyTorch's rule: buf = momentum·buf + g (buf = g at the
// first step); x -= lr·buf (or lr·(g + momentum·buf) with Nesterov).
class Sgd final : public Optimizer {
 public:
  explicit Sgd(const OptimOptions& o) : Optimizer(o.lr), o_(o) {}
  Moments moments() const override { return o_.momentum == 0 ? None : M; }
  void compute(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const Eigen::Ref<const Eigen::ArrayXd>& g0, double lr,
               Eigen::ArrayXd& next) override {
    Eigen::ArrayXd g = o_.weight_decay != 0 ? Eigen::ArrayXd(g0 + o_.weight_decay * x) : Eigen::ArrayXd(g0);
    if (o_.momentum == 0) {
      next = x - lr * g;
      return;
    }
    if (s.step == 0)
      s.next_m = g;
    else
      s.next_m = o_.momentum * s.m + g;
    s.next_step = s.step + 1;
    if (o_.nesterov)
      next = x - lr * (g + o_.momentum * s.next_m);
    else
      next = x - lr * s.next_m;
  }

 private:
  OptimOptions o_;
};

// Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ for step t. Every parameter of
// a fit is usually at the same step, so they are computed once per step
// (two pow calls) instead of once per parameter; same numbers either way.
// A cache of a pure function: not state.
class BiasCorrections {
 public:
  const std::pair<double, double>& at(long step, double beta1, double beta2) {
    if (step != step_) {
      step_ = step;
      value_ = {1 - std::pow(beta1, static_cast<double>(step)), 1 - std::pow(beta2, static_cast<double>(step))};
    }
    return value_;
  }

 private:
  long step_ = -1;
  std::pair<double, double> value_;
};

// Adam (Kingma & Ba 2015, Algorithm 1) as PyTorch computes it:
// x -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
class Adam final : public Optimizer {
 public:
  explicit Adam(const OptimOptions& o) : Optimizer(o.lr), o_(o), eps_(o.eps < 0 ? 1e-8 : o.eps) {}
  Moments moments() const override { return MV; }
  void compute(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const Eigen::Ref<const Eigen::ArrayXd>& g0, double lr,
               Eigen::ArrayXd& next) override {
    if (o_.weight_decay != 0)
      apply(s, x, Eigen::ArrayXd(g0 + o_.weight_decay * x), lr, next);
    else
      apply(s, x, g0, lr, next);  // no copy of the gradient
  }

 private:
  template <class G>
  void apply(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const G& g, double lr, Eigen::ArrayXd& next) {
    s.next_step = s.step + 1;
    const auto& corrections = corrections_.at(s.next_step, o_.beta1, o_.beta2);
    const double bc1 = corrections.first, bc2 = corrections.second;
    const Eigen::Index n = x.size();
    if (n == 1) {  // a scalar (a loop iteration's guide parameter): the same arithmetic, element by element
      s.next_m.resize(1);
      s.next_v.resize(1);
      next.resize(1);
      const double gi = g(0);
      s.next_m[0] = o_.beta1 * s.m[0] + (1 - o_.beta1) * gi;
      s.next_v[0] = o_.beta2 * s.v[0] + (1 - o_.beta2) * (gi * gi);
      next[0] = x[0] - (lr / bc1) * s.next_m[0] / (std::sqrt(s.next_v[0]) / std::sqrt(bc2) + eps_);
      return;
    }
    if (n <= par::kChunk) {  // one chunk: the whole-array expressions, no per-chunk set-up
      s.next_m = o_.beta1 * s.m + (1 - o_.beta1) * g;
      s.next_v = o_.beta2 * s.v + (1 - o_.beta2) * g.square();
      next = x - (lr / bc1) * s.next_m / (s.next_v.sqrt() / std::sqrt(bc2) + eps_);
      return;
    }
    s.next_m.resize(n);
    s.next_v.resize(n);
    next.resize(n);
    // Elementwise, in fixed chunks that may run on threads (a flow's 10^6
    // parameters); each element's update is its own.
    par::for_chunks(n, [&](std::int64_t b, std::int64_t e) {
      const Eigen::Index len = e - b;
      const auto gs = g.segment(b, len);
      s.next_m.segment(b, len) = o_.beta1 * s.m.segment(b, len) + (1 - o_.beta1) * gs;
      s.next_v.segment(b, len) = o_.beta2 * s.v.segment(b, len) + (1 - o_.beta2) * gs.square();
      next.segment(b, len) = x.segment(b, len) - (lr / bc1) * s.next_m.segment(b, len) /
                                                     (s.next_v.segment(b, len).sqrt() / std::sqrt(bc2) + eps_);
    });
  }

  OptimOptions o_;
  double eps_;
  BiasCorrections corrections_;
};

// Pyro's ClippedAdam (pyro/optim/clipped_adam.py). Two traps, kept on purpose
// for compatibility: `clip_norm` clamps every gradient ELEMENT to ±clip_norm
// (it is not a norm clip; the stability issue adds true global-norm
// clipping), and lr is multiplied by lrd before every step, the first included.
// Its denominator is sqrt(v) + eps with the bias corrections folded into the
// step size, which differs from torch Adam only in where eps sits.
class ClippedAdam final : public Optimizer {
 public:
  explicit ClippedAdam(const OptimOptions& o) : Optimizer(o.lr), o_(o), eps_(o.eps < 0 ? 1e-8 : o.eps) {}
  Moments moments() const override { return MV; }
  double decayed(double lr) const override { return lr * o_.lrd; }
  void compute(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const Eigen::Ref<const Eigen::ArrayXd>& g0, double lr,
               Eigen::ArrayXd& next) override {
    if (o_.weight_decay != 0)
      apply(s, x, Eigen::ArrayXd(g0.max(-o_.clip_norm).min(o_.clip_norm) + o_.weight_decay * x), lr, next);
    else
      apply(s, x, g0.max(-o_.clip_norm).min(o_.clip_norm), lr, next);  // evaluated in place, no copy
  }

 private:
  template <class G>
  void apply(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const G& g, double lr, Eigen::ArrayXd& next) {
    s.next_step = s.step + 1;
    s.next_m = o_.beta1 * s.m + (1 - o_.beta1) * g;
    s.next_v = o_.beta2 * s.v + (1 - o_.beta2) * g.square();
    const auto& [bc1, bc2] = corrections_.at(s.next_step, o_.beta1, o_.beta2);
    double step_size = lr * std::sqrt(bc2) / bc1;
    next = x - step_size * s.next_m / (s.next_v.sqrt() + eps_);
  }

  OptimOptions o_;
  double eps_;
  BiasCorrections corrections_;
};

// Adagrad (Duchi et al. 2011), PyTorch's rule: sum += g²; x -= lr·g/(sqrt(sum) + eps).
class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(const OptimOptions& o) : Optimizer(o.lr), o_(o), eps_(o.eps < 0 ? 1e-10 : o.eps) {}
  Moments moments() const override { return V; }
  void compute(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const Eigen::Ref<const Eigen::ArrayXd>& g0, double lr,
               Eigen::ArrayXd& next) override {
    Eigen::ArrayXd g = o_.weight_decay != 0 ? Eigen::ArrayXd(g0 + o_.weight_decay * x) : Eigen::ArrayXd(g0);
    s.next_step = s.step + 1;
    s.next_v = s.v + g.square();
    next = x - lr * g / (s.next_v.sqrt() + eps_);
  }

 private:
  OptimOptions o_;
  double eps_;
};

// RMSprop (Tieleman & Hinton 2012), PyTorch's rule: v = α·v + (1−α)·g²;
// x -= lr·g/(sqrt(v) + eps), with optional momentum on that step.
class RmsProp final : public Optimizer {
 public:
  explicit RmsProp(const OptimOptions& o) : Optimizer(o.lr), o_(o), eps_(o.eps < 0 ? 1e-8 : o.eps) {}
  Moments moments() const override { return o_.momentum > 0 ? MV : V; }
  void compute(Slot& s, const Eigen::Ref<const Eigen::ArrayXd>& x, const Eigen::Ref<const Eigen::ArrayXd>& g0, double lr,
               Eigen::ArrayXd& next) override {
    Eigen::ArrayXd g = o_.weight_decay != 0 ? Eigen::ArrayXd(g0 + o_.weight_decay * x) : Eigen::ArrayXd(g0);
    s.next_step = s.step + 1;
    s.next_v = o_.alpha * s.v + (1 - o_.alpha) * g.square();
    Eigen::ArrayXd step = g / (s.next_v.sqrt() + eps_);
    if (o_.momentum > 0) {
      s.next_m = o_.momentum * s.m + step;
      next = x - lr * s.next_m;
    } else {
      next = x - lr * step;
    }
  }

 private:
  OptimOptions o_;
  double eps_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimOptions& o) {
  if (!(o.lr > 0) || !std::isfinite(o.lr))
    throw std::invalid_argument("optimizer: lr must be a positive finite number; got " + std::to_string(o.lr));
  if (o.name == "adam") return std::make_unique<Adam>(o);
  if (o.name == "clipped_adam") {
    if (!(o.clip_norm > 0)) throw std::invalid_argument("clipped_adam: clip_norm must be positive");
    if (!(o.lrd > 0 && o.lrd <= 1)) throw std::invalid_argument("clipped_adam: lrd must be in (0, 1]");
    return std::make_unique<ClippedAdam>(o);
  }
  if (o.name == "sgd") return std::make_unique<Sgd>(o);
  if (o.name == "adagrad") return std::make_unique<Adagrad>(o);
  if (o.name == "rmsprop") return std::make_unique<RmsProp>(o);
  if (o.name == "lbfgs")
    throw std::invalid_argument(
        "lbfgs is refused for SVI: its curvature estimate (differences of successive gradients) and its line "
        "search assume exact gradients, and the ELBO's gradients are stochastic estimates, so the curvature it "
        "builds is noise; use adam or clipped_adam");
  throw std::invalid_argument("unknown optimizer '" + o.name + "'; choose adam, clipped_adam, sgd, adagrad or rmsprop");
}

}  // namespace vireo::optim
