// TraceEnum_ELBO: discrete latent sites with finite support summed out
// exactly instead of sampled (Pyro's TraceEnum_ELBO; Obermeyer et al. 2019,
// "Tensor Variable Elimination for Plated Factor Graphs"), by running the
// model once per assignment of the enumerated sites and combining the log
// densities by variable elimination over the plates:
//   1. The guide draws the continuous sites (and any discrete site that is
//      not enumerated); the enumerated ones are hidden from it.
//   2. The model is replayed against the guide's draws once per assignment.
//      An enumerated site outside every plate (a change point, a coin) is
//      *global*: each of its values is a separate assignment. Sites inside
//      plates (mixture assignments) are *local*: one assignment gives every
//      element the same value, and elements are eliminated one by one — so
//      N assignments of K values cost K runs, not K^N. All local sites must
//      sit in the same plates, and their plates must not mix elements
//      (dependencies.hpp); the runtime refuses what it cannot eliminate.
//   3. For global assignment g and local assignment l, with B_g the terms
//      outside the local plates and A_{g,l}[n] the terms inside them summed
//      to plate element n:
//        log p(x, θ) = logsumexp_g ( B_g + s · Σ_n logsumexp_l A_{g,l}[n] )
//      (s: the plates' subsample scale). The particle's ELBO is that minus
//      log q of the guide's draws; its gradient is pathwise for the
//      continuous sites — exact in the discrete ones.
//   Chains: when the enumerated sites are the iterations of one statement in
//   a `for` loop (an HMM's states), the model is run K² times with the
//   states alternating (p, q, p, q, …), which gives every iteration's terms
//   for every pair of consecutive values, and the forward algorithm sums
//   them out in O(T·K²) instead of K^T. One more run at an irregular
//   assignment checks, on every evaluation, that the terms do factor so
//   (each iteration's depend on its own and the previous state only).
//   4. A discrete site that is not enumerated (Poisson, or `with
//      enumerate(none)`) stays a score-function site: log q · detach(ELBO −
//      b), with a decaying-average baseline (β = 0.9) per site.
// The same elimination gives each enumerated site's posterior given the
// continuous draws (Pyro's infer_discrete): conditional probabilities for
// summaries and a sampled value for draws.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lang/ir/graph.hpp"
#include "runtime/infer/posterior.hpp"
#include "runtime/infer/trace_elbo.hpp"

namespace vireo::infer {

// The largest support a site may have to be enumerated, and the most model
// runs one particle may take (LANGUAGE.md: "at most a few thousand values").
inline constexpr std::int64_t max_enumerated_support = 4096;
inline constexpr std::int64_t max_enumeration_runs = 20000;

// Static: which latent discrete sites of the model can be summed out.
struct Enumerability {
  std::set<ir::SiteId> sites;  // enumerable model statements
  // Discrete latent model statements that cannot be, with the reason
  // ("'n' has unbounded support (Poisson)", "its value decides whether 'x' runs").
  std::vector<std::pair<ir::SiteId, std::string>> refused;
  bool any_discrete() const { return !sites.empty() || !refused.empty(); }
};
// `guide_samples`: the names a hand-written guide samples (empty for automatic guides).
Enumerability enumerable_sites(const ir::Graph& graph, const std::set<std::string>& guide_samples);

// One enumerated site instance of a run.
struct EnumSite {
  std::string name;
  handlers::Frames frames;
  std::int64_t support = 0;  // values 0 … support − 1
  ad::Shape shape;           // the value's shape (its plates' sizes)
  const ir::Site* statement = nullptr;
  std::vector<std::int64_t> loop_index;  // the enclosing `for` loops' values
};

// The result of eliminating one particle's enumerated sites.
struct Elimination {
  ad::Var log_joint;  // log Σ_z p(x, z, θ) at the guide's θ (scaled)
  std::vector<EnumSite> globals, locals;
  handlers::Frames local_frames;
  std::int64_t global_count = 1, local_count = 1;  // assignments of each kind
  std::vector<double> log_global;                  // per global assignment: B_g + s Σ_n logsumexp_l A
  std::vector<std::vector<ad::Tensor>> local;      // [g][l]: A_{g,l}, one value per plate element
  // A chain (an HMM): the global sites are the iterations of one statement
  // in a `for` loop, each depending on the previous one only; eliminated
  // by the forward algorithm. chain_factor[t] holds the terms of iteration
  // t as a table [p * K + q] over (previous value p, value q) (t = 0: [q]).
  bool chain = false;
  std::vector<std::vector<double>> chain_factor;
  // The digits of assignment `a` among `sites` (mixed radix, first site slowest).
  static std::vector<std::int64_t> digits(std::int64_t a, const std::vector<EnumSite>& sites);
};

// Runs the model under replay(guide_trace) once per assignment of the
// enumerated statements `sites`; `scratch` keeps the traces' storage.
// Throws std::runtime_error naming the site when the structure cannot be
// eliminated (too many assignments, local sites in different plates, a
// value that changes which sites run).
Elimination eliminate(interp::Context& ctx, const std::set<ir::SiteId>& sites, const handlers::Trace& guide_trace,
                      std::vector<handlers::Trace>& scratch);

// One posterior draw of the enumerated sites given the elimination:
// sampled values (by name) and each site's conditional probabilities
// (support × elements, row-major [value][element]).
struct DiscreteDraw {
  std::map<std::string, ad::Tensor> values;
  std::map<std::string, std::vector<double>> probs;  // [k * elements + n]
};
DiscreteDraw sample_discrete(const Elimination& e, rng::Generator& g);

// A posterior draw (posterior.hpp) under enumeration: the guide draws the
// continuous sites, the enumerated ones are drawn from their conditional
// posterior given them (sample_discrete), and their probabilities ride along.
PosteriorDraw draw_posterior_enum(interp::Context& ctx, guide::Guide& guide, const std::set<ir::SiteId>& sites,
                                  bool predictive, std::vector<handlers::Trace>& scratch);
// One importance weight for the evidence: log Σ_z p(x, z, θ) − log q(θ) at a
// guide draw θ (ctx.begin_step() is called here).
double enum_log_weight(interp::Context& ctx, guide::Guide& guide, const std::set<ir::SiteId>& sites,
                       std::vector<handlers::Trace>& scratch);

class TraceEnumElbo final : public Elbo {
 public:
  TraceEnumElbo(const ir::Graph& graph, std::set<ir::SiteId> sites, int particles);
  ElboEstimate loss(interp::Context& ctx, guide::Guide& guide) override;
  std::string name() const override { return "enum"; }
  void end_step() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  const std::set<ir::SiteId>& sites() const { return sites_; }
  // Latent sites the guide drew in the last loss() (0: every latent site was summed out).
  std::size_t guided_sites() const { return guided_; }

 private:
  const ir::Graph& graph_;
  std::set<ir::SiteId> sites_;
  int particles_;
  std::size_t guided_ = 0;
  std::vector<handlers::Trace> guides_, scratch_;
  // Decaying averages of the particle ELBO, per score-function site.
  std::map<std::string, std::pair<double, long>> baselines_, pending_;
};

}  // namespace vireo::infer
