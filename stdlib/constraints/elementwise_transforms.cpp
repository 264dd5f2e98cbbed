// elementwise_transforms.cpp — identity, exp, softplus, one-sided bounds,
// sigmoid and interval transforms; each log|det J| is elementwise.
#include <utility>

#include "stdlib/constraints/transform.hpp"

namespace vireo::constraints {
namespace {

using ad::Var;

class Identity final : public Transform {
 public:
  std::string name() const override { return "identity"; }
  Var forward(Var x) const override { return x; }
  Var inverse(Var y) const override { return y; }
  Var log_abs_det_jacobian(Var x, Var) const override { return x * 0.0; }
};

class Exp final : public Transform {
 public:
  std::string name() const override { return "exp"; }
  Var forward(Var x) const override { return ad::exp(x); }
  Var inverse(Var y) const override { return ad::log(y); }
  Var log_abs_det_jacobian(Var x, Var) const override { return x; }
};

class Softplus final : public Transform {
 public:
  std::string name() const override { return "softplus"; }
  Var forward(Var x) const override { return ad::softplus(x); }
  // x = log(e^y − 1) = y + log(1 − e^(−y)), stable for large and small y.
  Var inverse(Var y) const override { return y + ad::log1m_exp(-y); }
  // dy/dx = σ(x).
  Var log_abs_det_jacobian(Var x, Var) const override { return ad::log_sigmoid(x); }
};

class LowerBound final : public Transform {
 public:
  explicit LowerBound(ad::Tensor lower) : lower_(std::move(lower)) {}
  std::string name() const override { return "lower_bound"; }
  Var forward(Var x) const override { return x.tape()->constant(lower_) + ad::exp(x); }
  Var inverse(Var y) const override { return ad::log(y - y.tape()->constant(lower_)); }
  Var log_abs_det_jacobian(Var x, Var) const override { return x; }

 private:
  ad::Tensor lower_;
};

class UpperBound final : public Transform {
 public:
  explicit UpperBound(ad::Tensor upper) : upper_(std::move(upper)) {}
  std::string name() const override { return "upper_bound"; }
  Var forward(Var x) const override { return x.tape()->constant(upper_) - ad::exp(x); }
  Var inverse(Var y) const override { return ad::log(y.tape()->constant(upper_) - y); }
  Var log_abs_det_jacobian(Var x, Var) const override { return x; }

 private:
  ad::Tensor upper_;
};

// log σ'(x) = log σ(x) + log σ(−x), finite for any finite x.
Var log_sigmoid_derivative(Var x) { return ad::log_sigmoid(x) + ad::log_sigmoid(-x); }

class Sigmoid final : public Transform {
 public:
  std::string name() const override { return "sigmoid"; }
  Var forward(Var x) const override { return ad::sigmoid(x); }
  Var inverse(Var y) const override { return ad::logit(y); }
  Var log_abs_det_jacobian(Var x, Var) const override { return log_sigmoid_derivative(x); }
};

class Interval final : public Transform {
 public:
  Interval(ad::Tensor lower, ad::Tensor upper) : lower_(std::move(lower)), upper_(std::move(upper)) {}
  std::string name() const override { return "interval"; }
  Var forward(Var x) const override {
    ad::Tape& t = *x.tape();
    return t.constant(lower_) + (t.constant(upper_) - t.constant(lower_)) * ad::sigmoid(x);
  }
  Var inverse(Var y) const override {
    ad::Tape& t = *y.tape();
    const Var lo = t.constant(lower_), hi = t.constant(upper_);
    // logit((y − lo)/(hi − lo)) written as log(y − lo) − log(hi − y): no
    // cancellation in 1 − u near the upper bound.
    return ad::log(y - lo) - ad::log(hi - y);
  }
  Var log_abs_det_jacobian(Var x, Var) const override {
    ad::Tape& t = *x.tape();
    return ad::log(t.constant(upper_) - t.constant(lower_)) + log_sigmoid_derivative(x);
  }

 private:
  ad::Tensor lower_, upper_;
};

}  // namespace

// The transforms without parameters are immutable: one shared instance each,
// so that a guide asking for one at every site and step allocates nothing.
TransformPtr identity_transform() {
  static const TransformPtr t = std::make_shared<Identity>();
  return t;
}
TransformPtr exp_transform() {
  static const TransformPtr t = std::make_shared<Exp>();
  return t;
}
TransformPtr softplus_transform() {
  static const TransformPtr t = std::make_shared<Softplus>();
  return t;
}
TransformPtr lower_bound_transform(ad::Tensor lower) { return std::make_shared<LowerBound>(std::move(lower)); }
TransformPtr upper_bound_transform(ad::Tensor upper) { return std::make_shared<UpperBound>(std::move(upper)); }
TransformPtr sigmoid_transform() {
  static const TransformPtr t = std::make_shared<Sigmoid>();
  return t;
}
TransformPtr interval_transform(ad::Tensor lower, ad::Tensor upper) {
  return std::make_shared<Interval>(std::move(lower), std::move(upper));
}

}  // namespace vireo::constraints
