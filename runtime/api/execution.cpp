// One execution for `vireo trace`: the guide's draw and the model replayed
// against it (infer::run_particle), every site with its value and
// log-density, and the text form that prints it.
#include <cmath>
#include <cstdio>
#include <limits>

#include "runtime/api/fit_impl.hpp"

namespace vireo {
namespace {

std::vector<TraceEntry> entries(const handlers::Trace& trace, bool guide_side) {
  std::vector<TraceEntry> out;
  for (const auto& s : trace.sites()) {
    const handlers::Message& m = s.msg;
    TraceEntry e;
    e.name = m.name;
    switch (m.type) {
      case handlers::MsgType::Sample:
        e.kind = m.site && m.site->kind == ir::SiteKind::Factor ? "factor" : m.is_observed ? "observe" : "sample";
        break;
      case handlers::MsgType::Param: e.kind = "param"; break;
      case handlers::MsgType::Deterministic: e.kind = "deterministic"; break;
      case handlers::MsgType::Subsample: e.kind = "subsample"; break;
    }
    if (m.fn) e.distribution = std::string(m.fn->name());
    ad::Tensor v = m.value.var.value();
    e.shape = v.shape().to_vector();
    e.value.assign(v.data(), v.data() + v.numel());
    e.log_density = std::numeric_limits<double>::quiet_NaN();
    if (m.type == handlers::MsgType::Sample && s.has_log_prob)
      e.log_density = m.mask ? ad::sum(s.log_prob).item() * m.scale : 0.0;
    (void)guide_side;
    out.push_back(std::move(e));
  }
  return out;
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

}  // namespace

namespace api {

Execution trace_once(interp::Context& ctx, guide::Guide& guide) {
  ctx.begin_step();
  infer::ParticleTraces t;
  infer::run_particle(ctx, guide, t);
  Execution e;
  e.guide = entries(t.guide, true);
  e.model = entries(t.model, false);
  double lp = 0, lq = 0;
  for (const auto& s : e.model)
    if (s.kind == "sample" || s.kind == "observe" || s.kind == "factor") lp += s.log_density;
  for (const auto& s : e.guide)
    if (s.kind == "sample") lq += s.log_density;
  e.elbo = lp - lq;
  return e;
}

}  // namespace api

std::string Execution::to_text(int max_values) const {
  auto shape_text = [](const std::vector<std::int64_t>& s) {
    std::string t = "[";
    for (std::size_t k = 0; k < s.size(); ++k) t += (k ? ", " : "") + std::to_string(s[k]);
    return t + "]";
  };
  auto value_text = [&](const std::vector<double>& v) {
    std::size_t n = v.size(), limit = static_cast<std::size_t>(std::max(2, max_values));
    if (n == 1) return num(v[0]);
    std::string t = "[";
    if (n <= limit) {
      for (std::size_t i = 0; i < n; ++i) t += (i ? ", " : "") + num(v[i]);
    } else {
      for (std::size_t i = 0; i < limit - 1; ++i) t += num(v[i]) + ", ";
      t += "... " + num(v[n - 1]) + " (" + std::to_string(n) + " values)";
    }
    return t + "]";
  };
  auto section = [&](const char* title, const std::vector<TraceEntry>& sites, const char* density) {
    std::vector<std::vector<std::string>> rows = {{"site", "kind", "distribution", "shape", "value", density}};
    for (const auto& s : sites)
      rows.push_back({s.name, s.kind, s.distribution.empty() ? "-" : s.distribution, shape_text(s.shape),
                      value_text(s.value), std::isnan(s.log_density) ? "-" : num(s.log_density)});
    std::vector<std::size_t> w(6, 0);
    for (const auto& r : rows)
      for (std::size_t c = 0; c < 6; ++c) w[c] = std::max(w[c], r[c].size());
    std::string out = std::string(title) + "\n";
    for (const auto& r : rows) {
      std::string line = " ";
      for (std::size_t c = 0; c < 6; ++c) line += " " + r[c] + (c < 5 ? std::string(w[c] - r[c].size() + 1, ' ') : "");
      out += line + "\n";
    }
    return out;
  };
  std::string out = section("guide:", guide, "log q");
  out += section("model:", model, "log p");
  out += "elbo of this execution (sum log p - sum log q): " + num(elbo) + "\n";
  return out;
}

}  // namespace vireo
