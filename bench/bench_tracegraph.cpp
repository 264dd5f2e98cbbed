// M3 (../shared/bench/MODELS.md): the Gaussian mixture with discrete
// assignments and a hand-written guide. Prints JSON: at the initial
// parameters, after 100 warm-up evaluations (so a decaying average has
// settled), the variance of ∂ELBO/∂phi summed over phi's N×K entries over
// 1000 draws, per estimator; then the ELBO reached after 3000 steps of
// Adam(0.05), estimated at the end from 1000 draws; and µs per step. The
// cases enum_* sum the assignments out (--elbo enum) with an automatic
// guide for the locations: their gradient variances are those of the guide's
// parameters (no phi). The case named …_average_last_0.1 ends on the parameters' mean over the last
// 10% of the steps (FitOptions::average_last) instead of the last iterate.
//   vireo_bench_tracegraph [steps=3000] [draws=1000] [seeds=7] [only=NAME]
// `seeds` seeds the training runs: one number, or a range such as 1-10, for
// which final_elbo is the mean over the seeds and final_elbo_seeds has the
// spread (one run's final ELBO varies by about ±0.5 nat with the seed, so
// compare means). `only` runs the estimators whose name contains NAME, or
// is exactly NAME when written =NAME.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lang/ir/compile.hpp"
#include "runtime/data/data_loader.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/infer/enum_elbo.hpp"
#include "runtime/infer/iterate_average.hpp"
#include "runtime/infer/svi.hpp"
#include "runtime/infer/tracegraph_elbo.hpp"

using namespace vireo;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Setup {
  std::string name;
  std::function<std::unique_ptr<infer::Elbo>(const ir::Graph&)> make;
  int particles = 1;
  double average_last = 0;  // FitOptions::average_last: the tail of the run averaged
  // enum: z summed out, so the guide is automatic (it must not sample z) and
  // the final ELBO is the estimator's own (a bound on log p(x) like the others).
  std::string guide = "custom";
  bool own_final_elbo = false;
};

}  // namespace

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 3000;
  int draws = argc > 2 ? std::atoi(argv[2]) : 1000;
  std::string seeds_arg = argc > 3 ? argv[3] : "7";
  std::uint64_t seed_lo = std::strtoull(seeds_arg.c_str(), nullptr, 10), seed_hi = seed_lo;
  if (auto dash = seeds_arg.find('-'); dash != std::string::npos) seed_hi = std::strtoull(seeds_arg.c_str() + dash + 1, nullptr, 10);
  if (seed_hi < seed_lo) {
    std::fprintf(stderr, "seeds: write one number or a range LO-HI\n");
    return 1;
  }
  std::string only = argc > 4 ? argv[4] : "";
  lang::SourceFile src("gmm.vireo", read(std::string(VIREO_SOURCE_DIR) + "/examples/gmm.vireo"));
  lang::Diagnostics diags;
  auto graph = ir::compile(src, diags);
  if (!graph) {
    std::fprintf(stderr, "%s", diags.render(src).c_str());
    return 1;
  }
  interp::DataSet data = data::load_json_file(*graph, std::string(VIREO_SHARED_DIR) + "/bench/data/gmm.json", src);

  auto tracegraph = [](const std::string& baseline, int particles) {
    return [=](const ir::Graph& g) -> std::unique_ptr<infer::Elbo> {
      infer::TraceGraphOptions o;
      o.particles = particles;
      o.default_baseline = infer::BaselineSpec::parse(baseline);
      return std::make_unique<infer::TraceGraphElbo>(g, o);
    };
  };
  std::vector<Setup> setups = {
      {"trace_elbo", [](const ir::Graph&) { return std::make_unique<infer::TraceElbo>(1); }, 1},
      {"tracegraph_none", tracegraph("none", 1), 1},
      {"tracegraph_avg_0.90", tracegraph("avg:0.9", 1), 1},
      {"tracegraph_avg_0.90_average_last_0.1", tracegraph("avg:0.9", 1), 1, 0.1},
      {"tracegraph_avg_0.90_8_particles", tracegraph("avg:0.9", 8), 8},
      {"tracegraph_loo_8_particles", tracegraph("loo", 8), 8},
      {"tracegraph_avg+loo_8_particles", tracegraph("avg+loo", 8), 8},
      {"enum_auto_normal",
       [](const ir::Graph& g) -> std::unique_ptr<infer::Elbo> {
         return std::make_unique<infer::TraceEnumElbo>(g, infer::enumerable_sites(g, {}).sites, 1);
       },
       1, 0, "auto_normal", true},
      {"enum_auto_normal_average_last_0.1",
       [](const ir::Graph& g) -> std::unique_ptr<infer::Elbo> {
         return std::make_unique<infer::TraceEnumElbo>(g, infer::enumerable_sites(g, {}).sites, 1);
       },
       1, 0.1, "auto_normal", true},
  };
  // gmm.vireo's guide carries `with baseline(beta = 0.9)` on z; the bench
  // compares estimators, so site options are overridden by a copy of the
  // graph whose z has none.
  ir::Graph plain = *graph;
  for (auto& s : plain.sites) s.baseline = ir::Baseline{};

  nlohmann::json out;
  out["model"] = "M3 gmm (N=500, K=3)";
  out["warmup"] = 100;
  out["draws"] = draws;
  out["steps"] = steps;
  out["seeds"] = seeds_arg;
  for (const auto& setup : setups) {
    bool exact = !only.empty() && only[0] == '=';
    if (exact ? setup.name != only.substr(1) : setup.name.find(only) == std::string::npos) continue;
    nlohmann::json r;
    // 1. Gradient variance at the initial parameters.
    {
      params::ParamStore store;
      rng::Generator rng(2026);
      interp::Context ctx(plain, data, store, rng);
      guide::GuideOptions go;
      go.kind = setup.guide;
      auto guide = guide::make_guide(go, plain);
      auto elbo = setup.make(plain);
      infer::gradient_variance(ctx, *guide, *elbo, 100);  // warm-up: averages settle
      auto var = infer::gradient_variance(ctx, *guide, *elbo, draws);
      if (setup.guide == "custom") {
        r["var_dphi_sum"] = var["phi"];
        // Per particle: P × the variance of the P-particle mean.
        r["var_dphi_sum_per_particle"] = var["phi"] * setup.particles;
        r["var_dm_sum"] = var["m"];
      } else {
        for (const auto& [name, v] : var) r["var_" + name] = v;  // no phi: the assignments are summed out
      }
    }
    // 2. Training, then the ELBO from fresh draws, once per seed.
    std::vector<double> finals;
    double us_per_step = 0;
    int rejected = 0;
    for (std::uint64_t seed = seed_lo; seed <= seed_hi; ++seed) {
      params::ParamStore store;
      rng::Generator rng(seed);
      interp::Context ctx(plain, data, store, rng);
      guide::GuideOptions go;
      go.kind = setup.guide;
      auto guide = guide::make_guide(go, plain);
      auto elbo = setup.make(plain);
      optim::OptimOptions oo;
      oo.name = "adam";
      oo.lr = 0.05;
      auto opt = optim::make_optimizer(oo);
      infer::Svi svi(ctx, *guide, *opt, *elbo);
      auto t0 = std::chrono::steady_clock::now();
      const long averaged = infer::averaged_steps(steps, setup.average_last);
      infer::IterateAverage average;
      for (int i = 0; i < steps; ++i) {
        rejected += svi.step().applied ? 0 : 1;
        if (i >= steps - averaged) average.add(store);
      }
      average.write(store);
      auto t1 = std::chrono::steady_clock::now();
      std::unique_ptr<infer::Elbo> final_elbo =
          setup.own_final_elbo ? setup.make(plain) : std::make_unique<infer::TraceElbo>(1);
      double sum = 0;
      for (int i = 0; i < draws; ++i) {
        ctx.begin_step();
        sum += final_elbo->loss(ctx, *guide).elbo;
      }
      finals.push_back(sum / draws);
      us_per_step += std::chrono::duration<double, std::micro>(t1 - t0).count() / steps;
    }
    double mean = 0, ss = 0;
    for (double f : finals) mean += f / static_cast<double>(finals.size());
    for (double f : finals) ss += (f - mean) * (f - mean);
    r["final_elbo"] = mean;
    if (finals.size() > 1)
      r["final_elbo_seeds"] = {{"values", finals},
                               {"sd", std::sqrt(ss / static_cast<double>(finals.size() - 1))},
                               {"min", *std::min_element(finals.begin(), finals.end())},
                               {"max", *std::max_element(finals.begin(), finals.end())}};
    r["us_per_step"] = us_per_step / static_cast<double>(finals.size());
    r["rejected_steps"] = rejected;
    out["estimators"][setup.name] = r;
    std::fprintf(stderr, "%s done\n", setup.name.c_str());
  }
  out["pyro_reference"] = {{"trace_elbo_var", 1.01e5}, {"tracegraph_avg_var", 4.9e3},
                           {"trace_elbo_final", -1269.8}, {"tracegraph_avg_final", -1257.5}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
