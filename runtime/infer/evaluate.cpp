#include "runtime/infer/evaluate.hpp"

#include <cmath>
#include <limits>
#include <map>

#include "runtime/infer/enum_elbo.hpp"

namespace vireo::infer {
namespace {

using handlers::TraceSite;

double scaled_sum(const TraceSite& s) { return ad::sum(s.log_prob).item() * s.msg.scale; }

// A plate-local latent site's E_q[z] per element, accumulated over draws:
// [elements × coordinates], the plate dimensions leading.
struct CodeSum {
  std::string plate;
  std::int64_t elements = 0, coords = 0;
  Eigen::ArrayXd sum;
  long draws = 0;
  bool usable = true;
};

}  // namespace

ElboEvaluation evaluate_elbo(interp::Context& ctx, guide::Guide& guide, long draws,
                             const std::set<ir::SiteId>& enum_sites, const std::function<void(long)>& before_each) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  ElboEvaluation out;
  out.draws = draws;
  std::vector<double> elbos;
  double ll = 0, kl = 0;
  std::vector<std::string> order;
  std::map<std::string, CodeSum> codes;
  std::vector<handlers::Trace> scratch;
  ParticleTraces t;
  for (long i = 0; i < draws; ++i) {
    if (before_each) before_each(i);
    if (!enum_sites.empty()) {
      elbos.push_back(enum_log_weight(ctx, guide, enum_sites, scratch));
      continue;
    }
    ctx.begin_step();
    run_particle(ctx, guide, t);
    double lp_latent = 0, lq = 0, lp_obs = 0;
    for (const TraceSite& s : t.model.sites()) {
      if (s.msg.type != handlers::MsgType::Sample || !s.has_log_prob || !s.msg.mask) continue;
      (is_latent(s) ? lp_latent : lp_obs) += scaled_sum(s);
    }
    for (const TraceSite& s : t.guide.sites()) {
      if (!is_latent(s) || !s.has_log_prob || !s.msg.mask) continue;
      lq += scaled_sum(s);
      if (s.msg.frames.empty()) continue;
      // E_q[z] per element: the guide distribution's mean where it has one.
      const dist::DistributionPtr& q = s.msg.q_dist ? s.msg.q_dist : s.msg.fn;
      auto [it, fresh] = codes.try_emplace(s.msg.name);
      CodeSum& c = it->second;
      if (fresh) {
        order.push_back(s.msg.name);
        c.plate = s.msg.frames.front().name;
      }
      if (!c.usable) continue;
      ad::Var m;
      try {
        if (!q) throw std::runtime_error("no distribution");
        m = q->mean();
      } catch (const std::exception&) {
        c.usable = false;
        continue;
      }
      const ad::Shape& shape = s.msg.value.var.shape();
      const int plates = static_cast<int>(s.msg.frames.size());
      if (shape.rank() < plates || m.numel() != s.msg.value.var.numel()) {
        c.usable = false;
        continue;
      }
      std::int64_t elements = 1;
      for (int d = 0; d < plates; ++d) elements *= shape[d];
      const std::int64_t coords = elements > 0 ? s.msg.value.var.numel() / elements : 0;
      if (c.draws == 0) {
        c.elements = elements;
        c.coords = coords;
        c.sum = Eigen::ArrayXd::Zero(elements * coords);
      } else if (c.elements != elements || c.coords != coords) {
        c.usable = false;  // a batch of another size (a subsampled plate not evaluated whole)
        continue;
      }
      c.sum += m.value().map();
      ++c.draws;
    }
    elbos.push_back(lp_latent + lp_obs - lq);
    ll += lp_obs;
    kl += lq - lp_latent;
  }
  const double n = static_cast<double>(std::max<long>(draws, 1));
  double mean = 0;
  for (double e : elbos) mean += e / n;
  double var = 0;
  for (double e : elbos) var += (e - mean) * (e - mean);
  out.elbo = mean;
  out.elbo_se = draws > 1 ? std::sqrt(var / (n - 1) / n) : nan;
  out.log_likelihood = enum_sites.empty() ? ll / n : nan;
  out.kl = enum_sites.empty() ? kl / n : nan;
  for (const std::string& name : order) {
    const CodeSum& c = codes[name];
    // Codes are vectors per element (a VAE's z); a scalar per element (a
    // hierarchical model's group effect) is no code, and its guide means may
    // rightly all sit near the prior's.
    if (!c.usable || c.draws == 0 || c.elements < 2 || c.coords < 2) continue;
    ActiveUnits u;
    u.site = name;
    u.plate = c.plate;
    u.elements = c.elements;
    const Eigen::ArrayXd code = c.sum / static_cast<double>(c.draws);
    for (std::int64_t d = 0; d < c.coords; ++d) {
      double m = 0, m2 = 0;
      for (std::int64_t e = 0; e < c.elements; ++e) {
        const double v = code[e * c.coords + d];
        m += v;
        m2 += v * v;
      }
      m /= static_cast<double>(c.elements);
      const double v = std::max(0.0, m2 / static_cast<double>(c.elements) - m * m);
      u.variance.push_back(v);
      if (v > active_threshold) ++u.active;
    }
    out.units.push_back(std::move(u));
  }
  return out;
}

}  // namespace vireo::infer
