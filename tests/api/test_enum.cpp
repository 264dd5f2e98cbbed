// --elbo enum (TraceEnum_ELBO) through the embedding API, against brute-force
// enumeration of every assignment: the ELBO with only `param`s is the exact
// log-likelihood, the enumerated sites' probabilities are the exact
// conditionals, all-discrete models are solved exactly, the default picks
// enum (or tracegraph, saying why), and what cannot be summed out is refused
// with the site's name.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

const vireo::SiteSummary& site(const vireo::Summary& s, const std::string& name) {
  for (const auto& x : s.sites)
    if (x.name == name) return x;
  BOOST_FAIL("no site " + name);
  return s.sites.front();
}

double log_normal_pdf(double x, double mu) { return -0.5 * (x - mu) * (x - mu) - 0.5 * std::log(2 * M_PI); }

double logsumexp(const std::vector<double>& v) {
  double m = -INFINITY;
  for (double x : v) m = std::max(m, x);
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

}  // namespace

// Three fair coins conditioned on at least two heads: P(a = 1) = 3/4 and
// log Z = log(4/8), exactly, with no option and no optimisation.
BOOST_AUTO_TEST_CASE(three_coins_are_exact_by_default) {
  auto model = vireo::Model::from_string(R"(model {
  a ~ Bernoulli(probs = 0.5)
  b ~ Bernoulli(probs = 0.5)
  c ~ Bernoulli(probs = 0.5)
  factor at_least_two = log(a + b + c >= 2)
}
)");
  auto data = vireo::Data::from_arrays(model, {});
  vireo::Fit fit(model, data);
  BOOST_TEST((fit.options().elbo == vireo::Elbo::Enum));
  BOOST_TEST(fit.exact());
  BOOST_TEST(fit.elbo_reason().find("summed out exactly") != std::string::npos);
  fit.run(100);
  BOOST_TEST(fit.steps_taken() == 0);  // nothing to optimise
  auto s = fit.summarize(50);
  for (const char* n : {"a", "b", "c"}) {
    const auto& x = site(s, n);
    BOOST_REQUIRE(x.probs.size() == 2u);
    BOOST_TEST(std::abs(x.probs[1] - 0.75) < 1e-12);
    BOOST_TEST(std::abs(x.mean[0] - 0.75) < 1e-12);
    BOOST_TEST(x.mode[0] == 1.0);
  }
  auto ev = fit.evidence(100);
  BOOST_TEST(ev.exact);
  BOOST_TEST(std::abs(ev.log_z - std::log(0.5)) < 1e-12);
  BOOST_TEST(std::abs(s.elbo - std::log(0.5)) < 1e-12);
}

// A global site and a per-element site together, with the locations as
// `param`s (nothing sampled): the first step's ELBO is log p(x; θ0) exactly,
// and the summary's probabilities of z are the exact conditionals,
// computed here over all 2 × 2^N assignments.
BOOST_AUTO_TEST_CASE(global_and_plate_sites_match_brute_force) {
  auto model = vireo::Model::from_string(R"(data { N: int  x: real[N] }
model {
  param mu: real[2] = [-1, 1.5]
  g ~ Bernoulli(probs = 0.4)
  plate data(N) {
    z ~ Categorical(probs = [0.3, 0.7])
    observe x ~ Normal(mu[z] + 0.8 * g, 1)
  }
}
)");
  const std::vector<double> x = {-1.2, 0.3, 2.2, 1.0};
  const int N = static_cast<int>(x.size());
  auto data = vireo::Data::from_arrays(model, {{"N", {{}, {static_cast<double>(N)}}}, {"x", {{N}, x}}});
  vireo::FitOptions o;
  o.elbo = vireo::Elbo::Enum;
  vireo::Fit fit(model, data, o);
  BOOST_TEST(!fit.exact());  // the params are fitted
  // Brute force at mu = [-1, 1.5].
  const double mu[2] = {-1, 1.5}, pz[2] = {0.3, 0.7}, pg[2] = {0.6, 0.4};
  std::vector<double> joint;
  std::vector<std::vector<double>> by_z(static_cast<std::size_t>(N), std::vector<double>(2, 0.0));
  std::vector<double> all;
  for (int g = 0; g < 2; ++g)
    for (int a = 0; a < (1 << N); ++a) {
      double lp = std::log(pg[g]);
      for (int n = 0; n < N; ++n) {
        const int k = (a >> n) & 1;
        lp += std::log(pz[k]) + log_normal_pdf(x[static_cast<std::size_t>(n)], mu[k] + 0.8 * g);
      }
      all.push_back(lp);
    }
  const double log_z = logsumexp(all);
  std::size_t i = 0;
  for (int g = 0; g < 2; ++g)
    for (int a = 0; a < (1 << N); ++a, ++i)
      for (int n = 0; n < N; ++n) by_z[static_cast<std::size_t>(n)][(a >> n) & 1] += std::exp(all[i] - log_z);
  auto s = fit.summarize(20);  // before any step: at mu = [-1, 1.5]
  const auto& z = site(s, "z");
  BOOST_REQUIRE(z.probs.size() == static_cast<std::size_t>(2 * N));
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < 2; ++k)
      BOOST_TEST(std::abs(z.probs[static_cast<std::size_t>(k * N + n)] - by_z[static_cast<std::size_t>(n)][static_cast<std::size_t>(k)]) < 1e-10);
  const double first = fit.step();
  BOOST_TEST(std::abs(first - log_z) < 1e-10);
}

// A chain of global sites in a loop (an HMM of 5 steps): the elimination over
// every joint assignment equals the forward algorithm.
BOOST_AUTO_TEST_CASE(a_short_chain_matches_the_forward_algorithm) {
  auto model = vireo::Model::from_string(R"(data { T: int  y: real[T] }
model {
  let s = 0
  for t in 0..T {
    s ~ Categorical(probs = [[0.8, 0.2], [0.3, 0.7]][s])
    observe y[t] ~ Normal(2.0 * s, 1)
  }
}
)");
  const std::vector<double> y = {0.1, 1.9, 2.5, -0.4, 0.3};
  const int T = static_cast<int>(y.size());
  auto data = vireo::Data::from_arrays(model, {{"T", {{}, {static_cast<double>(T)}}}, {"y", {{T}, y}}});
  vireo::Fit fit(model, data);
  BOOST_TEST((fit.options().elbo == vireo::Elbo::Enum));
  BOOST_TEST(fit.exact());
  const double A[2][2] = {{0.8, 0.2}, {0.3, 0.7}};
  double alpha[2];  // forward messages, starting from state 0
  for (int k = 0; k < 2; ++k) alpha[k] = std::log(A[0][k]) + log_normal_pdf(y[0], 2.0 * k);
  for (int t = 1; t < T; ++t) {
    double next[2];
    for (int k = 0; k < 2; ++k)
      next[k] = logsumexp({alpha[0] + std::log(A[0][k]), alpha[1] + std::log(A[1][k])}) +
                log_normal_pdf(y[static_cast<std::size_t>(t)], 2.0 * k);
    alpha[0] = next[0];
    alpha[1] = next[1];
  }
  BOOST_TEST(std::abs(fit.evidence(10).log_z - logsumexp({alpha[0], alpha[1]})) < 1e-10);
}

// The change point: tau summed out by the default estimator, the rates
// fitted; the exact posterior is conjugate given tau (Gamma–Poisson).
BOOST_AUTO_TEST_CASE(change_point_default_fit_is_close_to_exact, *boost::unit_test::label("slow")) {
  auto model = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/changepoint.vireo");
  auto data = vireo::Data::from_json_file(model, VIREO_SOURCE_DIR "/examples/data/changepoint.json");
  const std::vector<int> c = {3, 2, 2, 1, 3, 5, 3, 4, 2, 1, 5, 7, 4, 2, 7, 4, 7, 2, 2, 3,
                              6, 4, 0, 0, 1, 0, 0, 1, 3, 2, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  const int T = static_cast<int>(c.size());
  const double a = 2, b = 0.5;
  std::vector<double> lw, early, late;
  for (int tau = 0; tau < T; ++tau) {
    double s1 = 0, s2 = 0;
    for (int t = 0; t < T; ++t) (t < tau ? s1 : s2) += c[static_cast<std::size_t>(t)];
    const double n1 = tau, n2 = T - tau;
    lw.push_back(std::lgamma(a + s1) - (a + s1) * std::log(b + n1) + std::lgamma(a + s2) - (a + s2) * std::log(b + n2));
    early.push_back((a + s1) / (b + n1));
    late.push_back((a + s2) / (b + n2));
  }
  const double lz = logsumexp(lw);
  double e_early = 0, e_late = 0, e_tau = 0;
  for (int tau = 0; tau < T; ++tau) {
    const double p = std::exp(lw[static_cast<std::size_t>(tau)] - lz);
    e_early += p * early[static_cast<std::size_t>(tau)];
    e_late += p * late[static_cast<std::size_t>(tau)];
    e_tau += p * tau;
  }
  vireo::Fit fit(model, data);
  BOOST_TEST((fit.options().elbo == vireo::Elbo::Enum));
  fit.run(4000);
  auto s = fit.summarize(1000);
  // The issue's bounds; 1000 draws add an error of sd/√1000 ≈ 0.013 (early).
  BOOST_TEST(std::abs(site(s, "early").mean[0] - e_early) < 0.2);
  BOOST_TEST(std::abs(site(s, "late").mean[0] - e_late) < 0.1);
  BOOST_TEST(std::abs(site(s, "tau").mean[0] - e_tau) < 0.5);
}

// What cannot be summed out: the default falls back to tracegraph and says
// why; an explicit --elbo enum names the site.
BOOST_AUTO_TEST_CASE(refusals_name_the_site) {
  auto geometric = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/geometric.vireo");
  auto gdata = vireo::Data::from_json_file(geometric, VIREO_SOURCE_DIR "/examples/data/geometric.json");
  vireo::Fit fit(geometric, gdata);
  BOOST_TEST((fit.options().elbo == vireo::Elbo::TraceGraph));
  BOOST_TEST(fit.elbo_reason().find("'flip'") != std::string::npos);

  auto big = vireo::Model::from_string(R"(model {
  k ~ Categorical(probs = fill(1.0 / 100000, 100000))
  factor near = -0.5 * (k - 3.0)^2
}
)");
  auto none = vireo::Data::from_arrays(big, {});
  vireo::Fit fallback(big, none);
  BOOST_TEST((fallback.options().elbo == vireo::Elbo::TraceGraph));
  BOOST_TEST(fallback.elbo_reason().find("'k' has 100000 values") != std::string::npos);
  vireo::FitOptions o;
  o.elbo = vireo::Elbo::Enum;
  try {
    vireo::Fit refused(big, none, o);
    BOOST_FAIL("enumerating 100000 values was accepted");
  } catch (const vireo::Error& e) {
    BOOST_TEST(std::string(e.what()).find("'k' has 100000 values") != std::string::npos);
  }
  // `with enumerate` on an unbounded family is refused at check time.
  try {
    vireo::Model::from_string("model {\n  n ~ Poisson(3) with enumerate\n}\n");
    BOOST_FAIL("enumerating a Poisson site was accepted");
  } catch (const vireo::Error& e) {
    BOOST_TEST(std::string(e.what()).find("'n' cannot be enumerated: Poisson has unbounded support") != std::string::npos);
  }
}

// M3's mixture with point-mass locations: under enum no draw is random, so
// the gradient of the locations has no variance; under tracegraph it has.
BOOST_AUTO_TEST_CASE(enumerated_assignments_add_no_gradient_variance) {
  auto model = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/gmm.vireo");
  auto data = vireo::Data::from_json_file(model, VIREO_SHARED_DIR "/bench/data/gmm.json");
  vireo::FitOptions o;
  o.guide = vireo::Guide::AutoDelta;
  o.elbo = vireo::Elbo::Enum;
  vireo::Fit fit(model, data, o);
  fit.run(50);
  // Zero up to rounding: the gradients are sums of ~10^3 terms of size ~10^2.
  for (const auto& [name, v] : fit.gradient_variance(20)) BOOST_TEST(v < 1e-6, name << ": " << v);
  o.elbo = vireo::Elbo::TraceGraph;
  vireo::Fit sampled(model, data, o);
  sampled.run(50);
  double total = 0;
  for (const auto& [name, v] : sampled.gradient_variance(20)) total += v;
  BOOST_TEST(total > 1.0);
}

namespace {

// The forward algorithm of a 3-state HMM started in state 0.
double hmm_log_likelihood(const std::vector<double>& y, const double logits[3][3], const double locs[3], double sd) {
  double A[3][3];
  for (int p = 0; p < 3; ++p) {
    const double z = logsumexp({logits[p][0], logits[p][1], logits[p][2]});
    for (int q = 0; q < 3; ++q) A[p][q] = logits[p][q] - z;
  }
  auto emit = [&](double v, int k) {
    return -0.5 * (v - locs[k]) * (v - locs[k]) / (sd * sd) - std::log(sd) - 0.5 * std::log(2 * M_PI);
  };
  std::vector<double> alpha(3);
  for (int q = 0; q < 3; ++q) alpha[static_cast<std::size_t>(q)] = A[0][q] + emit(y[0], q);
  for (std::size_t t = 1; t < y.size(); ++t) {
    std::vector<double> next(3);
    for (int q = 0; q < 3; ++q)
      next[static_cast<std::size_t>(q)] =
          logsumexp({alpha[0] + A[0][q], alpha[1] + A[1][q], alpha[2] + A[2][q]}) + emit(y[t], q);
    alpha = next;
  }
  return logsumexp(alpha);
}

}  // namespace

// An HMM with T = 1000 and K = 3, its parameters `param`s: the ELBO is the
// forward algorithm's log-likelihood (the states are eliminated in
// O(T·K²); jointly they would be 3^1000 assignments).
BOOST_AUTO_TEST_CASE(hmm_of_a_thousand_steps_is_the_forward_algorithm) {
  auto model = vireo::Model::from_string(R"(data { T: int  y: real[T] }
model {
  param trans: real[3, 3] = [[1.0, 0.2, -0.5], [0.1, 0.8, 0.0], [-0.3, 0.4, 1.2]]
  param locs: real[3] = [-1.5, 0.2, 1.8]
  let s = 0
  for t in 0..T {
    s ~ Categorical(logits = trans[s])
    observe y[t] ~ Normal(locs[s], 0.8)
  }
}
)");
  const int T = 1000;
  std::vector<double> y;
  for (int t = 0; t < T; ++t) y.push_back(2 * std::sin(t / 17.0) + 0.5 * std::cos(t * 1.3));
  auto data = vireo::Data::from_arrays(model, {{"T", {{}, {static_cast<double>(T)}}}, {"y", {{T}, y}}});
  vireo::Fit fit(model, data);
  BOOST_TEST((fit.options().elbo == vireo::Elbo::Enum));
  const double logits[3][3] = {{1.0, 0.2, -0.5}, {0.1, 0.8, 0.0}, {-0.3, 0.4, 1.2}};
  const double locs[3] = {-1.5, 0.2, 1.8};
  const double exact = hmm_log_likelihood(y, logits, locs, 0.8);
  const double first = fit.step();
  BOOST_TEST(std::abs(first - exact) < 1e-8, first << " against " << exact);
}

// A chain whose state depends on the one two steps back is not first-order:
// the forward algorithm would be wrong, so the check refuses it and (small
// enough) every joint assignment is summed instead — still exact.
BOOST_AUTO_TEST_CASE(a_second_order_chain_is_not_taken_for_a_first_order_one) {
  auto model = vireo::Model::from_string(R"(data { T: int  y: real[T] }
model {
  let s = 0
  let prev = 0
  for t in 0..T {
    let before = s
    s ~ Categorical(probs = [[0.9, 0.1], [0.2, 0.8]][prev])
    prev = before
    observe y[t] ~ Normal(2.0 * s, 1)
  }
}
)");
  const std::vector<double> y = {0.1, 1.9, 2.5, -0.4, 0.3, 2.2};
  const int T = static_cast<int>(y.size());
  auto data = vireo::Data::from_arrays(model, {{"T", {{}, {static_cast<double>(T)}}}, {"y", {{T}, y}}});
  vireo::Fit fit(model, data);
  BOOST_TEST(fit.exact());
  const double P[2][2] = {{0.9, 0.1}, {0.2, 0.8}};
  std::vector<double> all;
  for (int a = 0; a < (1 << T); ++a) {
    double lp = 0;
    int prev = 0, s = 0;
    for (int t = 0; t < T; ++t) {
      const int before = s;
      s = (a >> t) & 1;
      lp += std::log(P[prev][s]) + log_normal_pdf(y[static_cast<std::size_t>(t)], 2.0 * s);
      prev = before;
    }
    all.push_back(lp);
  }
  BOOST_TEST(std::abs(fit.evidence(10).log_z - logsumexp(all)) < 1e-10);
}

// A site that cannot be enumerated (a Poisson) stays a score-function site in
// the same run: at the initial parameters its guide is its prior, so the
// enum ELBO's mean is E_{n ~ Poisson(3)} log Σ_z p(z) N(y; n + 2z, 1), summed
// here over n up to 80. `with enumerate(none)` makes the default tracegraph.
BOOST_AUTO_TEST_CASE(enumerated_and_sampled_sites_in_one_run) {
  const char* text = R"(data { y: real }
model {
  n ~ Poisson(3)
  z ~ Bernoulli(probs = 0.3)
  observe y ~ Normal(n + 2.0 * z, 1)
}
)";
  auto model = vireo::Model::from_string(text);
  auto data = vireo::Data::from_arrays(model, {{"y", {{}, {4.2}}}});
  vireo::Fit fallback(model, data);
  BOOST_TEST((fallback.options().elbo == vireo::Elbo::TraceGraph));
  BOOST_TEST(fallback.elbo_reason().find("'n' has unbounded support (Poisson)") != std::string::npos);
  vireo::FitOptions o;
  o.elbo = vireo::Elbo::Enum;
  vireo::Fit fit(model, data, o);
  BOOST_TEST(!fit.exact());
  double exact = 0, second = 0, log_pn = -3;  // log Poisson(0; 3)
  for (int n = 0; n <= 80; ++n) {
    if (n > 0) log_pn += std::log(3.0) - std::log(static_cast<double>(n));
    const double v = logsumexp({std::log(0.7) + log_normal_pdf(4.2, n), std::log(0.3) + log_normal_pdf(4.2, n + 2.0)});
    exact += std::exp(log_pn) * v;
    second += std::exp(log_pn) * v * v;
  }
  const long draws = 4000;
  const double se = std::sqrt((second - exact * exact) / draws);
  const auto d = fit.diagnose(draws);
  BOOST_TEST(std::abs(d.elbo - exact) < 4 * se, d.elbo << " against " << exact << " ± " << se);
  fit.run(200);  // the score-function site trains alongside
  BOOST_TEST(std::isfinite(fit.running_elbo()));

  auto marked = vireo::Model::from_string(R"(data { y: real }
model {
  z ~ Bernoulli(probs = 0.3) with enumerate(none)
  observe y ~ Normal(2.0 * z, 1)
}
)");
  auto mdata = vireo::Data::from_arrays(marked, {{"y", {{}, {1.0}}}});
  vireo::Fit sampled(marked, mdata);
  BOOST_TEST((sampled.options().elbo == vireo::Elbo::TraceGraph));
  BOOST_TEST(sampled.elbo_reason().find("`with enumerate(none)`") != std::string::npos);
}
