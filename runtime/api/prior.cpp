// vireo::sample_prior: forward sampling, the prior predictive. The model runs
// with no guide: every latent site draws from its prior (the handler stack's
// default behaviour), and the observe sites whose data item was left out
// (DataOptions::allow_missing_observed) are freed to draw as well, as Pyro's
// Predictive does without a guide. Observe sites with given data keep them;
// nothing is conditioned on them. The draws go into the same DrawTable as
// Fit::draws'.
//
// Random numbers: draw i runs with a generator derived from (seed, "prior",
// i) by the scheme of fit.cpp (splitmix64 chained over seed, purpose and
// counter; purpose 8 is after fit.cpp's last), so the draws do not depend on
// how many are asked for.
#include "runtime/api/data_impl.hpp"
#include "runtime/api/errors.hpp"
#include "runtime/api/limits.hpp"
#include "runtime/api/fit_impl.hpp"
#include "runtime/data/data_loader.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo {
namespace {

constexpr std::uint64_t prior_purpose = 8;

rng::Generator derived(std::uint64_t seed, std::uint64_t purpose, std::uint64_t counter) {
  std::uint64_t s = seed;
  s = rng::splitmix64(s) ^ (purpose * 0x9E3779B97F4A7C15ULL);
  s = rng::splitmix64(s) ^ counter;
  return rng::Generator(rng::splitmix64(s));
}

// Frees the observe sites whose target's data item was left out: they lose
// their (placeholder) value and the default behaviour draws them.
class SampleMissingHandler final : public handlers::Handler {
 public:
  SampleMissingHandler(const ir::Graph& g, const interp::DataSet& data) : free_(g.sites.size(), false) {
    for (const ir::Site& site : g.sites)
      free_[static_cast<std::size_t>(site.id)] = data.is_missing(data::observed_item(g, site));
  }

  void process(handlers::Message& msg) override {
    if (msg.type != handlers::MsgType::Sample || !msg.is_observed || !msg.site) return;
    if (msg.site->kind != ir::SiteKind::Observe || !free_[static_cast<std::size_t>(msg.site->id)]) return;
    msg.is_observed = false;
    msg.has_value = false;
    msg.done = false;
    msg.value = {};
  }

 private:
  std::vector<bool> free_;  // per site id
};

// One forward run: the latent, deterministic and freed observe sites.
infer::PosteriorDraw draw_forward(interp::Context& ctx, SampleMissingHandler& sample, handlers::Trace& trace) {
  ctx.begin_step();
  trace.clear();
  {
    // Outermost first: the trace sees the messages as the sampler left them.
    handlers::TraceHandler record(trace);
    handlers::HandlerStack::Scoped s1(ctx.handlers(), record);
    handlers::HandlerStack::Scoped s2(ctx.handlers(), sample);
    interp::Interpreter(ctx).run(ctx.graph().model);
  }
  // Latent, deterministic and sampled observed sites, as a posterior
  // predictive draw reads them (given data, factors and params are not draws).
  return infer::read_draw(trace, true);
}

}  // namespace

DrawTable sample_prior(const Model& model, const Data& data, long n, std::uint64_t seed, int max_depth) {
  return sample_prior(model, data, n, seed, max_depth, Limits{});
}

DrawTable sample_prior(const Model& model, const Data& data, long n, std::uint64_t seed, int max_depth,
                       const Limits& limits) {
  const detail::ModelImpl& m = detail::Access::impl(model);
  if (detail::Access::impl(data).model.get() != &m)
    api::fail(Error::Kind::Data, "the data were loaded for another model",
              "load the data with this model: vireo::Data::from_json_file(model, path, options)");
  if (n < 1)
    api::fail(Error::Kind::Options, "forward sampling needs at least 1 draw; got " + std::to_string(n),
              "ask for 1000 draws, say");
  const interp::DataSet& set = detail::Access::impl(data).set;
  params::ParamStore store;  // the model's `param`s, at their initial values
  rng::Generator rng(0);
  interp::Context ctx(m.graph, set, store, rng);
  if (max_depth < 1 || max_depth > interp::Context::max_call_depth_limit)
    api::fail(Error::Kind::Options,
              "--max-depth must be between 1 and " + std::to_string(interp::Context::max_call_depth_limit) + "; got " +
                  std::to_string(max_depth));
  ctx.set_max_call_depth(max_depth);
  ctx.set_limits(api::interp_limits(limits));
  ctx.set_seed(seed);  // params' random initialisers
  SampleMissingHandler sample(m.graph, set);
  handlers::Trace trace;
  std::vector<infer::PosteriorDraw> draws;
  draws.reserve(static_cast<std::size_t>(n));
  api::translate_errors(m.source, Error::Kind::Run, [&] {
    for (long i = 0; i < n; ++i) {
      rng = derived(seed, prior_purpose, static_cast<std::uint64_t>(i));
      draws.push_back(draw_forward(ctx, sample, trace));
    }
  });
  return api::make_table(draws);
}

Summary summarize(const DrawTable& table) { return api::summarize(table); }

}  // namespace vireo
