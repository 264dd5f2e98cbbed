// bernoulli.cpp — Bernoulli(probs | logits) on {0, 1}.
//   logits: log p(x) = x·l − softplus(l)       (finite for |l| up to 1e308)
//   probs:  log p(x) = log p if x = 1, log(1 − p) if x = 0
#include <Eigen/Core>

#include <atomic>
#include <cstdint>
#include <optional>

#include "runtime/ad/kernels.hpp"
#include "runtime/rng/samplers.hpp"
#include "stdlib/constraints/constraint.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/family_util.hpp"
#include "stdlib/math/stable.hpp"

namespace vireo::dist {
namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXd>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXd>;

// x·l − softplus(l) as one tape node when x and l have one shape (an
// observed plate's values against its logits, every such site the
// interpreter builds): one pass forward and one back instead of three nodes
// (x·l, softplus, their difference), their five passes and two more adjoint
// arrays. The numbers are the composite's: softplus by ad::softplus's own
// kernels (runtime/ad/elementwise.cpp: vectorised from kVectorMin elements,
// e = exp(−|l|) kept for the backward pass), the product and the difference
// as the binary ops take them, the gradients added in the order the
// composite's backward sweep adds them.
//
// The node's gradient, given its adjoint: per element (`g`, the node's own
// adjoint array), or one number for every element (the summed form below).
// Uniform: the adjoint array a sum's backward would have filled (0 + g·1,
// each element g) is not written, and the terms are the same numbers.
template <bool Uniform>
void add_log_density_gradient(Tape& t, const ad::Node& n, const double* g) {
  const ad::Node &nx = t.node(n.in[0]), &nl = t.node(n.in[1]);
  const double* x = t.val(nx);
  const double* l = t.val(nl);
  double* gx = nx.adj >= 0 ? t.adj(nx) : nullptr;
  double* gl = nl.adj >= 0 ? t.adj(nl) : nullptr;
  const bool vector = n.numel >= ad::detail::kVectorMin;
  auto G = [&](std::int64_t b, std::int64_t len) {
    if constexpr (Uniform)
      return Eigen::ArrayXd::Constant(len, g[0]);
    else
      return ConstArrayMap(g + b, len);
  };
  auto gi = [&](std::int64_t i) { return Uniform ? g[0] : g[i]; };
  par::for_chunks(n.numel, [&](std::int64_t b, std::int64_t end) {
    const std::int64_t len = end - b;
    // Observed data (no gx): both of gl's terms in one pass, added in the
    // order of the passes below (where gx's pass comes between, as it must
    // when x is the logits themselves).
    if (gl && !gx && vector) {
      const ConstArrayMap L(l + b, len), e(t.scratch(n.iaux[0]) + b, len);
      ArrayMap GL(gl + b, len);
      GL = (GL + -G(b, len) * (e + (1.0 - e) * (0.5 + 0.5 * L.sign())) / (1.0 + e)) + G(b, len) * ConstArrayMap(x + b, len);
      return;
    }
    if (gl) {  // softplus's term, whose adjoint is −g: −g · sigmoid(l)
      if (vector) {
        const ConstArrayMap L(l + b, len), e(t.scratch(n.iaux[0]) + b, len);
        ArrayMap(gl + b, len) += -G(b, len) * (e + (1.0 - e) * (0.5 + 0.5 * L.sign())) / (1.0 + e);
      } else {
        for (std::int64_t i = b; i < end; ++i) gl[i] += -gi(i) * math::sigmoid(l[i]);
      }
    }
    if (gx)  // the product's, whose adjoint is g
      for (std::int64_t i = b; i < end; ++i) gx[i] += gi(i) * l[i];
    if (gl)
      for (std::int64_t i = b; i < end; ++i) gl[i] += gi(i) * x[i];
  });
}

void log_density_backward(Tape& t, const ad::Node& n) { add_log_density_gradient<false>(t, n, t.adj(n)); }

// The summed form (Tape::set_summed_form): the node of sum(log density),
// iaux[0] the log density's node, its inputs that node's. The sum of an
// observed plate's log-likelihood (Trace::log_prob_sum) thus takes no
// per-element adjoint pass: the sum's broadcast and the read of it here.
void log_density_sum_backward(Tape& t, const ad::Node& s) {
  add_log_density_gradient<true>(t, t.node(static_cast<std::int32_t>(s.iaux[0])), t.adj(s));
}

// The node's value, and e's scratch on the vectorised path (iaux[0]: its
// offset). With Check, also returns `inside`: whether every x is 0 or 1
// (Bernoulli's support), found in the same pass so that log_prob need not
// scan the values again.
template <bool Check>
bool log_density_pass(Tape& t, const ad::Node& nr) {
  const std::int64_t n = nr.numel;
  const double *xv = t.val(t.node(nr.in[0])), *l = t.val(t.node(nr.in[1]));
  double* out = t.val(nr);
  if (n < ad::detail::kVectorMin) {
    bool inside = true;
    for (std::int64_t i = 0; i < n; ++i) {
      out[i] = xv[i] * l[i] - math::softplus(l[i]);
      if constexpr (Check) inside = inside && constraints::is_boolean(xv[i]);
    }
    return inside;
  }
  constexpr std::int64_t P = Eigen::internal::packet_traits<double>::size;
  double* es = t.scratch(nr.iaux[0]);
  std::atomic<bool> outside{false};
  par::for_chunks(n, [&](std::int64_t b, std::int64_t end) {
    // In strips that stay in L1: e is written and read back while still
    // there, and x·l − softplus(l) is one pass. Eigen computes a strip's
    // elements before its destination's first packet boundary with scalar
    // code (std::exp, std::log), the rest with its packet kernels; so that
    // every element is computed as one call over the whole chunk computes
    // it, the strips after the first start at packet boundaries of both
    // destinations (out and e lie alike against the packets: see below).
    const auto phase = static_cast<std::int64_t>((reinterpret_cast<std::uintptr_t>(out + b) / sizeof(double)) % P);
    const std::int64_t head = (P - phase) % P;
    constexpr std::int64_t strip = 512;
    bool strip_outside = false;
    for (std::int64_t s = b; s < end;) {
      const std::int64_t len = std::min(s == b ? head + strip : strip, end - s);
      const ConstArrayMap L(l + s, len), X(xv + s, len);
      ArrayMap e(es + s, len);
      e = (-L.abs()).exp();  // in (0, 1]
      // x·l − softplus(l), softplus with log1p(e) vectorised as
      // elementwise.cpp's softplus_array takes it; each element's
      // operations and roundings are the composite's.
      ArrayMap(out + s, len) = X * L - (L.max(0.0) + ((1.0 + e).log() - (((1.0 + e) - 1.0) - e) / (1.0 + e)));
      // Σ|x(x − 1)| is 0 exactly when every x(x − 1) is, i.e. when every x
      // is constraints::is_boolean (a sum of non-negative terms is 0 only if
      // each is; NaN and inf stay nonzero), in any order of summation: a
      // vectorised reduction.
      if constexpr (Check) strip_outside = strip_outside || (X * (X - 1.0)).abs().sum() != 0;
      s += len;
    }
    if (strip_outside) outside.store(true, std::memory_order_relaxed);
  });
  return !outside.load(std::memory_order_relaxed);
}

void log_density_forward(Tape& t, const ad::Node& nr) { log_density_pass<false>(t, nr); }

Var fused_log_density(Tape& t, Var x, Var logits, bool& inside) {
  Var r = t.push(t.node(logits).shape, &log_density_backward, x.index(), logits.index());
  const std::int64_t n = t.node(r).numel;
  if (n > 1) t.set_summed_form(r, &log_density_sum_backward);  // a scalar site's log density is its own sum
  if (n >= ad::detail::kVectorMin) {
    // e's scratch lies as the node's value does against Eigen's packets (both
    // are offsets in the value arena), so that the strips can start at packet
    // boundaries of both.
    constexpr std::int64_t P = Eigen::internal::packet_traits<double>::size;
    std::int64_t off = t.push_scratch(n + P - 1);
    off += ((t.node(r).val - off) % P + P) % P;
    t.mutable_node(r).iaux[0] = off;
  }
  // t.compute(r, &log_density_forward) by hand: recording also checks x.
  ad::Node& nr = t.mutable_node(r);
  nr.forward = &log_density_forward;
  nr.kind = ad::NodeKind::Op;
  inside = log_density_pass<true>(t, nr);
  return r;
}

class Bernoulli final : public Distribution {
 public:
  Bernoulli(std::optional<Var> probs, std::optional<Var> logits)
      : Distribution(detail::tape_of("Bernoulli", {probs ? *probs : *logits}), (probs ? *probs : *logits).shape()),
        probs_(probs), logits_(logits) {
    if (probs_) check_probability("Bernoulli", "probs", *probs_);
    else check_finite("Bernoulli", "logits", *logits_);
  }
  std::string_view name() const override { return "Bernoulli"; }
  const constraints::Constraint& support() const override {
    static const constraints::Constraint c = constraints::boolean();
    return c;
  }

  Tensor sample(rng::Generator& g, const Shape& sample_shape) const override {
    const Shape s = extended_shape(sample_shape);
    const Tensor p = detail::values_as(param("probs"), s);
    return detail::fill_with(s, [&](auto i) { return rng::bernoulli(g, p[i]) ? 1.0 : 0.0; });
  }
  Var mean() const override { return param("probs"); }
  Var variance() const override {
    const Var p = param("probs");
    return p * (1.0 - p);
  }
  Var entropy() const override {
    if (logits_) return ad::softplus(*logits_) - *logits_ * ad::sigmoid(*logits_);
    const Var p = *probs_;
    return -(ad::where(p > 0.0, p * ad::log(p), 0.0) + ad::where(p < 1.0, (1.0 - p) * ad::log1p(-p), 0.0));
  }
  Var param(std::string_view n) const override {
    if (n == "probs") return probs_ ? *probs_ : ad::sigmoid(*logits_);
    if (n == "logits") return logits_ ? *logits_ : ad::logit(*probs_);
    unknown_param(n);
  }

 protected:
  Var log_density(Var x) const override {
    bool inside = false;
    return log_density_checked(x, inside);
  }
  Var log_density_checked(Var x, bool& inside) const override {
    inside = false;
    if (logits_) {
      Tape& t = tape();
      if (x.valid() && x.tape() == &t) {
        t.check(x, "Bernoulli.log_prob");
        if (x.shape() == logits_->shape()) return fused_log_density(t, x, *logits_, inside);
      }
      return x * *logits_ - ad::softplus(*logits_);
    }
    return ad::where(x == 1.0, ad::log(*probs_), ad::log1p(-*probs_));
  }

 private:
  std::optional<Var> probs_, logits_;
};

}  // namespace

DistributionPtr bernoulli(std::optional<Var> probs, std::optional<Var> logits) {
  check_one_of("Bernoulli", "probs", probs.has_value(), "logits", logits.has_value());
  return std::make_shared<Bernoulli>(probs, logits);
}

Family bernoulli_family() {
  return {"Bernoulli", {"probs", "logits"}, [](Tape&, const Params& p) {
            detail::only_params("Bernoulli", p, {"probs", "logits"});
            return bernoulli(detail::optional_param(p, "probs"), detail::optional_param(p, "logits"));
          },
          DiscreteGuideRule{discrete_guide::logit_of_probs,
                            [](const Distribution& prior, const Var& u) -> Params { return {{"logits", u}}; }},
          EnumerationRule{[](const Distribution&) -> std::int64_t { return 2; }}};
}

}  // namespace vireo::dist
