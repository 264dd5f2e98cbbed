// The embedding API (include/vireo) as a host program uses it: data from
// arrays and JSON, fitting, posterior draws and summaries, errors with their
// diagnostics, and save/load that resumes a fit bit for bit.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include <nlohmann/json.hpp>

#include "vireo/eigen.hpp"
#include "vireo/vireo.hpp"

namespace fs = std::filesystem;

namespace {

const std::string examples = VIREO_SOURCE_DIR "/examples/";

std::map<std::string, vireo::Array> schools() {
  return {{"J", {{}, {8}}},
          {"y", {{8}, {28, 8, -3, 7, -1, 1, 18, 12}}},
          {"sigma", {{8}, {15, 10, 16, 11, 9, 11, 10, 18}}}};
}

fs::path temp(const std::string& name) { return fs::temp_directory_path() / ("vireo_api_" + std::to_string(::getpid()) + "_" + name); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(fit_eight_schools_from_arrays) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
  vireo::FitOptions o;
  o.seed = 3;
  vireo::Fit fit(m, d, o);
  BOOST_TEST(fit.guide_name() == "auto_normal");
  BOOST_TEST(std::isnan(fit.running_elbo()));
  fit.run(300);
  BOOST_TEST(fit.steps_taken() == 300);
  BOOST_TEST(fit.elbo_history().size() == 300u);
  BOOST_TEST(std::isfinite(fit.running_elbo()));
  // ELBO ≤ log evidence; for these data log p(y) is about −31 (and the fit
  // should have climbed from its start).
  BOOST_TEST(fit.running_elbo() < -25);
  BOOST_TEST(fit.running_elbo() > fit.elbo_history().front() - 1e-9);

  vireo::DrawTable t = fit.draws(200);
  BOOST_TEST_REQUIRE(t.columns.size() == 18u);
  BOOST_TEST(t.columns[0] == "mu");
  BOOST_TEST(t.columns[1] == "tau");
  BOOST_TEST(t.columns[2] == "eta.1");
  BOOST_TEST(t.columns[17] == "theta.8");
  BOOST_TEST(t.rows.size() == 200u);
  BOOST_TEST_REQUIRE(t.sites.size() == 4u);
  BOOST_TEST(t.sites[3].kind == "deterministic");
  // theta = mu + tau * eta, in every draw.
  for (const auto& row : t.rows) BOOST_TEST(std::abs(row[10] - (row[0] + row[1] * row[2])) < 1e-9);
  for (const auto& row : t.rows) BOOST_TEST(row[1] > 0);  // constrained space

  vireo::Summary s = fit.summarize(t);
  BOOST_TEST_REQUIRE(s.sites.size() == 4u);
  BOOST_TEST(s.sites[2].shape == std::vector<std::int64_t>{8});
  BOOST_TEST(s.sites[2].mean.size() == 8u);
  BOOST_TEST(s.sites[0].n == 200);
  BOOST_TEST(s.sites[0].q05[0] <= s.sites[0].q50[0]);
  BOOST_TEST(s.sites[0].q50[0] <= s.sites[0].q95[0]);
  BOOST_TEST(std::isfinite(s.elbo));
  std::string json = s.to_json();
  BOOST_TEST(has(json, "\"eta\": {\"shape\":[8],\"mean\":["), json);
  BOOST_TEST(has(json, "\"elbo\": "));
  std::string csv = t.to_csv();
  BOOST_TEST(csv.rfind("mu,tau,eta.1,", 0) == 0u);

  // Eigen convenience.
  Eigen::VectorXd mu = vireo::column(t, "mu");
  BOOST_TEST(mu.size() == 200);
}

BOOST_AUTO_TEST_CASE(same_seed_same_numbers) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_json_file(m, examples + "eight_schools.json");
  auto csv = [&](std::uint64_t seed) {
    vireo::FitOptions o;
    o.seed = seed;
    vireo::Fit fit(m, d, o);
    fit.run(100);
    return fit.draws(50).to_csv();
  };
  BOOST_TEST(csv(7) == csv(7));
  BOOST_TEST(csv(7) != csv(8));
}

// A replayed step (FitOptions::replay_steps, README "Steps that run without
// the interpreter") gives the numbers the interpreter gives: the same ELBO
// history, parameters, draws and summary, with the defaults a user gets
// (auto_normal, sticking the landing, iterate averaging, a draw summary).
BOOST_AUTO_TEST_CASE(replayed_steps_give_the_interpreters_numbers) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_json_file(m, examples + "eight_schools.json");
  auto run = [&](bool replay, long* replayed) {
    vireo::FitOptions o;
    o.seed = 5;
    o.replay_steps = replay;
    vireo::Fit fit(m, d, o);
    fit.run(200);
    const std::string between = fit.draws(20).to_csv();  // the averaged iterate in the store, then the last again
    fit.run(200);
    *replayed = fit.replayed_steps();
    if (between.empty()) return std::make_pair(std::string(), std::string());
    return std::make_pair(fit.step_history_csv(), fit.draws(100).to_csv() + fit.params_json());
  };
  long on = 0, off = 0;
  const auto a = run(true, &on), b = run(false, &off);
  BOOST_TEST(on >= 390);
  BOOST_TEST(off == 0);
  BOOST_TEST(a.first == b.first);
  BOOST_TEST(a.second == b.second);
}

BOOST_AUTO_TEST_CASE(predictive_draws_of_observed_sites) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
  vireo::Fit fit(m, d);
  fit.run(50);
  vireo::DrawTable t = fit.draws(20, true);
  BOOST_TEST_REQUIRE(t.sites.size() == 5u);
  BOOST_TEST(t.sites[4].name == "y");
  BOOST_TEST(t.sites[4].kind == "predicted");
  BOOST_TEST(t.columns.back() == "y.8");
  // The predictions vary (they are draws, not the data).
  BOOST_TEST(t.rows[0][18] != t.rows[1][18]);
}

BOOST_AUTO_TEST_CASE(sites_absent_from_some_draws) {
  vireo::Model m = vireo::Model::from_file(examples + "geometric.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, "{\"k\": 3}");
  vireo::Fit fit(m, d);
  fit.run(100);
  vireo::DrawTable t = fit.draws(300);
  vireo::Summary s = fit.summarize(t);
  bool partial = false;
  for (const auto& site : s.sites)
    if (site.name == "flip#1") partial = site.n > 0 && site.n < 300;
  BOOST_TEST(partial);
  BOOST_TEST(has(t.to_csv(), ",,"));  // an absent site leaves empty cells
}

BOOST_AUTO_TEST_CASE(nan_draws_are_counted_not_taken_for_absence) {
  // r = log(mu) is NaN in the draws where mu < 0 (P ≈ 0.3% under the
  // posterior N(1.03, 0.41²): Φ(−2.5)): counted, reported, never dropped.
  vireo::Model m = vireo::Model::from_string(R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 1)
  deterministic r = log(mu)
  plate data(N) { observe y ~ Normal(mu, 1) }
})");
  vireo::Data d = vireo::Data::from_json_string(m, R"({"N": 5, "y": [1.2, 0.8, 2.1, 1.7, 0.4]})");
  vireo::Fit fit(m, d);
  fit.run(300);
  vireo::DrawTable t = fit.draws(3000);
  long nan_cells = 0;
  for (const auto& row : t.rows) nan_cells += std::isnan(row[1]);
  BOOST_TEST_REQUIRE(nan_cells > 0);  // the fixed seed draws a few mu < 0
  BOOST_TEST_REQUIRE(t.present.size() == t.rows.size());
  for (const auto& p : t.present) BOOST_TEST((p[0] && p[1]));  // every draw has r, NaN or not
  vireo::Summary s = fit.summarize(t);
  const vireo::SiteSummary& r = s.sites[1];
  BOOST_TEST(r.name == "r");
  BOOST_TEST(r.n == 3000);
  BOOST_TEST(r.nonfinite == nan_cells);
  BOOST_TEST(std::isnan(r.mean[0]));
  BOOST_TEST(std::isnan(r.q50[0]));
  BOOST_TEST(s.sites[0].nonfinite == 0);
  BOOST_TEST(std::isfinite(s.sites[0].mean[0]));
  BOOST_TEST(has(s.to_table(), "warning: r: " + std::to_string(nan_cells) + " of 3000 draws are NaN"), s.to_table());
  BOOST_TEST(has(s.to_json(), "\"nonfinite\":" + std::to_string(nan_cells)));
  BOOST_TEST(has(t.to_csv(), ",nan\n"));  // CmdStan's spelling; an empty cell would mean absent

  // A hand-made table: an absent cell is not a NaN one.
  vireo::DrawTable h;
  h.columns = {"x"};
  h.sites = {{"x", "latent", {}, 0, 1}};
  h.rows = {{1.0}, {std::nan("")}, {3.0}};
  h.present = {{true}, {false}, {true}};
  vireo::Summary hs = fit.summarize(h);
  BOOST_TEST(hs.sites[0].n == 2);
  BOOST_TEST(hs.sites[0].nonfinite == 0);
  BOOST_TEST(hs.sites[0].mean[0] == 2.0);
  h.present[1][0] = true;  // the same NaN, now a value
  hs = fit.summarize(h);
  BOOST_TEST(hs.sites[0].n == 3);
  BOOST_TEST(hs.sites[0].nonfinite == 1);
  BOOST_TEST(std::isnan(hs.sites[0].mean[0]));
  // +inf: counted; the mean is +inf, the median still a number.
  h.rows[1][0] = std::numeric_limits<double>::infinity();
  hs = fit.summarize(h);
  BOOST_TEST(hs.sites[0].nonfinite == 1);
  BOOST_TEST((hs.sites[0].mean[0] == std::numeric_limits<double>::infinity()));
  BOOST_TEST(hs.sites[0].q50[0] == 3.0);
}

BOOST_AUTO_TEST_CASE(resume_is_bit_for_bit) {
  // 200 steps in one go versus 100 + save + load into a fresh Fit + 100:
  // the same parameters, optimizer state, draws and summary (its running
  // ELBO spans the save), bit for bit; with iterate averaging too, where the
  // first half's averaged parameters must not become the second's start.
  for (const std::string which : {"eight_schools", "gmm", "eight_schools averaged"}) {
    const std::string file = which.substr(0, which.find(' '));
    vireo::Model m = vireo::Model::from_file(examples + file + ".vireo");
    vireo::Data d = vireo::Data::from_json_file(m, examples + file + ".json");
    vireo::FitOptions o;
    o.seed = 11;
    o.optim = which == "gmm" ? vireo::Optimizer::ClippedAdam : vireo::Optimizer::Adam;
    o.lrd = which == "gmm" ? 0.999 : 1.0;
    o.average_last = which == "eight_schools averaged" ? 0.25 : 0;
    vireo::Fit whole(m, d, o);
    whole.run(200);

    fs::path saved = temp(which + "_half.json");
    {
      vireo::Fit first(m, d, o);
      first.run(100);
      first.save_params(saved.string());
    }
    vireo::Fit second(m, d, o);
    second.load_params(saved.string());
    BOOST_TEST(second.steps_taken() == 100);
    second.run(100);
    BOOST_TEST(second.params_json() == whole.params_json(), which);
    std::vector<double> tail(whole.elbo_history().end() - 100, whole.elbo_history().end());
    BOOST_TEST(tail == second.elbo_history(), which);
    BOOST_TEST(second.draws(20).to_csv() == whole.draws(20).to_csv(), which);
    BOOST_TEST(second.summarize(50).to_json() == whole.summarize(50).to_json(), which);
    BOOST_TEST(second.running_elbo() == whole.running_elbo(), which);
    fs::remove(saved);
  }
}

// The step history (kept as runs of repeated values, built when asked for):
// each step's number, ELBO, learning rate and annealing weight, across a
// decaying learning rate, a KL ramp, and a load that sets the step count
// back (the numbers then repeat, as the steps were taken).
BOOST_AUTO_TEST_CASE(step_history_records_every_step) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_json_file(m, examples + "eight_schools.json");
  vireo::FitOptions o;
  o.seed = 5;
  o.optim = vireo::Optimizer::ClippedAdam;
  o.lrd = 0.9;
  o.kl_anneal = 4;
  vireo::Fit fit(m, d, o);
  fit.run(6);
  const fs::path saved = temp("history.json");
  fit.save_params(saved.string());
  fit.run(3);
  fit.load_params(saved.string());
  fit.run(2);
  fs::remove(saved);
  const std::vector<vireo::StepRecord> h = fit.step_history();
  BOOST_TEST_REQUIRE(h.size() == 11u);
  const std::vector<long> numbers = {1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8};
  for (std::size_t i = 0; i < h.size(); ++i) {
    BOOST_TEST_CONTEXT("record " << i) {
      BOOST_TEST(h[i].step == numbers[i]);
      BOOST_TEST(h[i].elbo == fit.elbo_history()[i]);
      BOOST_TEST(!h[i].rejected);
      BOOST_TEST(h[i].rejected_because.empty());
      if (i > 0 && i < 9) BOOST_TEST(h[i].lr == h[i - 1].lr * 0.9, boost::test_tools::tolerance(1e-12));
      // The ramp over 4 steps: from kl_floor, rising, 1 from the fifth step on.
      if (i > 0 && h[i].step <= 5) BOOST_TEST(h[i].latent_weight > h[i - 1].latent_weight);
      BOOST_TEST((h[i].step >= 5 ? h[i].latent_weight == 1.0 : h[i].latent_weight < 1.0));
    }
  }
  BOOST_TEST(h[0].latent_weight == o.kl_floor);
  // Steps 7 and 8 again, from the loaded state: the same learning rates.
  BOOST_TEST(h[9].lr == h[6].lr);
  BOOST_TEST(h[10].lr == h[7].lr);
  BOOST_TEST(fit.step_history_csv().find("\n7,") != fit.step_history_csv().rfind("\n7,"));
}

// A host stops a fit from its progress callback (run_while returning false)
// at step 37 of 100, saves it, and a fresh Fit resumes it for the other 63:
// the same bytes as 100 steps in one go — the stop fell before the
// averaging window (the last 25 steps), so the resumed run averages the
// steps the uninterrupted one does.
BOOST_AUTO_TEST_CASE(stopped_fit_resumes_bit_for_bit) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_json_file(m, examples + "eight_schools.json");
  vireo::FitOptions o;
  o.seed = 5;
  o.average_last = 0.25;
  vireo::Fit whole(m, d, o);
  whole.run(100);

  fs::path saved = temp("stopped_at_37.json");
  {
    vireo::Fit first(m, d, o);
    long last_seen = 0;
    const long ran = first.run_while(100, [&](long i, long total, double) {
      BOOST_TEST(total == 100);
      last_seen = i;
      return i < 37;
    });
    BOOST_TEST(ran == 37);
    BOOST_TEST(last_seen == 37);
    BOOST_TEST(first.steps_taken() == 37);
    BOOST_TEST(first.elbo_history().size() == 37u);
    first.save_params(saved.string());
  }
  vireo::Fit second(m, d, o);
  second.load_params(saved.string());
  BOOST_TEST(second.steps_taken() == 37);
  BOOST_TEST(second.run_while(100 - second.steps_taken(), {}) == 63);
  BOOST_TEST(second.steps_taken() == 100);
  BOOST_TEST(second.params_json() == whole.params_json());
  BOOST_TEST(second.draws(20).to_csv() == whole.draws(20).to_csv());
  BOOST_TEST(second.summarize(50).to_json() == whole.summarize(50).to_json());
  fs::remove(saved);

  // Stopped inside the window (step 90 of 100, window 76..100): it ends on
  // the mean of steps 76..90, and the saved file keeps the last iterate to
  // resume from.
  vireo::Fit inside(m, d, o);
  BOOST_TEST(inside.run_while(100, [](long i, long, double) { return i < 90; }) == 90);
  vireo::Fit plain(m, d, o);
  plain.run(90);  // its own window: steps 68..90
  BOOST_TEST(inside.params_json() != plain.params_json());
  BOOST_TEST(inside.steps_taken() == 90);
}

// auto_mvn's default plateau:100 schedule decides when to decay from the
// ELBOs it has seen: a save holds its record, so a fit split by a save and a
// load decides at the same step and gives the same bytes — split inside a
// block before the decay starts, and after it started.
BOOST_AUTO_TEST_CASE(resume_keeps_the_plateau_schedules_decision) {
  vireo::Model m = vireo::Model::from_string(R"(data { J: int  M: int  y: real[J, M] }
model {
  mu ~ Normal(0, 10)
  plate schools(J) {
    a ~ Normal(mu, 2)
    plate pupils(M) { observe y ~ Normal(a, 1) }
  }
})",
                                             "nested.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, {{"J", {{}, {3}}}, {"M", {{}, {2}}}, {"y", {{3, 2}, {1, 2, 0.5, 0.1, 3, 2.5}}}});
  vireo::FitOptions o;
  o.guide = vireo::Guide::AutoMvn;
  o.seed = 1;
  vireo::Fit whole(m, d, o);
  whole.run(2000);
  const long start = whole.lr_decay_start().value();
  BOOST_TEST(!vireo::Fit(m, d, {.seed = 1}).lr_decay_start().has_value());  // auto_normal's constant rate decides nothing
  BOOST_TEST_REQUIRE(start > 1050);  // between the two splits
  BOOST_TEST_REQUIRE(start < 1750);
  for (long split : {1050L, 1750L}) {  // the second part holds the averaged last 200 steps
    fs::path saved = temp("plateau_" + std::to_string(split) + ".json");
    {
      vireo::Fit first(m, d, o);
      first.run(split);
      first.save_params(saved.string());
    }
    vireo::Fit second(m, d, o);
    second.load_params(saved.string());
    second.run(2000 - split);
    BOOST_TEST(second.lr_decay_start().value() == start, split);
    BOOST_TEST(second.params_json() == whole.params_json(), split);
    fs::remove(saved);
  }
}

BOOST_AUTO_TEST_CASE(load_params_failure_changes_nothing) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
  vireo::Fit fit(m, d);
  fit.run(20);
  std::string before = fit.params_json();
  fs::path bad = temp("bad_params.json");
  std::ofstream(bad) << "{\"format\": \"vireo-params\", \"params\": [";
  try {
    fit.load_params(bad.string());
    BOOST_FAIL("expected vireo::Error");
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == vireo::Error::Kind::Io));
    BOOST_TEST(has(e.what(), bad.string()), e.what());
  }
  BOOST_TEST(fit.params_json() == before);
  BOOST_CHECK_THROW(fit.load_params("/nonexistent/params.json"), vireo::Error);
  fs::remove(bad);
}

BOOST_AUTO_TEST_CASE(data_errors_name_the_item) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  auto a = schools();
  a["sigma"].values[3] = -2;
  try {
    vireo::Data::from_arrays(m, a);
    BOOST_FAIL("expected vireo::Error");
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == vireo::Error::Kind::Data));
    BOOST_TEST_REQUIRE(!e.diagnostics().empty());
    const auto& d = e.diagnostics()[0];
    BOOST_TEST(d.item == "sigma");
    BOOST_TEST(d.index == "[3]");
    BOOST_TEST(d.declaration_line == 5);
    BOOST_TEST(has(e.what(), "eight_schools.vireo:5"), e.what());
  }
  try {
    vireo::Data::from_json_string(m, "{\"J\": 8, \"y\": [1, 2], \"sigma\": [1,1,1,1,1,1,1,1]}", "inline.json");
    BOOST_FAIL("expected vireo::Error");
  } catch (const vireo::Error& e) {
    BOOST_TEST(e.diagnostics()[0].item == "y");
    BOOST_TEST(e.diagnostics()[0].file == "inline.json");
  }
  // Data are tied to the model they were checked against.
  vireo::Model other = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
  BOOST_CHECK_THROW(vireo::Fit(other, d), vireo::Error);
}

BOOST_AUTO_TEST_CASE(run_errors_have_places) {
  vireo::Model m = vireo::Model::from_string("data { n: int }\nmodel {\n  s ~ Normal(0, 1)\n  x ~ Normal(0, s - 100)\n}\n",
                                             "bad_scale.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, "{\"n\": 1}");
  vireo::Fit fit(m, d);
  try {
    fit.step();
    BOOST_FAIL("expected vireo::Error");
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == vireo::Error::Kind::Run));
    BOOST_TEST_REQUIRE(e.diagnostics().size() == 1u);
    BOOST_TEST(e.diagnostics()[0].line == 4);
    BOOST_TEST(e.diagnostics()[0].column == 7);
    BOOST_TEST(has(e.what(), "bad_scale.vireo:4:7: error: at site 'x'"), e.what());
    BOOST_TEST(has(e.what(), "^~~~"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(options_are_checked) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
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
  // A spelling outside a fixed set is refused when parsed, as the CLI and the
  // C API parse them, with the accepted names and the closest.
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
  misspelled([] { vireo::parse_optimizer("lbfgs"); }, "lbfgs is refused for SVI");
  misspelled([] { vireo::parse_optimizer("adamw"); }, "did you mean 'adam'?");
  misspelled([] { vireo::parse_guide("auto_nromal"); }, "unknown guide 'auto_nromal'; choose auto_normal");
  misspelled([] { vireo::parse_elbo("meanfeild"); }, "trace, tracegraph, meanfield or enum");
  misspelled([] { vireo::parse_elbo("meanfeild"); }, "did you mean 'meanfield'?");
  misspelled([] { vireo::Init::parse("median-ish"); }, "unknown init strategy");
  misspelled([] { vireo::Init::uniform(-1); }, "the uniform radius must be positive");
  misspelled([] { vireo::Baseline::avg(1.5); }, "beta must be in [0, 1)");
  BOOST_TEST(vireo::LrSchedule::warmup(100).then(vireo::LrSchedule::exp(0.999)).text() == "warmup:100+exp:0.999");
  BOOST_TEST(vireo::Baseline::avg().plus(vireo::Baseline::loo()).text() == "avg+loo");
  BOOST_TEST((vireo::parse_guide(vireo::to_string(vireo::Guide::AutoLowrankMvn)) == vireo::Guide::AutoLowrankMvn));
  vireo::FitOptions o;
  o = {};
  o.guide = vireo::Guide::Custom;
  refused(o, "no guide block");
  o = {};
  o.elbo = vireo::Elbo::TraceGraph;
  o.baseline = vireo::Baseline::parse("loo");
  refused(o, "at least 2 particles");
  o = {};
  o.particles = 0;
  refused(o, "particles");
  o = {};
  o.lr = -1;
  refused(o, "lr must be");

  // The default guide is the file's own when it has one.
  vireo::Model g = vireo::Model::from_file(examples + "gmm.vireo");
  vireo::Fit fit(g, vireo::Data::from_json_file(g, examples + "gmm.json"));
  BOOST_TEST(fit.guide_name() == "custom");
}

// Iterate averaging. mu ~ Normal(0, 1) with four observations y ~ Normal(mu, 1):
// the posterior is Normal(Σy/5, 1/√5), and AutoNormal's loc settles there.
// At a constant, deliberately large learning rate (Adam 0.1) the last
// iterate jitters around it; the mean over the last half of the run lies
// closer. Over 10 seeds the squared error of the averaged loc must be below a
// quarter of the last iterate's (the tail mean of m jittering iterates, even
// strongly correlated ones, cuts it far more); and a fraction outside [0, 1]
// is refused.
BOOST_AUTO_TEST_CASE(average_last_lands_nearer_the_optimum) {
  const vireo::Model m = vireo::Model::from_string(R"(data { y: real[4] }
model {
  mu ~ Normal(0, 1)
  observe y ~ Normal(mu, 1)
})");
  const vireo::Data d = vireo::Data::from_json_string(m, R"({"y": [1.2, 0.4, 2.1, 1.3]})");
  const double exact = (1.2 + 0.4 + 2.1 + 1.3) / 5;
  double se_last = 0, se_avg = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    vireo::FitOptions o;
    o.lr = 0.1;
    o.seed = seed;
    o.estimator = vireo::Estimator::Standard;  // whose gradient does not vanish at the optimum
    o.average_last = 0;
    vireo::Fit last(m, d, o);
    last.run(1000);
    o.average_last = 0.5;
    vireo::Fit avg(m, d, o);
    avg.run(1000);
    const double a = last.parameters().at("auto.loc.mu").values[0], b = avg.parameters().at("auto.loc.mu").values[0];
    se_last += (a - exact) * (a - exact);
    se_avg += (b - exact) * (b - exact);
  }
  BOOST_TEST_MESSAGE("loc's squared error over 10 seeds: last iterate " << se_last << ", averaged " << se_avg);
  BOOST_TEST(se_avg < se_last / 4, "averaged " << se_avg << ", last iterate " << se_last);

  vireo::FitOptions bad;
  bad.average_last = 1.5;
  BOOST_CHECK_EXCEPTION(vireo::Fit(m, d, bad), vireo::Error,
                        [](const vireo::Error& e) { return has(e.what(), "--average-last must lie in [0, 1]"); });
}

BOOST_AUTO_TEST_CASE(trace_one_execution) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
  vireo::Fit fit(m, d);
  vireo::Execution e = fit.trace();
  BOOST_TEST_REQUIRE(e.model.size() == 5u);
  BOOST_TEST(e.model[0].name == "mu");
  BOOST_TEST(e.model[0].kind == "sample");
  BOOST_TEST(e.model[0].distribution == "Normal");
  BOOST_TEST(e.model[3].kind == "deterministic");
  BOOST_TEST(std::isnan(e.model[3].log_density));
  BOOST_TEST(e.model[4].kind == "observe");
  BOOST_TEST(e.model[4].shape == std::vector<std::int64_t>{8});
  BOOST_TEST(std::isfinite(e.elbo));
  std::string text = e.to_text();
  BOOST_TEST(has(text, "HalfCauchy"), text);
  BOOST_TEST(has(text, "(8 values)"), text);
}

BOOST_AUTO_TEST_CASE(eigen_arrays) {
  Eigen::MatrixXd X(2, 3);
  X << 1, 2, 3, 4, 5, 6;
  vireo::Array a = vireo::to_array(X);
  BOOST_TEST(a.shape == (std::vector<std::int64_t>{2, 3}));
  BOOST_TEST(a.values == (std::vector<double>{1, 2, 3, 4, 5, 6}));
  Eigen::VectorXi v(3);
  v << 1, 0, 1;
  BOOST_TEST(vireo::to_array(v).shape == std::vector<std::int64_t>{3});
  BOOST_TEST(vireo::scalar(4).shape.empty());
}

BOOST_AUTO_TEST_CASE(write_files_all_or_nothing) {
  fs::path a = temp("out_a.txt");
  std::ofstream(a) << "old";
  BOOST_CHECK_THROW(vireo::write_files_atomically({{a.string(), "new"}, {"/nonexistent/dir/b.txt", "b"}}), vireo::Error);
  BOOST_TEST(slurp(a) == "old");
  for (const auto& entry : fs::directory_iterator(a.parent_path()))
    BOOST_TEST(entry.path().filename().string().find("out_a.txt.tmp") == std::string::npos);
  vireo::write_files_atomically({{a.string(), "new"}});
  BOOST_TEST(slurp(a) == "new");
  fs::remove(a);
}

// The second of three renames fails (its target is a non-empty folder, which
// stops root too): the first target gets its previous content back, the third
// is never made, no temporary is left, and the error names the second file.
BOOST_AUTO_TEST_CASE(write_files_rolls_back_a_failed_rename) {
  fs::path dir = temp("rollback");
  fs::remove_all(dir);
  fs::create_directories(dir / "summary.json" / "inside");
  std::ofstream(dir / "draws.csv") << "old draws";
  try {
    vireo::write_files_atomically({{(dir / "draws.csv").string(), "new draws"},
                                   {(dir / "summary.json").string(), "{}"},
                                   {(dir / "params.json").string(), "{}"}});
    BOOST_FAIL("no error");
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == vireo::Error::Kind::Io));
    BOOST_TEST(has(e.what(), (dir / "summary.json").string()), e.what());
  }
  BOOST_TEST(slurp(dir / "draws.csv") == "old draws");
  BOOST_TEST(!fs::exists(dir / "params.json"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  BOOST_TEST(names.size() == 2u);  // draws.csv and the folder summary.json, nothing else
  fs::remove_all(dir);
}

// Learned `param` values on their constrained scale: a positive and a simplex
// param of the model (at their initial values before a step: exactly the
// declared ones; after steps: the constraint's transform of the stored
// unconstrained value), and gmm's guide params, every element in the JSON.
BOOST_AUTO_TEST_CASE(learned_params_are_reported_constrained) {
  const vireo::Model m = vireo::Model::from_string(R"(data { y: real[4] }
model {
  param sigma: real<lower=0> = 2
  param w: simplex[3] = [0.2, 0.3, 0.5]
  mu ~ Normal(0, 10)
  plate data(4) { observe y ~ Normal(mu + w[0], sigma) }
}
)",
                                                   "params.vireo");
  const vireo::Data d = vireo::Data::from_arrays(m, {{"y", {{4}, {1.0, 2.0, 0.5, 1.5}}}});
  vireo::Fit fit(m, d, {.seed = 3});
  std::vector<vireo::LearnedParam> p = fit.learned_params();
  BOOST_REQUIRE(p.size() == 2u);
  BOOST_TEST(p[0].name == "sigma");
  BOOST_TEST(p[0].program == "model");
  BOOST_TEST(p[0].constraint == "positive");
  BOOST_TEST(p[0].shape.empty());
  BOOST_TEST(p[0].value.at(0) == 2.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(p[1].name == "w");
  BOOST_TEST((p[1].shape == std::vector<std::int64_t>{3}));
  BOOST_TEST(p[1].value.at(2) == 0.5, boost::test_tools::tolerance(1e-12));

  fit.run(50);
  p = fit.learned_params();
  const double sigma_unconstrained = fit.parameters().at("sigma").values.at(0);
  BOOST_TEST(p.at(0).value.at(0) == std::exp(sigma_unconstrained), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(p.at(0).value.at(0) != 2.0);  // it was learned
  BOOST_TEST(p.at(1).value.at(0) + p.at(1).value.at(1) + p.at(1).value.at(2) == 1.0, boost::test_tools::tolerance(1e-12));
  vireo::Summary s = fit.summarize(20);
  BOOST_TEST(s.params.size() == 2u);
  auto j = nlohmann::json::parse(s.to_json());
  BOOST_TEST(j.at("params").at("sigma").at("value").at(0).get<double>() == p[0].value[0]);
  BOOST_TEST(j.at("params").at("w").at("constraint").get<std::string>() == "simplex");
  BOOST_TEST(!j.contains("sigma"));  // not mixed with the sites' entries
  BOOST_TEST(has(s.to_table(), "learned parameters"), s.to_table());

  vireo::Model g = vireo::Model::from_file(examples + "gmm.vireo");
  vireo::Data gd = vireo::Data::from_json_file(g, examples + "gmm.json");
  vireo::Fit gf(g, gd, {.seed = 1});
  gf.run(5);
  auto gj = nlohmann::json::parse(gf.summarize(10).to_json()).at("params");
  BOOST_TEST(gj.at("phi").at("value").size() == 1500u);  // all of [500, 3]
  BOOST_TEST(gj.at("m").at("program").get<std::string>() == "guide");
  BOOST_TEST(gj.contains("s"));
}

// Every failure of the API is a vireo::Error: a missing column (eigen.hpp)
// and a draw table the host edited out of shape, summarised.
BOOST_AUTO_TEST_CASE(misuse_of_tables_is_a_vireo_error) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_arrays(m, schools());
  vireo::Fit fit(m, d);
  fit.run(5);
  vireo::DrawTable t = fit.draws(10);
  auto refused = [&](const std::function<void()>& f, const std::string& needle) {
    try {
      f();
    } catch (const vireo::Error& e) {
      BOOST_TEST((e.kind() == vireo::Error::Kind::Usage));
      BOOST_TEST(has(e.what(), needle), e.what());
      return;
    }
    BOOST_FAIL("expected a vireo::Error containing " + needle);
  };
  refused([&] { vireo::column(t, "no_such_site"); }, "no column 'no_such_site'");
  vireo::DrawTable short_row = t;
  short_row.rows[3].pop_back();
  refused([&] { fit.summarize(short_row); }, "row 3 has");
  vireo::DrawTable lost_columns = t;
  lost_columns.columns.resize(4);
  for (auto& r : lost_columns.rows) r.resize(4);
  lost_columns.present.clear();
  refused([&] { fit.summarize(lost_columns); }, "does not fit the table");
  BOOST_TEST(fit.summarize(t).sites.size() == t.sites.size());  // the unedited table still summarises
}

BOOST_AUTO_TEST_CASE(version_of_header_and_library_agree) {
  BOOST_TEST(std::string(vireo::version()) == VIREO_VERSION_STRING);
  BOOST_TEST(std::string(vireo::version()) ==
             std::to_string(VIREO_VERSION_MAJOR) + "." + std::to_string(VIREO_VERSION_MINOR));
}

// Inside a plate a plate-indexed value is one per element: `x` under
// `v: real[2] ~ Normal(x, 1)` is each element's scalar, broadcast to the
// declared shape as in the loop that spells the plate out.
BOOST_AUTO_TEST_CASE(a_plate_indexed_parameter_broadcasts_to_a_declared_shape) {
  const vireo::Model plate = vireo::Model::from_string(R"(data { N: int  y: real[N] }
model { plate p(N) { x ~ Normal(0, 1)  v: real[2] ~ Normal(x, 1)  observe y ~ Normal(x + v[0], 1) } })",
                                                       "plate.vireo");
  const vireo::Model loop = vireo::Model::from_string(R"(data { N: int  y: real[N] }
model { for i in 0..N { x ~ Normal(0, 1)  v: real[2] ~ Normal(x, 1)  observe y[i] ~ Normal(x + v[0], 1) } })",
                                                      "loop.vireo");
  // N = 3 was refused; N = 2, the declared size, lined x up with v's own
  // axis (v[i, j] ~ Normal(x[j], 1)) and gave a wrong density without a word.
  for (int N : {2, 3}) {
    BOOST_TEST_CONTEXT("N = " << N) {
      const std::string data = N == 3 ? R"({"N": 3, "y": [0.5, 1.0, -0.2]})" : R"({"N": 2, "y": [0.5, 1.0]})";
      vireo::LogDensity a(plate, vireo::Data::from_json_string(plate, data));
      vireo::LogDensity b(loop, vireo::Data::from_json_string(loop, data));
      BOOST_REQUIRE_EQUAL(a.dimension(), static_cast<std::size_t>(3 * N));
      BOOST_REQUIRE_EQUAL(b.dimension(), static_cast<std::size_t>(3 * N));
      // The same numbers in each program's layout: plate x[N], v[N, 2]; loop x[i], v[i] per i.
      const std::vector<double> x{0.3, -1.1, 0.7}, v{0.2, -0.4, 1.5, 0.1, -0.6, 0.9};
      std::vector<double> in_plate(x.begin(), x.begin() + N), in_loop;
      in_plate.insert(in_plate.end(), v.begin(), v.begin() + 2 * N);
      for (int i = 0; i < N; ++i) in_loop.insert(in_loop.end(), {x[i], v[2 * i], v[2 * i + 1]});
      const double y[] = {0.5, 1.0, -0.2};
      const double c = -0.5 * std::log(2 * M_PI);
      double exact = 0;
      for (int i = 0; i < N; ++i) {
        const double x_i = x[i], v0 = v[2 * i], v1 = v[2 * i + 1];
        exact += 4 * c - 0.5 * (x_i * x_i + (v0 - x_i) * (v0 - x_i) + (v1 - x_i) * (v1 - x_i) +
                                (y[i] - x_i - v0) * (y[i] - x_i - v0));
      }
      BOOST_TEST(a.log_density(in_plate) == exact, boost::test_tools::tolerance(1e-12));
      BOOST_TEST(b.log_density(in_loop) == exact, boost::test_tools::tolerance(1e-12));
    }
  }
}

// `X @ w + b` runs as one node (ad::matmul_add, from the interpreter's
// eval_binary); it must fit exactly as the same sum taken in two steps does,
// in either order and with a per-datum offset.
BOOST_AUTO_TEST_CASE(an_affine_logit_fits_as_its_two_steps_do_to_the_bit) {
  const std::string head = "data { N: int  D: int  X: real[N, D]  off: real[N]  y: int<lower=0, upper=1>[N] }\n"
                           "model {\n  w: real[D] ~ Normal(0, 1)\n  b ~ Normal(0, 5)\n";
  auto history = [&](const std::string& logits) {
    const vireo::Model m = vireo::Model::from_string(head + logits + "}\n", "affine.vireo");
    std::map<std::string, vireo::Array> values = {
        {"N", {{}, {6}}},
        {"D", {{}, {2}}},
        {"X", {{6, 2}, {0.3, -1.2, 1.1, 0.4, -0.7, 0.9, 2.0, -0.3, 0.1, 0.1, -1.5, 1.3}}},
        {"off", {{6}, {0.5, -0.25, 0, 1, -1, 0.75}}},
        {"y", {{6}, {1, 0, 1, 1, 0, 0}}}};
    vireo::FitOptions o;
    o.seed = 11;
    vireo::Fit fit(m, vireo::Data::from_arrays(m, values), o);
    fit.run(40);
    return fit.elbo_history();
  };
  const auto two_steps = history("  let z = X @ w\n  plate data(N) { observe y ~ Bernoulli(logits = z + b) }\n");
  BOOST_TEST(two_steps.size() == 40u);
  BOOST_TEST(history("  plate data(N) { observe y ~ Bernoulli(logits = X @ w + b) }\n") == two_steps);
  BOOST_TEST(history("  plate data(N) { observe y ~ Bernoulli(logits = b + X @ w) }\n") == two_steps);
  const auto with_offset = history("  let z = X @ w\n  plate data(N) { observe y ~ Bernoulli(logits = z + off) }\n");
  BOOST_TEST(history("  plate data(N) { observe y ~ Bernoulli(logits = X @ w + off) }\n") == with_offset);
  BOOST_TEST(with_offset != two_steps);
}
