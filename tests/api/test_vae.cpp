// Issue 16 through the embedding API: Fit::evaluate (the full-data ELBO, its
// split into log-likelihood and KL, active units) against exact answers;
// `dense` against `@` + bias; and the VAE's KL blow-up, reported and remedied.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

// mu ~ Normal(0, 1), y_n ~ Normal(mu, 1) in a subsampled plate, and a guide
// Normal(m, s) whose parameters start at m = 0.5, s = 0.7: at those values
// the ELBO is known in closed form.
const char* const conjugate = R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 1)
  plate data(N, subsample = 3) as idx {
    observe y[idx] ~ Normal(mu, 1)
  }
}
guide {
  param m: real = 0.5
  param s: real<lower=0> = 0.7
  mu ~ Normal(m, s)
}
)";

}  // namespace

// E_q[log N(y | mu, 1)] = −½ log 2π − ½ ((y − m)² + s²) per element, and
// KL(N(m, s) ‖ N(0, 1)) = ½ (s² + m² − 1) − log s. Over the whole data
// (every element, scale 1) the evaluation is unbiased for both; the
// tolerance is 5 standard errors: the ELBO's from the evaluation itself,
// the KL's from its per-draw sd, sqrt(m² s² + (s² − 1)² / 2) = 0.50, over
// √4000 draws (0.008).
BOOST_AUTO_TEST_CASE(evaluate_matches_the_exact_elbo_over_the_whole_data) {
  const std::vector<double> y = {0.3, -1.2, 2.5, 0.8, 1.1, -0.4, 0.0, 1.9};
  vireo::Model model = vireo::Model::from_string(conjugate, "conjugate.vireo");
  vireo::Data data = vireo::Data::from_arrays(model, {{"N", {{}, {8}}}, {"y", {{8}, y}}});
  vireo::FitOptions o;
  o.seed = 3;
  vireo::Fit fit(model, data, o);
  const double m = 0.5, s = 0.7;
  double ll = 0;
  for (double v : y) ll += -0.5 * std::log(2 * M_PI) - 0.5 * ((v - m) * (v - m) + s * s);
  const double kl = 0.5 * (s * s + m * m - 1) - std::log(s);
  vireo::Evaluation e = fit.evaluate(4000);
  BOOST_TEST(e.full_data);
  BOOST_TEST(e.draws == 4000);
  BOOST_TEST(e.plates.at("data") == 8);
  BOOST_TEST(std::abs(e.elbo - (ll - kl)) < 5 * e.elbo_se, e.elbo << " vs " << ll - kl << " se " << e.elbo_se);
  BOOST_TEST(std::abs(e.kl - kl) < 0.04, e.kl << " vs " << kl);
  BOOST_TEST(std::abs(e.log_likelihood - e.kl - e.elbo) < 1e-9);
  // A mini-batch evaluation is unbiased too, but noisier: the batch of 3
  // scaled by 8/3 adds the spread of the y's.
  vireo::Evaluation b = fit.evaluate(4000, false);
  BOOST_TEST(!b.full_data);
  BOOST_TEST(b.elbo_se > 2 * e.elbo_se);
  BOOST_TEST(std::abs(b.elbo - (ll - kl)) < 5 * b.elbo_se);
  // Nothing was updated: the evaluation leaves the fit's parameters alone,
  // and the same call gives the same numbers.
  BOOST_TEST(fit.steps_taken() == 0);
  BOOST_TEST(fit.evaluate(4000).elbo == e.elbo);
  BOOST_CHECK_THROW(fit.evaluate(0), vireo::Error);
}

// Active units: the guide's mean of z per element is codes[n] * a (a = 1),
// constant over draws, so the variance over the elements of E_q[z] is the
// data's per column — 0.25 (active) and 0.0004 (collapsed, below 0.01).
BOOST_AUTO_TEST_CASE(active_units_are_the_spread_of_the_guide_means) {
  const char* const program = R"(data { N: int  codes: real[N, 2]  y: real[N] }
model {
  plate data(N) {
    z: real[2] ~ Normal(0, 1)
    observe y ~ Normal(z[0], 1)
  }
}
guide {
  param a: real = 1
  plate data(N) as i {
    z: real[2] ~ Normal(codes[i] * a, 0.5)
  }
}
)";
  vireo::Model model = vireo::Model::from_string(program, "units.vireo");
  std::vector<double> codes, y;
  for (int n = 0; n < 4; ++n) {
    codes.push_back(n % 2 ? 0.5 : -0.5);   // variance 0.25
    codes.push_back(n % 2 ? 0.02 : -0.02); // variance 0.0004
    y.push_back(n);
  }
  vireo::Data data = vireo::Data::from_arrays(model, {{"N", {{}, {4}}}, {"codes", {{4, 2}, codes}}, {"y", {{4}, y}}});
  vireo::Fit fit(model, data);
  vireo::Evaluation e = fit.evaluate(5);
  BOOST_TEST_REQUIRE(e.units.size() == 1u);
  const vireo::Evaluation::Units& u = e.units[0];
  BOOST_TEST(u.site == "z");
  BOOST_TEST(u.plate == "data");
  BOOST_TEST(u.elements == 4);
  BOOST_TEST_REQUIRE(u.variance.size() == 2u);
  BOOST_TEST(u.variance[0] == 0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(u.variance[1] == 0.0004, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(u.active == 1);
  const std::string text = e.to_text();
  BOOST_TEST(text.find("z: 1 of 2 coordinates active") != std::string::npos, text);
  BOOST_TEST(text.find("posterior collapse") != std::string::npos, text);
}

// dense(x, W, b) is x @ W + b: the same ELBO as the plain form on the same
// draws (one fused node instead of two; rounding may differ in the last
// bits), and its gradient — into the per-element input, the weights and the
// bias — agrees with central finite differences of the log density.
BOOST_AUTO_TEST_CASE(dense_is_matmul_plus_bias_with_its_gradient) {
  const std::string head = R"(data { N: int  x: real[N, 3]  y: real[N, 2] }
model {
  W: real[3, 2] ~ Normal(0, 1)
  b: real[2] ~ Normal(0, 1)
  u: real[3] ~ Normal(0, 1)
  plate data(N) as i {
)";
  const std::string dense_body = "    observe y[i]: real[2] ~ Normal(dense(x[i] + u, W, b), 1)\n  }\n}\n";
  const std::string plain_body = "    observe y[i]: real[2] ~ Normal((x[i] + u) @ W + b, 1)\n  }\n}\n";
  std::map<std::string, vireo::Array> values = {
      {"N", {{}, {4}}},
      {"x", {{4, 3}, {0.1, -0.4, 1.2, 0.7, 0.3, -1.1, -0.6, 0.9, 0.2, 1.5, -0.2, 0.4}}},
      {"y", {{4, 2}, {0.5, -1.0, 1.4, 0.3, -0.7, 0.8, 2.1, -0.5}}}};
  vireo::Model md = vireo::Model::from_string(head + dense_body, "dense.vireo");
  vireo::Model mp = vireo::Model::from_string(head + plain_body, "plain.vireo");
  vireo::Data dd = vireo::Data::from_arrays(md, values), dp = vireo::Data::from_arrays(mp, values);
  vireo::FitOptions o;
  o.seed = 5;
  vireo::Fit fd(md, dd, o), fp(mp, dp, o);
  BOOST_TEST(std::abs(fd.trace().elbo - fp.trace().elbo) < 1e-10);
  fd.run(30);
  fp.run(30);
  for (std::size_t k = 0; k < fd.elbo_history().size(); ++k)
    BOOST_TEST(std::abs(fd.elbo_history()[k] - fp.elbo_history()[k]) < 1e-8 * (1 + std::abs(fp.elbo_history()[k])));

  vireo::LogDensity ld(md, dd);
  std::vector<double> at(ld.dimension());
  for (std::size_t i = 0; i < at.size(); ++i) at[i] = 0.3 * std::sin(1.7 * static_cast<double>(i) + 0.4);
  std::vector<double> grad;
  ld.log_density(at, &grad);
  // Central differences with h = 1e-5 on a smooth density: error O(h²)
  // ≈ 1e-10 times third derivatives of order 1, plus rounding ~1e-16/h.
  for (std::size_t i = 0; i < at.size(); ++i) {
    std::vector<double> hi = at, lo = at;
    hi[i] += 1e-5;
    lo[i] -= 1e-5;
    const double fdiff = (ld.log_density(hi) - ld.log_density(lo)) / 2e-5;
    BOOST_TEST(std::abs(grad[i] - fdiff) < 1e-6 * (1 + std::abs(fdiff)), "coordinate " << i);
  }
}

// `check` refuses a dense call that cannot fit, naming the rule.
BOOST_AUTO_TEST_CASE(dense_with_mismatched_shapes_is_refused_by_check) {
  auto refused = [](const std::string& call) {
    const std::string program = "data { x: real[5, 3] }\nmodel {\n  param W: real[3, 2] = 0\n  param b: real[4] = 0\n"
                                "  param V: real[4, 2] = 0\n  param c: real[2] = 0\n  let h = " + call + "\n  mu ~ Normal(sum(h), 1)\n}\n";
    try {
      vireo::Model::from_string(program, "bad.vireo");
    } catch (const vireo::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  BOOST_TEST(refused("dense(x, W, b)").find("outputs but the bias") != std::string::npos, refused("dense(x, W, b)"));
  BOOST_TEST(refused("dense(x, V, c)").find("inner dimensions differ") != std::string::npos, refused("dense(x, V, c)"));
  BOOST_TEST(refused("dense(x, W, c)").empty());
  BOOST_TEST(refused("dense(x, b, b)").find("must be one matrix") != std::string::npos, refused("dense(x, b, b)"));
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// The KL blow-up of examples/vae_blowup.vireo (the encoder's last layer
// starting at weights of scale 30, so exp() of its log-scales overflows) on
// the M6 digits: the fit stops after 20 refused steps in a row and says which
// site and which term (model site 'z', log p = −inf) and the guide's scale
// there. Remedied — the scale bounded by softplus and the gradient's norm
// clipped at 10 — no step of 5 epochs is non-finite.
BOOST_AUTO_TEST_CASE(the_kl_blowup_is_reported_and_its_remedy_has_no_nonfinite_step) {
  const std::string recipe = read_text(VIREO_SOURCE_DIR "/examples/vae_blowup.vireo");
  const std::string digits = VIREO_SHARED_DIR "/bench/data/digits.json";
  BOOST_TEST_REQUIRE(recipe.find("exp(out[8:16]))") != std::string::npos);
  vireo::Model blowup = vireo::Model::from_string(recipe, "vae_blowup.vireo");
  vireo::Data data = vireo::Data::from_json_file(blowup, digits);
  vireo::FitOptions o;
  o.seed = 1;
  o.lr = 1e-3;
  {
    vireo::Fit fit(blowup, data, o);
    std::string message;
    try {
      fit.run(70);
    } catch (const vireo::Error& e) {
      message = e.what();
    }
    BOOST_TEST(fit.rejected_steps() >= 20);
    BOOST_TEST(message.find("model site 'z' (Normal): log p = -inf") != std::string::npos, message);
    BOOST_TEST(message.find("the guide drew it from Normal(") != std::string::npos, message);
    BOOST_TEST(message.find("bound the guide's scale") != std::string::npos, message);
  }
  std::string remedied = recipe;
  remedied.replace(remedied.find("exp(out[8:16]))"), 15, "softplus(out[8:16]) + 0.001)");
  vireo::Model model = vireo::Model::from_string(remedied, "vae_remedied.vireo");
  vireo::Data d2 = vireo::Data::from_json_file(model, digits);
  o.clip_grad_norm = 10;
  vireo::Fit fit(model, d2, o);
  fit.run(70);
  BOOST_TEST(fit.rejected_steps() == 0);
  for (double e : fit.elbo_history()) BOOST_TEST(std::isfinite(e));
  // It learns: the ELBO of the last steps is far above the first.
  BOOST_TEST(fit.running_elbo() > fit.elbo_history().front() + 1000);
}
