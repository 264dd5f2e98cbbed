// Stable training through the embedding API (issue 6): a guide started far
// from a tight posterior still reaches it; an update that overflows is
// refused with the site named and the policy obeyed; no parameter is ever
// non-finite; global-norm and element clipping bound the update; schedules
// and KL annealing are checked and applied.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <string>

#include "vireo/vireo.hpp"

namespace {

// Ten observations at 1000 with sd 0.01 under a Normal(0, 10) prior: the
// guide starts at the prior median 0, a hundred prior sds and 3×10^5
// posterior sds away; the first ELBO is about −5×10^10.
const char* far_model = R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  plate data(N) { observe y ~ Normal(mu, 0.01) }
})";

std::map<std::string, vireo::Array> far_data() { return {{"N", {{}, {10}}}, {"y", {{10}, std::vector<double>(10, 1000.0)}}}; }

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

bool all_finite(const vireo::Fit& fit) {
  for (const auto& [name, a] : fit.parameters())
    for (double v : a.values)
      if (!std::isfinite(v)) return false;
  return true;
}

double flat_norm_diff(const std::map<std::string, vireo::Array>& a, const std::map<std::string, vireo::Array>& b) {
  double s = 0;
  for (const auto& [name, x] : a)
    for (std::size_t i = 0; i < x.values.size(); ++i) s += std::pow(x.values[i] - b.at(name).values[i], 2);
  return std::sqrt(s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(far_from_the_prior_reaches_the_exact_posterior) {
  vireo::Model m = vireo::Model::from_string(far_model, "far.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, far_data());
  // Exact: precision 1/100 + 10/10^-4, mean (10·1000/10^-4) / precision.
  const double precision = 0.01 + 10 / 1e-4, exact = 1e8 / precision, exact_sd = 1 / std::sqrt(precision);
  vireo::FitOptions o;
  o.optim = vireo::Optimizer::ClippedAdam;
  o.lr = 5;        // a 1000-unit journey at Adam's ≈ lr per step…
  o.lrd = 0.999;   // …then the decay brings the step below the posterior sd (5·0.999^10^4 ≈ 2e-4)
  o.seed = 4;
  vireo::Fit fit(m, d, o);
  BOOST_TEST(fit.step() < -1e10);  // where it starts
  fit.run(9999);
  BOOST_TEST(fit.rejected_steps() == 0);
  BOOST_TEST(all_finite(fit));
  vireo::Summary s = fit.summarize(1000);
  BOOST_TEST_REQUIRE(s.sites.at(0).name == "mu");
  BOOST_TEST(std::abs(s.sites[0].mean[0] - exact) < 0.01, s.sites[0].mean[0] << " vs " << exact);
  BOOST_TEST(std::abs(s.sites[0].sd[0] / exact_sd - 1) < 0.15, s.sites[0].sd[0] << " vs " << exact_sd);
}

BOOST_AUTO_TEST_CASE(an_overflowing_configuration_is_refused_with_the_site) {
  vireo::Model m = vireo::Model::from_string(far_model, "far.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, far_data());
  // Plain SGD at lr 1 on a 10^8 gradient: the guide's scale leaves the
  // representable range within three steps.
  for (const std::string& policy : {"stop", "skip", "shrink-lr"}) {
    BOOST_TEST_CONTEXT(policy) {
      vireo::FitOptions o;
      o.optim = vireo::Optimizer::Sgd;
      o.lr = 1;
      o.on_nonfinite = vireo::parse_on_nonfinite(policy);
      o.max_nonfinite = 5;
      vireo::Fit fit(m, d, o);
      std::string report;
      try {
        fit.run(100);
      } catch (const vireo::Error& e) {
        BOOST_TEST((e.kind() == vireo::Error::Kind::Run));
        report = e.what();
      }
      BOOST_TEST_REQUIRE(!report.empty());
      BOOST_TEST(has(report, "site 'mu'"), report);
      BOOST_TEST(has(report, "scale"), report);
      BOOST_TEST(fit.rejected_steps() == (policy == "stop" ? 1 : 5));
      BOOST_TEST(fit.steps_taken() < 20);
      if (policy != "stop") BOOST_TEST(has(report, "5 steps in a row"), report);
      BOOST_TEST(all_finite(fit));
      BOOST_TEST(!has(fit.params_json(), "nan"));
      BOOST_TEST(!has(fit.params_json(), "inf"));
    }
  }
}

BOOST_AUTO_TEST_CASE(clipping_bounds_the_update) {
  vireo::Model m = vireo::Model::from_string(far_model, "far.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, far_data());
  // SGD moves the parameters by lr × gradient: with the global norm clipped
  // to 0.5 the whole parameter vector moves by exactly 0.5 (the gradient is
  // 10^8); clamping elements to ±0.25 moves each of the 2 by 0.25.
  vireo::FitOptions o;
  o.optim = vireo::Optimizer::Sgd;
  o.lr = 1;
  o.clip_grad_norm = 0.5;
  vireo::Fit fit(m, d, o);
  fit.step();  // parameters are made on their first use
  auto before = fit.parameters();
  fit.step();
  BOOST_TEST(std::abs(flat_norm_diff(before, fit.parameters()) - 0.5) < 1e-9);
  o.clip_grad_norm = 0;
  o.clip_value = 0.25;
  vireo::Fit clamped(m, d, o);
  clamped.step();
  before = clamped.parameters();
  clamped.step();
  for (const auto& [name, a] : clamped.parameters())
    BOOST_TEST(std::abs(std::abs(a.values[0] - before.at(name).values[0]) - 0.25) < 1e-9, name);
}

BOOST_AUTO_TEST_CASE(schedules_and_annealing_are_checked) {
  vireo::Model m = vireo::Model::from_string(far_model, "far.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, far_data());
  auto refused = [&](vireo::FitOptions o, const std::string& needle) {
    try {
      vireo::Fit fit(m, d, o);
    } catch (const vireo::Error& e) {
      BOOST_TEST((e.kind() == vireo::Error::Kind::Options));
      BOOST_TEST(has(e.what(), needle), e.what());
      return;
    }
    BOOST_FAIL("expected a refusal containing " + needle);
  };
  vireo::FitOptions o;
  // Spellings are refused when parsed (the CLI's and the C API's way in).
  auto misspelled = [&](const std::function<void()>& parse, const std::string& needle) {
    try {
      parse();
    } catch (const vireo::Error& e) {
      BOOST_TEST((e.kind() == vireo::Error::Kind::Options));
      BOOST_TEST(has(e.what(), needle), e.what());
      return;
    }
    BOOST_FAIL("expected a refusal containing " + needle);
  };
  misspelled([] { vireo::LrSchedule::parse("cosine:10"); }, "exp:GAMMA, step:EVERY:GAMMA, inv_sqrt:STEPS, warmup:STEPS");
  misspelled([] { vireo::LrSchedule::exp(1.5); }, "GAMMA must be in (0, 1]");
  misspelled([] { vireo::parse_on_nonfinite("ignore"); }, "skip, stop or shrink-lr");
  o = {};
  o.clip_grad_norm = -1;
  refused(o, "--clip-grad-norm");
  o = {};
  o.kl_anneal = 10;
  o.kl_floor = 0;
  refused(o, "--kl-floor");

  // SGD under step:2:0.5 halves the step size every 2 steps: with the norm
  // clipped to 1 the parameters move by 1, 1, 0.5, 0.5, 0.25 (the first
  // step makes them, so it is not measured).
  o = {};
  o.optim = vireo::Optimizer::Sgd;
  o.lr = 1;
  o.clip_grad_norm = 1;
  o.lr_schedule = vireo::LrSchedule::parse("step:2:0.5");
  vireo::Fit fit(m, d, o);
  fit.step();
  for (double expected : {1.0, 0.5, 0.5, 0.25}) {
    auto before = fit.parameters();
    fit.step();
    BOOST_TEST(std::abs(flat_norm_diff(before, fit.parameters()) - expected) < 1e-9);
  }

  // KL annealing: at weight w the ELBO is log p(y | mu) + w·(log p(mu) − log q(mu)).
  // Without observations the whole ELBO is the latent part: two fits with the
  // same seed draw the same mu at step 0, where w = kl_floor.
  vireo::Model prior_only = vireo::Model::from_string("model { mu ~ Normal(3, 2)  s ~ HalfNormal(1) }", "prior.vireo");
  vireo::Data none = vireo::Data::from_arrays(prior_only, {});
  vireo::FitOptions plain;
  plain.seed = 3;
  plain.init = vireo::Init::sample();  // a guide away from the prior, so the latent part is not ≈ 0
  vireo::FitOptions annealed = plain;
  annealed.kl_anneal = 100;
  annealed.kl_floor = 0.25;
  vireo::Fit a(prior_only, none, plain), b(prior_only, none, annealed);
  const double elbo_plain = a.step(), elbo_annealed = b.step();
  BOOST_TEST(std::abs(elbo_plain) > 1e-3);
  BOOST_TEST(elbo_annealed == 0.25 * elbo_plain, boost::test_tools::tolerance(1e-12));
  // Past the ramp the objectives agree again: with kl_anneal = 1 only step 0 is weighted.
  vireo::FitOptions short_ramp = plain;
  short_ramp.kl_anneal = 1;
  short_ramp.kl_floor = 0.25;
  vireo::Fit c(prior_only, none, short_ramp);
  BOOST_TEST(c.step() == 0.25 * elbo_plain, boost::test_tools::tolerance(1e-12));
}

// Diagnostics: at the start the far model's ELBO is dominated by the
// likelihood of y, which the diagnosis names, with advice; after a fit that
// reaches the posterior there is nothing to advise.
BOOST_AUTO_TEST_CASE(diagnosis_names_the_site_and_advises) {
  vireo::Model m = vireo::Model::from_string(far_model, "far.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, far_data());
  vireo::FitOptions o;
  o.optim = vireo::Optimizer::ClippedAdam;
  o.lr = 5;
  o.lrd = 0.999;
  vireo::Fit fit(m, d, o);
  vireo::Diagnosis before = fit.diagnose(50);
  BOOST_TEST(before.draws == 50);
  BOOST_TEST(before.elbo < -1e10);
  BOOST_TEST_REQUIRE(before.sites.size() == 2u);
  BOOST_TEST(before.sites[0].name == "mu");
  BOOST_TEST(before.sites[0].kind == "latent");
  BOOST_TEST(std::abs(before.sites[0].guide_mean) < 5.0);  // init to the prior median (of 15 draws), scale 0.1
  BOOST_TEST(before.sites[0].prior_sd == 10.0);
  BOOST_TEST(before.sites[1].name == "y");
  BOOST_TEST(before.sites[1].log_p < -1e10);
  BOOST_TEST(before.sites[1].log_p + before.sites[0].log_p - before.sites[0].log_q == before.elbo,
             boost::test_tools::tolerance(1e-9));
  BOOST_TEST(before.grad_norm.count("auto.loc.mu") == 1u);
  BOOST_TEST(before.grad_norm.at("auto.loc.mu") > 1e6);
  bool names_y = false;
  for (const auto& w : before.warnings) names_y = names_y || has(w, "observed 'y'");
  BOOST_TEST(names_y, before.text);
  BOOST_TEST(!before.advice.empty());
  BOOST_TEST(has(before.text, "advice:"), before.text);
  fit.run(10000);
  vireo::Diagnosis after = fit.diagnose(50);
  BOOST_TEST(after.advice.empty(), after.text);
  BOOST_TEST(std::abs(after.sites[0].guide_mean - 1000) < 0.05);
}
