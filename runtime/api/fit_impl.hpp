// What a vireo::Fit holds, and the helpers that turn the runtime's records
// into the API's tables (draw_table.cpp, execution.cpp). Internal to runtime/api.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/api/model_impl.hpp"
#include "runtime/api/running_elbo.hpp"
#include "runtime/api/step_log.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/infer/posterior.hpp"
#include "runtime/infer/svi.hpp"
#include "runtime/infer/trace_elbo.hpp"
#include "runtime/infer/tracegraph_elbo.hpp"
#include "runtime/interp/context.hpp"
#include "runtime/optim/optimizer.hpp"
#include "runtime/par/parallel.hpp"
#include "runtime/params/param_store.hpp"
#include "runtime/rng/generator.hpp"
#include "vireo/vireo.hpp"

namespace vireo {

struct detail::FitImpl {
  std::shared_ptr<const detail::ModelImpl> model;
  interp::DataSet data;  // a copy: the Fit outlives the host's Data if it likes
  FitOptions options;
  optim::OptimOptions optim_options;
  params::ParamStore store;
  rng::Generator rng{0};  // reseeded before every step, draw and trace; ctx points at it
  std::unique_ptr<interp::Context> ctx;
  std::unique_ptr<par::Pool> pool;  // FitOptions::threads; lent to each step (par::Scope)
  std::unique_ptr<guide::Guide> guide;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<infer::Elbo> elbo;
  std::unique_ptr<infer::Svi> svi;
  // A data-parallel fit's meeting of the ranks in every step (distributed.cpp); null otherwise.
  std::unique_ptr<infer::StepExchange> exchange;
  infer::StabilityOptions stability;
  double lr_shrink = 1;  // shrink-lr's accumulated factor
  long steps = 0;  // steps taken, counting those before a load: the random stream's counter
  bool stepped = false;  // this Fit has run a step (its executions have met every subsampled plate)
  long applied = 0;  // of which applied (not refused): the schedule's and KL annealing's clock
  long rejected = 0;
  long refused_draws = 0;  // guide draws the model ruled out (log p = −∞), over this Fit's steps
  std::string last_rejection;
  std::vector<double> history;  // this Fit's steps
  api::StepLog step_log;  // the same steps' numbers, learning rates, annealing weights, refusals
  api::RunningElbo running;      // every step's, from a saved fit's window on
  // With iterate averaging the store holds the averaged parameters, which
  // draws, traces, evidence and saved files use; training goes on from the
  // last iterate, kept here until the next step puts it back.
  std::optional<params::ParamStore> iterate;
  // --elbo enum: the statements summed out; `exact` when nothing else is
  // latent and there is no parameter, so the elimination is the posterior.
  std::set<ir::SiteId> enum_sites;
  bool exact = false;
  double exact_log_z = 0;  // exact: log p(data), the ELBO with nothing left to fit
  std::string elbo_reason;  // why the default ELBO is the one it is (empty: chosen by the user)
  std::string elbo_note;    // advice about the user's choice of ELBO
  std::string shard_note;   // a data-parallel fit: what rank 0's outputs leave out

  void reseed(int purpose, std::uint64_t counter);
  // Puts the last iterate back into the store before training goes on.
  void resume_iterate();
  // (Re)builds svi from the parts above, at step `steps`.
  void make_svi();
  // Builds `elbo` from options.elbo, choosing the default (fit.cpp).
  void choose_elbo(int particles);
  std::vector<infer::PosteriorDraw> posterior(long n, bool predictive);
  std::vector<LearnedParam> learned_params();
};

namespace api {

// The draws as a table with CmdStan column names (draw_table.cpp).
DrawTable make_table(const std::vector<infer::PosteriorDraw>& draws);
// Per-site summaries of a table's columns (draw_table.cpp).
Summary summarize(const DrawTable& table);
// One execution, guide then model, every site with its log-density (execution.cpp).
Execution trace_once(interp::Context& ctx, guide::Guide& guide);
// The `param` statements' values at the current parameters, constrained,
// read from executions that call `reseed(k)` first (learned_params.cpp).
std::vector<LearnedParam> learned_params(interp::Context& ctx, guide::Guide& guide, const ir::Graph& graph,
                                         const std::function<void(long)>& reseed);
// Summary::to_json's "params" member (with its leading comma) and the
// printed table's "learned parameters" section; empty without params.
std::string learned_params_json(const std::vector<LearnedParam>& params);
std::string learned_params_table(const std::vector<LearnedParam>& params, int max_elements);

}  // namespace api
}  // namespace vireo
