#include "runtime/infer/nonfinite.hpp"

#include <fmt/format.h>

#include <cmath>

#include "stdlib/signatures/signature.hpp"

namespace vireo::infer {
namespace {

using handlers::MsgType;
using handlers::TraceSite;

// "[3]" for element 3 of a vector, "[1, 2]" for a matrix; "" for a scalar.
std::string where(const ad::Shape& shape, std::int64_t flat) {
  if (shape.rank() == 0) return "";
  std::vector<std::int64_t> idx(static_cast<std::size_t>(shape.rank()));
  for (int k = shape.rank() - 1; k >= 0; --k) {
    idx[static_cast<std::size_t>(k)] = flat % shape[k];
    flat /= shape[k];
  }
  return fmt::format(" at [{}]", fmt::join(idx, ", "));
}

// The first non-finite element of `t`: its index, or -1.
std::int64_t first_bad(const ad::Tensor& t) {
  for (std::int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i])) return i;
  return -1;
}

std::string number(double x) { return fmt::format("{:.6g}", x); }

// The element of a value that made element `bad` of its log-density
// non-finite. An event-shaped site (`z: real[8]` in a plate) has one
// log-density per event, so the culprit is the first non-finite element of
// that event, else its largest in magnitude (a finite value too large to
// square, say).
std::int64_t culprit(const ad::Tensor& v, std::int64_t lp_numel, std::int64_t bad) {
  if (v.numel() == 0) return -1;
  if (lp_numel <= 0 || v.numel() % lp_numel != 0) return std::min(bad, v.numel() - 1);
  const std::int64_t e = v.numel() / lp_numel;
  std::int64_t best = bad * e;
  for (std::int64_t i = bad * e; i < (bad + 1) * e; ++i) {
    if (!std::isfinite(v[i])) return i;
    if (std::abs(v[i]) > std::abs(v[best])) best = i;
  }
  return best;
}

// Calls f(name, value) for each parameter the site's distribution was built
// with (an alternative it was not built with, probs vs logits, is skipped).
template <class F>
void each_parameter(const TraceSite& s, F f) {
  if (!s.msg.fn) return;
  const sig::Signature* sg = sig::find(s.msg.fn->name());
  if (!sg) return;
  for (const auto& p : sg->params) {
    ad::Tensor v;
    try {
      v = s.msg.fn->param(p.name).value();
    } catch (const std::exception&) {
      continue;
    }
    if (v.numel() > 0) f(p.name, v);
  }
}

// A site's distribution parameters at element `at` of its value (a
// parameter broadcast from a smaller shape: its matching element).
std::string parameters_at(const TraceSite& s, std::int64_t at, std::int64_t value_numel) {
  std::vector<std::string> parts;
  each_parameter(s, [&](std::string_view name, const ad::Tensor& v) {
    const std::int64_t i = v.numel() == value_numel ? at : at % v.numel();
    parts.push_back(fmt::format("{} = {}", name, number(v[i])));
  });
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Describes the parameters of a site's distribution that are not finite (or
// all of them, briefly, when they are but the log-density is not).
std::string parameters(const TraceSite& s, bool only_bad) {
  std::vector<std::string> parts;
  each_parameter(s, [&](std::string_view name, const ad::Tensor& v) {
    const std::int64_t bad = first_bad(v);
    if (only_bad && bad < 0) return;
    const std::int64_t at = bad >= 0 ? bad : 0;
    parts.push_back(fmt::format("{} = {}{}", name, number(v[at]), v.numel() > 1 ? where(v.shape(), at) : ""));
  });
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Where element `flat` of an array of `shape` belongs to a site: its name
// and " at [i, j]". The trace entry of a loop run as one batch
// (Message::batch_first) holds every iteration, one per leading index: the
// element is named as the iteration's own site, `y[5]`, and placed within it.
std::pair<std::string, std::string> locate(const TraceSite& s, const ad::Shape& shape, std::int64_t flat) {
  if (s.msg.batch_first < 0 || !s.msg.site || shape.rank() == 0 || shape[0] == 0)
    return {s.msg.name, where(shape, flat)};
  ad::Shape inner;
  std::int64_t per = 1;
  for (int d = 1; d < shape.rank(); ++d) {
    inner.push_back(shape[d]);
    per *= shape[d];
  }
  return {fmt::format("{}[{}]", s.msg.site->name, s.msg.batch_first + flat / per), where(inner, flat % per)};
}

std::string describe(const TraceSite& s, const char* side, const TraceSite* drawn_by = nullptr) {
  const std::string dist = s.msg.fn ? std::string(s.msg.fn->name()) : std::string("?");
  auto head = [&](const std::string& name) { return fmt::format("{} site '{}' ({})", side, name, dist); };
  const bool guide = std::string(side) == "guide";
  std::string bad_params = parameters(s, true);
  if (!bad_params.empty()) return fmt::format("{}: {}", head(s.msg.name), bad_params);
  if (s.msg.has_value) {
    ad::Tensor v = s.msg.value.var.value();
    std::int64_t bad = first_bad(v);
    if (bad >= 0) {
      const auto [name, at] = locate(s, v.shape(), bad);
      return fmt::format("{}: its value is {}{}", head(name), number(v[bad]), at);
    }
  }
  if (s.has_log_prob) {
    ad::Tensor lp = s.log_prob.value();
    std::int64_t bad = first_bad(lp);
    if (bad >= 0) {
      std::string value, drawn;
      std::string ps = parameters(s, false);
      auto [name, at] = locate(s, lp.shape(), bad);
      if (s.msg.has_value) {
        ad::Tensor v = s.msg.value.var.value();
        const std::int64_t c = culprit(v, lp.numel(), bad);
        if (c >= 0) {
          const auto [vname, vat] = locate(s, v.shape(), c);
          value = fmt::format(" for value {}{}", number(v[c]), v.numel() > 1 ? vat : "");
          ps = parameters_at(s, c, v.numel());
          // A latent site's value comes from the guide: say where it drew it.
          if (drawn_by) {
            const std::string g = parameters_at(*drawn_by, c, v.numel());
            if (!g.empty())
              drawn = fmt::format("; the guide drew it from {}({})",
                                  drawn_by->msg.fn ? std::string(drawn_by->msg.fn->name()) : std::string("?"), g);
          }
        }
      }
      return fmt::format("{}: log {} = {}{}{}{}{}", head(name), guide ? "q" : "p", number(lp[bad]), at, value,
                         ps.empty() ? "" : " (" + ps + ")", drawn);
    }
  }
  return "";
}

}  // namespace

std::string describe_nonfinite(const ParticleTraces& t) {
  for (const auto& s : t.guide.sites())
    if (s.msg.type == MsgType::Sample && !s.msg.is_observed) {
      std::string d = describe(s, "guide");
      if (!d.empty()) return d;
    }
  for (const auto& s : t.model.sites())
    if (s.msg.type == MsgType::Sample && s.msg.mask) {
      const TraceSite* drawn_by = nullptr;
      if (!s.msg.is_observed)
        for (const auto& g : t.guide.sites())
          if (g.msg.type == MsgType::Sample && g.msg.name == s.msg.name) drawn_by = &g;
      std::string d = describe(s, "model", drawn_by);
      if (!d.empty()) return d;
    }
  return "";
}

std::string describe_parameter(const guide::Guide& guide, const std::string& name) {
  const std::optional<guide::ParamRole> r = guide.parameter_role(name);
  if (!r) return fmt::format("parameter '{}'", name);
  if (!r->site.empty()) return fmt::format("site '{}' (the automatic guide's {})", r->site, r->role);
  return fmt::format("the {} guide's '{}' (all continuous sites jointly)", guide.name(), r->role);
}

}  // namespace vireo::infer
