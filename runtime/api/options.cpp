// The typed fit options (include/vireo/vireo.hpp): each enum's spellings,
// the parsers from them (with the accepted names and the closest one), and
// the validated builders, which check their text with the runtime's own
// parsers (baseline.hpp, init.hpp, schedule.hpp) so that the messages are
// the ones `vireo run` has always given.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "lang/diagnostic.hpp"
#include "runtime/api/errors.hpp"
#include "runtime/guide/init.hpp"
#include "runtime/infer/baseline.hpp"
#include "runtime/optim/optimizer.hpp"
#include "runtime/optim/schedule.hpp"
#include "vireo/vireo.hpp"

namespace vireo {
namespace {

template <class E, std::size_t N>
using Names = std::array<std::pair<E, const char*>, N>;

constexpr Names<Guide, 7> guide_names{{{Guide::AutoNormal, "auto_normal"},
                                       {Guide::AutoDiagonalNormal, "auto_diagonal_normal"},
                                       {Guide::AutoMvn, "auto_mvn"},
                                       {Guide::AutoLowrankMvn, "auto_lowrank_mvn"},
                                       {Guide::AutoRealnvp, "auto_realnvp"},
                                       {Guide::AutoDelta, "auto_delta"},
                                       {Guide::Custom, "custom"}}};
constexpr Names<Elbo, 4> elbo_names{
    {{Elbo::Trace, "trace"}, {Elbo::TraceGraph, "tracegraph"}, {Elbo::MeanField, "meanfield"}, {Elbo::Enum, "enum"}}};
constexpr Names<Optimizer, 5> optimizer_names{{{Optimizer::Adam, "adam"},
                                               {Optimizer::ClippedAdam, "clipped_adam"},
                                               {Optimizer::Sgd, "sgd"},
                                               {Optimizer::Adagrad, "adagrad"},
                                               {Optimizer::RmsProp, "rmsprop"}}};
constexpr Names<Subsample, 2> subsample_names{{{Subsample::Epochs, "epochs"}, {Subsample::Independent, "independent"}}};
constexpr Names<Estimator, 2> estimator_names{{{Estimator::Standard, "standard"}, {Estimator::Stl, "stl"}}};
constexpr Names<OnNonfinite, 3> on_nonfinite_names{
    {{OnNonfinite::Skip, "skip"}, {OnNonfinite::Stop, "stop"}, {OnNonfinite::ShrinkLr, "shrink-lr"}}};
constexpr Names<FlowClamp, 3> flow_clamp_names{
    {{FlowClamp::Soft, "soft"}, {FlowClamp::Hard, "hard"}, {FlowClamp::None, "none"}}};
constexpr Names<FlowBase, 2> flow_base_names{{{FlowBase::Normal, "normal"}, {FlowBase::StudentT, "student_t"}}};

template <class E, std::size_t N>
const char* name_of(const Names<E, N>& names, E v) {
  for (const auto& [e, n] : names)
    if (e == v) return n;
  return "?";
}

// `what` is the message's noun ("guide", "ELBO", "--optim"); the message is
// the one the runtime gave for the same mistake: "unknown guide 'x'; choose
// a, b or c", with the closest spelling as the hint.
template <class E, std::size_t N>
E parse_name(const Names<E, N>& names, const std::string& text, const std::string& what) {
  std::string choose, best;
  std::size_t best_d = text.size() / 2 + 2;
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i].second) return names[i].first;
    choose += (i ? (i + 1 == N ? " or " : ", ") : "") + std::string(names[i].second);
    if (std::size_t d = lang::edit_distance(text, names[i].second); d < best_d) best = names[i].second, best_d = d;
  }
  api::fail(Error::Kind::Options, "unknown " + what + " '" + text + "'; choose " + choose,
            best.empty() ? std::string() : "did you mean '" + best + "'?");
}

std::string option_text(double x) { return fmt::format("{}", x); }

// Runs a runtime parser on `text` for its checks; its message becomes an Options error.
template <class F>
void validated(F parse) {
  try {
    parse();
  } catch (const std::invalid_argument& e) {
    api::fail(Error::Kind::Options, e.what());
  }
}

}  // namespace

const char* to_string(Guide v) { return name_of(guide_names, v); }
const char* to_string(Elbo v) { return name_of(elbo_names, v); }
const char* to_string(Optimizer v) { return name_of(optimizer_names, v); }
const char* to_string(Subsample v) { return name_of(subsample_names, v); }
const char* to_string(Estimator v) { return name_of(estimator_names, v); }
const char* to_string(OnNonfinite v) { return name_of(on_nonfinite_names, v); }
const char* to_string(FlowClamp v) { return name_of(flow_clamp_names, v); }
const char* to_string(FlowBase v) { return name_of(flow_base_names, v); }

Guide parse_guide(const std::string& t) { return parse_name(guide_names, t, "guide"); }
Elbo parse_elbo(const std::string& t) { return parse_name(elbo_names, t, "ELBO"); }
Optimizer parse_optimizer(const std::string& t) {
  if (t == "lbfgs") validated([&] {  // refused with the reason (optimizer.cpp)
      optim::OptimOptions o;
      o.name = t;
      optim::make_optimizer(o);
    });
  return parse_name(optimizer_names, t, "optimizer");
}
Subsample parse_subsample(const std::string& t) { return parse_name(subsample_names, t, "--subsample"); }
Estimator parse_estimator(const std::string& t) { return parse_name(estimator_names, t, "--estimator"); }
OnNonfinite parse_on_nonfinite(const std::string& t) {
  return parse_name(on_nonfinite_names, t, "--on-nonfinite policy");
}
FlowClamp parse_flow_clamp(const std::string& t) { return parse_name(flow_clamp_names, t, "flow clamp"); }
FlowBase parse_flow_base(const std::string& t) { return parse_name(flow_base_names, t, "flow base"); }

Baseline Baseline::parse(const std::string& text) {
  validated([&] { infer::BaselineSpec::parse(text); });
  return Baseline(text.empty() ? "none" : text);
}
Baseline Baseline::avg(double beta) { return beta == 0.9 ? Baseline("avg") : parse("avg:" + option_text(beta)); }
Baseline Baseline::value(double x) { return parse("value:" + option_text(x)); }
Baseline Baseline::loo() { return Baseline("loo"); }
Baseline Baseline::none() { return Baseline("none"); }
Baseline Baseline::plus(const Baseline& other) const {
  if (text_ == "none") return other;
  if (other.text_ == "none") return *this;
  return parse(text_ + "+" + other.text_);
}

Init Init::parse(const std::string& text) {
  validated([&] { guide::InitStrategy::parse(text); });
  return Init(text);
}
Init Init::median() { return Init("median"); }
Init Init::mean() { return Init("mean"); }
Init Init::sample() { return Init("sample"); }
Init Init::feasible() { return Init("feasible"); }
Init Init::uniform(double radius) { return parse("uniform(" + option_text(radius) + ")"); }

LrSchedule LrSchedule::parse(const std::string& text) {
  validated([&] { optim::Schedule::parse(text); });
  return LrSchedule(text == "none" ? std::string() : text);
}
LrSchedule LrSchedule::exp(double gamma) { return parse("exp:" + option_text(gamma)); }
LrSchedule LrSchedule::step(long every, double gamma) { return parse(fmt::format("step:{}:{}", every, option_text(gamma))); }
LrSchedule LrSchedule::inv_sqrt(long steps) { return parse(fmt::format("inv_sqrt:{}", steps)); }
LrSchedule LrSchedule::warmup(long steps) { return parse(fmt::format("warmup:{}", steps)); }
LrSchedule LrSchedule::plateau(long steps) { return parse(fmt::format("plateau:{}", steps)); }
LrSchedule LrSchedule::then(const LrSchedule& next) const {
  if (is_constant()) return next;
  if (next.is_constant()) return *this;
  return parse(text_ + "+" + next.text_);
}

}  // namespace vireo
