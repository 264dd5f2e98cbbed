// Forward sampling through the embedding API (vireo::sample_prior,
// DataOptions::allow_missing_observed): prior moments of a conjugate model,
// observed items left out drawn with the right marginal and the right
// dependence on the latents, given ones kept fixed, missing sizes refused at
// their declaration, the table's columns, and reproducibility.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

const std::string examples = VIREO_SOURCE_DIR "/examples/";
const vireo::DataOptions leave_out{.allow_missing_observed = true};

// The mean of column `name`, over the rows.
double column_mean(const vireo::DrawTable& t, const std::string& name) {
  std::size_t c = 0;
  while (c < t.columns.size() && t.columns[c] != name) ++c;
  BOOST_REQUIRE_MESSAGE(c < t.columns.size(), "no column " << name);
  double sum = 0;
  for (const auto& row : t.rows) sum += row[c];
  return sum / static_cast<double>(t.rows.size());
}

double column_sd(const vireo::DrawTable& t, const std::string& name) {
  const double m = column_mean(t, name);
  std::size_t c = 0;
  while (t.columns[c] != name) ++c;
  double ss = 0;
  for (const auto& row : t.rows) ss += (row[c] - m) * (row[c] - m);
  return std::sqrt(ss / static_cast<double>(t.rows.size() - 1));
}

std::size_t column(const vireo::DrawTable& t, const std::string& name) {
  for (std::size_t c = 0; c < t.columns.size(); ++c)
    if (t.columns[c] == name) return c;
  BOOST_FAIL("no column " << name);
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(prior_draws_have_the_prior_moments) {
  // No data block: no data needed.
  vireo::Model m = vireo::Model::from_string("model { p ~ Beta(2, 2)\n deterministic q = 1 - p }", "beta.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, {});
  const long n = 4000;
  vireo::DrawTable t = vireo::sample_prior(m, d, n, 1);
  BOOST_TEST_REQUIRE(t.rows.size() == static_cast<std::size_t>(n));
  BOOST_TEST(t.columns == (std::vector<std::string>{"p", "q"}));
  BOOST_TEST(t.sites[0].kind == "latent");
  BOOST_TEST(t.sites[1].kind == "deterministic");
  // Beta(2, 2): mean 1/2, variance ab/((a+b)²(a+b+1)) = 1/20, sd 0.2236.
  // SE of the mean sd/√n = 0.2236/√4000 = 0.0035: 4 SE = 0.0142.
  BOOST_TEST(std::abs(column_mean(t, "p") - 0.5) < 0.0142);
  // SE of the sd: excess kurtosis of Beta(2, 2) is −6/7, so Var(s²) ≈ σ⁴(2 − 6/7)/n
  // and SE(s) ≈ σ √(8/7 / n) / 2 = 0.2236 · 0.0169 / 2 = 0.0019: 4 SE = 0.0076.
  BOOST_TEST(std::abs(column_sd(t, "p") - std::sqrt(1.0 / 20)) < 0.0076);
  // The deterministic site is computed from the same draw.
  BOOST_TEST(t.rows[7][1] == 1 - t.rows[7][0]);
}

BOOST_AUTO_TEST_CASE(observed_items_left_out_are_sampled_per_element) {
  vireo::Model m = vireo::Model::from_file(examples + "coin.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, R"({"n": 20})", "n.json", leave_out);
  BOOST_TEST(d.missing() == std::vector<std::string>{"flips"});
  const long n = 8000;
  vireo::DrawTable t = vireo::sample_prior(m, d, n, 3);
  BOOST_TEST_REQUIRE(t.columns.size() == 21u);
  BOOST_TEST(t.columns[0] == "p");
  BOOST_TEST(t.columns[1] == "flips[0]");
  BOOST_TEST(t.columns[20] == "flips[19]");
  BOOST_TEST(t.sites[1].kind == "predicted");
  // Marginally flips[i] ~ Bernoulli(E p) = Bernoulli(1/2). The mean of a
  // draw's 20 flips has variance Var p + E[p(1 − p)]/20 = 0.05 + 0.2/20 =
  // 0.06; over 8000 draws SE = √(0.06/8000) = 0.0027: 4 SE = 0.011.
  double all = 0, both = 0;
  long not_binary = 0;
  const std::size_t f0 = column(t, "flips[0]"), f1 = column(t, "flips[1]");
  for (const auto& row : t.rows) {
    for (std::size_t c = 1; c <= 20; ++c) {
      not_binary += row[c] != 0 && row[c] != 1;
      all += row[c];
    }
    both += row[f0] * row[f1];
  }
  BOOST_TEST_REQUIRE(not_binary == 0);
  BOOST_TEST(std::abs(all / (20.0 * n) - 0.5) < 0.011);
  // Drawn given the same p, two flips are dependent: P(both) = E[p²] = 0.3,
  // not 0.25. SE = √(0.3 · 0.7 / 8000) = 0.0051: 4 SE = 0.021.
  BOOST_TEST(std::abs(both / n - 0.3) < 0.021);
}

BOOST_AUTO_TEST_CASE(given_observed_data_stay_fixed_and_condition_nothing) {
  // Every flip is 1: a fit would pull p up; forward sampling keeps the prior.
  vireo::Model m = vireo::Model::from_file(examples + "coin.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, R"({"n": 5, "flips": [1, 1, 1, 1, 1]})", "all.json", leave_out);
  BOOST_TEST(d.missing().empty());
  vireo::DrawTable t = vireo::sample_prior(m, d, 4000, 5);
  BOOST_TEST(t.columns == std::vector<std::string>{"p"});
  BOOST_TEST(std::abs(column_mean(t, "p") - 0.5) < 0.0142);  // as in the first case
}

BOOST_AUTO_TEST_CASE(plate_sites_are_named_cmdstan_style) {
  // Eight schools with y left out: J and sigma are needed, y is drawn.
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(
      m, {{"J", {{}, {8}}}, {"sigma", {{8}, {15, 10, 16, 11, 9, 11, 10, 18}}}}, leave_out);
  vireo::DrawTable t = vireo::sample_prior(m, d, 10, 0);
  std::vector<std::string> want = {"mu", "tau"};
  for (const char* site : {"eta", "theta", "y"})
    for (int j = 1; j <= 8; ++j) want.push_back(std::string(site) + "." + std::to_string(j));
  BOOST_TEST(t.columns == want);
  BOOST_TEST(t.to_csv().substr(0, 14) == "mu,tau,eta.1,e");
  BOOST_TEST(t.sites.back().kind == "predicted");
  BOOST_TEST(t.sites.back().shape == std::vector<std::int64_t>{8});
}

BOOST_AUTO_TEST_CASE(a_missing_size_is_an_error_at_its_declaration) {
  vireo::Model m = vireo::Model::from_file(examples + "coin.vireo");
  try {
    vireo::Data::from_json_string(m, "{}", "empty.json", leave_out);
    BOOST_FAIL("no error");
  } catch (const vireo::Error& e) {
    BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(vireo::Error::Kind::Data));
    BOOST_TEST_REQUIRE(e.diagnostics().size() == 1u);
    const vireo::Diagnostic& d = e.diagnostics()[0];
    BOOST_TEST(d.item == "n");
    BOOST_TEST(d.line == 3);  // `  n: int`
    BOOST_TEST(d.column == 3);
    BOOST_TEST(!d.hint.empty());
    const std::string what = e.what();
    BOOST_TEST(what.find("coin.vireo:3:3: error: data item 'n' is missing") != std::string::npos, what);
    BOOST_TEST(what.find("(here flips)") != std::string::npos, what);
  }
  // A covariate read in the model, not only in the data block.
  vireo::Model lr = vireo::Model::from_file(examples + "logistic_regression.vireo");
  try {
    vireo::Data::from_json_string(lr, R"({"N": 2, "D": 1})", "nd.json", leave_out);
    BOOST_FAIL("no error");
  } catch (const vireo::Error& e) {
    BOOST_TEST_REQUIRE(e.diagnostics().size() == 1u);
    BOOST_TEST(e.diagnostics()[0].item == "X");
    BOOST_TEST(std::string(e.what()).find("X @ w + b") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(without_the_option_every_item_is_needed_and_fits_refuse_gaps) {
  vireo::Model m = vireo::Model::from_file(examples + "coin.vireo");
  BOOST_CHECK_THROW(vireo::Data::from_json_string(m, R"({"n": 3})"), vireo::Error);
  vireo::Data d = vireo::Data::from_json_string(m, R"({"n": 3})", "n.json", leave_out);
  try {
    vireo::Fit fit(m, d);
    BOOST_FAIL("no error");
  } catch (const vireo::Error& e) {
    BOOST_TEST(std::string(e.what()).find("'flips'") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(draw_i_depends_on_the_seed_and_i_only) {
  vireo::Model m = vireo::Model::from_file(examples + "random_walk.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, R"({"T": 4})", "t.json", leave_out);
  const std::string ten = vireo::sample_prior(m, d, 10, 9).to_csv();
  BOOST_TEST(ten == vireo::sample_prior(m, d, 10, 9).to_csv());
  BOOST_TEST(ten != vireo::sample_prior(m, d, 10, 10).to_csv());
  const std::string twenty = vireo::sample_prior(m, d, 20, 9).to_csv();
  BOOST_TEST(twenty.substr(0, ten.size()) == ten);
  BOOST_CHECK_THROW(vireo::sample_prior(m, d, 0, 9), vireo::Error);
}

BOOST_AUTO_TEST_CASE(only_items_read_solely_as_observed_values_may_be_left_out) {
  // `g` indexes the observed `y` and `y` is also read by a deterministic:
  // both are needed. `w` is observed only: it may be left out.
  vireo::Model m = vireo::Model::from_string(R"(data {
  N: int
  g: int[N]
  y: real[N]
  w: real[N]
}
model {
  mu: real[2] ~ Normal(0, 1)
  for i in 0..N {
    observe y[i] ~ Normal(mu[g[i]], 1)
    observe w[i] ~ Normal(mu[g[i]], 1)
  }
  deterministic ybar = mean(y)
}
)", "uses.vireo");
  try {
    vireo::Data::from_json_string(m, R"({"N": 2})", "n.json", leave_out);
    BOOST_FAIL("no error");
  } catch (const vireo::Error& e) {
    BOOST_TEST_REQUIRE(e.diagnostics().size() == 2u, e.what());
    BOOST_TEST(e.diagnostics()[0].item == "g");
    BOOST_TEST(e.diagnostics()[1].item == "y");
    BOOST_TEST(std::string(e.what()).find("mean(y)") != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("(here w)") != std::string::npos, e.what());
  }
  vireo::Data d = vireo::Data::from_json_string(m, R"({"N": 2, "g": [0, 1], "y": [0.5, -0.5]})", "n.json", leave_out);
  BOOST_TEST(d.missing() == std::vector<std::string>{"w"});
  vireo::DrawTable t = vireo::sample_prior(m, d, 2, 0);
  BOOST_TEST(t.columns == (std::vector<std::string>{"mu.1", "mu.2", "w[0]", "w[1]", "ybar"}));
  BOOST_TEST(t.rows[0][4] == 0.0);  // the given y, fixed
}
