// vireo_bench_loops: the fixed cost of a step and the cost of `for` loops
// (issue 18, items 1 and 2), through the embedding API only.
//   M1               eight schools (../shared/bench/MODELS.md), AutoNormal, Adam 0.01
//   random_walk      examples/random_walk.vireo, T = 1000: 1000 latent sites in a loop
//   ar1_loop         AR(1), T = 2000, one observe per iteration of a `for` loop
//   ar1_vectorised   the same AR(1) as one observe over slices in a plate
// The series are generated here from a fixed seed (a splitmix64 stream and
// Box-Muller, so every platform gets the same numbers). Prints one JSON
// object: per model, µs per step (this thread's CPU time: the machine is
// shared; the mean over the run and the best of 20 batches), beside the
// figures Stan 2.21 ADVI (through rstan, CPU time per gradient step) and
// Pyro took on this machine (issue 18; ../shared/bench/ANCHORS.md), and the
// ratios the issue sets as goals.
//   vireo_bench_loops [--quick] [--only NAME] [--steps N] [--no-compare]
// --quick: a tenth of the steps; --only: one model (for profiling); --steps:
// that many steps for every model; --no-compare: M1 without the interleaved
// fit that runs every step through the interpreter (for profiling).
#include "vireo/vireo.hpp"

#include "bench_common.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace vireo::bench;

// The AR(1) model written as a loop and vectorised (issue 18).
const char* const ar1_loop = R"(
data { T: int y: real[T] }
model {
  phi ~ Normal(0, 1)
  sigma ~ HalfNormal(1)
  for t in 1..T { observe y[t] ~ Normal(phi * y[t - 1], sigma) }
}
)";
const char* const ar1_vectorised = R"(
data { T: int y: real[T] }
model {
  phi ~ Normal(0, 1)
  sigma ~ HalfNormal(1)
  plate steps(T - 1) { observe y[1:T] ~ Normal(phi * y[0:T - 1], sigma) }
}
)";

// Standard normal draws from a fixed stream (splitmix64, Box-Muller).
class Normals {
 public:
  explicit Normals(std::uint64_t seed) : s_(seed) {}
  double next() {
    const double u1 = (static_cast<double>(bits() >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = (static_cast<double>(bits() >> 11) + 0.5) * 0x1.0p-53;
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t bits() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_;
};

// y_t = phi y_{t-1} + sigma e_t, y_0 = 0 (phi 0.7, sigma 1).
std::string ar1_data(int T) {
  Normals g(18);
  std::vector<double> y(static_cast<std::size_t>(T), 0.0);
  for (int t = 1; t < T; ++t) y[static_cast<std::size_t>(t)] = 0.7 * y[static_cast<std::size_t>(t - 1)] + g.next();
  return nlohmann::json{{"T", T}, {"y", y}}.dump();
}

// x_t = x_{t-1} + 0.3 e_t from x = 0, y_t = x_t + 0.5 e'_t (random_walk.vireo).
std::string random_walk_data(int T) {
  Normals g(1018);
  std::vector<double> y;
  double x = 0;
  for (int t = 0; t < T; ++t) {
    x += 0.3 * g.next();
    y.push_back(x + 0.5 * g.next());
  }
  return nlohmann::json{{"T", T}, {"y", y}}.dump();
}

// Runs `steps` steps in 20 batches: µs per step over the whole run and in
// the best batch (the least disturbed by other processes). With `compare`,
// a second fit that runs every step through the interpreter (FitOptions::
// replay_steps off) takes its batches in turn with the first, so that the
// two are measured in the same minutes of a machine whose speed drifts.
nlohmann::json train(const vireo::Model& model, const vireo::Data& data, long steps, bool compare = false) {
  vireo::FitOptions o;
  o.guide = vireo::Guide::AutoNormal;
  o.lr = 0.01;
  o.seed = 1;
  vireo::Fit fit(model, data, o);
  o.replay_steps = false;
  vireo::Fit plain(model, data, o);
  fit.step();  // the first step creates the parameters
  plain.step();
  const long batches = std::min<long>(20, steps);
  std::vector<double> per, plain_per;
  double total = 0, plain_total = 0;
  long done = 0;
  for (long b = 0; b < batches; ++b) {
    const long n = steps * (b + 1) / batches - done;
    const double t0 = cpu_seconds();
    for (long i = 0; i < n; ++i) fit.step();
    const double t = cpu_seconds() - t0;
    total += t;
    done += n;
    if (n > 0) per.push_back(1e6 * t / static_cast<double>(n));
    if (compare && n > 0) {
      const double p0 = cpu_seconds();
      for (long i = 0; i < n; ++i) plain.step();
      const double p = cpu_seconds() - p0;
      plain_total += p;
      plain_per.push_back(1e6 * p / static_cast<double>(n));
    }
  }
  std::sort(per.begin(), per.end());
  nlohmann::json out = {{"steps", steps},
                        {"us_per_step", 1e6 * total / static_cast<double>(steps)},
                        {"us_per_step_best_batch", per.front()},
                        {"replayed_steps", fit.replayed_steps()},
                        {"running_elbo", fit.running_elbo()}};
  if (compare) {
    std::sort(plain_per.begin(), plain_per.end());
    out["interpreted"] = {{"us_per_step", 1e6 * plain_total / static_cast<double>(steps)},
                          {"us_per_step_best_batch", plain_per.front()},
                          {"running_elbo", plain.running_elbo()}};
    out["interpreted_over_replayed"] = plain_total / total;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long scale = 1, fixed_steps = 0;
  bool compare = true;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      scale = 10;
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--steps" && i + 1 < argc) {
      fixed_steps = std::atol(argv[++i]);
    } else if (a == "--no-compare") {
      compare = false;
    } else {
      std::cerr << "usage: vireo_bench_loops [--quick] [--only M1|random_walk|ar1_loop|ar1_vectorised] [--steps N] [--no-compare]\n";
      return 2;
    }
  }
  try {
    nlohmann::json out;
    out["load_average_at_start"] = load_average();

    const auto wanted = [&](const char* name) { return only.empty() || only == name; };
    const auto steps = [&](long n) { return fixed_steps > 0 ? fixed_steps : n / scale; };
    const vireo::Model m1 = vireo::Model::from_file(examples + "eight_schools.vireo");
    if (wanted("M1")) out["M1"] = train(m1, vireo::Data::from_json_file(m1, shared + "eight_schools.json"), steps(20000), compare);
    out["M1"]["stan_gradient_step_us"] = "2.25";
    out["M1"]["stan_with_periodic_elbo_us"] = "3.8-4.2";
    out["M1"]["pyro_us"] = "3900 (ANCHORS.md)";
    out["M1"]["goal_us"] = 0.8 * 2.25;

    const vireo::Model rw = vireo::Model::from_file(examples + "random_walk.vireo");
    if (wanted("random_walk"))
      out["random_walk"] = train(rw, vireo::Data::from_json_string(rw, random_walk_data(1000)), steps(1000));
    out["random_walk"]["T"] = 1000;
    out["random_walk"]["stan_us"] = "111-115";
    out["random_walk"]["goal_us"] = 2 * 113.0;

    const vireo::Model al = vireo::Model::from_string(ar1_loop, "ar1_loop.vireo");
    const vireo::Model av = vireo::Model::from_string(ar1_vectorised, "ar1_vectorised.vireo");
    const std::string y = ar1_data(2000);
    if (wanted("ar1_loop")) out["ar1_loop"] = train(al, vireo::Data::from_json_string(al, y), steps(2000));
    out["ar1_loop"]["T"] = 2000;
    out["ar1_loop"]["stan_us"] = "58-59";
    out["ar1_loop"]["goal_us"] = 2 * 58.5;
    if (wanted("ar1_vectorised")) out["ar1_vectorised"] = train(av, vireo::Data::from_json_string(av, y), steps(20000));
    out["ar1_vectorised"]["T"] = 2000;
    out["ar1_vectorised"]["stan_us"] = "45";

    const auto us = [&](const char* k) { return out[k].contains("us_per_step") ? out[k]["us_per_step"].get<double>() : NAN; };
    out["ratios"] = {{"M1_over_stan_gradient_step", us("M1") / 2.25},
                     {"random_walk_over_stan", us("random_walk") / 113.0},
                     {"ar1_loop_over_stan", us("ar1_loop") / 58.5},
                     {"ar1_loop_over_vectorised", us("ar1_loop") / us("ar1_vectorised")},
                     {"ar1_vectorised_over_stan", us("ar1_vectorised") / 45.0},
                     {"goals", "M1 <= 0.8; random walk and AR(1) loop <= 2 (Stan, mid-range); AR(1) loop <= 3x vectorised"}};
    out["load_average_at_end"] = load_average();
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "vireo_bench_loops: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
