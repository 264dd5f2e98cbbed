// Guides: the variational families. A guide runs once per particle and gives
// every latent site of the model a value with its log q, through the
// context's handler stack (the ELBO records them with a trace).
//   CustomGuide   the file's own `guide { … }` block
//   AutoGuide     the model's own program run with each latent site drawn
//                 from a guide distribution instead of its prior
//                 (LANGUAGE.md, "An automatic guide is run as the model's own
//                 program …"); per-site families create a site's parameters
//                 the first time its name appears.
#pragma once
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "runtime/guide/init.hpp"
#include "runtime/handlers/handler.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::guide {

// What one of a guide's parameters stands for, as the guide that made it
// says (diagnostics and messages ask the guide instead of reading names).
struct ParamRole {
  std::string role;   // the guide's word for it: "loc", "scale", "scale_tril", "logits", "layer0.scale.w1", …
  std::string site;   // the latent site it belongs to; empty: every continuous site jointly
  bool scale = false; // softplus of each stored value is a scale of q (diagnose checks for collapse)
};

class Guide {
 public:
  virtual ~Guide() = default;
  virtual std::string name() const = 0;
  // Whether the guide executes the model's own program (the automatic
  // guides do, drawing each latent site from its guide distribution), so
  // that its sites depend on each other as the model's do; a hand-written
  // guide has its own dependency structure (TraceGraph_ELBO reads this).
  virtual bool runs_model_program() const { return true; }
  // One draw of every latent site, through ctx.handlers().
  virtual void run(interp::Context& ctx) = 0;
  // A copy with the same state, for a particle that runs beside others on
  // another thread (a guide keeps per-run state); nullptr: this guide's
  // particles run one after another.
  virtual std::unique_ptr<Guide> clone() const { return nullptr; }
  // Sticking the landing (Roeder, Wu & Duvenaud 2017): log q of a
  // reparameterised draw taken with the guide's parameters detached, so only
  // the path through the draw carries a gradient; its variance vanishes as q
  // approaches the posterior. Returns false, changing nothing, for a guide
  // with no log q to detach (AutoDelta).
  virtual bool set_sticking_the_landing(bool /*on*/) { return false; }
  // What may bring this guide closer to a posterior whose tails it is too
  // light for (the evidence's Pareto k̂ above 0.7): the next family up from
  // this one, or what helps this family; completes "Fit a better guide (…)".
  virtual std::string better_fit_advice() const {
    return "more steps, or a richer family: auto_lowrank_mvn, auto_mvn, auto_realnvp";
  }
  // What the parameter `name` stands for when this guide makes it; nullopt
  // for one it does not (the model's `param`s, a hand-written guide's own,
  // whose names are all they have).
  virtual std::optional<ParamRole> parameter_role(const std::string& /*name*/) const { return std::nullopt; }

  // For the ELBO estimators' particles (infer::run_particle), which run the
  // model right after the guide: run_planned() may skip executing the model
  // program and draw from a plan of the sites recorded on earlier runs;
  // confirm() then checks the plan against the model's trace of this run
  // (the same latent sites, plates, scales and supports) and completes the
  // guide trace. When confirm() returns false the particle is redone with
  // run(). By default both are run() and true.
  virtual void run_planned(interp::Context& ctx) { run(ctx); }
  virtual bool confirm(handlers::Trace& /*guide_trace*/, const handlers::Trace& /*model_trace*/) { return true; }

  // The model statements `--elbo enum` sums out (enum_elbo.hpp): an automatic
  // guide gives their sites a placeholder value (0) and hides them from its
  // trace instead of drawing them. nullptr (the default): none.
  void set_enumerated(const std::set<ir::SiteId>* sites) { enumerated_ = sites; }
  const std::set<ir::SiteId>* enumerated_sites() const { return enumerated_; }

 protected:
  bool enumerated(const handlers::Message& msg) const {
    return enumerated_ && msg.site && enumerated_->count(msg.site->id) > 0;
  }

 private:
  const std::set<ir::SiteId>* enumerated_ = nullptr;
};

struct GuideOptions {
  std::string kind = "auto_normal";  // auto_normal | auto_delta | auto_diagonal_normal | auto_mvn | auto_lowrank_mvn | auto_realnvp | custom
  InitStrategy init;
  double init_scale = 0.1;  // initial standard deviation in the unconstrained space (Pyro's default since 1.4)
  int rank = 0;             // auto_lowrank_mvn: 0 = about sqrt(latent dimension)
  // auto_realnvp (auto_realnvp.hpp). Sized for a 2-core machine; Andrade
  // (2024) used 64 layers of hidden width 100 with 256 draws per step.
  int flow_layers = 4;              // affine coupling layers
  int flow_hidden = 32;             // hidden width of each scale and shift net
  std::string flow_clamp = "soft";  // the log-scale's clamp: soft (Andrade's asymmetric atan) | hard (Pyro's [−5, 3]) | none
  double flow_alpha_pos = 0.1, flow_alpha_neg = 2;  // the soft clamp's bounds above and below 0 (both > 0)
  double loft_tau = 100;            // LOFT's threshold; 0 = no LOFT layer
  std::string flow_base = "normal"; // the base: normal | student_t (degrees of freedom learned per coordinate)
  double flow_net_lr = 0;           // the coupling nets' learning rate relative to lr; 0 = min(1, 100/D)
};

// The options a fit takes from its guide when the user leaves them unset
// (vireo::FitOptions, whose comment has the table and the reasons).
struct FitDefaults {
  const char* estimator;    // standard | stl
  double lr;                // Adam's base learning rate
  double init_scale;        // the automatic guides' initial scale
  const char* lr_schedule;  // "" for a constant rate
  int particles;
  double average_last;      // iterate averaging's share of the last steps
};

// One row of the guide registry (registry.cpp): the name --guide takes, how
// to make the guide, and its fit defaults.
struct GuideKind {
  const char* name;
  std::unique_ptr<Guide> (*make)(const GuideOptions& o, const ir::Graph& graph);
  FitDefaults defaults;
};

// Every guide, in the order messages list them.
const std::vector<GuideKind>& guide_kinds();
// The row named `name`, or nullptr.
const GuideKind* find_guide_kind(const std::string& name);
// "auto_normal, auto_diagonal_normal, …, auto_delta or custom", for messages.
std::string guide_names();

// The guide `o.kind` for `graph` (its registry row's make); throws
// std::invalid_argument for an unknown kind, or "custom" when the file has
// no guide block.
std::unique_ptr<Guide> make_guide(const GuideOptions& o, const ir::Graph& graph);

// Runs the file's guide block.
class CustomGuide final : public Guide {
 public:
  explicit CustomGuide(const ir::Graph& g) : graph_(g) {}
  std::string name() const override { return "custom"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<CustomGuide>(*this); }
  bool runs_model_program() const override { return false; }
  void run(interp::Context& ctx) override;
  std::string better_fit_advice() const override {
    return "more steps, or a family with the posterior's correlations and tails, such as --guide auto_mvn or "
           "auto_realnvp";
  }
  // log q with the `param` values held fixed and the upstream draws live:
  // the guide runs twice (custom_guide.cpp).
  bool set_sticking_the_landing(bool on) override {
    stl_ = on;
    return true;
  }

 private:
  const ir::Graph& graph_;
  bool stl_ = false;
  handlers::Trace first_;  // sticking the landing: the first run's draws
};

// Base of the automatic guides: runs the model's program; at each latent
// sample site asks the subclass for a value and its log q; hides observed and
// deterministic sites from the guide's trace. Discrete latent sites get a
// per-site guide of their own family (discrete_site) under every subclass.
class AutoGuide : public Guide, private handlers::Handler {
 public:
  explicit AutoGuide(const ir::Graph& g, GuideOptions o) : graph_(g), opts_(std::move(o)) {}
  void run(interp::Context& ctx) override;
  // The plan (Pyro's auto guides take a prototype trace once; this one is
  // kept only while the model confirms it): the latent sites' messages as
  // this guide received them, recorded on interpreted runs. It is used once
  // two runs in a row recorded the same sites, and only when every latent
  // site is continuous, outside subsampled plates, with no `param` statement
  // or baseline expression on the way; a model whose sites change between
  // runs (a recursion, a branch on a latent value, a support that depends on
  // one) fails confirm() and goes back to interpreted runs. Only runs inside
  // an SVI step (Context::stepping) record, refute or drop the plan; others
  // draw from it as it stands or run interpreted. In a step that batches
  // loops, a batchable loop's latent sites are drawn as one batch each
  // (send_batch, continuous_batch).
  void run_planned(interp::Context& ctx) override;
  bool confirm(handlers::Trace& guide_trace, const handlers::Trace& model_trace) override;
  // Whether the next run_planned() draws from the plan.
  bool plan_ready() const { return plan_ready_; }
  // The per-site parameters every automatic guide names site_param(role,
  // site): auto.<role>.<site> (site names have no dots).
  std::optional<ParamRole> parameter_role(const std::string& name) const override;

 protected:
  // Sets msg.value (constrained), msg.log_prob (log q per element of the
  // site's plates, or finer) and msg.reparameterized for a continuous latent site.
  virtual void continuous_site(interp::Context& ctx, handlers::Message& msg) = 0;
  // A batchable loop's latent sites (ir::BatchLoop) drawn at once, in a
  // planned run of an SVI step that batches loops: `block` holds the plan's
  // messages of the loop's iterations, `k` sites each, iteration by
  // iteration; out[j] is set to one message for site j standing for every
  // iteration (name `x[lo..hi]`, Message::batch_first, the batch's frame),
  // with the values and log q that continuous_site would have given the
  // iterations' sites one by one, from the same random draws. False: this
  // guide draws them one by one.
  // `at` is block[0]'s position in the plan.
  virtual bool continuous_batch(interp::Context& /*ctx*/, std::size_t /*at*/, std::span<const handlers::Message> /*block*/,
                                std::size_t /*k*/, std::span<handlers::Message> /*out*/) {
    return false;
  }
  // The per-site guide of a discrete site: the same family with learned
  // logits (or rate), starting at the prior's parameters clipped to [1e-3, 1 − 1e-3].
  void discrete_site(interp::Context& ctx, handlers::Message& msg);
  // Creates the store entry `name` from a constrained initial value (first
  // appearance of a site) unless it exists; returns its leaf on this step's tape.
  ad::Var param(interp::Context& ctx, const std::string& name, const ad::Tensor& unconstrained_init,
                const std::string& constraint);
  bool has_param(interp::Context& ctx, const std::string& name) const;
  // The name of a per-site parameter: role is loc, scale, value or logits.
  static std::string site_param(const char* role, const std::string& site);
  // The site's value shape and its constrained initial value.
  ad::Tensor initial_value(interp::Context& ctx, const handlers::Message& msg);

  const ir::Graph& graph_;
  GuideOptions opts_;

 private:
  void process(handlers::Message& msg) override;
  // Whether this guide may draw from a plan (AutoNormal: its sites need only
  // their name, plates and support).
  virtual bool plannable() const { return false; }
  interp::Context* ctx_ = nullptr;
  bool noted_subsample_ = false;

 protected:
  bool planned() const { return mode_ == Mode::Planned; }
  // Changes whenever the plan does (what a plan position holds).
  std::uint64_t plan_version() const { return plan_version_; }
  // Thrown by continuous_site in a planned run when a site has no parameters
  // (a store was loaded since the plan was made): the run is abandoned.
  struct PlanMissed {};

 private:
  enum class Mode { Plain, Recording, Planned };
  Mode mode_ = Mode::Plain;      // during a run
  Mode last_run_ = Mode::Plain;  // what the last run_planned() did
  std::vector<handlers::Message> plan_, recording_;
  bool recording_ok_ = false;
  int agreeing_runs_ = 0;  // interpreted runs in a row that recorded plan_'s sites
  int needed_runs_ = 2;    // agreeing runs before the plan is used; doubles when the model refutes it
  bool plan_ready_ = false;
  bool plan_missed_ = false;
  handlers::Message scratch_;  // the planned run's message (keeps its storage)
  // The plan's messages from i on that are a batchable loop's latent sites,
  // drawn as one batch per site and sent on: how many it took (0: none, as
  // when the loop's iterations or supports differ from a batch's).
  std::size_t send_batch(interp::Context& ctx, std::size_t i);
  std::vector<handlers::Message> batch_;  // send_batch's messages (keep their storage)
  // How many of the plan's messages from i on are one batch (0: none), from
  // the plan alone; send_batch keeps it per plan position, until the plan changes.
  std::size_t batch_length(std::size_t i) const;
  static constexpr std::size_t unknown_length = static_cast<std::size_t>(-1);
  std::vector<std::size_t> batch_lengths_;  // per plan position
  std::uint64_t plan_version_ = 0;
  // Set when the model ran one by one a loop this guide drew as a batch
  // (its carried state did not fit one): batches are not drawn again.
  bool batches_refused_ = false;
  // A planned run refuted outside an SVI step: the rerun is interpreted,
  // and the plan stays as the steps left it (Context::stepping).
  bool skip_plan_once_ = false;
  bool last_stepping_ = false;  // whether the last run_planned() ran in a step
};

// AutoNormal: an independent Normal per unconstrained coordinate, loc at the
// init strategy's value, scale = softplus(ρ) starting at init_scale.
class AutoNormal final : public AutoGuide {
 public:
  using AutoGuide::AutoGuide;
  std::string name() const override { return "auto_normal"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<AutoNormal>(*this); }
  bool plannable() const override { return true; }
  // log q of a draw with loc and scale detached.
  bool set_sticking_the_landing(bool on) override {
    stl_ = on;
    return true;
  }

 protected:
  void continuous_site(interp::Context& ctx, handlers::Message& msg) override;
  bool continuous_batch(interp::Context& ctx, std::size_t at, std::span<const handlers::Message> block, std::size_t k,
                        std::span<handlers::Message> out) override;

 private:
  bool stl_ = false;
  // Where a plan position's loc and scale are in the store, found by name
  // once per plan and store generation (continuous_batch).
  struct Entries {
    std::uint64_t plan = static_cast<std::uint64_t>(-1), store = 0;  // valid for this plan and store generation
    std::size_t loc_at = 0, scale_at = 0;
  };
  std::vector<Entries> entries_;
};

// AutoDelta: a point mass per site (MAP estimation); log q = 0.
class AutoDelta final : public AutoGuide {
 public:
  using AutoGuide::AutoGuide;
  std::string name() const override { return "auto_delta"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<AutoDelta>(*this); }
  std::string better_fit_advice() const override {
    return "a guide with a density: auto_normal, auto_mvn or auto_realnvp";
  }

 protected:
  void continuous_site(interp::Context& ctx, handlers::Message& msg) override;
};

}  // namespace vireo::guide
