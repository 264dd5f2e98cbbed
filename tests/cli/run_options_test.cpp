// `vireo run` / `trace` / `evidence` options of issue 13: a model without a
// data block needs no --data; --max-depth; --init-values.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>
#include <cmath>
#include <string>

#include "cli/vireo_process.hpp"

using namespace vireo_test;

// A model that declares no data runs, traces and estimates its evidence
// without --data; one that declares data says which items it needs.
BOOST_AUTO_TEST_CASE(no_data_block_needs_no_data) {
  fs::path prior = write_temp("prior.vireo", "model {\n  mu ~ Normal(0, 1)\n  s ~ HalfNormal(1)\n}\n");
  Run r = vireo("run '" + prior.string() + "' --steps 20 --num-draws 20");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "mu"), r.out);
  r = vireo("trace '" + prior.string() + "'");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "mu"), r.out);
  r = vireo("evidence '" + prior.string() + "' --draws 50");
  BOOST_TEST(r.status == 0, r.err);
  r = vireo("run " + examples + "eight_schools.vireo --steps 5");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "this model has a data block (J, y, sigma): pass its values with --data FILE.json"), r.err);
  fs::remove(prior);
}

// A recursion 3000 calls deep: refused at the default limit with a hint
// naming --max-depth, and run with it (each 100 nested calls on a stack
// segment of their own, so neither Release nor ASan overflows the host's).
BOOST_AUTO_TEST_CASE(max_depth_lets_a_deep_recursion_run) {
  fs::path model = write_temp("deep.vireo", R"(fn count(n) {
  if n == 0 { return 0 }
  step ~ Normal(0, 1)
  return 1 + count(n - 1)
}
data { D: int }
model {
  mu ~ Normal(0, 1)
  deterministic depth = count(D)
}
)");
  fs::path data = write_temp("deep.json", R"({"D": 3000})");
  const std::string files = "'" + model.string() + "' --data '" + data.string() + "'";
  Run r = vireo("trace " + files);
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "recursion deeper than 200 calls of 'count'"), r.err);
  BOOST_TEST(has(r.err, "--max-depth N"), r.err);
  r = vireo("trace " + files + " --max-depth 3001");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "step#2999"), r.out.substr(0, 2000));
  BOOST_TEST(has(r.out, "3000"), r.out.substr(0, 2000));
  r = vireo("run " + files + " --max-depth 3001 --steps 3 --num-draws 2");
  BOOST_TEST(r.status == 0, r.err);
  r = vireo("evidence " + files + " --max-depth 3001 --draws 2");
  BOOST_TEST(r.status == 0, r.err);
  r = vireo("run " + files + " --max-depth 1000000 --steps 1");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "--max-depth must be between 1 and 100000; got 1000000"), r.err);
  fs::remove(model);
  fs::remove(data);
}

// A likelihood whose support depends on a latent: `check` warns and shows
// the reparameterisation; the default start is ruled out by the data, and
// --init-values starts it; values outside the support, unknown sites and
// malformed files are refused with their place.
BOOST_AUTO_TEST_CASE(init_values_start_a_model_whose_support_moves) {
  fs::path model = write_temp("unif.vireo", R"(data { N: int  u: real[N] }
model {
  M ~ Uniform(0, 20)
  plate data(N) {
    observe u ~ Uniform(0, M)
  }
}
)");
  fs::path data = write_temp("unif.json", R"({"N": 5, "u": [3.1, 7.9, 12.5, 4.4, 9.0]})");
  const std::string files = "'" + model.string() + "' --data '" + data.string() + "'";
  Run r = vireo("check '" + model.string() + "'");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.err, ":5:5: warning: the support of the observed 'u' depends on the latent 'M'"), r.err);
  BOOST_TEST(has(r.err, "`M ~ Uniform(max(u), 20)`"), r.err);

  // The prior median of M (about 10) is below max(u) = 12.5: nearly every
  // draw is refused, and with the standard estimator the fit stops. (With
  // the default, sticking the landing, it may crawl out after some refused
  // steps; those are counted and reported, as below.)
  r = vireo("run " + files + " --steps 50 --estimator standard");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "--init-values FILE.json"), r.err);

  fs::path good = write_temp("start.json", "{\"M\": 15}");
  fs::path summary = write_temp("unif_summary.json", "");
  r = vireo("run " + files + " --init-values '" + good.string() + "' --steps 300 --max-nonfinite 300 --summary '" +
            summary.string() + "'");
  BOOST_TEST(r.status == 0, r.err);
  std::ifstream in(summary);
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(has(json, "\"refused_draws\": "), json);
  // The fit pulls M towards max(u) (the likelihood is M^-5 above it), so some
  // draws fall below 12.5: counted, and reported.
  BOOST_TEST(!has(json, "\"refused_draws\": 0"), json);
  BOOST_TEST(has(r.err, "guide draws were refused because the model's log density was -inf"), r.err);

  fs::path outside = write_temp("outside.json", "{\"M\": 25}");
  r = vireo("run " + files + " --init-values '" + outside.string() + "' --steps 5");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "'M' = 25 is outside the support of Uniform"), r.err);
  fs::path unknown = write_temp("unknown.json", "{\n  \"M\": 15,\n  \"Mm\": 3\n}");
  r = vireo("run " + files + " --init-values '" + unknown.string() + "' --steps 5");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, unknown.string() + ":3:3: error: --init-values: the model has no latent site 'Mm'"), r.err);
  fs::path malformed = write_temp("malformed.json", "{\n  \"M\": 15,\n  \"x\" 3\n}");
  r = vireo("run " + files + " --init-values '" + malformed.string() + "' --steps 5");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, malformed.string() + ":3:"), r.err);
  BOOST_TEST(has(r.err, "malformed JSON"), r.err);
  for (const auto& p : {model, data, good, summary, outside, unknown, malformed}) fs::remove(p);
}

// A factor is a site of its own in `vireo graph` (DOT and text), `vireo
// trace` and --diagnose.
BOOST_AUTO_TEST_CASE(factor_shows_in_graph_trace_and_diagnose) {
  fs::path model = write_temp("factor.vireo", R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  plate data(N) {
    factor lik = -0.5 * (y - mu)^2
  }
  factor soft = -0.5 * (mu / 2)^2
}
)");
  fs::path data = write_temp("factor.json", R"({"N": 3, "y": [0.5, 1.2, -0.3]})");
  Run r = vireo("graph '" + model.string() + "'");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "\"lik\" [label=\"lik\", shape=diamond"), r.out);
  BOOST_TEST(has(r.out, "\"mu\" -> \"lik\";"), r.out);
  BOOST_TEST(has(r.out, "\"mu\" -> \"soft\";"), r.out);
  r = vireo("graph '" + model.string() + "' --format text");
  BOOST_TEST(has(r.out, "factor lik = -0.5 * (y - mu) ^ 2 in model plates data"), r.out);
  const std::string files = "'" + model.string() + "' --data '" + data.string() + "'";
  r = vireo("trace " + files);
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "lik   factor"), r.out);
  BOOST_TEST(has(r.out, "[3]"), r.out);
  r = vireo("run " + files + " --steps 20 --diagnose 5");
  BOOST_TEST(r.status == 0, r.err);
  BOOST_TEST(has(r.err, "soft             factor"), r.err);
  fs::remove(model);
  fs::remove(data);
}

// Issue 16, item 1: a tiny regression whose weight matrix starts from
// glorot_uniform() fits from the CLI; the same --seed gives the same run
// (bit for bit), another seed another start.
BOOST_AUTO_TEST_CASE(glorot_initialised_weights_fit_from_the_cli) {
  fs::path model = write_temp("glorot.vireo", R"(data { N: int  x: real[N, 4]  y: real[N, 3] }
model {
  param W: real[4, 3] = glorot_uniform()
  param b: real[3] = init_normal(0, 0.1)
  plate data(N) {
    observe y: real[3] ~ Normal(x @ W + b, 0.5)
  }
}
)");
  // y = x @ W* with W*[k][j] = k - j, no noise: the fit must find W*.
  std::string xs, ys;
  for (int i = 0; i < 12; ++i) {
    double x[4];
    for (int k = 0; k < 4; ++k) x[k] = std::sin(1.3 * i + 0.7 * k + 0.1 * i * k);
    xs += std::string(i ? ", " : "") + "[";
    ys += std::string(i ? ", " : "") + "[";
    for (int k = 0; k < 4; ++k) xs += (k ? ", " : "") + std::to_string(x[k]);
    for (int j = 0; j < 3; ++j) {
      double y = 0;
      for (int k = 0; k < 4; ++k) y += x[k] * (k - j);
      ys += (j ? ", " : "") + std::to_string(y);
    }
    xs += "]";
    ys += "]";
  }
  fs::path data = write_temp("glorot.json", "{\"N\": 12, \"x\": [" + xs + "], \"y\": [" + ys + "]}");
  const std::string files = "'" + model.string() + "' --data '" + data.string() + "'";
  Run a = vireo("run " + files + " --steps 1500 --lr 0.05 --seed 4");
  BOOST_TEST_REQUIRE(a.status == 0, a.err);
  // The learned W is row-major: W[0] = (0, -1, -2), W[3] = (3, 2, 1).
  BOOST_TEST(has(a.out, "W  model  [4, 3]"), a.out);
  Run b = vireo("run " + files + " --steps 1500 --lr 0.05 --seed 4");
  BOOST_TEST(a.out == b.out);
  Run start4 = vireo("run " + files + " --steps 1 --lr 1e-9 --seed 4");
  Run start5 = vireo("run " + files + " --steps 1 --lr 1e-9 --seed 5");
  BOOST_TEST(start4.status == 0, start4.err);
  BOOST_TEST(start4.out != start5.out);
  const std::string line = a.out.substr(a.out.find("W  model  [4, 3]"));
  std::istringstream in(line.substr(std::string("W  model  [4, 3]").size()));
  std::vector<double> w(12);
  for (double& v : w) in >> v;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j) BOOST_TEST(std::abs(w[k * 3 + j] - (k - j)) < 0.05, "W[" << k << "][" << j << "] " << w[k * 3 + j]);
  fs::remove(model);
  fs::remove(data);
}

namespace {
std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
}  // namespace

// Issue 16, item 2: mini-batches as shuffled epochs. N = 12, B = 5: the
// batch of step 2 (positions 10..14) straddles the first epoch boundary.
// Resuming after step 3 (saved params, then 4 more steps) prints and writes
// what 7 steps at once do; --diagnose and --grad-var evaluate without moving
// the epochs; --epochs E runs ceil(E·N/B) steps and shows the epoch.
BOOST_AUTO_TEST_CASE(epochs_resume_bit_for_bit_and_count_steps) {
  fs::path model = write_temp("epochs.vireo", R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  plate data(N, subsample = 5) as idx {
    z ~ Normal(mu, 1)
    observe y[idx] ~ Normal(z, 0.5)
  }
}
)");
  fs::path data = write_temp("epochs.json", R"({"N": 12, "y": [1.2, -0.3, 2.5, 0.8, -1.1, 0.4, 1.9, 0.0, 3.1, -0.7, 0.6, 1.4]})");
  fs::path whole = write_temp("epochs_whole.json", ""), half = write_temp("epochs_half.json", ""),
           resumed = write_temp("epochs_resumed.json", "");
  const std::string base = "run '" + model.string() + "' --data '" + data.string() + "' --seed 3 --num-draws 20 --average-last 0 ";
  Run a = vireo(base + "--steps 7 --save-params '" + whole.string() + "'");
  Run b = vireo(base + "--steps 3 --save-params '" + half.string() + "'");
  Run c = vireo(base + "--steps 4 --load-params '" + half.string() + "' --save-params '" + resumed.string() + "'");
  BOOST_TEST_REQUIRE((a.status == 0 && b.status == 0 && c.status == 0), a.err << b.err << c.err);
  BOOST_TEST(read_all(whole) == read_all(resumed));
  BOOST_TEST(a.out == c.out);
  BOOST_TEST(has(c.err, "step 4/4  epoch 3  elbo"), c.err);  // step 7 starts at position 30: epoch 3
  // Evaluations do not advance the epochs.
  Run d = vireo(base + "--steps 7 --diagnose 3 --grad-var 3");
  BOOST_TEST(d.status == 0, d.err);
  BOOST_TEST(d.out.substr(0, a.out.size()) == a.out);
  // Independent draws are another fit.
  Run i = vireo(base + "--steps 7 --subsample independent");
  BOOST_TEST(i.status == 0, i.err);
  BOOST_TEST(i.out != a.out);
  BOOST_TEST(!has(i.err, "  epoch "), i.err);
  // --epochs 2: ceil(24 / 5) = 5 steps.
  Run e = vireo(base + "--epochs 2");
  BOOST_TEST(e.status == 0, e.err);
  BOOST_TEST(has(e.err, ", 5 steps, seed 3"), e.err);
  BOOST_TEST(has(e.err, "step 5/5  epoch 2  elbo"), e.err);
  Run both = vireo(base + "--epochs 2 --steps 5");
  BOOST_TEST(both.status == 1);
  BOOST_TEST(has(both.err, "--steps and --epochs both say how long to train"), both.err);
  fs::path plain = write_temp("no_subsample.vireo", "data { N: int  y: real[N] }\nmodel {\n  mu ~ Normal(0, 10)\n"
                                                    "  plate data(N) {\n    observe y ~ Normal(mu, 1)\n  }\n}\n");
  Run none = vireo("run '" + plain.string() + "' --data '" + data.string() + "' --epochs 2");
  BOOST_TEST(none.status == 1);
  BOOST_TEST(has(none.err, "--epochs counts passes over a subsampled plate, and this model has none"), none.err);
  for (const auto& p : {model, data, whole, half, resumed, plain}) fs::remove(p);
}

// --evaluate N: the full-data ELBO after the fit, printed per element of the
// subsampled plate with the KL and the active units, and kept in --summary.
BOOST_AUTO_TEST_CASE(evaluate_reports_the_full_data_elbo_per_element) {
  fs::path summary = fs::temp_directory_path() / "vireo_evaluate_summary.json";
  Run r = vireo("run " + examples + "vae.vireo --data " + examples + "data/vae.json --steps 20 --lr 0.001 --seed 2 "
                "--num-draws 5 --evaluate 3 --summary '" + summary.string() + "'");
  BOOST_TEST_REQUIRE(r.status == 0, r.err);
  BOOST_TEST(has(r.out, "evaluation (3 draws over the whole data): ELBO "), r.out);
  BOOST_TEST(has(r.out, "per element of 'data' (N = 256): "), r.out);
  BOOST_TEST(has(r.out, "KL(q ‖ p) of the latent sites"), r.out);
  BOOST_TEST(has(r.out, "z: "), r.out);
  BOOST_TEST(has(r.out, "coordinates active (variance over the 256 elements of 'data'"), r.out);
  std::ifstream in(summary);
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(has(json, "\"evaluation\": {\"draws\":3,\"full_data\":true"), json.substr(json.size() > 400 ? json.size() - 400 : 0));
  BOOST_TEST(has(json, "\"plates\":{\"data\":256}"));
  BOOST_TEST(has(json, "\"units\":[{\"site\":\"z\",\"plate\":\"data\",\"elements\":256"));
  fs::remove(summary);
}

// --threads (issue 18, item 3): the same output, byte for byte, on 1 and 2
// threads (4 particles run in parallel); --help names it; 0, a negative
// number and a word are refused with the reason.
BOOST_AUTO_TEST_CASE(threads_give_the_same_output_and_bad_counts_are_refused) {
  const std::string files = examples + "eight_schools.vireo --data " + examples + "eight_schools.json";
  const std::string common = " --steps 60 --particles 4 --num-draws 50 --seed 3";
  Run one = vireo("run " + files + common + " --threads 1");
  Run two = vireo("run " + files + common + " --threads 2");
  BOOST_TEST(one.status == 0, one.err);
  BOOST_TEST(two.status == 0, two.err);
  BOOST_TEST(one.out == two.out);
  Run help = vireo("run --help");
  BOOST_TEST(has(help.out, "--threads"), help.out);
  for (const std::string bad : {"0", "-3", "many", "2x"}) {
    Run r = vireo("run " + files + " --steps 5 --threads " + bad);
    BOOST_TEST(r.status != 0, bad);
    BOOST_TEST(has(r.err, "--threads must be a whole number of threads from 1 to 4096; got '" + bad + "'"), r.err);
  }
}
