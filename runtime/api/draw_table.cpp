// Posterior draws as a table with CmdStan's column names, its CSV form, and
// the per-site summaries (mean, sd, 5/50/95% quantiles) in JSON and as the
// table `vireo run` prints; the evidence's text form.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/api/errors.hpp"
#include "runtime/api/fit_impl.hpp"

namespace vireo {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

const char* kind_name(infer::SiteDraw::Kind k) {
  switch (k) {
    case infer::SiteDraw::Kind::Latent: return "latent";
    case infer::SiteDraw::Kind::Deterministic: return "deterministic";
    case infer::SiteDraw::Kind::Predicted: return "predicted";
  }
  return "latent";
}

// Shortest text that reads back as the same double.
std::string number(double x) {
  if (std::isnan(x)) return "nan";  // CmdStan's spelling, whatever the sign bit
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

// "1.2" for the 0-based index {0, 1}; "" for a scalar.
std::string element_suffix(const std::vector<std::int64_t>& index) {
  std::string s;
  for (std::size_t k = 0; k < index.size(); ++k) s += (k ? "." : "") + std::to_string(index[k] + 1);
  return s;
}

// Row-major multi-index of flat position `flat` in `shape`.
std::vector<std::int64_t> unflatten(std::int64_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    idx[k] = shape[k] ? flat % shape[k] : 0;
    flat = shape[k] ? flat / shape[k] : 0;
  }
  return idx;
}

// Quantile with linear interpolation between order statistics (R's type 7,
// NumPy's default), of sorted values.
double quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return nan;
  double h = p * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(h));
  std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = h - static_cast<double>(lo);
  if (frac == 0) return sorted[lo];  // no 0 · ∞ when a neighbour is infinite
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

}  // namespace

namespace api {

DrawTable make_table(const std::vector<infer::PosteriorDraw>& draws) {
  // 1. The sites in order of first appearance, with the largest extent per
  //    dimension (shapes may vary between draws); a site whose rank varies is
  //    laid out flat.
  struct Layout {
    std::size_t site;
    bool flat = false;
  };
  DrawTable t;
  std::map<std::string, std::size_t> index;
  std::vector<bool> flat;
  for (const auto& d : draws)
    for (const auto& s : d.sites) {
      auto shape = s.value.shape().to_vector();
      auto [it, fresh] = index.emplace(s.name, t.sites.size());
      if (fresh) {
        t.sites.push_back({s.name, kind_name(s.kind), shape, 0, 0, false, {}, 0});
        flat.push_back(false);
        continue;
      }
      DrawTable::Site& site = t.sites[it->second];
      if (flat[it->second]) {
        site.shape[0] = std::max(site.shape[0], static_cast<std::int64_t>(s.value.numel()));
      } else if (site.shape.size() != shape.size()) {
        flat[it->second] = true;
        site.shape = {std::max(ad::Shape(site.shape).numel(), static_cast<std::int64_t>(s.value.numel()))};
      } else {
        for (std::size_t k = 0; k < shape.size(); ++k) site.shape[k] = std::max(site.shape[k], shape[k]);
      }
    }
  // Discreteness, and the enumerated sites' probabilities averaged over the draws.
  std::vector<long> with_probs(t.sites.size(), 0);
  for (const auto& d : draws)
    for (const auto& s : d.sites) {
      DrawTable::Site& site = t.sites[index.at(s.name)];
      site.discrete = site.discrete || s.discrete;
      auto p = d.probs.find(s.name);
      if (p == d.probs.end() || flat[index.at(s.name)]) continue;
      const auto elements = static_cast<std::size_t>(std::max<std::int64_t>(1, s.value.numel()));
      if (site.probs.empty()) {
        site.probs.assign(p->second.size(), 0.0);
        site.support = static_cast<std::int64_t>(p->second.size() / elements);
      }
      if (site.probs.size() != p->second.size()) continue;
      for (std::size_t k = 0; k < p->second.size(); ++k) site.probs[k] += p->second[k];
      ++with_probs[index.at(s.name)];
    }
  for (std::size_t i = 0; i < t.sites.size(); ++i)
    for (double& p : t.sites[i].probs) p /= static_cast<double>(std::max(1L, with_probs[i]));
  // 2. Columns: site name, then 1-based indices joined by dots, row-major.
  for (auto& site : t.sites) {
    site.first_column = t.columns.size();
    site.columns = static_cast<std::size_t>(ad::Shape(site.shape).numel());
    for (std::int64_t e = 0; e < static_cast<std::int64_t>(site.columns); ++e) {
      std::string suffix = element_suffix(unflatten(e, site.shape));
      t.columns.push_back(suffix.empty() ? site.name : site.name + "." + suffix);
    }
  }
  // 3. Rows: absent cells stay NaN, and `present` tells them from a NaN value.
  t.rows.reserve(draws.size());
  t.present.reserve(draws.size());
  for (const auto& d : draws) {
    std::vector<double> row(t.columns.size(), nan);
    std::vector<bool> present(t.columns.size(), false);
    for (const auto& s : d.sites) {
      std::size_t i = index.at(s.name);
      const DrawTable::Site& site = t.sites[i];
      auto shape = s.value.shape().to_vector();
      for (std::int64_t e = 0; e < s.value.numel(); ++e) {
        std::int64_t col = e;
        if (!flat[i] && shape != site.shape) {  // place the element in the larger box
          auto idx = unflatten(e, shape);
          col = 0;
          for (std::size_t k = 0; k < idx.size(); ++k) col = col * site.shape[k] + idx[k];
        }
        row[site.first_column + static_cast<std::size_t>(col)] = s.value[e];
        present[site.first_column + static_cast<std::size_t>(col)] = true;
      }
    }
    t.rows.push_back(std::move(row));
    t.present.push_back(std::move(present));
  }
  return t;
}

namespace {

// Whether row r has cell c (a table without `present` has every cell).
bool has(const DrawTable& t, std::size_t r, std::size_t c) { return t.present.empty() || t.present[r][c]; }

}  // namespace

namespace {

// A discrete site's support, probabilities and mode: from the enumerated
// probabilities when the table has them (and then its moments and quantiles
// too, exactly), else from the frequencies of the values drawn.
void discrete_summary(const DrawTable& table, const DrawTable::Site& site, SiteSummary& s) {
  const std::size_t elements = site.columns;
  if (!site.probs.empty() && site.support > 0 && site.probs.size() == elements * static_cast<std::size_t>(site.support)) {
    const auto K = static_cast<std::size_t>(site.support);
    for (std::size_t k = 0; k < K; ++k) s.support.push_back(static_cast<double>(k));
    s.probs = site.probs;
    for (std::size_t e = 0; e < elements; ++e) {
      double mean = 0, second = 0, best = -1, mode = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const double p = site.probs[k * elements + e];
        mean += p * static_cast<double>(k);
        second += p * static_cast<double>(k * k);
        if (p > best) best = p, mode = static_cast<double>(k);
      }
      auto quantile_of = [&](double q) {
        double c = 0;
        for (std::size_t k = 0; k < K; ++k)
          if ((c += site.probs[k * elements + e]) >= q - 1e-12) return static_cast<double>(k);
        return static_cast<double>(K - 1);
      };
      s.mean[e] = mean;
      s.sd[e] = std::sqrt(std::max(0.0, second - mean * mean));
      s.q05[e] = quantile_of(0.05);
      s.q50[e] = quantile_of(0.5);
      s.q95[e] = quantile_of(0.95);
      s.mode.push_back(mode);
    }
    return;
  }
  std::set<double> seen;
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    for (std::size_t c = site.first_column; c < site.first_column + site.columns; ++c)
      if (has(table, r, c) && std::isfinite(table.rows[r][c])) seen.insert(table.rows[r][c]);
  if (seen.empty() || seen.size() > 100) return;  // too many values for a table: the quantiles say it
  s.support.assign(seen.begin(), seen.end());
  const std::size_t K = s.support.size();
  s.probs.assign(K * elements, 0.0);
  for (std::size_t e = 0; e < elements; ++e) {
    long n = 0;
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
      const std::size_t c = site.first_column + e;
      if (!has(table, r, c) || !std::isfinite(table.rows[r][c])) continue;
      const auto k = static_cast<std::size_t>(std::lower_bound(s.support.begin(), s.support.end(), table.rows[r][c]) -
                                              s.support.begin());
      s.probs[k * elements + e] += 1;
      ++n;
    }
    double best = -1, mode = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < K; ++k) {
      double& p = s.probs[k * elements + e];
      p = n > 0 ? p / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
      if (p > best) best = p, mode = s.support[k];
    }
    s.mode.push_back(mode);
  }
}

}  // namespace

Summary summarize(const DrawTable& table) {
  // A table the host edited must still hold together before it is read.
  const std::size_t width = table.columns.size();
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    if (table.rows[r].size() != width)
      api::fail(Error::Kind::Usage,
                fmt::format("draw table row {} has {} cells for {} columns", r, table.rows[r].size(), width),
                "keep every row as long as `columns` when editing a table");
  if (!table.present.empty()) {
    bool ok = table.present.size() == table.rows.size();
    for (std::size_t r = 0; ok && r < table.present.size(); ++r) ok = table.present[r].size() == width;
    if (!ok)
      api::fail(Error::Kind::Usage, "the draw table's `present` does not match its rows and columns",
                "give `present` one entry per cell, or leave it empty (every cell present)");
  }
  for (const auto& site : table.sites) {
    std::int64_t n = 1;
    for (auto d : site.shape) n = d < 0 ? -1 : n * d;
    if (site.first_column > width || site.columns > width - site.first_column || n != static_cast<std::int64_t>(site.columns) ||
        (!site.probs.empty() && (site.support <= 0 || site.probs.size() != site.columns * static_cast<std::size_t>(site.support))))
      api::fail(Error::Kind::Usage,
                fmt::format("draw table site '{}' does not fit the table (columns {}+{} of {}, shape of {} elements)",
                            site.name, site.first_column, site.columns, width, n),
                "a site's columns must lie inside `columns` and number the elements of its shape");
  }
  Summary out;
  out.draws = static_cast<long>(table.rows.size());
  out.elbo = nan;
  for (const auto& site : table.sites) {
    SiteSummary s;
    s.name = site.name;
    s.kind = site.kind;
    s.shape = site.shape;
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
      bool present = false, nonfinite = false;
      for (std::size_t c = site.first_column; c < site.first_column + site.columns; ++c)
        if (has(table, r, c)) {
          present = true;
          nonfinite = nonfinite || !std::isfinite(table.rows[r][c]);
        }
      s.n += present;
      s.nonfinite += nonfinite;
    }
    std::vector<double> v;
    for (std::size_t c = 0; c < site.columns; ++c) {
      v.clear();
      bool any_nan = false;
      for (std::size_t r = 0; r < table.rows.size(); ++r)
        if (has(table, r, site.first_column + c)) {
          const double x = table.rows[r][site.first_column + c];
          any_nan = any_nan || std::isnan(x);
          v.push_back(x);
        }
      // A NaN draw makes every statistic of its element NaN, as in NumPy and
      // Stan: dropping it would summarise another distribution.
      if (any_nan) v.assign(1, nan);
      std::sort(v.begin(), v.end());
      double mean = nan, sd = nan;
      if (!v.empty() && !any_nan) {
        double sum = 0;
        for (double x : v) sum += x;
        mean = sum / static_cast<double>(v.size());
        double ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
      }
      s.mean.push_back(mean);
      s.sd.push_back(sd);
      s.q05.push_back(quantile(v, 0.05));
      s.q50.push_back(quantile(v, 0.50));
      s.q95.push_back(quantile(v, 0.95));
    }
    if (site.discrete) discrete_summary(table, site, s);
    out.sites.push_back(std::move(s));
  }
  return out;
}

}  // namespace api

std::string DrawTable::to_csv() const {
  std::string out;
  for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + columns[c];
  out += '\n';
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      if (c) out += ',';
      if (present.empty() ? !std::isnan(rows[r][c]) : present[r][c]) out += number(rows[r][c]);
    }
    out += '\n';
  }
  return out;
}

std::string Summary::to_json() const {
  auto list = [](const std::vector<double>& xs) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (double x : xs) a.push_back(std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr));
    return a;
  };
  // One line per site: readable, and still one JSON object.
  std::string out = "{\n";
  for (const auto& s : sites) {
    nlohmann::ordered_json e;
    e["shape"] = s.shape;
    e["mean"] = list(s.mean);
    e["sd"] = list(s.sd);
    e["q05"] = list(s.q05);
    e["q50"] = list(s.q50);
    e["q95"] = list(s.q95);
    if (!s.support.empty()) {
      e["support"] = list(s.support);
      e["probs"] = list(s.probs);
      e["mode"] = list(s.mode);
    }
    e["n"] = s.n;
    e["nonfinite"] = s.nonfinite;
    out += " " + nlohmann::ordered_json(s.name).dump() + ": " + e.dump() + ",\n";
  }
  nlohmann::ordered_json e = std::isfinite(elbo) ? nlohmann::ordered_json(elbo) : nlohmann::ordered_json(nullptr);
  out += " \"elbo\": " + e.dump();
  out += api::learned_params_json(params);
  out += ",\n \"refused_draws\": " + std::to_string(refused_draws);
  if (!gradient_variance.empty()) {
    nlohmann::ordered_json g;
    g["draws"] = gradient_variance_draws;
    for (const auto& [name, v] : gradient_variance)
      g["params"][name] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
    out += ",\n \"gradient_variance\": " + g.dump();
  }
  if (evidence) {
    auto num = [](double x) { return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr); };
    nlohmann::ordered_json v;
    v["log_z"] = num(evidence->log_z);
    v["se"] = num(evidence->se);
    v["ess"] = num(evidence->ess);
    v["khat"] = num(evidence->khat);
    v["khat_threshold"] = num(evidence->khat_threshold);
    v["draws"] = evidence->draws;
    v["reliable"] = evidence->reliable;
    v["warning"] = evidence->warning;
    v["nan_draws"] = evidence->nan_draws;
    v["inf_draws"] = evidence->inf_draws;
    v["zero_draws"] = evidence->zero_draws;
    v["exact"] = evidence->exact;
    out += ",\n \"evidence\": " + v.dump();
  }
  if (evaluation) {
    auto num = [](double x) { return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr); };
    nlohmann::ordered_json v;
    v["draws"] = evaluation->draws;
    v["full_data"] = evaluation->full_data;
    v["elbo"] = num(evaluation->elbo);
    v["elbo_se"] = num(evaluation->elbo_se);
    v["log_likelihood"] = num(evaluation->log_likelihood);
    v["kl"] = num(evaluation->kl);
    v["plates"] = nlohmann::ordered_json::object();
    for (const auto& [name, n] : evaluation->plates) v["plates"][name] = n;
    v["units"] = nlohmann::ordered_json::array();
    for (const auto& u : evaluation->units) {
      nlohmann::ordered_json j;
      j["site"] = u.site;
      j["plate"] = u.plate;
      j["elements"] = u.elements;
      j["variance"] = u.variance;
      j["active"] = u.active;
      v["units"].push_back(j);
    }
    out += ",\n \"evaluation\": " + v.dump();
  }
  return out + "\n}\n";
}

std::string Evaluation::to_text() const {
  auto g = [](double x) { return fmt::format("{:.6g}", x); };
  // Per-element figures with four decimals, unless a blown-up fit makes them huge.
  auto per = [](double x) { return std::abs(x) < 1e9 ? fmt::format("{:.4f}", x) : fmt::format("{:.6g}", x); };
  std::string where = full_data ? "the whole data" : "mini-batches";
  std::string out = fmt::format("evaluation ({} draws over {}): ELBO {} ± {}", draws, where, g(elbo), fmt::format("{:.2g}", elbo_se));
  // Per element of the one subsampled plate (per digit, per document, …).
  const double n = plates.size() == 1 ? static_cast<double>(plates.begin()->second) : 0;
  if (n > 0) out += fmt::format(", per element of '{}' (N = {}): {}", plates.begin()->first, plates.begin()->second, per(elbo / n));
  out += "\n";
  if (std::isfinite(log_likelihood) && std::isfinite(kl)) {
    out += fmt::format("  expected log-likelihood {}, KL(q ‖ p) of the latent sites {}", g(log_likelihood), g(kl));
    if (n > 0) out += fmt::format(" (per element {} and {})", per(log_likelihood / n), per(kl / n));
    out += "\n";
  }
  for (const auto& u : units) {
    double lo = std::numeric_limits<double>::infinity();
    for (double v : u.variance) lo = std::min(lo, v);
    out += fmt::format("  {}: {} of {} coordinates active (variance over the {} elements of '{}' of E_q[{}] > 0.01; "
                       "smallest {:.3g})\n",
                       u.site, u.active, u.variance.size(), u.elements, u.plate, u.site, lo);
    if (u.active < static_cast<long>(u.variance.size()))
      out += fmt::format("note: {}: {} coordinate(s) collapsed to the prior (posterior collapse); --kl-anneal STEPS, a "
                         "smaller --lr or more epochs let them carry information\n",
                         u.site, u.variance.size() - static_cast<std::size_t>(u.active));
  }
  return out;
}

std::string Evidence::to_text() const {
  auto fmt = [](const char* f, double x) {
    char buf[48];
    std::snprintf(buf, sizeof buf, f, x);
    return std::string(buf);
  };
  if (exact && draws == 1 && warning.find("summed out") != std::string::npos)
    return "evidence: log Z = " + fmt("%.6f", log_z) + " (exact: every latent site is summed out)\n";
  std::string out = "evidence: log Z = " + fmt("%.4f", log_z) + " ± " + fmt("%.2g", se) + " (importance sampling, " +
                    std::to_string(draws) + " draws from the guide)" + (reliable ? "" : " — NOT RELIABLE") + "\n";
  const long kept = draws - nan_draws - inf_draws;
  out += "  effective sample size " + fmt("%.1f", ess) + " of " + std::to_string(kept) + "; " +
         (exact ? std::string("every weight equal to rounding: the guide is exact, no tail to fit")
                : "Pareto k̂ " + fmt("%.2f", khat) + ", threshold " + fmt("%.2f", khat_threshold)) +
         ": " + (reliable ? "reliable" : "cannot be trusted") + "\n";
  if (nan_draws > 0 || inf_draws > 0)
    out += "  left out: " + std::to_string(nan_draws) + " draws with a NaN log-weight, " + std::to_string(inf_draws) +
           " with +inf\n";
  // The warning's first line is the verdict; later lines are notes.
  std::size_t start = 0;
  while (start < warning.size()) {
    std::size_t end = warning.find('\n', start);
    if (end == std::string::npos) end = warning.size();
    const std::string line = warning.substr(start, end - start);
    out += (line.rfind("note:", 0) == 0 ? "" : "warning: ") + line + "\n";
    start = end + 1;
  }
  return out;
}

std::string Summary::to_table(int max_elements) const {
  auto fmt = [](double x, bool nan_is_a_value = false) {
    if (std::isnan(x)) return std::string(nan_is_a_value ? "nan" : "-");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", x);
    return std::string(buf);
  };
  std::vector<std::vector<std::string>> rows = {{"site", "element", "mean", "sd", "5%", "50%", "95%"}};
  std::vector<std::string> notes, warnings;
  for (const auto& s : sites) {
    auto shown = std::min<std::size_t>(s.mean.size(), static_cast<std::size_t>(std::max(1, max_elements)));
    for (std::size_t e = 0; e < shown; ++e) {
      std::string el = element_suffix(unflatten(static_cast<std::int64_t>(e), s.shape));
      const bool v = s.nonfinite > 0;  // NaN from a NaN draw, not from absence
      rows.push_back({s.name, el, fmt(s.mean[e], v), fmt(s.sd[e], v), fmt(s.q05[e], v), fmt(s.q50[e], v), fmt(s.q95[e], v)});
    }
    if (shown < s.mean.size())
      notes.push_back(s.name + ": " + std::to_string(s.mean.size() - shown) + " more elements not shown (see --summary)");
    if (s.n < draws) notes.push_back(s.name + ": present in " + std::to_string(s.n) + " of " + std::to_string(draws) + " draws");
    if (s.nonfinite > 0)
      warnings.push_back(s.name + ": " + std::to_string(s.nonfinite) + " of " + std::to_string(s.n) +
                         " draws are NaN or ±inf; its summaries are not reliable (NaN where a draw is NaN)");
  }
  std::vector<std::size_t> width(7, 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < 7; ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < 7; ++c) {
      std::string cell = r[c];
      if (c < 2) line += cell + std::string(width[c] - cell.size() + 2, ' ');
      else line += std::string(width[c] - std::min(width[c], cell.size()) + (c == 2 ? 0 : 2), ' ') + cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  // Discrete sites: value → probability per element, and the mode.
  for (const auto& s : sites) {
    if (s.support.empty() || s.mode.empty()) continue;
    const std::size_t elements = s.mode.size(), K = s.support.size();
    const auto shown = std::min<std::size_t>(elements, static_cast<std::size_t>(std::max(1, max_elements)));
    for (std::size_t e = 0; e < shown; ++e) {
      std::string el = element_suffix(unflatten(static_cast<std::int64_t>(e), s.shape));
      std::string line = s.name + (el.empty() ? "" : "." + el) + ": mode " + fmt(s.mode[e]) + "; P:";
      std::size_t listed = 0;
      bool omitted = false;
      for (std::size_t k = 0; k < K; ++k) {
        const double p = s.probs[k * elements + e];
        if (!(p >= 0.0005) || listed == 12) {
          omitted = omitted || p > 0;
          continue;
        }
        char buf[48];
        std::snprintf(buf, sizeof buf, "%s %s=%.3f", listed ? "," : "", fmt(s.support[k]).c_str(), p);
        line += buf;
        ++listed;
      }
      if (omitted) line += " (the rest < 0.0005 each, or past the 12 shown)";
      out += line + "\n";
    }
  }
  for (const auto& n : notes) out += "note: " + n + "\n";
  for (const auto& w : warnings) out += "warning: " + w + "\n";
  out += api::learned_params_table(params, max_elements);
  if (std::isfinite(elbo)) out += "elbo (mean of the last 10% of steps): " + fmt(elbo) + "\n";
  if (!gradient_variance.empty()) {
    out += "gradient variance over " + std::to_string(gradient_variance_draws) +
           " draws at the final parameters (summed over each parameter's entries):\n";
    std::size_t w = 0;
    for (const auto& [name, v] : gradient_variance) w = std::max(w, name.size());
    for (const auto& [name, v] : gradient_variance) out += "  " + name + std::string(w - name.size() + 2, ' ') + fmt(v) + "\n";
  }
  if (evidence) out += evidence->to_text();
  if (evaluation) out += evaluation->to_text();
  return out;
}

}  // namespace vireo
