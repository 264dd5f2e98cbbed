// vireo_bench_flow: the normalizing-flow guide (auto_realnvp) beside
// AutoNormal on the same step budget, through the embedding API only
// (include/vireo), after the bench of Andrade, "Stable Training of Normalizing
// Flows for High-dimensional Variational Inference" (2024).
//   M5 horseshoe logistic regression (D = 1000, 2001 latent dimensions):
//     auto_normal; auto_realnvp with the stabilisers (soft clamp + LOFT),
//     without them (no clamp, no LOFT), with Pyro's hard clamp (no LOFT);
//     beside them auto_diagonal_normal with the flows' recipe.
//   M4 d = 1000 (exact log Z known): the evidence error of auto_normal and
//     the stabilised flow, both with FitOptions' defaults, 5000 steps.
// Per fit: steps, non-finite steps (refused and counted; the fit never
// stops), µs per step (this thread's CPU time), the running ELBO, the final
// ELBO as the mean over many fresh draws at the trained parameters
// (Fit::diagnose, not the training trace), and the importance-sampling
// evidence with its standard error, ESS and Pareto k̂ (Fit::evidence).
// Prints one JSON object.
//   vireo_bench_flow [--quick] [--only M5|M4] [--steps N] [--elbo-draws N] [--evidence-draws N] [--variant NAME] [--seed S]
//                    [--lr X] [--particles N] [--optim NAME] [--lrd X] [--estimator NAME]
//                    [--flow-layers N] [--flow-hidden N] [--flow-net-lr X] [--init-scale X]
// --quick: a tenth of the steps and draws. --steps: M5's step budget
// (default 10^4, the target), and its draws for the final ELBO
// (default 2000) and the evidence (10^4). --variant: that M5 fit alone. The
// other options override the recipe of the flows and of the diagonal
// Gaussian, to explore.
#include "vireo/vireo.hpp"

#include "bench_common.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace vireo::bench;

// Non-finite numbers as null (JSON has no NaN).
nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

struct Budget {
  long steps = 10000;
  long elbo_draws = 2000;
  long evidence_draws = 10000;
};

struct Variant {
  std::string name;
  vireo::FitOptions options;
};

nlohmann::json options_json(const vireo::FitOptions& o) {
  // `o` as the fit filled it in (Fit::options): every optional is set.
  nlohmann::json j = {{"guide", vireo::to_string(*o.guide)},
                      {"optim", vireo::to_string(o.optim)},
                      {"lr", *o.lr},
                      {"particles", *o.particles},
                      {"estimator", vireo::to_string(*o.estimator)},
                      {"init_scale", *o.init_scale},
                      {"lr_schedule", o.lr_schedule->text()},
                      {"average_last", *o.average_last}};
  if (o.optim == vireo::Optimizer::ClippedAdam) j["lrd"] = o.lrd;
  if (o.guide == vireo::Guide::AutoRealnvp)
    j.update({{"flow_layers", o.flow_layers},
              {"flow_hidden", o.flow_hidden},
              {"flow_clamp", vireo::to_string(o.flow_clamp)},
              {"flow_net_lr", o.flow_net_lr},
              {"loft_tau", o.loft_tau}});
  return j;
}

// Trains, then measures. A non-finite step is refused and counted; with
// max_nonfinite at its largest the fit goes on to the end of the budget.
nlohmann::json run_fit(const vireo::Model& model, const vireo::Data& data, const Variant& v, const Budget& b) {
  vireo::FitOptions o = v.options;
  o.on_nonfinite = vireo::OnNonfinite::Skip;
  o.max_nonfinite = INT_MAX;
  vireo::Fit fit(model, data, o);
  nlohmann::json out = options_json(fit.options());
  std::cerr << v.name << ": " << b.steps << " steps\n";
  // A run error (a draw whose values a distribution refuses, which the fit
  // counts as a non-finite step) is recorded with the stage it stopped.
  std::string stage = "training";
  try {
    const double t0 = cpu_seconds();
    fit.run(b.steps);  // as a user runs it: with the guide's iterate averaging
    const double t = cpu_seconds() - t0;
    out["steps"] = b.steps;
    out["nonfinite_steps"] = fit.rejected_steps();
    if (fit.rejected_steps() > 0) out["last_nonfinite"] = fit.last_rejection();
    out["us_per_step"] = 1e6 * t / static_cast<double>(std::max<long>(b.steps, 1));
    out["running_elbo"] = number(fit.running_elbo());
    stage = "final ELBO";
    const vireo::Diagnosis d = fit.diagnose(b.elbo_draws);
    out["final_elbo"] = {{"mean", number(d.elbo)}, {"draws", d.draws}};
    stage = "evidence";
    const vireo::Evidence e = fit.evidence(b.evidence_draws);
    out["evidence"] = {{"log_z", number(e.log_z)}, {"se", number(e.se)},   {"ess", e.ess},
                       {"khat", number(e.khat)},   {"khat_threshold", e.khat_threshold},
                       {"reliable", e.reliable},   {"draws", e.draws}};
  } catch (const vireo::Error& e) {
    out["error"] = {{"stage", stage}, {"message", e.what()}};
    out["nonfinite_steps"] = fit.rejected_steps();
  }
  return out;
}

vireo::FitOptions flow(const std::string& clamp, double tau, std::uint64_t seed) {
  vireo::FitOptions o;
  o.guide = vireo::Guide::AutoRealnvp;
  o.flow_clamp = vireo::parse_flow_clamp(clamp);
  o.loft_tau = tau;
  o.seed = seed;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string only, variant;
  std::uint64_t seed = 1;
  Budget m5;
  // Overrides of the flows' recipe (unset: FitOptions' defaults).
  vireo::FitOptions over;
  bool has_lr = false, has_particles = false, has_optim = false, has_lrd = false, has_estimator = false,
       has_layers = false, has_hidden = false, has_init_scale = false, has_net_lr = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const bool more = i + 1 < argc;
      if (a == "--quick") {
        quick = true;
      } else if (a == "--only" && more) {
        only = argv[++i];
      } else if (a == "--variant" && more) {
        variant = argv[++i];
      } else if (a == "--steps" && more) {
        m5.steps = std::stol(argv[++i]);
      } else if (a == "--elbo-draws" && more) {
        m5.elbo_draws = std::stol(argv[++i]);
      } else if (a == "--evidence-draws" && more) {
        m5.evidence_draws = std::stol(argv[++i]);
      } else if (a == "--seed" && more) {
        seed = std::stoull(argv[++i]);
      } else if (a == "--lr" && more) {
        over.lr = std::stod(argv[++i]), has_lr = true;
      } else if (a == "--particles" && more) {
        over.particles = std::stoi(argv[++i]), has_particles = true;
      } else if (a == "--optim" && more) {
        over.optim = vireo::parse_optimizer(argv[++i]), has_optim = true;
      } else if (a == "--lrd" && more) {
        over.lrd = std::stod(argv[++i]), has_lrd = true;
      } else if (a == "--estimator" && more) {
        over.estimator = vireo::parse_estimator(argv[++i]), has_estimator = true;
      } else if (a == "--flow-layers" && more) {
        over.flow_layers = std::stoi(argv[++i]), has_layers = true;
      } else if (a == "--flow-net-lr" && more) {
        over.flow_net_lr = std::stod(argv[++i]), has_net_lr = true;
      } else if (a == "--flow-hidden" && more) {
        over.flow_hidden = std::stoi(argv[++i]), has_hidden = true;
      } else if (a == "--init-scale" && more) {
        over.init_scale = std::stod(argv[++i]), has_init_scale = true;
      } else {
        throw std::invalid_argument(a);
      }
    }
  } catch (const std::exception&) {
    std::cerr << "usage: vireo_bench_flow [--quick] [--only M5|M4] [--steps N] [--elbo-draws N] [--evidence-draws N] "
                 "[--variant NAME] [--lr X] "
                 "[--particles N] [--optim NAME] [--lrd X] [--estimator NAME] [--flow-layers N] [--flow-hidden N] "
                 "[--flow-net-lr X] [--init-scale X] [--seed S]\n";
    return 2;
  }
  const auto recipe = [&](vireo::FitOptions o) {
    if (has_lr) o.lr = over.lr;
    if (has_particles) o.particles = over.particles;
    if (has_optim) o.optim = over.optim;
    if (has_lrd) o.lrd = over.lrd;
    if (has_estimator) o.estimator = over.estimator;
    if (has_layers) o.flow_layers = over.flow_layers;
    if (has_hidden) o.flow_hidden = over.flow_hidden;
    if (has_net_lr) o.flow_net_lr = over.flow_net_lr;
    if (has_init_scale) o.init_scale = over.init_scale;
    return o;
  };
  if (quick) {
    m5.steps /= 10;
    m5.elbo_draws /= 10;
    m5.evidence_draws /= 10;
  }
  const auto wanted = [&](const char* name) { return only.empty() || only == name; };
  try {
    nlohmann::json out;
    out["load_average_at_start"] = load_average();

    // M5: every fit on the same step budget. AutoNormal with MODELS.md's
    // schedule (Adam 0.01, 1 draw per step, Pyro's estimator); the flows with
    // the recipe (8 draws per step and STL, which cost the flow little: its
    // step is dominated by Adam and the copies of ~10^6 net parameters), and
    // once with FitOptions' defaults (1 draw, standard estimator); a diagonal
    // Gaussian (auto_diagonal_normal, the flow with no coupling layer) with
    // the recipe, to tell what the recipe buys from what the layers do.
    if (wanted("M5")) {
      const vireo::Model model = vireo::Model::from_file(examples + "horseshoe_logistic.vireo");
      const vireo::Data data = vireo::Data::from_json_file(model, shared + "horseshoe_logistic.json");
      vireo::FitOptions normal;
      normal.guide = vireo::Guide::AutoNormal;
      normal.seed = seed;
      const auto with_recipe = [](vireo::FitOptions o) {
        o.particles = 8;
        o.estimator = vireo::Estimator::Stl;
        return o;
      };
      vireo::FitOptions diagonal = with_recipe(normal);
      diagonal.guide = vireo::Guide::AutoDiagonalNormal;
      const std::vector<Variant> variants = {
          {"auto_normal", normal},
          {"auto_diagonal_normal_recipe", recipe(diagonal)},
          {"realnvp_soft_loft_defaults", flow("soft", 100, seed)},
          {"realnvp_soft_loft", recipe(with_recipe(flow("soft", 100, seed)))},
          {"realnvp_no_stabilisers", recipe(with_recipe(flow("none", 0, seed)))},
          {"realnvp_hard_clamp", recipe(with_recipe(flow("hard", 0, seed)))},
      };
      nlohmann::json fits;
      for (const Variant& v : variants)
        if (variant.empty() || variant == v.name) fits[v.name] = run_fit(model, data, v, m5);
      out["M5"] = fits;
    }

    // M4 d = 1000: the evidence error against the exact log Z.
    if (wanted("M4")) {
      const std::string stem = shared + "conjugate_linreg_d1000";
      const double log_z = read_json(stem + "_truth.json").at("log_marginal_likelihood");
      const vireo::Model model = vireo::Model::from_string(linreg_model, "m4.vireo");
      const vireo::Data data = vireo::Data::from_json_file(model, stem + ".json");
      Budget b;
      b.steps = quick ? 500 : 5000;
      b.elbo_draws = quick ? 100 : 1000;
      b.evidence_draws = quick ? 1000 : 10000;
      vireo::FitOptions normal;
      normal.guide = vireo::Guide::AutoNormal;
      normal.seed = seed;
      nlohmann::json fits;
      for (const Variant& v : {Variant{"auto_normal", normal}, Variant{"realnvp_soft_loft", recipe(flow("soft", 100, seed))}}) {
        nlohmann::json r = run_fit(model, data, v, b);
        r["log_z"] = log_z;
        r["evidence"]["error"] = number(r["evidence"]["log_z"].is_number() ? r["evidence"]["log_z"].get<double>() - log_z : NAN);
        fits[v.name] = r;
      }
      out["M4_d1000"] = fits;
    }
    out["load_average_at_end"] = load_average();
    std::cout << out.dump(1) << "\n";
  } catch (const vireo::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
