// vireo::LogDensity: the model's joint log density and its gradient at
// values the host chooses, in the unconstrained space (Stan's model_base:
// log_prob, log_prob_grad, transform_inits, write_array), for hosts that
// bring their own optimiser or sampler.
//
// The model runs without a guide under one handler (PointHandler) that, at
// each latent site, takes the site's slice of the host's vector as a leaf of
// the tape, maps it through biject_to(the site's support) — the transforms
// the automatic guides use — and gives the model that value; the log|det J|
// of the maps is summed beside. The trace's log-densities (scaled as in the
// ELBO: by plates' subsample factors and `scale` blocks) plus that sum is the
// log density; one backward pass gives its gradient. The supports are taken
// when the site runs, so a support that depends on another latent (Uniform(0,
// a)) is mapped at the value that latent has.
//
// The latent sites and their shapes come from two forward runs of the model
// (seeds 0 and 1) when the LogDensity is made: a discrete site, a subsampled
// plate, or a site set that differs between the runs is refused, naming the
// site; an evaluation that meets another site set is refused the same way.
#include <fmt/format.h>

#include <algorithm>

#include "runtime/api/data_impl.hpp"
#include "runtime/api/errors.hpp"
#include "runtime/api/limits.hpp"
#include "runtime/api/model_impl.hpp"
#include "runtime/handlers/trace.hpp"
#include "runtime/interp/interpreter.hpp"
#include "stdlib/constraints/biject_to.hpp"

namespace vireo {

namespace {

std::vector<std::int64_t> to_vector(const ad::Shape& s) {
  std::vector<std::int64_t> v;
  for (auto d : s) v.push_back(d);
  return v;
}

ad::Shape to_shape(const std::vector<std::int64_t>& v) {
  ad::Shape s;
  for (auto d : v) s.push_back(d);
  return s;
}

[[noreturn]] void refuse(const handlers::Message& msg, const std::string& what, const std::string& hint) {
  if (msg.site) throw interp::RunError(msg.site->span, what, hint);
  throw std::runtime_error(what + (hint.empty() ? "" : "; " + hint));
}

// Discovery: records the latent sites of a forward run (values drawn from
// the prior by the default behaviour); refuses what LogDensity cannot serve.
class DiscoverHandler final : public handlers::Handler {
 public:
  void process(handlers::Message& msg) override {
    if (msg.type == handlers::MsgType::Subsample)
      throw std::runtime_error(fmt::format(
          "the model subsamples a plate ('{}'): its log density would be a random estimate",
          msg.name));
    if (msg.type != handlers::MsgType::Sample || msg.is_observed || msg.done) return;
    if (msg.fn->is_discrete())
      refuse(msg,
             fmt::format("site '{}' is discrete ({}): the log density in unconstrained space needs every latent "
                         "site to be continuous",
                         msg.name, msg.fn->name()),
             "sum the site out in the model, or fit with vireo::Fit (--elbo enum)");
  }
  void postprocess(handlers::Message& msg) override {
    if (msg.type != handlers::MsgType::Sample || msg.is_observed) return;
    LogDensity::Site s;
    s.name = msg.name;
    s.shape = to_vector(msg.value.var.shape());
    s.constraint = msg.fn->support().name();
    auto t = constraints::biject_to(msg.fn->support());
    s.unconstrained_shape = to_vector(t->unconstrained_shape(msg.value.var.shape()));
    s.size = static_cast<std::size_t>(ad::Shape(s.unconstrained_shape).numel());
    sites.push_back(std::move(s));
  }
  std::vector<LogDensity::Site> sites;
};

// Evaluation: gives each latent site its value from the host's unconstrained
// vector (Mode::Constrain), or reads the host's constrained value and maps it
// back (Mode::Unconstrain).
class PointHandler final : public handlers::Handler {
 public:
  enum class Mode { Constrain, Unconstrain };
  PointHandler(const std::vector<LogDensity::Site>& sites, Mode mode) : sites_(sites), mode_(mode) {}

  const double* unconstrained = nullptr;                  // Constrain
  const std::map<std::string, Array>* given = nullptr;    // Unconstrain
  bool jacobian = true;
  ad::Var log_jacobian;
  std::vector<ad::Var> leaves;                // Constrain: per site
  std::map<std::string, Array> constrained;   // Constrain: per site
  std::vector<double> out;                    // Unconstrain: the vector
  std::size_t next = 0;

  void process(handlers::Message& msg) override {
    if (msg.type != handlers::MsgType::Sample || msg.is_observed || msg.done) return;
    const std::size_t i = next++;
    if (i >= sites_.size() || sites_[i].name != msg.name)
      refuse(msg,
             fmt::format("site '{}' ran where {}: the model's latent site set changes between runs", msg.name,
                         i < sites_.size() ? "'" + sites_[i].name + "' ran before" : "no more sites ran before"),
             "LogDensity serves models whose latent sites are fixed in number and name");
    const LogDensity::Site& s = sites_[i];
    if (msg.fn->is_discrete())
      refuse(msg, fmt::format("site '{}' is discrete in this run", msg.name), {});
    ad::Tape& tape = *msg.tape;
    constraints::TransformPtr t = constraints::biject_to(msg.fn->support());
    ad::Shape want = msg.fn->batch_shape();
    for (auto d : msg.fn->event_shape()) want.push_back(d);
    if (to_vector(want) != s.shape)
      refuse(msg,
             fmt::format("site '{}' has shape {} in this run but {} when the LogDensity was made", msg.name,
                         ad::to_string(want), ad::to_string(to_shape(s.shape))),
             "LogDensity serves models whose latent sites keep their shapes");
    ad::Var y;
    if (mode_ == Mode::Constrain) {
      ad::Var u = tape.leaf(to_shape(s.unconstrained_shape), unconstrained + s.offset);
      leaves.push_back(u);
      y = t->forward(u);
      if (jacobian) {
        ad::Var j = ad::sum(t->log_abs_det_jacobian(u, y));
        log_jacobian = log_jacobian.valid() ? log_jacobian + j : j;
      }
      const ad::Tensor v = y.value();
      constrained[s.name] = Array{s.shape, std::vector<double>(v.data(), v.data() + v.numel())};
    } else {
      auto it = given->find(s.name);
      if (it == given->end())
        refuse(msg, fmt::format("unconstrain: no value given for site '{}'", s.name), "give every latent site");
      if (it->second.shape != s.shape || it->second.values.size() != static_cast<std::size_t>(ad::Shape(s.shape).numel()))
        refuse(msg,
               fmt::format("unconstrain: the value of site '{}' has shape {} and {} values; the site has shape {}",
                           s.name, ad::to_string(to_shape(it->second.shape)), it->second.values.size(),
                           ad::to_string(to_shape(s.shape))),
               {});
      ad::Tensor value(to_shape(s.shape), it->second.values);
      const ad::Tensor inside = msg.fn->support().check(value);
      if (std::any_of(inside.data(), inside.data() + inside.numel(), [](double x) { return x == 0.0; }))
        refuse(msg, fmt::format("unconstrain: the value of site '{}' is outside its support ({})", s.name,
                                msg.fn->support().name()),
               {});
      y = tape.constant(value);
      const ad::Tensor u = t->inverse(y).value();
      out.insert(out.end(), u.data(), u.data() + u.numel());
    }
    msg.value.var = y;
    msg.value.kind = interp::Kind::Real;
    msg.value.plates.clear();
    for (const auto& f : msg.frames) msg.value.plates.push_back(f.plate);
    msg.has_value = true;
    msg.done = true;
  }

 private:
  const std::vector<LogDensity::Site>& sites_;
  Mode mode_;
};

}  // namespace

struct detail::LogDensityImpl {
  std::shared_ptr<const detail::ModelImpl> model;
  interp::DataSet data;
  std::vector<LogDensity::Site> sites;
  std::size_t dimension = 0;
  params::ParamStore store;  // the model's `param`s at their initial values
  rng::Generator rng{0};
  std::unique_ptr<interp::Context> ctx;
  handlers::Trace trace;
  Limits limits;

  // One run of the model under `point`; returns the log density (a Var on
  // ctx's tape, valid until the next run).
  ad::Var run(PointHandler& point) {
    ctx->set_limits(api::interp_limits(limits));  // the time limit: per evaluation
    ctx->begin_step();
    trace.clear();
    rng = rng::Generator(0);
    {
      handlers::TraceHandler record(trace);
      handlers::HandlerStack::Scoped s1(ctx->handlers(), record);
      handlers::HandlerStack::Scoped s2(ctx->handlers(), point);
      interp::Interpreter(*ctx).run(ctx->graph().model);
    }
    if (point.next != sites.size())
      throw std::runtime_error(fmt::format("site '{}' did not run: the model's latent site set changes between runs",
                                           sites[point.next].name));
    trace.compute_log_probs();
    ad::Var lp = trace.log_prob_sum(ctx->tape());
    if (point.log_jacobian.valid()) lp = lp + point.log_jacobian;
    return lp;
  }
};

LogDensity::LogDensity(const Model& model, const Data& data) : LogDensity(model, data, Limits{}) {}

LogDensity::LogDensity(const Model& model, const Data& data, const Limits& limits) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.limits = limits;
  const detail::ModelImpl& m = detail::Access::impl(model);
  if (detail::Access::impl(data).model.get() != &m)
    api::fail(Error::Kind::Data, "the data were loaded for another model",
              "load the data with this model: vireo::Data::from_json_file(model, path)");
  if (!data.missing().empty())
    api::fail(Error::Kind::Data, "the log density needs every data item; '" + data.missing().front() +
                                     "' was left out");
  d.model = detail::Access::shared(model);
  d.data = detail::Access::impl(data).set;
  d.ctx = std::make_unique<interp::Context>(d.model->graph, d.data, d.store, d.rng);
  d.ctx->set_limits(api::interp_limits(limits));
  api::translate_errors(m.source, Error::Kind::Usage, [&] {
    std::vector<std::vector<Site>> runs;
    for (std::uint64_t seed : {0, 1}) {
      DiscoverHandler discover;
      d.ctx->begin_step();
      d.rng = rng::Generator(seed);
      handlers::HandlerStack::Scoped s(d.ctx->handlers(), discover);
      interp::Interpreter(*d.ctx).run(d.ctx->graph().model);
      runs.push_back(std::move(discover.sites));
    }
    const auto& a = runs[0];
    const auto& b = runs[1];
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i)
      if (i >= a.size() || i >= b.size() || a[i].name != b[i].name || a[i].shape != b[i].shape)
        throw std::runtime_error(fmt::format(
            "site '{}' differs between two forward runs of the model: its latent site set changes between runs, and "
            "LogDensity serves models whose latent sites are fixed in number, name and shape",
            i < a.size() ? a[i].name : b[i].name));
    d.sites = a;
  });
  for (Site& s : d.sites) {
    s.offset = d.dimension;
    d.dimension += s.size;
  }
}

LogDensity::LogDensity(LogDensity&&) noexcept = default;
LogDensity& LogDensity::operator=(LogDensity&&) noexcept = default;
LogDensity::~LogDensity() = default;

const std::vector<LogDensity::Site>& LogDensity::sites() const { return impl_->sites; }
std::size_t LogDensity::dimension() const { return impl_->dimension; }

namespace {
void check_size(std::size_t got, std::size_t want) {
  if (got != want)
    api::fail(Error::Kind::Usage,
              fmt::format("the unconstrained vector has {} values; the model's latent sites take {}", got, want),
              "size it by LogDensity::dimension()");
}
}  // namespace

double LogDensity::log_density(const std::vector<double>& unconstrained, std::vector<double>* gradient,
                               bool jacobian) {
  Impl& d = *impl_;
  check_size(unconstrained.size(), d.dimension);
  double value = 0;
  api::translate_errors(d.model->source, Error::Kind::Run, [&] {
    PointHandler point(d.sites, PointHandler::Mode::Constrain);
    point.unconstrained = unconstrained.data();
    point.jacobian = jacobian;
    // A sum and its gradient only: the model's independent loops may run as
    // one batch (interp::Context::batch_loops), as in SVI's steps.
    d.ctx->set_batch_loops(true);
    struct Unset {
      interp::Context& c;
      ~Unset() { c.set_batch_loops(false); }
    } unset{*d.ctx};
    ad::Var lp = d.run(point);
    value = lp.item();
    if (!gradient) return;
    gradient->assign(d.dimension, 0.0);
    d.ctx->tape().backward(lp);
    for (std::size_t i = 0; i < d.sites.size(); ++i) {
      const ad::Tensor g = point.leaves[i].grad();
      std::copy(g.data(), g.data() + g.numel(), gradient->begin() + static_cast<std::ptrdiff_t>(d.sites[i].offset));
    }
  });
  return value;
}

std::map<std::string, Array> LogDensity::constrain(const std::vector<double>& unconstrained) {
  Impl& d = *impl_;
  check_size(unconstrained.size(), d.dimension);
  std::map<std::string, Array> out;
  api::translate_errors(d.model->source, Error::Kind::Run, [&] {
    PointHandler point(d.sites, PointHandler::Mode::Constrain);
    point.unconstrained = unconstrained.data();
    point.jacobian = false;
    d.run(point);
    out = std::move(point.constrained);
  });
  return out;
}

std::vector<double> LogDensity::unconstrain(const std::map<std::string, Array>& constrained) {
  Impl& d = *impl_;
  std::vector<double> out;
  api::translate_errors(d.model->source, Error::Kind::Usage, [&] {
    PointHandler point(d.sites, PointHandler::Mode::Unconstrain);
    point.given = &constrained;
    d.run(point);
    out = std::move(point.out);
  });
  return out;
}

}  // namespace vireo
