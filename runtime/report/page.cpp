#include "runtime/report/page.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

#include "runtime/report/graphviz.hpp"
#include "runtime/report/vega_js.hpp"

namespace vireo::report {
namespace {

using json = nlohmann::ordered_json;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

std::string num(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "∞" : "−∞";
  return fmt::format("{:.4g}", x);
}

double number_at(const json& j, std::size_t i) {
  if (!j.is_array() || i >= j.size() || !j[i].is_number()) return nan;
  return j[i].get<double>();
}

// An anchor id for a site: letters, digits, '-' and '_' only.
std::string anchor(const std::string& site) {
  std::string id = "site-";
  for (unsigned char c : site) id += std::isalnum(c) || c == '_' ? static_cast<char>(c) : '_';
  return id;
}

// The base name of a loop site `x[3]`: `x`.
std::string base_name(const std::string& site) { return site.substr(0, site.find('[')); }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return nan;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// ---- Vega specifications ---------------------------------------------------

json axis(const std::string& orient, const std::string& scale, const std::string& title, int count = 5) {
  json a = {{"orient", orient}, {"scale", scale}, {"tickCount", count}, {"labelFontSize", 10}};
  if (!title.empty()) a["title"] = title;
  return a;
}

json base_spec(int width, int height, const std::string& title) {
  json s = {{"$schema", "https://vega.github.io/schema/vega/v5.json"},
            {"width", width},
            {"height", height},
            {"padding", 5},
            {"autosize", {{"type", "fit"}, {"contains", "padding"}}}};
  if (!title.empty()) s["title"] = {{"text", title}, {"fontSize", 12}, {"anchor", "start"}};
  return s;
}

// The ELBO per step, raw and smoothed, refused steps as red rules.
json elbo_spec(const std::vector<StepRecord>& history) {
  std::vector<double> finite;
  for (const auto& r : history)
    if (std::isfinite(r.elbo)) finite.push_back(r.elbo);
  // A trailing mean over a fiftieth of the steps (at least one).
  const std::size_t window = std::max<std::size_t>(1, history.size() / 50);
  json rows = json::array(), rejected = json::array();
  double sum = 0;
  std::vector<double> recent;
  std::size_t head = 0;
  for (const auto& r : history) {
    json row = {{"step", r.step}};
    if (std::isfinite(r.elbo)) {
      row["elbo"] = r.elbo;
      recent.push_back(r.elbo);
      sum += r.elbo;
      if (recent.size() - head > window) sum -= recent[head++];
      row["smooth"] = sum / static_cast<double>(recent.size() - head);
    }
    if (r.rejected) rejected.push_back({{"step", r.step}, {"why", r.rejected_because}});
    rows.push_back(row);
  }
  // The lower end at the 2nd percentile: a first step far below the rest
  // would flatten the curve that matters.
  double lo = quantile(finite, 0.02), hi = finite.empty() ? 0 : *std::max_element(finite.begin(), finite.end());
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  json s = base_spec(720, 260, "");
  s["data"] = {{{"name", "steps"}, {"values", rows}}, {{"name", "rejected"}, {"values", rejected}}};
  s["scales"] = {{{"name", "x"}, {"type", "linear"}, {"domain", {{"data", "steps"}, {"field", "step"}}}, {"range", "width"},
                  {"zero", false}, {"nice", false}},
                 {{"name", "y"}, {"type", "linear"}, {"domain", {lo, hi}}, {"range", "height"}, {"zero", false}, {"nice", true}},
                 {{"name", "color"}, {"type", "ordinal"}, {"domain", {"ELBO per step", "smoothed", "refused by the guard"}},
                  {"range", {"#9ecae1", "#08519c", "#d62728"}}}};
  s["axes"] = {axis("bottom", "x", "step"), axis("left", "y", "ELBO")};
  s["legends"] = {{{"fill", "color"}, {"orient", "right"}, {"symbolType", "stroke"}, {"stroke", "color"}}};
  s["marks"] = {
      {{"type", "rule"}, {"name", "refused"}, {"from", {{"data", "rejected"}}}, {"clip", true},
       {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "step"}}}, {"y", {{"value", 0}}},
                              {"y2", {{"signal", "height"}}}, {"stroke", {{"value", "#d62728"}}},
                              {"strokeOpacity", {{"value", 0.6}}}}}}}},
      {{"type", "line"}, {"name", "raw"}, {"from", {{"data", "steps"}}}, {"clip", true},
       {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "step"}}}, {"y", {{"scale", "y"}, {"field", "elbo"}}},
                              {"defined", {{"signal", "isValid(datum.elbo)"}}}, {"stroke", {{"value", "#9ecae1"}}},
                              {"strokeWidth", {{"value", 1}}}}}}}},
      {{"type", "line"}, {"name", "smoothed"}, {"from", {{"data", "steps"}}}, {"clip", true},
       {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "step"}}}, {"y", {{"scale", "y"}, {"field", "smooth"}}},
                              {"defined", {{"signal", "isValid(datum.smooth)"}}}, {"stroke", {{"value", "#08519c"}}},
                              {"strokeWidth", {{"value", 2}}}}}}}}};
  // A short fit (one that failed early) shows each step as a point too.
  if (history.size() <= 100)
    s["marks"].push_back(
        {{"type", "symbol"}, {"name", "points"}, {"from", {{"data", "steps"}}}, {"clip", true},
         {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "step"}}}, {"y", {{"scale", "y"}, {"field", "elbo"}}},
                                {"size", {{"value", 16}}}, {"fill", {{"value", "#08519c"}}},
                                {"opacity", {{"signal", "isValid(datum.elbo) ? 1 : 0"}}}}}}}});
  return s;
}

// One quantity per step (the learning rate, the annealing weight).
json step_line_spec(const std::vector<StepRecord>& history, const std::string& what, bool weight) {
  json rows = json::array();
  for (const auto& r : history) {
    const double v = weight ? r.latent_weight : r.lr;
    json row = {{"step", r.step}};
    if (std::isfinite(v)) row["v"] = v;
    rows.push_back(row);
  }
  json s = base_spec(340, 120, what);
  s["data"] = {{{"name", "steps"}, {"values", rows}}};
  s["scales"] = {{{"name", "x"}, {"type", "linear"}, {"domain", {{"data", "steps"}, {"field", "step"}}}, {"range", "width"},
                  {"zero", false}, {"nice", false}},
                 {{"name", "y"}, {"type", "linear"}, {"domain", {{"data", "steps"}, {"field", "v"}}}, {"range", "height"},
                  {"zero", true}, {"nice", true}}};
  s["axes"] = {axis("bottom", "x", "step"), axis("left", "y", "", 4)};
  s["marks"] = {{{"type", "line"}, {"from", {{"data", "steps"}}},
                 {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "step"}}}, {"y", {{"scale", "y"}, {"field", "v"}}},
                                        {"defined", {{"signal", "isValid(datum.v)"}}}, {"stroke", {{"value", "#31a354"}}},
                                        {"strokeWidth", {{"value", 1.5}}}}}}}}};
  return s;
}

// A histogram of one element's draws (as a density), with the prior's density beside it.
json histogram_spec(const std::string& label, const std::vector<double>& draws, const Prior* prior) {
  std::vector<double> finite;
  for (double x : draws)
    if (std::isfinite(x)) finite.push_back(x);
  // The whole range, unless a long tail (a HalfCauchy's) would squeeze the
  // bulk into a few bins: then the middle 99%, the rest counted in the title.
  double lo = quantile(finite, 0.005), hi = quantile(finite, 0.995);
  if (!finite.empty()) {
    const auto [min, max] = std::minmax_element(finite.begin(), finite.end());
    if (*max - *min <= 3 * (hi - lo)) {
      lo = *min;
      hi = *max;
    }
  }
  if (!(hi > lo)) {
    lo = (std::isfinite(lo) ? lo : 0) - 0.5;
    hi = lo + 1;
  }
  const int bins = 30;
  const double width = (hi - lo) / bins;
  std::vector<long> count(bins, 0);
  long outside = 0;
  for (double x : finite) {
    if (x < lo || x > hi) {
      ++outside;
      continue;
    }
    count[static_cast<std::size_t>(std::min(bins - 1, static_cast<int>((x - lo) / width)))]++;
  }
  json bars = json::array();
  for (int b = 0; b < bins; ++b)
    bars.push_back({{"x0", lo + b * width}, {"x1", lo + (b + 1) * width},
                    {"density", finite.empty() ? 0.0 : static_cast<double>(count[static_cast<std::size_t>(b)]) /
                                                           (static_cast<double>(finite.size()) * width)}});
  json curve = json::array();
  if (prior)
    for (int i = 0; i <= 100; ++i) {
      const double x = lo + (hi - lo) * i / 100.0;
      const double d = density(*prior, x);
      if (std::isfinite(d)) curve.push_back({{"x", x}, {"density", d}});
    }
  std::string title = label;
  if (outside > 0) title += fmt::format("  ({} draws outside)", outside);
  json s = base_spec(200, 110, title);
  s["data"] = {{{"name", "bins"}, {"values", bars}}, {{"name", "prior"}, {"values", curve}}};
  s["scales"] = {{{"name", "x"}, {"type", "linear"}, {"domain", {lo, hi}}, {"range", "width"}, {"zero", false}, {"nice", false}},
                 {{"name", "y"}, {"type", "linear"},
                  {"domain", {{"fields", {{{"data", "bins"}, {"field", "density"}}, {{"data", "prior"}, {"field", "density"}}}}}},
                  {"range", "height"}, {"zero", true}, {"nice", true}}};
  s["axes"] = {axis("bottom", "x", "", 4), axis("left", "y", "", 3)};
  s["marks"] = {{{"type", "rect"}, {"name", "histogram_bars"}, {"from", {{"data", "bins"}}},
                 {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "x0"}}}, {"x2", {{"scale", "x"}, {"field", "x1"}}},
                                        {"y", {{"scale", "y"}, {"field", "density"}}}, {"y2", {{"scale", "y"}, {"value", 0}}},
                                        {"fill", {{"value", "#6baed6"}}}, {"stroke", {{"value", "white"}}},
                                        {"strokeWidth", {{"value", 0.5}}}}}}}},
                {{"type", "line"}, {"name", "prior_density"}, {"from", {{"data", "prior"}}}, {"clip", true},
                 {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "x"}}}, {"y", {{"scale", "y"}, {"field", "density"}}},
                                        {"stroke", {{"value", "#e6550d"}}}, {"strokeWidth", {{"value", 1.5}}},
                                        {"strokeDash", {{"value", {4, 2}}}}}}}}}};
  return s;
}

// A discrete element's posterior probabilities as bars, the prior's as ticks.
json bars_spec(const std::string& label, const std::vector<double>& support, const std::vector<double>& probs,
               const Prior* prior) {
  json rows = json::array();
  for (std::size_t v = 0; v < support.size(); ++v) {
    json row = {{"value", num(support[v])}, {"p", probs[v]}};
    if (prior) row["prior"] = density(*prior, support[v]);
    rows.push_back(row);
  }
  json s = base_spec(std::clamp(static_cast<int>(support.size()) * 24, 120, 400), 110, label);
  s["data"] = {{{"name", "probs"}, {"values", rows}}};
  s["scales"] = {{{"name", "x"}, {"type", "band"}, {"domain", {{"data", "probs"}, {"field", "value"}}}, {"range", "width"},
                  {"padding", 0.2}},
                 {{"name", "y"}, {"type", "linear"}, {"domain", {0, 1}}, {"range", "height"}}};
  json x_axis = axis("bottom", "x", "");
  x_axis["labelOverlap"] = "parity";  // a long support: every other label, as often as needed
  s["axes"] = {x_axis, axis("left", "y", "", 3)};
  json marks = {{{"type", "rect"}, {"name", "posterior_probability"}, {"from", {{"data", "probs"}}},
                 {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "value"}}}, {"width", {{"scale", "x"}, {"band", 1}}},
                                        {"y", {{"scale", "y"}, {"field", "p"}}}, {"y2", {{"scale", "y"}, {"value", 0}}},
                                        {"fill", {{"value", "#6baed6"}}}}}}}}};
  if (prior)
    marks.push_back({{"type", "rect"}, {"name", "prior_probability"}, {"from", {{"data", "probs"}}},
                     {"encode", {{"enter", {{"x", {{"scale", "x"}, {"field", "value"}}}, {"width", {{"scale", "x"}, {"band", 1}}},
                                            {"y", {{"scale", "y"}, {"field", "prior"}}}, {"height", {{"value", 2}}},
                                            {"fill", {{"value", "#e6550d"}}}}}}}});
  s["marks"] = marks;
  return s;
}

// ---- HTML -----------------------------------------------------------------

class Html {
 public:
  std::string out;
  json specs = json::array();
  // A <div> the script renders spec `s` into.
  void plot(json s, const std::string& cls, const std::string& id = "") {
    out += "<div class=\"plot " + cls + "\"" + (id.empty() ? "" : " id=\"" + id + "\"") + " data-spec=\"" +
           std::to_string(specs.size()) + "\"></div>\n";
    specs.push_back(std::move(s));
  }
};

// The source with each latent site's name linked to its panel and comments greyed.
std::string linked_source(const std::string& text, const std::map<std::string, std::string>& links) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#') {
      const std::size_t end = std::min(text.find('\n', i), text.size());
      out += "<span class=\"comment\">" + escape(text.substr(i, end - i)) + "</span>";
      i = end;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
      const std::string word = text.substr(i, j - i);
      if (auto it = links.find(word); it != links.end())
        out += "<a class=\"site-link\" href=\"#" + it->second + "\">" + escape(word) + "</a>";
      else
        out += escape(word);
      i = j;
    } else {
      out += escape(std::string(1, c));
      ++i;
    }
  }
  return out;
}

const char* const style = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
h1{font-size:1.5em;margin-bottom:0.2em}h2{border-bottom:1px solid #ddd;padding-bottom:0.2em;margin-top:1.6em}
h3{margin-bottom:0.3em}
pre{background:#f7f7f7;padding:0.8em;overflow-x:auto;font-size:0.85em;line-height:1.35}
.source a.site-link{color:#08519c;font-weight:600;text-decoration:none;border-bottom:1px dotted #08519c}
.comment{color:#888}
.failure{background:#fdecea;border:1px solid #d62728;padding:0.8em 1em;margin:1em 0;white-space:pre-wrap;font-family:monospace}
.notes li{margin:0.2em 0}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}
td,th{border:1px solid #ddd;padding:0.2em 0.5em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.configuration td{text-align:left}
.scroll{overflow-x:auto;max-width:100%}
.multiples{display:flex;flex-wrap:wrap;gap:0.5em}
.site{border:1px solid #e3e3e3;border-radius:6px;padding:0.3em 1em 1em;margin:1em 0}
.meta{color:#555;font-size:0.9em}
#plate-diagram svg{max-width:100%;height:auto}
.missing{color:#a33;font-style:italic}
.verdict-ok{color:#1a7f37;font-weight:600}.verdict-bad{color:#d62728;font-weight:600}
)css";

// Runs every Vega spec into its <div>; marks each rendered one, logs errors
// to the console, and marks the page ready when all are done.
const char* const render_script = R"js(
(function () {
  var specs = JSON.parse(document.getElementById('vireo-specs').textContent);
  var done = [];
  document.querySelectorAll('[data-spec]').forEach(function (div) {
    var spec = specs[+div.getAttribute('data-spec')];
    try {
      var view = new vega.View(vega.parse(spec, null, {ast: true}),
                               {expr: vega.expressionInterpreter, renderer: 'svg', container: div, hover: false});
      done.push(view.runAsync().then(function () { div.setAttribute('data-rendered', '1'); },
                                     function (e) { console.error('vireo report: a plot failed: ' + e); }));
    } catch (e) {
      console.error('vireo report: a plot failed: ' + e);
    }
  });
  Promise.all(done).then(function () { document.body.setAttribute('data-ready', '1'); });
})();
)js";

bool is_site_entry(const json& v) { return v.is_object() && v.contains("shape") && v.contains("mean"); }

void site_panel(Html& h, const Page& page, const std::string& name, const json& entry, bool latent) {
  std::vector<std::int64_t> shape;
  if (entry.contains("shape") && entry["shape"].is_array())
    for (const auto& d : entry["shape"]) shape.push_back(d.get<std::int64_t>());
  const std::vector<std::string> labels = element_labels(name, shape);
  const std::size_t elements = labels.size();
  const std::size_t shown = std::min<std::size_t>(elements, static_cast<std::size_t>(std::max(1, page.max_elements)));
  const Prior* prior = nullptr;
  if (auto it = page.priors.find(base_name(name)); latent && it != page.priors.end() && has_density(it->second))
    prior = &it->second;

  h.out += "<section class=\"site\" id=\"" + anchor(name) + "\" data-site=\"" + escape(name) + "\">\n<h3>" +
           escape(name) + "</h3>\n<p class=\"meta\">" + (latent ? "latent" : "deterministic");
  if (!shape.empty()) {
    std::string dims;
    for (auto d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    h.out += ", shape [" + dims + "]";
  }
  if (auto it = page.priors.find(base_name(name)); latent && it != page.priors.end())
    h.out += "; prior " + escape(it->second.text) + (prior ? " (dashed, orange)" : "");
  else if (latent)
    h.out += "; the prior has no closed form here (its arguments are not constants)";
  if (entry.contains("n")) h.out += "; " + entry["n"].dump() + " draws";
  h.out += "</p>\n";
  if (entry.value("nonfinite", 0L) > 0)
    h.out += "<p class=\"missing\">" + entry["nonfinite"].dump() +
             " draws hold NaN or ±inf: the summaries are not reliable</p>\n";

  const bool discrete = entry.contains("support") && entry["support"].is_array() && !entry["support"].empty();
  h.out += "<div class=\"multiples\">\n";
  if (discrete) {
    std::vector<double> support;
    for (const auto& v : entry["support"]) support.push_back(v.is_number() ? v.get<double>() : nan);
    for (std::size_t e = 0; e < shown; ++e) {
      std::vector<double> probs;
      for (std::size_t v = 0; v < support.size(); ++v) probs.push_back(number_at(entry["probs"], v * elements + e));
      h.plot(bars_spec(labels[e], support, probs, prior), "marginal");
    }
  } else {
    // The site's columns: its name, or its name and the element's indices.
    std::size_t plotted = 0;
    for (std::size_t c = 0; c < page.columns.size() && plotted < shown; ++c) {
      const std::string& col = page.columns[c];
      if (col != name && col.rfind(name + ".", 0) != 0) continue;
      h.plot(histogram_spec(plotted < labels.size() ? labels[plotted] : col, page.values[c], prior), "marginal");
      ++plotted;
    }
    if (plotted == 0) h.out += "<p class=\"missing\">no posterior draws of this site (from saved outputs: give --draws)</p>\n";
  }
  h.out += "</div>\n";
  if (shown < elements)
    h.out += "<p class=\"meta\">the first " + std::to_string(shown) + " of " + std::to_string(elements) +
             " elements are drawn and tabled</p>\n";

  // The summary numbers.
  h.out += "<div class=\"scroll\"><table class=\"summary\"><tr><th>element</th><th>mean</th><th>sd</th><th>5%</th><th>50%</th><th>95%</th>";
  if (discrete) h.out += "<th>mode</th>";
  h.out += "</tr>\n";
  for (std::size_t e = 0; e < shown; ++e) {
    h.out += "<tr><td>" + escape(labels[e]) + "</td>";
    for (const char* key : {"mean", "sd", "q05", "q50", "q95"})
      h.out += "<td>" + num(entry.contains(key) ? number_at(entry[key], e) : nan) + "</td>";
    if (discrete) h.out += "<td>" + num(number_at(entry["mode"], e)) + "</td>";
    h.out += "</tr>\n";
  }
  h.out += "</table></div>\n";
  if (discrete) {
    // The probability table: one row per element, one column per value.
    const auto& support = entry["support"];
    h.out += "<div class=\"scroll\"><table class=\"probabilities\"><tr><th>P(" + escape(name) + " = v)</th>";
    for (const auto& v : support) h.out += "<th>" + num(v.is_number() ? v.get<double>() : nan) + "</th>";
    h.out += "</tr>\n";
    for (std::size_t e = 0; e < shown; ++e) {
      h.out += "<tr><td>" + escape(labels[e]) + "</td>";
      for (std::size_t v = 0; v < support.size(); ++v) h.out += "<td>" + num(number_at(entry["probs"], v * elements + e)) + "</td>";
      h.out += "</tr>\n";
    }
    if (prior) {
      h.out += "<tr><td>prior</td>";
      for (const auto& v : support) h.out += "<td>" + num(density(*prior, v.is_number() ? v.get<double>() : nan)) + "</td>";
      h.out += "</tr>\n";
    }
    h.out += "</table></div>\n";
  }
  h.out += "</section>\n";
}

void diagnostics(Html& h, const Page& page) {
  h.out += "<h2 id=\"diagnostics\">Diagnostics</h2>\n";
  bool any = false;
  if (page.summary.is_object()) {
    const json& s = page.summary;
    if (s.contains("elbo")) {
      h.out += "<p>ELBO (mean over the last tenth of the steps): <b>" +
               num(s["elbo"].is_number() ? s["elbo"].get<double>() : nan) + "</b>";
      if (s.value("refused_draws", 0L) > 0)
        h.out += "; " + s["refused_draws"].dump() + " guide draws were refused (the model's log density was −∞)";
      h.out += "</p>\n";
    }
    if (s.contains("evidence") && s["evidence"].is_object()) {
      any = true;
      const json& e = s["evidence"];
      const auto val = [&](const char* k) { return e.contains(k) && e[k].is_number() ? e[k].get<double>() : nan; };
      const bool reliable = e.value("reliable", false);
      h.out += "<h3 id=\"evidence\">Evidence</h3>\n<table><tr><th>log Z</th><th>± se</th><th>ESS</th><th>draws</th>"
               "<th>Pareto k̂</th><th>threshold</th><th>verdict</th></tr>\n<tr><td>" +
               num(val("log_z")) + "</td><td>" + num(val("se")) + "</td><td>" + num(val("ess")) + "</td><td>" +
               num(val("draws")) + "</td><td>" +
               (e.value("exact", false) ? std::string("−∞ (exact)") : num(val("khat"))) + "</td><td>" +
               num(val("khat_threshold")) + "</td><td class=\"" + (reliable ? "verdict-ok\">reliable" : "verdict-bad\">NOT RELIABLE") +
               "</td></tr></table>\n";
      if (!e.value("warning", std::string()).empty()) h.out += "<p>" + escape(e["warning"].get<std::string>()) + "</p>\n";
    }
    if (s.contains("gradient_variance") && s["gradient_variance"].is_object()) {
      any = true;
      const json& g = s["gradient_variance"];
      h.out += "<h3 id=\"gradient-variance\">Gradient variance</h3>\n<p class=\"meta\">over " + g.value("draws", json(0)).dump() +
               " draws at the final parameters, summed over each parameter's entries</p>\n<table><tr><th>parameter</th>"
               "<th>variance</th></tr>\n";
      if (g.contains("params"))
        for (const auto& [p, v] : g["params"].items())
          h.out += "<tr><td>" + escape(p) + "</td><td>" + num(v.is_number() ? v.get<double>() : nan) + "</td></tr>\n";
      h.out += "</table>\n";
    }
    if (s.contains("params") && s["params"].is_object() && !s["params"].empty()) {
      h.out += "<h3 id=\"learned-params\">Learned parameters</h3>\n<table><tr><th>param</th><th>program</th><th>shape</th>"
               "<th>values (first " + std::to_string(page.max_elements) + ")</th></tr>\n";
      for (const auto& [p, v] : s["params"].items()) {
        std::string values;
        if (v.contains("value") && v["value"].is_array())
          for (std::size_t i = 0; i < v["value"].size() && i < static_cast<std::size_t>(page.max_elements); ++i)
            values += (values.empty() ? "" : ", ") + num(number_at(v["value"], i));
        h.out += "<tr><td>" + escape(p) + "</td><td>" + escape(v.value("program", std::string())) + "</td><td>" +
                 escape(v.value("shape", json::array()).dump()) + "</td><td>" + values + "</td></tr>\n";
      }
      h.out += "</table>\n";
    }
  }
  if (!page.diagnosis.empty()) {
    any = true;
    h.out += "<h3 id=\"diagnose\">--diagnose</h3>\n<pre>" + escape(page.diagnosis) + "</pre>\n";
  }
  if (!any)
    h.out += "<p class=\"meta\">None computed beyond the ELBO (vireo run --evidence N, --grad-var N, --diagnose N add "
             "them).</p>\n";
}

}  // namespace

std::vector<std::string> element_labels(const std::string& name, const std::vector<std::int64_t>& shape) {
  std::size_t total = 1;
  for (auto d : shape) total *= static_cast<std::size_t>(std::max<std::int64_t>(d, 0));
  if (shape.empty()) return {name};
  std::vector<std::string> out;
  out.reserve(total);
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::size_t k = 0; k < total; ++k) {
    std::string l = name + "[";
    for (std::size_t d = 0; d < index.size(); ++d) l += (d ? ", " : "") + std::to_string(index[d]);
    out.push_back(l + "]");
    for (std::size_t d = index.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

std::string render(const Page& page) {
  Html h;
  const std::string title = page.title.empty() ? page.model_file : page.title;

  // Which sites get a panel: the summary's (latent, then deterministic, in
  // its order), or the model's latent sites when there is no summary.
  // Sites inside loops (`s[0]`, `s[1]`, … of an HMM) get at most
  // max_elements panels per name; the rest are counted.
  std::vector<std::pair<std::string, bool>> panels;  // name, latent
  std::map<std::string, long> per_name, left_out;
  const std::set<std::string> latent(page.latent_sites.begin(), page.latent_sites.end());
  if (page.summary.is_object()) {
    for (const auto& [key, v] : page.summary.items()) {
      if (!is_site_entry(v)) continue;
      if (++per_name[base_name(key)] > page.max_elements) {
        ++left_out[base_name(key)];
        continue;
      }
      panels.emplace_back(key, latent.count(base_name(key)) > 0);
    }
  } else {
    for (const auto& s : page.latent_sites) panels.emplace_back(s, true);
  }
  std::map<std::string, std::string> links;
  for (const auto& [name, is_latent] : panels)
    if (!links.count(base_name(name))) links[base_name(name)] = anchor(name);

  h.out += "<header><h1>" + escape(title) + "</h1>\n<p class=\"meta\">A Vireo report: " + escape(page.model_file) +
           ". Contents: <a href=\"#model\">model</a> · <a href=\"#plate\">plate diagram</a> · <a href=\"#elbo\">ELBO</a> · "
           "<a href=\"#posterior\">posterior</a> · <a href=\"#diagnostics\">diagnostics</a> · "
           "<a href=\"#configuration\">configuration</a></p></header>\n";
  if (!page.failure.empty())
    h.out += "<div class=\"failure\" id=\"failure\"><b>The fit failed.</b> What is shown is the fit up to the failure "
             "(posterior panels: at the last good parameters).\n" + escape(page.failure) + "</div>\n";
  if (!page.notes.empty()) {
    h.out += "<ul class=\"notes\">\n";
    for (const auto& n : page.notes) h.out += "<li>" + escape(n) + "</li>\n";
    h.out += "</ul>\n";
  }

  h.out += "<h2 id=\"model\">The model</h2>\n<p class=\"meta\">Site names link to their panels.</p>\n<pre class=\"source\">" +
           linked_source(page.model_source, links) + "</pre>\n";

  h.out += "<h2 id=\"plate\">Plate diagram</h2>\n<div id=\"plate-diagram\">";
  if (page.graph_dot.empty()) {
    h.out += "<p class=\"missing\">no graph</p>";
  } else if (Svg svg = dot_to_svg(page.graph_dot, page.dot_program); !svg.svg.empty()) {
    h.out += svg.svg;
  } else {
    h.out += "<p class=\"missing\" id=\"plate-missing\">" + escape(svg.error) + "</p><pre>" + escape(page.graph_dot) + "</pre>";
  }
  h.out += "</div>\n";

  h.out += "<h2 id=\"elbo\">ELBO per step</h2>\n";
  if (page.history.empty()) {
    h.out += "<p class=\"missing\">no steps were recorded (an exact posterior takes none; from saved outputs, give "
             "--elbo-history)</p>\n";
  } else {
    long refused = 0;
    for (const auto& r : page.history) refused += r.rejected ? 1 : 0;
    h.out += "<p class=\"meta\">" + std::to_string(page.history.size()) + " steps; the smoothed curve is the mean of the last " +
             std::to_string(std::max<std::size_t>(1, page.history.size() / 50)) + " finite ELBOs; " +
             std::to_string(refused) + " steps refused by the non-finite guard (red)</p>\n";
    h.plot(elbo_spec(page.history), "elbo", "elbo-plot");
    h.out += "<div class=\"multiples\">\n";
    h.plot(step_line_spec(page.history, "learning rate", false), "lr", "lr-plot");
    if (page.annealed) h.plot(step_line_spec(page.history, "annealing weight of the latent sites", true), "weight", "weight-plot");
    h.out += "</div>\n";
    std::string last;
    for (const auto& r : page.history)
      if (r.rejected) last = "step " + std::to_string(r.step) + ": " + r.rejected_because;
    if (!last.empty()) h.out += "<p class=\"meta\">The last refused step, " + escape(last) + "</p>\n";
  }

  h.out += "<h2 id=\"posterior\">Posterior</h2>\n<p class=\"meta\">Histograms of the posterior draws (density scale); "
           "the prior's density dashed where it has a closed form; probabilities for discrete sites.</p>\n";
  if (panels.empty()) h.out += "<p class=\"missing\">no posterior summary (give --summary)</p>\n";
  for (const auto& [name, is_latent] : panels)
    site_panel(h, page, name, page.summary.is_object() ? page.summary[name] : json::object(), is_latent);
  for (const auto& [name, n] : left_out)
    h.out += "<p class=\"meta\">" + escape(name) + ": " + std::to_string(n) + " more sites of this name (one per loop "
             "iteration) are not drawn; the summary (--summary) holds them all</p>\n";

  diagnostics(h, page);

  h.out += "<h2 id=\"configuration\">Configuration</h2>\n";
  if (!page.command_line.empty())
    h.out += "<p>The command that made this fit:</p>\n<pre id=\"command-line\">" + escape(page.command_line) + "</pre>\n";
  if (!page.configuration.empty()) {
    h.out += "<table class=\"configuration\"><tr><th>option</th><th>in use</th></tr>\n";
    for (const auto& [k, v] : page.configuration) h.out += "<tr><td>" + escape(k) + "</td><td>" + escape(v) + "</td></tr>\n";
    h.out += "</table>\n";
  }

  std::string specs = h.specs.dump();
  // Inside <script> the text may not hold "</"; "<\/" is the same JSON string.
  for (std::size_t p = 0; (p = specs.find("</", p)) != std::string::npos; p += 3) specs.replace(p, 2, "<\\/");

  std::string doc;
  doc.reserve(h.out.size() + specs.size() + 600000);
  doc += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
         "style-src 'unsafe-inline'; img-src data:; font-src data:\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         escape(title) + "</title>\n<style>" + style + "</style>\n</head>\n<body>\n";
  doc += h.out;
  doc += "<script type=\"application/json\" id=\"vireo-specs\">" + specs + "</script>\n";
  doc += "<script>" + vega_js() + "</script>\n<script>" + render_script + "</script>\n</body>\n</html>\n";
  return doc;
}

}  // namespace vireo::report
