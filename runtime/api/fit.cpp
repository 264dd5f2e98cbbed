// vireo::Fit: one SVI fit (runtime/infer) behind the embedding API — its
// parameter store, guide, optimizer, estimator and random generator.
//
// Random numbers: step k runs with a generator derived from (seed, "step",
// k), posterior draw i with one derived from (seed, "draw", i), a trace with
// (seed, "trace", k), evidence draw i with (seed, "evidence", i). With
// several particles, particle p of step k draws from a generator keyed by
// that step's and p, and a large site's draws come in chunks keyed by their
// index (infer::run_particles, rng::fill_standard_normal): the numbers do not
// depend on FitOptions::threads. No
// generator state outlives a step, so saving the parameters, the optimizer
// state and k — with the ELBOs the running ELBO's window still needs and,
// under iterate averaging, the last iterate — is enough to resume a fit bit
// for bit.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "runtime/api/data_impl.hpp"
#include "runtime/api/distributed.hpp"
#include "runtime/api/errors.hpp"
#include "runtime/api/limits.hpp"
#include "runtime/api/fit_impl.hpp"
#include "runtime/api/init_values.hpp"
#include "runtime/infer/diagnose.hpp"
#include "runtime/infer/evaluate.hpp"
#include "runtime/guide/auto_vector.hpp"
#include "runtime/infer/enum_elbo.hpp"
#include "runtime/infer/evidence.hpp"
#include "runtime/infer/iterate_average.hpp"
#include "runtime/infer/meanfield_elbo.hpp"
#include "runtime/io/atomic_file.hpp"

namespace vireo {
namespace {

enum class Purpose : std::uint64_t { Step = 1, Draw = 2, Trace = 3, GradVar = 4, Evidence = 5, Diagnose = 6, Params = 7, Evaluate = 9 };
// Purpose 8 is a param's random initialiser (runtime/interp/site.cpp), whose
// counter is a hash of the param's name.

// A generator for (seed, purpose, counter): splitmix64 chained over the three
// words, so that nearby seeds and counters give unrelated streams.
rng::Generator derived(std::uint64_t seed, Purpose purpose, std::uint64_t counter) {
  std::uint64_t s = seed;
  s = rng::splitmix64(s) ^ (static_cast<std::uint64_t>(purpose) * 0x9E3779B97F4A7C15ULL);
  s = rng::splitmix64(s) ^ counter;
  return rng::Generator(rng::splitmix64(s));
}

// An evaluation (a diagnosis, a gradient variance, an evidence estimate)
// changes nothing: the estimator only proposes (Elbo::end_step applies, and
// only SVI calls it), and the parameters an evaluation had to create — run
// before the first step, it meets a store without them — are removed when it
// ends, so the first step creates them from its own random stream.
class EvaluationScope {
 public:
  explicit EvaluationScope(params::ParamStore& store) : store_(store), size_(store.size()) {}
  ~EvaluationScope() { store_.truncate(size_); }
  EvaluationScope(const EvaluationScope&) = delete;
  EvaluationScope& operator=(const EvaluationScope&) = delete;

 private:
  params::ParamStore& store_;
  std::size_t size_;
};

Guide default_guide(const detail::ModelImpl& m) { return m.graph.guide != ir::none ? Guide::Custom : Guide::AutoNormal; }

// `o` with every unset option taken from its guide's row of the registry
// (guide::guide_kinds; the table in vireo.hpp, above FitOptions). An unknown
// guide takes the custom row; make_guide refuses it with the list of names.
FitOptions with_guide_defaults(FitOptions o) {
  const guide::GuideKind* kind = guide::find_guide_kind(to_string(o.guide.value_or(Guide::Custom)));
  const guide::FitDefaults& d = kind->defaults;
  if (!o.estimator) o.estimator = parse_estimator(d.estimator);
  if (!o.lr) o.lr = d.lr;
  if (!o.init_scale) o.init_scale = d.init_scale;
  if (!o.lr_schedule) o.lr_schedule = LrSchedule::parse(d.lr_schedule);
  if (!o.particles) o.particles = d.particles;
  if (!o.average_last) o.average_last = d.average_last;
  return o;
}

}  // namespace

void detail::FitImpl::reseed(int purpose, std::uint64_t counter) {
  rng = derived(options.seed, static_cast<Purpose>(purpose), counter);
}

Fit::Fit(const Model& model, const Data& data, FitOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& f = *impl_;
  f.model = detail::Access::shared(model);
  if (detail::Access::impl(data).model.get() != f.model.get())
    api::fail(Error::Kind::Options, "the data were loaded for another model",
              "load the data with this model: vireo::Data::from_json_file(model, path)");
  if (const std::vector<std::string> left_out = data.missing(); !left_out.empty())
    api::fail(Error::Kind::Data,
              "the data leave out '" + left_out.front() + "', which only forward sampling (vireo::sample_prior) allows",
              "give every data item to fit the model");
  f.data = detail::Access::impl(data).set;
  if (!options.guide) options.guide = default_guide(*f.model);
  options = with_guide_defaults(std::move(options));
  f.options = options;
  const int particles = *options.particles;
  const Estimator estimator = *options.estimator;
  const std::string& file = f.model->source.name();

  // 1. The estimator's name (built in step 5, once the guide and the
  //    context exist: the default for discrete models runs the model once).

  // 2. The guide and its initialisation.
  guide::GuideOptions go;
  go.kind = to_string(*options.guide);
  go.init_scale = *options.init_scale;
  go.flow_layers = options.flow_layers;
  go.flow_hidden = options.flow_hidden;
  go.flow_clamp = to_string(options.flow_clamp);
  go.flow_alpha_pos = options.flow_alpha_pos;
  go.flow_alpha_neg = options.flow_alpha_neg;
  go.loft_tau = options.loft_tau;
  go.flow_base = to_string(options.flow_base);
  go.flow_net_lr = options.flow_net_lr;
  if (!(go.init_scale > 0) || !std::isfinite(go.init_scale))
    api::fail(Error::Kind::Options, "--init-scale must be a positive finite number; got " + std::to_string(go.init_scale));
  try {
    go.init = guide::InitStrategy::parse(options.init.text());
    go.init.values = api::read_init_values(f.model->graph, options.init_values_file, options.init_values);
    f.guide = guide::make_guide(go, f.model->graph);
  } catch (const std::invalid_argument& e) {
    api::fail(Error::Kind::Options, e.what(), {}, options.guide == Guide::Custom ? file : std::string());
  }
  if (estimator == Estimator::Stl) {
    if (!f.guide->set_sticking_the_landing(true))
      api::fail(Error::Kind::Options,
                "--estimator stl (sticking the landing) needs a guide with a log q: auto_delta is a point mass",
                "use --guide auto_normal, auto_diagonal_normal, auto_mvn, auto_lowrank_mvn, auto_realnvp or a guide block with it");
  }

  // 3. The optimizer.
  f.optim_options.name = to_string(options.optim);
  f.optim_options.lr = *options.lr;
  f.optim_options.clip_norm = options.clip_norm;
  f.optim_options.lrd = options.lrd;
  try {
    f.optimizer = optim::make_optimizer(f.optim_options);
  } catch (const std::invalid_argument& e) {
    api::fail(Error::Kind::Options, std::string("--optim ") + to_string(options.optim) + ": " + e.what());
  }

  // 4. Stability: the guard's policy, clipping, the schedule, KL annealing.
  try {
    f.stability.on_nonfinite = infer::parse_on_nonfinite(to_string(options.on_nonfinite));
    f.stability.max_consecutive = options.max_nonfinite;
    f.stability.clip_grad_norm = options.clip_grad_norm;
    f.stability.clip_value = options.clip_value;
    f.stability.schedule = optim::Schedule::parse(options.lr_schedule->text());
    f.stability.kl_anneal = options.kl_anneal;
    f.stability.kl_floor = options.kl_floor;
    f.stability.replay = options.replay_steps;
    infer::averaged_steps(1, *options.average_last);  // validates it
    f.ctx = std::make_unique<interp::Context>(f.model->graph, f.data, f.store, f.rng);
    f.ctx->set_seed(options.seed);  // params' random initialisers
    if (options.max_depth < 1 || options.max_depth > interp::Context::max_call_depth_limit)
      api::fail(Error::Kind::Options,
                "--max-depth must be between 1 and " + std::to_string(interp::Context::max_call_depth_limit) +
                    "; got " + std::to_string(options.max_depth),
                "each 100 nested calls run on a thread and stack of their own; a recursion deeper than " +
                    std::to_string(interp::Context::max_call_depth_limit) + " is better written as a `for` loop");
    f.ctx->set_max_call_depth(options.max_depth);
    f.ctx->set_limits(api::interp_limits(options.limits));  // the time limit counts from here
    if (options.threads < 1)
      api::fail(Error::Kind::Options, "--threads must be at least 1; got " + std::to_string(options.threads),
                "the results are the same on any number of threads; the default of `vireo run` is the machine's cores");
    f.pool = std::make_unique<par::Pool>(options.threads);
  } catch (const std::invalid_argument& e) {
    api::fail(Error::Kind::Options, e.what());
  }

  // A data-parallel fit (load_shard): the plate's share, the ranks' meeting in every step.
  if (const auto& shard = detail::Access::impl(data).shard) api::make_distributed(f, *shard);

  // 5. The estimator.
  f.choose_elbo(particles);
  f.options.elbo = parse_elbo(f.elbo->name());
  try {
    f.make_svi();
  } catch (const std::invalid_argument& e) {
    api::fail(Error::Kind::Options, e.what());
  }
}

// LANGUAGE.md: without --elbo, a model with discrete latent sites is fitted
// with `enum` when every one of them is enumerable (enumerable_sites, and
// one elimination at the initial parameters succeeds), else `tracegraph`;
// a model without any gets `trace`. The reason goes into the fit's header.
void detail::FitImpl::choose_elbo(int particles) {
  const ir::Graph& g = model->graph;
  std::set<std::string> guide_samples;
  if (guide->name() == "custom")
    for (ir::SiteId id : g.guide_sites)
      if (g.site(id).kind == ir::SiteKind::Sample) guide_samples.insert(g.site(id).name);
  const infer::Enumerability en = infer::enumerable_sites(g, guide_samples);
  std::string chosen = options.elbo ? to_string(*options.elbo) : "";
  auto site_list = [&](auto begin, auto end, auto name_of) {
    std::string out;
    std::size_t k = 0;
    for (auto it = begin; it != end; ++it, ++k) {
      if (k == 4) return out + ", …";
      out += (k ? ", " : "") + name_of(*it);
    }
    return out;
  };
  const std::string enumerable = site_list(en.sites.begin(), en.sites.end(), [&](ir::SiteId id) { return g.site(id).name; });
  // Whether the elimination works here, at the initial parameters: an
  // evaluation whose random stream and tape are thrown away.
  auto trial = [&](std::string& why) {
    const rng::Generator saved = rng;
    bool ok = true;
    try {
      ctx->begin_step();
      infer::TraceEnumElbo probe(g, en.sites, 1);
      infer::ElboEstimate e = probe.loss(*ctx, *guide);
      exact_log_z = e.elbo;
      // Nothing continuous to fit: the posterior is the elimination itself.
      bool any_param = !store.entries().empty();
      exact = !any_param && probe.guided_sites() == 0;
      (void)any_param;
    } catch (const std::exception& e) {
      ok = false;
      why = e.what();
    }
    rng = saved;
    return ok;
  };
  if (chosen.empty()) {
    if (!en.any_discrete()) {
      chosen = "trace";
    } else if (!en.refused.empty()) {
      chosen = "tracegraph";
      elbo_reason = "the model has discrete latent sites that cannot be summed out (" + en.refused.front().second +
                    "): score-function gradients with baselines";
    } else {
      std::string why;
      if (trial(why)) {
        chosen = "enum";
        elbo_reason = "every discrete latent site (" + enumerable + ") is summed out exactly";
      } else {
        chosen = "tracegraph";
        exact = false;
        elbo_reason = "the discrete latent sites cannot be summed out here (" + why +
                      "): score-function gradients with baselines";
      }
    }
  } else if (chosen == "enum") {
    if (en.sites.empty()) {
      std::string why = en.refused.empty() ? std::string("the model has no discrete latent site")
                                           : en.refused.front().second;
      api::fail(Error::Kind::Options, "--elbo enum: nothing to sum out: " + why,
                "use --elbo trace or tracegraph");
    }
    std::string why;
    if (!trial(why)) api::fail(Error::Kind::Run, "--elbo enum: " + why);
    elbo_reason = "summing out " + enumerable;
    if (!en.refused.empty()) elbo_reason += "; sampled with score-function gradients: " + en.refused.front().second;
  } else if (chosen == "trace" && en.any_discrete()) {
    elbo_note = "note: Trace_ELBO weights each discrete site's score term by the whole ELBO, the noisiest choice; "
                "--elbo tracegraph keeps only the terms downstream of each site and subtracts a baseline" +
                std::string(en.refused.empty() ? ", and --elbo enum (the default here) sums them out exactly" : "");
  }
  if (chosen != "enum") exact = false;
  try {
    if (chosen == "trace") {
      elbo = std::make_unique<infer::TraceElbo>(particles);
    } else if (chosen == "meanfield") {
      elbo = std::make_unique<infer::TraceMeanFieldElbo>(particles);
    } else if (chosen == "enum") {
      enum_sites = en.sites;
      elbo = std::make_unique<infer::TraceEnumElbo>(g, en.sites, particles);
      // Every run of the guide (traces, diagnoses, learned params) leaves
      // them to the model, which draws them from their priors there.
      guide->set_enumerated(&enum_sites);
    } else {
      infer::TraceGraphOptions to;
      to.particles = particles;
      to.default_baseline = infer::BaselineSpec::parse(options.baseline.text());
      if (to.default_baseline.leave_one_out && particles < 2)
        throw std::invalid_argument("the leave-one-out baseline needs at least 2 particles; add --particles 8, say");
      elbo = std::make_unique<infer::TraceGraphElbo>(g, to);
    }
  } catch (const std::invalid_argument& e) {
    api::fail(Error::Kind::Options, e.what());
  }
}

void detail::FitImpl::make_svi() {
  svi = std::make_unique<infer::Svi>(*ctx, *guide, *optimizer, *elbo, stability);
  svi->set_steps_taken(applied);
  svi->set_lr_shrink(lr_shrink);
  svi->set_base_lr(optim_options.lr);
  svi->set_exchange(exchange.get());
}

Fit::Fit(Fit&&) noexcept = default;
Fit& Fit::operator=(Fit&&) noexcept = default;
Fit::~Fit() = default;

const FitOptions& Fit::options() const { return impl_->options; }

FitOptions Fit::defaults_for(Guide guide) {
  FitOptions o;
  o.guide = guide;
  return with_guide_defaults(o);
}
std::string Fit::guide_name() const { return impl_->guide->name(); }

long Fit::replayed_steps() const { return impl_->svi ? impl_->svi->compiled().replayed() : 0; }

double Fit::step() {
  Impl& f = *impl_;
  api::check_deadline(*f.ctx, f.model->source.name(), f.steps);
  f.resume_iterate();
  f.reseed(static_cast<int>(Purpose::Step), static_cast<std::uint64_t>(f.steps));
  infer::StepResult r;
  const long refused_before = f.elbo->refused_draws();
  const double weight = f.svi->latent_weight(f.svi->steps_taken());  // the annealing clock before the step
  // This step's mini-batches (FitOptions::subsample); only the step's own
  // executions see the step number, evaluations draw independently.
  struct EpochStep {
    interp::Context& ctx;
    ~EpochStep() { ctx.set_epoch_step(std::nullopt); }
  } epoch_step{*f.ctx};
  if (f.options.subsample == Subsample::Epochs) f.ctx->set_epoch_step(static_cast<std::uint64_t>(f.steps));
  api::translate_errors(f.model->source, Error::Kind::Run, [&] {
    par::Scope threads(f.pool.get());  // the step's particles and large plates on FitOptions::threads
    r = f.svi->step();
  });
  f.ctx->set_epoch_step(std::nullopt);
  f.stepped = true;
  f.refused_draws += f.elbo->refused_draws() - refused_before;
  ++f.steps;
  f.applied = f.svi->steps_taken();
  double elbo = -r.loss;
  f.history.push_back(elbo);
  f.step_log.add(f.steps, r.lr, weight, !r.applied, r.rejected_because);
  f.running.add(elbo);
  f.lr_shrink = f.svi->lr_shrink();
  if (!r.applied) {
    ++f.rejected;
    f.last_rejection = r.rejected_because;
  }
  if (r.stop) {
    const std::string what = "the fit stopped at step " + std::to_string(f.steps) + ": " + r.rejected_because;
    // A latent draw the guide made so far out that the prior's log density
    // overflows: the scale, not the step size, is the trouble.
    const bool overflowed_draw = r.rejected_because.find("the guide drew it from") != std::string::npos;
    const std::string hint =
        overflowed_draw
            ? "the guide's draw lies so far outside the prior that its log density overflows: bound the guide's scale "
              "(softplus(s) + 0.001 rather than exp(s)), start the layer that computes it near 0 "
              "(init_normal(0, 0.01)), and clip with --clip-grad-norm 10; --elbo meanfield and --kl-anneal cannot "
              "help while the draw itself overflows (README: \"The VAE's KL blow-up\")"
        : f.options.on_nonfinite == OnNonfinite::Stop
            ? "no parameter took a non-finite value; try a smaller --lr, --clip-grad-norm 10, or --on-nonfinite skip"
            : "no parameter took a non-finite value; try a smaller --lr, --clip-grad-norm 10, --kl-anneal, or a "
              "guide initialised nearer the data (--init, or starting values per site with --init-values FILE.json)";
    // With the place in the program when a distribution refused its parameters.
    if (r.error)
      api::translate_errors(f.model->source, Error::Kind::Run,
                            [&] { throw interp::RunError(r.error->span(), what, hint); });
    api::fail(Error::Kind::Run, what, hint);
  }
  return elbo;
}

void Fit::run(long n, const std::function<void(long, long, double)>& progress) {
  run_while(n, [&](long i, long total, double elbo) {
    if (progress) progress(i, total, elbo);
    return true;
  });
}

long Fit::run_while(long n, const std::function<bool(long, long, double)>& keep_going) {
  Impl& f = *impl_;
  // The averaging window is the last average_last of all the steps the fit
  // will have taken, those before a load too, so that a resumed fit averages
  // the steps an uninterrupted one would. Iterates before this run are not
  // kept: a run that starts inside its window averages its own steps only.
  // Nothing to fit: the elimination is the posterior (draws and evidence compute it).
  if (f.exact) return 0;
  const long averaged = std::min(n, infer::averaged_steps(f.steps + n, *f.options.average_last));
  infer::IterateAverage average;
  long ran = 0;
  for (long i = 0; i < n; ++i) {
    step();
    ++ran;
    if (i >= n - averaged) average.add(f.store);
    // Stopped by the host: the run ends after this step, the window cut
    // short where it was (the iterates of it that ran are averaged; none
    // when it stopped before the window, leaving the last iterate).
    if (keep_going && !keep_going(i + 1, n, running_elbo())) break;
  }
  if (average.count() == 0) return ran;
  params::ParamStore last = f.store;
  average.write(f.store);
  f.iterate = std::move(last);
  return ran;
}

void detail::FitImpl::resume_iterate() {
  if (!iterate) return;
  // Values copied into the entries in place: the guide may hold on to them.
  for (params::Entry& e : store.entries())
    if (const params::Entry* last = iterate->find(e.name); last && last->unconstrained.size() == e.unconstrained.size())
      e.unconstrained = last->unconstrained;
  iterate.reset();
}

long Fit::steps_taken() const { return impl_->steps; }
long Fit::rejected_steps() const { return impl_->rejected; }
long Fit::refused_draws() const { return impl_->refused_draws; }
const std::string& Fit::last_rejection() const { return impl_->last_rejection; }
const std::vector<double>& Fit::elbo_history() const { return impl_->history; }
std::vector<StepRecord> Fit::step_history() const { return impl_->step_log.records(impl_->history); }

std::string Fit::step_history_csv() const {
  const auto number = [](double x) {
    if (std::isnan(x)) return std::string("nan");
    if (std::isinf(x)) return std::string(x > 0 ? "inf" : "-inf");
    return fmt::format("{:.17g}", x);
  };
  std::string out = "step,elbo,lr,latent_weight,rejected\n";
  for (const StepRecord& r : step_history())
    out += fmt::format("{},{},{},{},{}\n", r.step, number(r.elbo), number(r.lr), number(r.latent_weight), r.rejected ? 1 : 0);
  return out;
}
std::string Fit::notes() const {
  std::string out;
  for (const std::string* n : std::initializer_list<const std::string*>{&impl_->elbo_note, &impl_->elbo->note(), &impl_->shard_note})
    if (!n->empty()) out += (out.empty() ? "" : "\n") + *n;
  return out;
}
const std::string& Fit::elbo_reason() const { return impl_->elbo_reason; }
bool Fit::exact() const { return impl_->exact; }

std::map<std::string, double> Fit::gradient_variance(int draws) {
  Impl& f = *impl_;
  if (draws < 2) api::fail(Error::Kind::Options, "the gradient variance needs at least 2 draws; got " + std::to_string(draws));
  std::map<std::string, double> out;
  // Draw j uses a generator derived from (seed, "grad-var", j): the figures
  // do not depend on how many steps were taken before.
  api::translate_errors(f.model->source, Error::Kind::Run, [&] {
    f.reseed(static_cast<int>(Purpose::GradVar), static_cast<std::uint64_t>(f.steps));
    EvaluationScope scope(f.store);
    out = infer::gradient_variance(*f.ctx, *f.guide, *f.elbo, draws);
  });
  return out;
}

Evidence Fit::evidence(long draws) {
  Impl& f = *impl_;
  if (draws < 1)
    api::fail(Error::Kind::Options, "the evidence needs at least 1 draw; got " + std::to_string(draws),
              "use 10000 draws, say: the Pareto k̂ diagnostic needs a few hundred to be informative");
  infer::EvidenceEstimate e;
  api::translate_errors(f.model->source, Error::Kind::Run, [&] {
    EvaluationScope scope(f.store);
    if (f.enum_sites.empty()) {
      e = infer::estimate_evidence(*f.ctx, *f.guide, draws, [&](long i) {
        f.reseed(static_cast<int>(Purpose::Evidence), static_cast<std::uint64_t>(i));
      });
      return;
    }
    // Enumerated sites are summed out in each weight; with nothing else
    // latent, one weight is log Z itself.
    std::vector<handlers::Trace> scratch;
    std::vector<double> log_w;
    for (long i = 0; i < (f.exact ? 1 : draws); ++i) {
      f.reseed(static_cast<int>(Purpose::Evidence), static_cast<std::uint64_t>(i));
      log_w.push_back(infer::enum_log_weight(*f.ctx, *f.guide, f.enum_sites, scratch));
    }
    if (f.exact) {
      e.log_z = log_w[0];
      e.ess = 1;
      e.khat = -std::numeric_limits<double>::infinity();
      e.draws = 1;
      e.reliable = std::isfinite(log_w[0]);
      e.exact = true;
      e.warning = "note: every latent site is summed out: log Z is exact, not estimated";
      return;
    }
    e = infer::evidence_from_log_weights(log_w, f.guide->better_fit_advice());
  });
  Evidence out{e.log_z, e.se, e.ess, e.khat, e.khat_threshold, e.draws, e.reliable, e.warning};
  out.nan_draws = e.nan_draws;
  out.inf_draws = e.inf_draws;
  out.zero_draws = e.zero_draws;
  out.exact = e.exact;
  return out;
}

Evaluation Fit::evaluate(long draws, bool full_data) {
  Impl& f = *impl_;
  if (draws < 1) api::fail(Error::Kind::Options, "the evaluation needs at least 1 draw; got " + std::to_string(draws));
  infer::ElboEvaluation e;
  api::translate_errors(f.model->source, Error::Kind::Run, [&] {
    EvaluationScope scope(f.store);
    struct Restore {
      interp::Context& c;
      double weight;
      ~Restore() {
        c.set_full_plates(false);
        c.set_latent_weight(weight);
      }
    } restore{*f.ctx, f.ctx->latent_weight()};
    f.ctx->set_full_plates(full_data);
    f.ctx->set_latent_weight(1.0);
    e = infer::evaluate_elbo(*f.ctx, *f.guide, draws, f.enum_sites, [&](long i) {
      f.reseed(static_cast<int>(Purpose::Evaluate), static_cast<std::uint64_t>(i));
    });
  });
  Evaluation out;
  out.draws = e.draws;
  out.full_data = full_data;
  out.elbo = e.elbo;
  out.elbo_se = e.elbo_se;
  out.log_likelihood = e.log_likelihood;
  out.kl = e.kl;
  for (const auto& [name, nb] : subsampled_plates()) out.plates[name] = nb.first;
  for (const auto& u : e.units) out.units.push_back({u.site, u.plate, u.elements, u.variance, u.active});
  return out;
}

Diagnosis Fit::diagnose(long draws) {
  Impl& f = *impl_;
  if (draws < 1) api::fail(Error::Kind::Options, "the diagnosis needs at least 1 draw; got " + std::to_string(draws));
  infer::Diagnosis d;
  api::translate_errors(f.model->source, Error::Kind::Run, [&] {
    EvaluationScope scope(f.store);
    d = infer::diagnose(*f.ctx, *f.guide, *f.elbo, draws, [&](long i) {
      f.reseed(static_cast<int>(Purpose::Diagnose), static_cast<std::uint64_t>(i));
    });
  });
  Diagnosis out;
  out.draws = d.draws;
  out.elbo = d.elbo;
  for (const auto& s : d.sites)
    out.sites.push_back({s.name, s.kind, s.distribution, s.log_p, s.log_q, s.guide_mean, s.guide_sd, s.prior_mean, s.prior_sd});
  out.grad_norm = d.grad_norm;
  out.warnings = d.warnings;
  out.advice = d.advice;
  out.text = d.to_text();
  return out;
}

double Fit::running_elbo() const { return impl_->exact ? impl_->exact_log_z : impl_->running.mean(); }

std::optional<long> Fit::lr_decay_start() const {
  const optim::Schedule& schedule = impl_->svi->schedule();
  if (!schedule.adaptive()) return std::nullopt;
  return schedule.decay_start();
}

// See vireo.hpp: the last tenth of the finite step ELBOs against the tenth before.
std::string Fit::still_rising() const {
  const std::vector<double>& history = impl_->history;
  std::vector<double> h;
  for (double x : history)
    if (std::isfinite(x)) h.push_back(x);
  const std::size_t w = h.size() / 10;
  if (w < 20) return "";
  auto window = [&](std::size_t from, double& mean, double& var) {
    mean = 0;
    for (std::size_t i = from; i < from + w; ++i) mean += h[i] / static_cast<double>(w);
    var = 0;
    for (std::size_t i = from; i < from + w; ++i) var += (h[i] - mean) * (h[i] - mean) / static_cast<double>(w - 1);
  };
  double last, last_var, before, before_var;
  window(h.size() - w, last, last_var);
  window(h.size() - 2 * w, before, before_var);
  const double se = std::sqrt((last_var + before_var) / static_cast<double>(w));
  if (!(last - before > 4 * se)) return "";
  return fmt::format("mean of the last 10% of steps {:.2f} against {:.2f} over the 10% before", last, before);
}

std::vector<infer::PosteriorDraw> detail::FitImpl::posterior(long n, bool predictive) {
  std::vector<infer::PosteriorDraw> out;
  std::vector<handlers::Trace> scratch;
  out.reserve(static_cast<std::size_t>(std::max(0L, n)));
  api::translate_errors(model->source, Error::Kind::Run, [&] {
    for (long i = 0; i < n; ++i) {
      reseed(static_cast<int>(Purpose::Draw), static_cast<std::uint64_t>(i));
      out.push_back(enum_sites.empty() ? infer::draw_posterior(*ctx, *guide, predictive)
                                       : infer::draw_posterior_enum(*ctx, *guide, enum_sites, predictive, scratch));
    }
  });
  return out;
}

DrawTable Fit::draws(long n, bool predictive) { return api::make_table(impl_->posterior(n, predictive)); }

Summary Fit::summarize(long n, bool predictive) { return summarize(draws(n, predictive)); }

Summary Fit::summarize(const DrawTable& table) const {
  Summary s = api::summarize(table);
  s.elbo = running_elbo();
  s.params = impl_->learned_params();
  s.refused_draws = impl_->refused_draws;
  return s;
}

std::vector<LearnedParam> Fit::learned_params() { return impl_->learned_params(); }

std::map<std::string, std::pair<long, long>> Fit::subsampled_plates() {
  Impl& f = *impl_;
  if (f.ctx->subsampled_plates().empty() && !f.exact && !f.stepped) {
    EvaluationScope scope(f.store);
    f.reseed(static_cast<int>(Purpose::Trace), static_cast<std::uint64_t>(f.steps));
    api::translate_errors(f.model->source, Error::Kind::Run, [&] { api::trace_once(*f.ctx, *f.guide); });
  }
  std::map<std::string, std::pair<long, long>> out;
  for (const auto& [name, nb] : f.ctx->subsampled_plates()) out[name] = {static_cast<long>(nb.first), static_cast<long>(nb.second)};
  return out;
}

std::vector<LearnedParam> detail::FitImpl::learned_params() {
  // Execution k uses a generator derived from (seed, "params", k); nothing is updated.
  std::vector<LearnedParam> out;
  api::translate_errors(model->source, Error::Kind::Run, [&] {
    out = api::learned_params(*ctx, *guide, model->graph,
                              [&](long k) { reseed(static_cast<int>(Purpose::Params), static_cast<std::uint64_t>(k)); });
  });
  return out;
}

Execution Fit::trace() {
  Impl& f = *impl_;
  f.reseed(static_cast<int>(Purpose::Trace), static_cast<std::uint64_t>(f.steps));
  Execution e;
  api::translate_errors(f.model->source, Error::Kind::Run, [&] { e = api::trace_once(*f.ctx, *f.guide); });
  return e;
}

std::string Fit::params_json() const {
  const Impl& f = *impl_;
  nlohmann::json state = {{"optimizer_name", to_string(f.options.optim)},
                          {"optimizer", f.optimizer->state()},
                          {"guide", f.guide->name()},
                          {"seed", f.options.seed},
                          {"steps", f.steps},
                          {"applied_steps", f.applied},
                          {"lr_shrink", f.lr_shrink},
                          {"elbo", to_string(*f.options.elbo)},
                          {"elbo_state", f.elbo->state()},
                          {"running_elbo", f.running.to_json()}};
  std::string out;
  api::translate_errors(f.model->source, Error::Kind::Io, [&] {
    // The last iterate, which training resumes from, when the parameters are averaged.
    if (f.iterate) state["iterate"] = f.iterate->to_json().at("params");
    // What an adaptive schedule has recorded of the ELBOs, which it decides from.
    if (f.svi->schedule().adaptive()) state["lr_schedule_state"] = f.svi->schedule().state();
    out = f.store.to_json(state).dump(1) + "\n";
  });
  return out;
}

void Fit::save_params(const std::string& path) const { write_files_atomically({{path, params_json()}}); }

void Fit::load_params(const std::string& path) {
  Impl& f = *impl_;
  std::string other_guide;  // the guide the file was saved by, when it is not this fit's
  api::translate_errors(
      f.model->source, Error::Kind::Io,
      [&] {
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(io::read_file(path));
        } catch (const nlohmann::json::parse_error& e) {
          throw std::runtime_error(path + ": not valid JSON: " + e.what());
        }
        // Everything is read into fresh objects first: a bad file changes nothing.
        params::ParamStore store;
        nlohmann::json state;
        try {
          state = store.load_json(j);
        } catch (const std::exception& e) {
          throw std::runtime_error(path + ": " + e.what());
        }
        auto optimizer = optim::make_optimizer(f.optim_options);
        long steps = f.steps;
        long applied = f.applied;
        double shrink = 1;
        std::optional<params::ParamStore> iterate;
        api::RunningElbo running = f.running;
        optim::Schedule schedule = f.stability.schedule;  // as parsed: a file without its state starts afresh
        if (state.is_object()) {
          // Parameters of another guide would be ignored and the guide run
          // from its initial values: refused, before anything changes.
          if (state.contains("guide") && state["guide"].is_string() && state["guide"] != f.guide->name()) {
            other_guide = state["guide"].get<std::string>();
            return;
          }
          if (state.contains("optimizer_name") && state["optimizer_name"] != to_string(f.options.optim))
            throw std::runtime_error(path + ": the parameters were trained with --optim " +
                                     state["optimizer_name"].get<std::string>() + ", not " + to_string(f.options.optim));
          if (state.contains("optimizer")) optimizer->load_state(state["optimizer"]);
          if (state.contains("steps")) steps = applied = state["steps"].get<long>();
          // Files from before refused steps stopped the schedule's clock: every step counted.
          if (state.contains("applied_steps")) applied = state["applied_steps"].get<long>();
          if (state.contains("lr_shrink")) shrink = state["lr_shrink"].get<double>();
          try {
            running = state.contains("running_elbo") ? api::RunningElbo::from_json(state["running_elbo"])
                                                     : api::RunningElbo::starting_at(steps);
            if (running.steps() != steps) throw std::runtime_error("the running ELBO does not end at the saved step");
            if (state.contains("lr_schedule_state")) schedule.load_state(state["lr_schedule_state"]);
            if (state.contains("iterate")) {
              iterate.emplace();
              iterate->load_json({{"format", "vireo-params"}, {"version", 1}, {"params", state["iterate"]}});
            }
          } catch (const std::exception& e) {
            throw std::runtime_error(path + ": " + e.what());
          }
          // Last of the checks: it throws (changing nothing) or replaces the averages whole.
          if (state.contains("elbo_state") && state.value("elbo", std::string()) == to_string(*f.options.elbo))
            f.elbo->load_state(state["elbo_state"]);
        }
        f.store = std::move(store);
        f.optimizer = std::move(optimizer);
        f.steps = steps;
        f.applied = applied;
        f.lr_shrink = shrink;
        f.running = std::move(running);
        f.iterate = std::move(iterate);
        f.make_svi();
        f.svi->set_schedule(std::move(schedule));
      },
      path);
  if (!other_guide.empty())
    api::fail(Error::Kind::Io,
              "does not hold the parameters of the guide " + f.guide->name() + ": it was saved by a fit with the guide " +
                  other_guide,
              "pass the --guide the fit used (`--guide " + other_guide + "`)", path);
}

std::map<std::string, Array> Fit::parameters() const {
  std::map<std::string, Array> out;
  for (const auto& e : impl_->store.entries())
    out[e.name] = Array{e.shape, std::vector<double>(e.unconstrained.begin(), e.unconstrained.end())};
  return out;
}

}  // namespace vireo
