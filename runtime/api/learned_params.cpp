// The learned `param` values of the model and of a hand-written guide, on
// their constrained scale, for Fit::learned_params and the summary (its
// "params" object and the printed table's "learned parameters" section).
// The store keeps them unconstrained; the constrained value is what the
// param statement yields, so it is read from an execution at the current
// parameters (the bounds of a param may be expressions of the data).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "runtime/api/fit_impl.hpp"

namespace vireo::api {

namespace {

// Param statements of the model, then of the guide, in program order; a
// name reached from both (a fn called by each) is listed once.
std::vector<std::pair<std::string, const char*>> param_sites(const ir::Graph& g) {
  std::vector<std::pair<std::string, const char*>> out;
  std::set<std::string> seen;
  auto add = [&](const std::vector<ir::SiteId>& ids, const char* program) {
    for (ir::SiteId id : ids) {
      const ir::Site& s = g.site(id);
      if (s.kind == ir::SiteKind::Param && seen.insert(s.name).second) out.emplace_back(s.name, program);
    }
  };
  add(g.model_sites, "model");
  add(g.guide_sites, "guide");
  return out;
}

}  // namespace

std::vector<LearnedParam> learned_params(interp::Context& ctx, guide::Guide& guide, const ir::Graph& graph,
                                         const std::function<void(long)>& reseed) {
  const auto wanted = param_sites(graph);
  std::vector<LearnedParam> out;
  if (wanted.empty()) return out;
  // A param under a branch may be missed by one execution: a few more try.
  std::map<std::string, const TraceEntry*> found;
  std::vector<Execution> runs;
  runs.reserve(8);  // `found` points into them
  for (long attempt = 0; attempt < 8 && found.size() < wanted.size(); ++attempt) {
    reseed(attempt);
    runs.push_back(trace_once(ctx, guide));
    for (const auto* side : {&runs.back().guide, &runs.back().model})
      for (const TraceEntry& e : *side)
        if (e.kind == "param") found.emplace(e.name, &e);
  }
  for (const auto& [name, program] : wanted) {
    auto it = found.find(name);
    if (it == found.end()) continue;
    const params::Entry* stored = ctx.store().find(name);
    out.push_back({name, program, stored ? stored->constraint : std::string(), it->second->shape, it->second->value});
  }
  return out;
}

std::string learned_params_json(const std::vector<LearnedParam>& params) {
  if (params.empty()) return {};
  nlohmann::ordered_json all = nlohmann::ordered_json::object();
  for (const auto& p : params) {
    nlohmann::ordered_json e;
    e["shape"] = p.shape;
    nlohmann::ordered_json v = nlohmann::ordered_json::array();
    for (double x : p.value) v.push_back(std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr));
    e["value"] = v;
    e["constraint"] = p.constraint;
    e["program"] = p.program;
    all[p.name] = e;
  }
  return ",\n \"params\": " + all.dump();
}

std::string learned_params_table(const std::vector<LearnedParam>& params, int max_elements) {
  if (params.empty()) return {};
  auto num = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", x);
    return std::string(buf);
  };
  auto shape_text = [](const std::vector<std::int64_t>& s) {
    std::string t = "[";
    for (std::size_t k = 0; k < s.size(); ++k) t += (k ? ", " : "") + std::to_string(s[k]);
    return t + "]";
  };
  std::size_t w = 0;
  for (const auto& p : params) w = std::max(w, p.name.size());
  std::string out = "learned parameters (constrained scale):\n";
  for (const auto& p : params) {
    std::string line = "  " + p.name + std::string(w - p.name.size() + 2, ' ') + p.program + "  ";
    if (!p.shape.empty()) line += shape_text(p.shape) + "  ";
    const std::size_t n = p.value.size(), shown = std::min(n, static_cast<std::size_t>(std::max(1, max_elements)));
    for (std::size_t i = 0; i < shown; ++i) line += (i ? " " : "") + num(p.value[i]);
    if (shown < n) line += " … (" + std::to_string(n - shown) + " more; all in --summary)";
    if (!p.constraint.empty() && p.constraint != "real") line += "  (" + p.constraint + ")";
    out += line + "\n";
  }
  return out;
}

}  // namespace vireo::api
