// `factor name = e` through the embedding API: a factor is scored exactly as
// the observe it can replace (every ELBO, the same draws), a marginalised
// mixture written with factors reaches its exact evidence, and a soft
// constraint ties two latents together as its Gaussian posterior says.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

// The same density twice: observe y ~ Normal(mu + z, 1), and the Normal's
// log density written as a factor (0.9189… = ½ log 2π). z is discrete, so
// TraceGraph_ELBO weights its score term by the costs downstream of it —
// the factor must be one of them.
const char* const observe_model = R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  z ~ Bernoulli(probs = 0.5)
  plate data(N) {
    observe y ~ Normal(mu + z, 1)
  }
}
)";
const char* const factor_model = R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  z ~ Bernoulli(probs = 0.5)
  plate data(N) {
    factor lik = -0.5 * (y - (mu + z))^2 - 0.9189385332046727
  }
}
)";

std::map<std::string, vireo::Array> small_data() { return {{"N", {{}, {5}}}, {"y", {{5}, {0.5, 1.2, -0.3, 2.0, 1.1}}}}; }

}  // namespace

// Same seed, same guide draws: the ELBO of every step agrees to rounding
// (the two log densities are the same formula evaluated in another order, so
// they agree to ~1e-15 relative; 1e-9 leaves room for 40 optimizer steps
// amplifying that, and is far below any real difference, which would be O(1)).
BOOST_AUTO_TEST_CASE(factor_scores_as_the_observe_it_replaces) {
  vireo::Model mo = vireo::Model::from_string(observe_model, "observe.vireo");
  vireo::Model mf = vireo::Model::from_string(factor_model, "factor.vireo");
  vireo::Data dobs = vireo::Data::from_arrays(mo, small_data());
  vireo::Data dfac = vireo::Data::from_arrays(mf, small_data());
  for (std::string elbo : {"trace", "tracegraph", "meanfield"}) {
    vireo::FitOptions o;
    o.elbo = vireo::parse_elbo(elbo);
    o.seed = 11;
    o.lr = 0.05;
    vireo::Fit a(mo, dobs, o), b(mf, dfac, o);
    BOOST_TEST(std::abs(a.trace().elbo - b.trace().elbo) < 1e-9, elbo);
    a.run(40);
    b.run(40);
    for (std::size_t i = 0; i < a.elbo_history().size(); ++i) {
      double x = a.elbo_history()[i], y = b.elbo_history()[i];
      BOOST_TEST(std::abs(x - y) <= 1e-9 * std::max(1.0, std::abs(x)), elbo << " step " << i << ": " << x << " vs " << y);
    }
    BOOST_TEST(a.parameters().at("auto.loc.mu").values[0] ==
                   b.parameters().at("auto.loc.mu").values[0],
               boost::test_tools::tolerance(1e-9));
  }
  // The trace shows the factor as a site of its own, with its term as log p.
  vireo::Fit f(mf, dfac, {});
  vireo::Execution e = f.trace();
  auto it = std::find_if(e.model.begin(), e.model.end(), [](const vireo::TraceEntry& t) { return t.name == "lik"; });
  BOOST_REQUIRE(it != e.model.end());
  BOOST_TEST(it->kind == "factor");
  BOOST_TEST(it->shape == std::vector<std::int64_t>{5});
  double sum = 0;
  for (double v : it->value) sum += v;
  BOOST_TEST(it->log_density == sum, boost::test_tools::tolerance(1e-12));
  // --diagnose's per-site breakdown lists it.
  vireo::Diagnosis d = f.diagnose(10);
  bool listed = false;
  for (const auto& s : d.sites) listed = listed || (s.name == "lik" && s.kind == "factor");
  BOOST_TEST(listed, d.text);
}

// A two-component mixture with known components N(−2, 1), N(2, 1) and an
// unknown weight w ~ Beta(2, 2), the assignments summed out by hand in a
// factor per data point. log Z = log ∫ Beta(w; 2, 2) Π_i [w φ(x_i + 2) +
// (1 − w) φ(x_i − 2)] dw is computed here by quadrature; the importance-
// sampling estimate after the fit must agree within 5 of its standard
// errors (its bias is O(se²), negligible here) plus 1e-3 for the quadrature.
BOOST_AUTO_TEST_CASE(marginalised_mixture_reaches_its_exact_evidence) {
  const char* const src = R"(data { N: int  x: real[N] }
model {
  w ~ Beta(2, 2)
  plate data(N) {
    factor mix = log(w * exp(-0.5 * (x + 2)^2) + (1 - w) * exp(-0.5 * (x - 2)^2)) - 0.9189385332046727
  }
}
)";
  std::vector<double> x;
  for (int i = 0; i < 40; ++i) {
    double u = (i + 0.5) / 40;                       // a fixed, well-spread sample:
    x.push_back((i % 10 < 3 ? -2.0 : 2.0) + 2 * (u - 0.5));  // 30% near −2, 70% near +2
  }
  // Quadrature (midpoint rule on 200 000 cells; the integrand is smooth).
  const int cells = 200000;
  std::vector<double> logs(cells);
  double top = -INFINITY;
  for (int c = 0; c < cells; ++c) {
    double w = (c + 0.5) / cells;
    double l = std::log(6 * w * (1 - w));
    for (double xi : x)
      l += std::log(w * std::exp(-0.5 * (xi + 2) * (xi + 2)) + (1 - w) * std::exp(-0.5 * (xi - 2) * (xi - 2))) -
           0.9189385332046727;
    logs[c] = l;
    top = std::max(top, l);
  }
  double acc = 0;
  for (double l : logs) acc += std::exp(l - top);
  const double log_z = top + std::log(acc / cells);

  vireo::Model m = vireo::Model::from_string(src, "mixture.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, {{"N", {{}, {40}}}, {"x", {{40}, x}}});
  vireo::FitOptions o;
  o.seed = 2;
  o.lr = 0.05;
  vireo::Fit fit(m, d, o);
  fit.run(1500);
  vireo::Evidence e = fit.evidence(20000);
  BOOST_TEST_MESSAGE("exact log Z " << log_z << ", estimate " << e.log_z << " ± " << e.se << ", k̂ " << e.khat);
  BOOST_TEST(e.reliable);
  BOOST_TEST(std::abs(e.log_z - log_z) < 5 * e.se + 1e-3, e.log_z << " vs exact " << log_z << " (se " << e.se << ")");
}

// A soft constraint: a, b ~ Normal(0, 1) tied by factor −½((a − b)/0.5)².
// Exactly, Z = 0.5·√(2π)·N(0; 0, 2 + 0.25) = 1/3 (a − b is N(0, 2) under the
// prior) and the posterior is Gaussian with sd(a − b) = √(2/9) ≈ 0.471,
// against √2 without the factor; auto_mvn with STL reaches it exactly.
BOOST_AUTO_TEST_CASE(soft_constraint_ties_two_latents) {
  const char* const src = R"(model {
  a ~ Normal(0, 1)
  b ~ Normal(0, 1)
  factor close = -0.5 * ((a - b) / 0.5)^2
}
)";
  vireo::Model m = vireo::Model::from_string(src, "soft.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, {});
  vireo::FitOptions o;
  o.guide = vireo::Guide::AutoMvn;
  o.estimator = vireo::Estimator::Stl;
  o.seed = 4;
  o.lr = 0.02;
  o.init_scale = 0.5;
  vireo::Fit fit(m, d, o);
  fit.run(2000);
  vireo::DrawTable t = fit.draws(4000);
  double s = 0, s2 = 0;
  for (const auto& row : t.rows) {
    double diff = row[0] - row[1];
    s += diff, s2 += diff * diff;
  }
  const double n = static_cast<double>(t.rows.size());
  const double sd = std::sqrt(s2 / n - (s / n) * (s / n));
  // 4000 draws estimate an sd to ~1.1% (1/√(2n)); 5% is over 4 of those.
  BOOST_TEST(sd == std::sqrt(2.0 / 9), boost::test_tools::tolerance(0.05));
  vireo::Evidence e = fit.evidence(20000);
  BOOST_TEST(std::abs(e.log_z - std::log(1.0 / 3)) < 5 * e.se + 1e-3, e.log_z << " ± " << e.se);
}
