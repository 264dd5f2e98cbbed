// vireo_bench_threads: what FitOptions::threads (`--threads`) buys on this
// machine, through the embedding API only.
//   M5 horseshoe logistic regression (D = 1000) with auto_realnvp and its 8
//     particles per step: the particles run in parallel.
//   M2 logistic regression with N = 10^6 rows and D = 5 features (issue 19's
//     size; MODELS.md's D = 50 is for N = 5000), generated here from a fixed
//     seed, auto_normal, 1 particle: the plate's kernels run in chunks.
// Per model and thread count: wall time and CPU time (every thread of the
// process) per step, over blocks of steps taken in turns (1, 2, 1, 2, …) so
// that a change in the machine's load falls on both; the medians of the
// blocks, and the wall-time ratio 1 thread / 2 threads. Also whether the two
// fits' ELBOs were the same, bit for bit (they must be). Prints one JSON object.
//   vireo_bench_threads [--quick] [--rounds R] [--only M5|M2]
#include "vireo/vireo.hpp"

#include "bench_common.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace vireo::bench;

// CPU time of every thread of this process, in seconds.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// M2's data: X ~ N(0, 1), w = (1, −0.5, 0.25, …), b = 0.3, y ~ Bernoulli(sigmoid(X w + b)),
// from splitmix64 (the same numbers everywhere).
vireo::Data m2_data(const vireo::Model& model, std::int64_t n, std::int64_t d) {
  std::uint64_t state = 20261204;
  auto next = [&] {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  auto uniform = [&] { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; };
  vireo::Array X{{n, d}, std::vector<double>(static_cast<std::size_t>(n * d))};
  vireo::Array y{{n}, std::vector<double>(static_cast<std::size_t>(n))};
  std::vector<double> w(static_cast<std::size_t>(d));
  for (std::int64_t k = 0; k < d; ++k) w[static_cast<std::size_t>(k)] = (k % 2 ? -1.0 : 1.0) / static_cast<double>(1 << k);
  for (std::int64_t i = 0; i < n; ++i) {
    double logit = 0.3;
    for (std::int64_t k = 0; k < d; ++k) {
      const double z = std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
      X.values[static_cast<std::size_t>(i * d + k)] = z;
      logit += z * w[static_cast<std::size_t>(k)];
    }
    y.values[static_cast<std::size_t>(i)] = uniform() < 1 / (1 + std::exp(-logit)) ? 1.0 : 0.0;
  }
  return vireo::Data::from_arrays(model, {{"N", {{}, {static_cast<double>(n)}}},
                                          {"D", {{}, {static_cast<double>(d)}}},
                                          {"X", std::move(X)},
                                          {"y", std::move(y)}});
}

// One model at 1 and 2 threads: `warmup` steps each, then `rounds` turns of
// `block` steps at 1 thread then at 2.
nlohmann::json compare(const vireo::Model& model, const vireo::Data& data, vireo::FitOptions options, long warmup,
                       long block, int rounds, double goal) {
  std::vector<std::unique_ptr<vireo::Fit>> fits;
  for (int threads : {1, 2}) {
    options.threads = threads;
    fits.push_back(std::make_unique<vireo::Fit>(model, data, options));
  }
  std::vector<std::vector<double>> elbos(2);
  for (int f = 0; f < 2; ++f)
    for (long s = 0; s < warmup; ++s) elbos[static_cast<std::size_t>(f)].push_back(fits[static_cast<std::size_t>(f)]->step());
  std::vector<std::vector<double>> wall(2), cpu(2);
  for (int r = 0; r < rounds; ++r)
    for (int f = 0; f < 2; ++f) {
      vireo::Fit& fit = *fits[static_cast<std::size_t>(f)];
      const double w0 = wall_seconds(), c0 = process_cpu_seconds();
      for (long s = 0; s < block; ++s) elbos[static_cast<std::size_t>(f)].push_back(fit.step());
      wall[static_cast<std::size_t>(f)].push_back(1e3 * (wall_seconds() - w0) / static_cast<double>(block));
      cpu[static_cast<std::size_t>(f)].push_back(1e3 * (process_cpu_seconds() - c0) / static_cast<double>(block));
    }
  nlohmann::json out;
  for (int f = 0; f < 2; ++f) {
    const auto k = static_cast<std::size_t>(f);
    out[f == 0 ? "threads_1" : "threads_2"] = {{"wall_ms_per_step", median(wall[k])},
                                                {"cpu_ms_per_step", median(cpu[k])},
                                                {"wall_ms_per_step_blocks", wall[k]},
                                                {"cpu_ms_per_step_blocks", cpu[k]}};
  }
  const double ratio = median(wall[0]) / median(wall[1]);
  out["speedup_wall_1_over_2"] = ratio;
  out["goal"] = goal;
  out["meets_goal"] = ratio >= goal;
  out["elbo_history_identical"] = elbos[0] == elbos[1];
  out["steps_per_block"] = block;
  out["rounds"] = rounds;
  out["warmup_steps"] = warmup;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int rounds = 7;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      std::cerr << "usage: vireo_bench_threads [--quick] [--rounds R] [--only M5|M2]\n";
      return 2;
    }
  }
  if (quick) rounds = 3;
  nlohmann::json out;
  out["benchmark"] = "threads";
  out["hardware_threads"] = std::thread::hardware_concurrency();
  out["load_average_before"] = load_average();
  try {
    if (only.empty() || only == "M5") {
      const vireo::Model m5 = vireo::Model::from_file(examples + "horseshoe_logistic.vireo");
      const vireo::Data d5 = vireo::Data::from_json_file(m5, shared + "horseshoe_logistic.json");
      vireo::FitOptions o;
      o.guide = vireo::Guide::AutoRealnvp;
      o.particles = 8;
      o.seed = 1;
      out["M5"] = compare(m5, d5, o, quick ? 5 : 20, quick ? 10 : 40, rounds, 1.6);
      out["M5"]["model"] = "horseshoe logistic regression, N = 100, D = 1000; auto_realnvp, 8 particles";
    }
    if (only.empty() || only == "M2") {
      const vireo::Model m2 = vireo::Model::from_file(examples + "logistic_regression.vireo");
      const vireo::Data d2 = m2_data(m2, 1000000, 5);
      vireo::FitOptions o;
      o.guide = vireo::Guide::AutoNormal;
      o.seed = 1;
      out["M2"] = compare(m2, d2, o, quick ? 2 : 3, quick ? 5 : 10, rounds, 1.7);
      out["M2"]["model"] = "logistic regression, N = 10^6, D = 5 (generated, seed 20261204); auto_normal, 1 particle";
    }
  } catch (const std::exception& e) {
    out["error"] = e.what();
    std::cout << out.dump(2) << "\n";
    return 1;
  }
  out["load_average_after"] = load_average();
  std::cout << out.dump(2) << "\n";
  return 0;
}
