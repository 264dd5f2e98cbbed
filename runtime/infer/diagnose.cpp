#include "runtime/infer/diagnose.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "runtime/infer/nonfinite.hpp"
#include "stdlib/math/stable.hpp"

namespace vireo::infer {
namespace {

using handlers::MsgType;
using handlers::TraceSite;

using math::nan;

struct Acc {
  SiteDiagnosis d;
  double sum_v = 0, sum_v2 = 0;  // the guide's value (first element)
  double sum_pm = 0, sum_ps = 0;  // the prior's mean and sd there
  long prior_n = 0;
};

double first(const ad::Var& v) { return v.numel() > 0 ? v.value()[0] : nan; }

std::string g(double x) { return fmt::format("{:.4g}", x); }

}  // namespace

Diagnosis diagnose(interp::Context& ctx, guide::Guide& guide, Elbo& elbo, long draws,
                   const std::function<void(long)>& before_each) {
  Diagnosis out;
  out.draws = draws;
  std::vector<std::string> order;
  std::map<std::string, Acc> acc;
  std::map<std::string, double> norms;
  ParticleTraces t;
  double elbo_sum = 0;
  for (long i = 0; i < draws; ++i) {
    if (before_each) before_each(i);
    // The gradient, through the estimator the fit uses…
    ctx.begin_step();
    ElboEstimate est = elbo.loss(ctx, guide);
    ctx.tape().backward(est.loss);
    for (const auto& [name, leaf] : ctx.param_leaves()) {
      ad::Tensor gr = ctx.tape().grad(leaf);
      norms[name] += std::sqrt(gr.map().square().sum()) / static_cast<double>(draws);
    }
    // …and the per-site terms from one more particle on a fresh tape.
    ctx.begin_step();
    run_particle(ctx, guide, t);
    // Under enum the summed-out sites are drawn from their priors in this
    // particle (for the breakdown); the ELBO is the estimator's.
    elbo_sum += elbo.name() == "enum" ? est.elbo : particle_elbo(ctx.tape(), t).item();
    for (const TraceSite& s : t.model.sites()) {
      if (s.msg.type != MsgType::Sample || !s.has_log_prob || !s.msg.mask) continue;
      auto [it, fresh] = acc.try_emplace(s.msg.name);
      Acc& a = it->second;
      if (fresh) {
        order.push_back(s.msg.name);
        a.d.name = s.msg.name;
        const bool factor = s.msg.site && s.msg.site->kind == ir::SiteKind::Factor;
        a.d.kind = is_latent(s) ? "latent" : factor ? "factor" : "observed";
        a.d.distribution = s.msg.fn ? std::string(s.msg.fn->name()) : "";
        a.d.elements = s.msg.value.var.numel();
      }
      ++a.d.present;
      a.d.log_p += ad::sum(s.log_prob).item() * s.msg.scale;
      if (!is_latent(s)) continue;
      const double v = first(s.msg.value.var);
      a.sum_v += v;
      a.sum_v2 += v * v;
      try {
        const double pm = first(s.msg.fn->mean()), ps = std::sqrt(first(s.msg.fn->variance()));
        if (std::isfinite(pm) && std::isfinite(ps)) {
          a.sum_pm += pm;
          a.sum_ps += ps;
          ++a.prior_n;
        }
      } catch (const std::exception&) {
        // no closed-form mean or variance (Cauchy): no comparison for this site
      }
    }
    for (const TraceSite& s : t.guide.sites()) {
      if (!is_latent(s) || !s.has_log_prob || !s.msg.mask) continue;
      auto it = acc.find(s.msg.name);
      if (it != acc.end()) it->second.d.log_q += ad::sum(s.log_prob).item() * s.msg.scale;
    }
  }
  out.elbo = draws > 0 ? elbo_sum / static_cast<double>(draws) : nan;
  out.grad_norm = norms;

  for (const std::string& name : order) {
    Acc& a = acc[name];
    SiteDiagnosis d = a.d;
    const double n = static_cast<double>(d.present);
    d.log_p /= n;
    d.log_q /= n;
    if (d.kind == "latent") {
      d.guide_mean = a.sum_v / n;
      d.guide_sd = std::sqrt(std::max(0.0, a.sum_v2 / n - d.guide_mean * d.guide_mean));
      d.prior_mean = a.prior_n ? a.sum_pm / static_cast<double>(a.prior_n) : nan;
      d.prior_sd = a.prior_n ? a.sum_ps / static_cast<double>(a.prior_n) : nan;
    } else {
      d.guide_mean = d.guide_sd = d.prior_mean = d.prior_sd = nan;
    }
    out.sites.push_back(d);
  }

  // Guide scales that collapsed or exploded (softplus of the stored values, as the guide says).
  for (const auto& e : ctx.store().entries()) {
    const std::optional<guide::ParamRole> role = guide.parameter_role(e.name);
    if (!role || !role->scale) continue;
    for (Eigen::Index i = 0; i < e.unconstrained.size(); ++i) {
      const double sc = math::softplus(e.unconstrained[i]);
      if (sc < 1e-4 || sc > 1e3) {
        out.warnings.push_back(fmt::format("{}: a guide scale has {} to {} (element {})", describe_parameter(guide, e.name),
                                           sc < 1e-4 ? "collapsed" : "exploded", g(sc), i));
        break;
      }
    }
  }
  // Likelihoods that crush the ELBO; then, only then, where the guide puts
  // each latent site against its prior (after a good fit a site may well sit
  // a hundred prior sds out: that is what the data say).
  const double per_site_low = -1e4;
  bool tight = false;
  for (const auto& d : out.sites)
    if (d.kind == "observed" && d.log_p < per_site_low) {
      tight = true;
      out.warnings.push_back(fmt::format("observed '{}' ({}): log p = {} over {} elements ({} each): the guide's draws "
                                         "make the data extremely unlikely",
                                         d.name, d.distribution, g(d.log_p), d.elements,
                                         g(d.log_p / static_cast<double>(std::max<long>(1, d.elements)))));
    }
  if (out.elbo < -1e6 || tight) {
    for (const auto& d : out.sites)
      if (d.kind == "latent" && std::isfinite(d.prior_sd) && d.prior_sd > 0)
        out.warnings.push_back(fmt::format("latent '{}': the guide puts it at {} ± {}; the prior at {} ± {}", d.name,
                                           g(d.guide_mean), g(d.guide_sd), g(d.prior_mean), g(d.prior_sd)));
    out.advice.push_back("the ELBO is dominated by the likelihood terms above: the guide starts far from where the data "
                         "put the latent sites");
    out.advice.push_back("initialise nearer the data (--init sample draws the start from the prior), or let the optimizer "
                         "travel: --optim clipped_adam with a larger --lr and --lrd decay (e.g. --lr 1 --lrd 0.999)");
    out.advice.push_back("--kl-anneal STEPS and --clip-grad-norm keep the first steps from overshooting; a richer guide "
                         "(auto_mvn) when latent sites are correlated");
  }
  return out;
}

std::string Diagnosis::to_text() const {
  std::string s = fmt::format("diagnosis over {} draws at the current parameters: ELBO {}\n", draws, g(elbo));
  s += fmt::format("  {:<16} {:<9} {:<14} {:>12} {:>12}   {}\n", "site", "kind", "distribution", "E log p", "E log q",
                   "guide vs prior (first element)");
  for (const auto& d : sites) {
    std::string cmp;
    if (d.kind == "latent")
      cmp = std::isfinite(d.prior_mean) ? fmt::format("{} ± {}  vs  {} ± {}", g(d.guide_mean), g(d.guide_sd), g(d.prior_mean),
                                                      g(d.prior_sd))
                                        : fmt::format("{} ± {}", g(d.guide_mean), g(d.guide_sd));
    s += fmt::format("  {:<16} {:<9} {:<14} {:>12} {:>12}   {}\n", d.name, d.kind, d.distribution, g(d.log_p),
                     d.kind == "latent" ? g(d.log_q) : "", cmp);
  }
  s += "  gradient norms (mean over draws):\n";
  for (const auto& [name, n] : grad_norm) s += fmt::format("    {:<28} {}\n", name, g(n));
  for (const auto& w : warnings) s += "  warning: " + w + "\n";
  for (const auto& a : advice) s += "  advice: " + a + "\n";
  return s;
}

}  // namespace vireo::infer
