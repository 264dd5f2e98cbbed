#include "runtime/guide/init.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "stdlib/constraints/biject_to.hpp"

namespace vireo::guide {

InitStrategy InitStrategy::parse(const std::string& text) {
  InitStrategy s;
  std::string t = text.rfind("init_to_", 0) == 0 ? text.substr(8) : text;
  if (t == "median") s.kind = Kind::Median;
  else if (t == "mean") s.kind = Kind::Mean;
  else if (t == "sample") s.kind = Kind::Sample;
  else if (t == "feasible") s.kind = Kind::Feasible;
  else if (t == "value") s.kind = Kind::Value;
  else if (t.rfind("uniform", 0) == 0) {
    s.kind = Kind::Uniform;
    if (t.size() > 7) {
      if (t[7] != '(' || t.back() != ')') throw std::invalid_argument("init: write uniform(RADIUS), e.g. uniform(0.5)");
      s.radius = std::stod(t.substr(8, t.size() - 9));
      if (!(s.radius > 0)) throw std::invalid_argument("init: the uniform radius must be positive");
    }
  } else {
    throw std::invalid_argument("unknown init strategy '" + text +
                                "'; choose median, mean, sample, feasible or uniform(RADIUS) "
                                "(starting values per site: --init-values FILE.json)");
  }
  return s;
}

std::string InitStrategy::name() const {
  switch (kind) {
    case Kind::Median: return "init_to_median";
    case Kind::Mean: return "init_to_mean";
    case Kind::Sample: return "init_to_sample";
    case Kind::Feasible: return "init_to_feasible";
    case Kind::Uniform: return "init_to_uniform(" + std::to_string(radius) + ")";
    case Kind::Value: return "init_to_value";
  }
  return "init_to_median";
}

namespace {

ad::Tensor site_shape_tensor(const handlers::Message& msg) {
  ad::Shape s = msg.fn->batch_shape();
  for (auto d : msg.fn->event_shape()) s.push_back(d);
  return ad::Tensor(s);
}

// Unconstrained u mapped to the support: for feasible (u = 0) and uniform.
ad::Tensor from_unconstrained(const handlers::Message& msg, rng::Generator* rng, double radius) {
  auto t = constraints::biject_to(msg.fn->support());
  ad::Tape tape;
  ad::Shape ushape = t->unconstrained_shape(site_shape_tensor(msg).shape());
  ad::Tensor u(ushape, 0.0);
  if (rng)
    for (std::int64_t i = 0; i < u.numel(); ++i) u[i] = (2 * rng->uniform() - 1) * radius;
  return t->forward(tape.constant(u)).value();
}

ad::Tensor median_of_draws(const handlers::Message& msg, rng::Generator& rng, int draws) {
  ad::Tensor many = msg.fn->sample(rng, ad::Shape{draws});
  std::int64_t n = many.numel() / draws;
  ad::Tensor out(site_shape_tensor(msg).shape());
  std::vector<double> col(static_cast<std::size_t>(draws));
  for (std::int64_t j = 0; j < n; ++j) {
    for (int k = 0; k < draws; ++k) col[static_cast<std::size_t>(k)] = many[k * n + j];
    // The lower median, as torch.median returns.
    auto mid = col.begin() + (draws - 1) / 2;
    std::nth_element(col.begin(), mid, col.end());
    out[j] = *mid;
  }
  return out;
}

bool finite_and_inside(const handlers::Message& msg, const ad::Tensor& v) {
  for (std::int64_t i = 0; i < v.numel(); ++i)
    if (!std::isfinite(v[i])) return false;
  ad::Tensor ok = msg.fn->support().check(v);
  for (std::int64_t i = 0; i < ok.numel(); ++i)
    if (ok[i] == 0) return false;
  return true;
}

}  // namespace

// A starting value given by the user: the site's shape (or one number for
// all its elements), finite, inside the support. Refused with a message that
// names the element: an invalid start silently replaced would hide a typo.
ad::Tensor given_value(const ad::Tensor& given, const handlers::Message& msg) {
  const ad::Shape shape = site_shape_tensor(msg).shape();
  ad::Tensor v;
  if (given.shape() == shape || given.numel() == 1)
    v = given.numel() == 1 && given.shape() != shape ? ad::Tensor(shape, given[0]) : given;
  else
    throw std::invalid_argument(fmt::format("--init-values gives '{}' shape {}, but the site has shape {}", msg.name,
                                            ad::to_string(given.shape()), ad::to_string(shape)));
  const constraints::Constraint& support = msg.fn->support();
  ad::Tensor ok = support.check(v);
  for (std::int64_t i = 0; i < v.numel(); ++i) {
    const std::int64_t k = ok.numel() == v.numel() ? i : 0;
    if (std::isfinite(v[i]) && ok[k] != 0) continue;
    std::string element;
    if (v.numel() > 1) {
      std::vector<std::int64_t> index(static_cast<std::size_t>(shape.rank()));
      std::int64_t rest = i;
      for (int d = shape.rank() - 1; d >= 0; --d) {
        index[static_cast<std::size_t>(d)] = rest % shape[d];
        rest /= shape[d];
      }
      element = fmt::format("[{}]", fmt::join(index, ", "));
    }
    throw std::invalid_argument(fmt::format("--init-values: '{}{}' = {} is outside the support of {} ({})", msg.name,
                                            element, v[i], msg.fn->name(), support.name()));
  }
  return v;
}

ad::Tensor initial_value(const InitStrategy& s, const handlers::Message& msg, rng::Generator& rng) {
  if (auto it = s.values.find(msg.name); it != s.values.end()) return given_value(it->second, msg);
  ad::Tensor v;
  switch (s.kind) {
    case InitStrategy::Kind::Median:
      v = median_of_draws(msg, rng, s.median_draws);
      break;
    case InitStrategy::Kind::Mean:
      try {
        v = ad::broadcast_to(msg.fn->mean(), site_shape_tensor(msg).shape()).value();
      } catch (const std::exception&) {  // no closed-form mean (Cauchy): the median instead
        v = median_of_draws(msg, rng, s.median_draws);
      }
      break;
    case InitStrategy::Kind::Sample:
      v = msg.fn->sample(rng);
      break;
    case InitStrategy::Kind::Feasible:
      v = from_unconstrained(msg, nullptr, 0);
      break;
    case InitStrategy::Kind::Uniform:
      v = from_unconstrained(msg, &rng, s.radius);
      break;
    case InitStrategy::Kind::Value: {
      auto it = s.values.find(msg.name);
      v = it != s.values.end() ? it->second : median_of_draws(msg, rng, s.median_draws);
      break;
    }
  }
  if (!finite_and_inside(msg, v)) v = from_unconstrained(msg, nullptr, 0);
  return v;
}

}  // namespace vireo::guide
