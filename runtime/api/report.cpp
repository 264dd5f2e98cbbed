// vireo::report_html and write_report: the report page (runtime/report) of a
// fit, or of a run's saved outputs (`vireo report`). This file gathers what
// the page shows — the source, the site graph in DOT, the priors whose
// arguments are constants, the step history, the summary and the draws, the
// options in use — and runtime/report renders it.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "lang/ir/print.hpp"
#include "runtime/api/errors.hpp"
#include "runtime/api/fit_impl.hpp"
#include "runtime/api/access.hpp"
#include "runtime/io/atomic_file.hpp"
#include "runtime/report/page.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo {

const detail::ModelImpl& detail::Access::model_of(const Fit& fit) { return *fit.impl_->model; }

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// A constant expression's value: a number, a negated one, or (into `vector`) a vector of them.
bool constant(const ir::Body& body, ir::ExprId id, double* value, std::vector<double>* vector = nullptr) {
  if (id == ir::no_expr) return false;
  const ir::Expr& e = body.expr(id);
  switch (e.op) {
    case ir::Op::Number:
      *value = e.number;
      return true;
    case ir::Op::Neg:
      if (e.count == 1 && constant(body, body.operand(e, 0), value)) {
        *value = -*value;
        return true;
      }
      return false;
    case ir::Op::Vector:
      if (!vector) return false;
      for (std::uint32_t i = 0; i < e.count; ++i) {
        double x = 0;
        if (!constant(body, body.operand(e, i), &x)) return false;
        vector->push_back(x);
      }
      return true;
    default:
      return false;
  }
}

// The priors of the model's latent sites whose distribution's arguments are all constants.
std::map<std::string, report::Prior> constant_priors(const ir::Graph& g) {
  std::map<std::string, report::Prior> out;
  for (ir::SiteId id : g.model_sites) {
    const ir::Site& s = g.site(id);
    if (s.kind != ir::SiteKind::Sample || s.dist == sig::no_builtin || s.dist_call == ir::no_expr || out.count(s.name))
      continue;
    const sig::Signature& sig = sig::get(s.dist);
    const ir::Body& body = g.body(s.body);
    const ir::Expr& call = body.expr(s.dist_call);
    report::Prior p;
    p.family = std::string(sig.name);
    p.discrete = sig.discrete;
    bool ok = true;
    std::string text;
    for (std::size_t k = 0; k < sig.params.size() && k < call.count; ++k) {
      const ir::ExprId a = body.operand(call, static_cast<std::uint32_t>(k));
      if (a == ir::no_expr) continue;
      const std::string name(sig.params[k].name);
      double x = 0;
      std::vector<double> v;
      if (constant(body, a, &x)) {
        // Logits as probabilities, so that one row per family serves both.
        if (name == "logits" && p.family != "Categorical") {
          p.args.emplace_back("probs", 1 / (1 + std::exp(-x)));
        } else {
          p.args.emplace_back(name, x);
        }
        text += (text.empty() ? "" : ", ") + fmt::format("{}", x);
      } else if (p.family == "Categorical" && constant(body, a, &x, &v) && !v.empty()) {
        if (name == "logits") {
          double m = *std::max_element(v.begin(), v.end());
          for (double& l : v) l = std::exp(l - m);
        }
        p.category_probs = v;
        text += (text.empty() ? "" : ", ") + name + " = [" + fmt::format("{}", fmt::join(v, ", ")) + "]";
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    p.text = p.family + "(" + text + ")";
    out[s.name] = p;
  }
  return out;
}

std::vector<std::string> latent_sites(const ir::Graph& g) {
  std::vector<std::string> out;
  for (ir::SiteId id : g.model_sites) {
    const ir::Site& s = g.site(id);
    if (s.kind == ir::SiteKind::Sample && std::find(out.begin(), out.end(), s.name) == out.end()) out.push_back(s.name);
  }
  return out;
}

report::Page model_page(const detail::ModelImpl& m, const ReportOptions& options) {
  report::Page page;
  page.model_file = m.source.name();
  page.title = options.title.empty() ? m.source.name() : options.title;
  page.model_source = m.source.text();
  page.latent_sites = latent_sites(m.graph);
  page.priors = constant_priors(m.graph);
  page.graph_dot = ir::to_dot(m.graph, {});
  page.dot_program = options.dot;
  page.command_line = options.command_line;
  page.failure = options.failure;
  page.diagnosis = options.diagnosis;
  page.max_elements = options.max_elements;
  return page;
}

void set_draws(report::Page& page, const DrawTable& draws) {
  page.columns = draws.columns;
  page.values.assign(draws.columns.size(), {});
  for (std::size_t c = 0; c < draws.columns.size(); ++c) {
    page.values[c].reserve(draws.rows.size());
    for (const auto& row : draws.rows) page.values[c].push_back(c < row.size() ? row[c] : nan);
  }
}

std::string text_of(double x) { return fmt::format("{}", x); }

// ---- saved outputs ---------------------------------------------------------

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// A CSV cell as a number: empty (absent) and nan are NaN, inf and -inf infinite.
double cell_value(std::string cell, const std::string& what, std::size_t line) {
  while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
  if (cell.empty() || cell == "nan" || cell == "NaN") return nan;
  if (cell == "inf") return std::numeric_limits<double>::infinity();
  if (cell == "-inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  const double x = std::strtod(cell.c_str(), &end);
  if (end == cell.c_str() || *end != '\0')
    api::fail(Error::Kind::Io, fmt::format("{}: line {}: '{}' is not a number", what, line, cell),
              "give the file that `vireo run` wrote");
  return x;
}

std::vector<std::vector<std::string>> csv_lines(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(split(line));
  }
  return out;
}

void read_draws(report::Page& page, const std::string& text) {
  const auto lines = csv_lines(text);
  if (lines.empty()) return;
  page.columns = lines[0];
  page.values.assign(page.columns.size(), {});
  for (std::size_t l = 1; l < lines.size(); ++l) {
    if (lines[l].size() != page.columns.size())
      api::fail(Error::Kind::Io,
                fmt::format("the draws (--draws): line {} has {} cells, the header {}", l + 1, lines[l].size(),
                            page.columns.size()),
                "give the CSV that `vireo run --draws` wrote");
    for (std::size_t c = 0; c < page.columns.size(); ++c)
      page.values[c].push_back(cell_value(lines[l][c], "the draws (--draws)", l + 1));
  }
}

void read_history(report::Page& page, const std::string& text) {
  const auto lines = csv_lines(text);
  if (lines.empty()) return;
  const std::vector<std::string> expected = {"step", "elbo", "lr", "latent_weight", "rejected"};
  if (lines[0] != expected)
    api::fail(Error::Kind::Io, "the ELBO history (--elbo-history): the header is not step,elbo,lr,latent_weight,rejected",
              "give the CSV that `vireo run --elbo-history` wrote");
  for (std::size_t l = 1; l < lines.size(); ++l) {
    if (lines[l].size() != expected.size())
      api::fail(Error::Kind::Io, fmt::format("the ELBO history (--elbo-history): line {} has {} cells, not 5", l + 1,
                                             lines[l].size()),
                "give the CSV that `vireo run --elbo-history` wrote");
    const std::string what = "the ELBO history (--elbo-history)";
    StepRecord r;
    r.step = static_cast<long>(cell_value(lines[l][0], what, l + 1));
    r.elbo = cell_value(lines[l][1], what, l + 1);
    r.lr = cell_value(lines[l][2], what, l + 1);
    r.latent_weight = cell_value(lines[l][3], what, l + 1);
    r.rejected = cell_value(lines[l][4], what, l + 1) != 0;
    if (r.latent_weight != 1) page.annealed = true;
    page.history.push_back(r);
  }
}

// The page of a fit; without a summary and draws (a failed fit whose last
// good parameters cannot be drawn from), the sites' panels say so.
std::string fit_page(Fit& fit, const Summary* summary, const DrawTable* draws, const ReportOptions& options) {
  report::Page page = model_page(detail::Access::model_of(fit), options);
  const FitOptions& o = fit.options();
  page.history = fit.step_history();
  page.annealed = o.kl_anneal > 0 || o.elbo == Elbo::MeanField;
  if (summary) page.summary = nlohmann::ordered_json::parse(summary->to_json());
  if (draws) set_draws(page, *draws);
  // The options in use (the guide's defaults filled in).
  auto& c = page.configuration;
  c.emplace_back("guide", fit.guide_name());
  c.emplace_back("elbo", std::string(o.elbo ? to_string(*o.elbo) : "") + (fit.elbo_reason().empty() ? "" : " (" + fit.elbo_reason() + ")"));
  if (o.elbo == Elbo::TraceGraph) c.emplace_back("baseline", o.baseline.text());
  if (o.estimator) c.emplace_back("estimator", to_string(*o.estimator));
  c.emplace_back("optim", to_string(o.optim));
  if (o.lr) c.emplace_back("lr", text_of(*o.lr));
  if (o.optim == Optimizer::ClippedAdam) c.emplace_back("clip_norm, lrd", text_of(o.clip_norm) + ", " + text_of(o.lrd));
  if (o.lr_schedule) c.emplace_back("lr_schedule", o.lr_schedule->text().empty() ? "none" : o.lr_schedule->text());
  if (o.particles) c.emplace_back("particles", std::to_string(*o.particles));
  c.emplace_back("steps taken", std::to_string(fit.steps_taken()) + " (" + std::to_string(fit.rejected_steps()) + " refused)");
  c.emplace_back("seed", std::to_string(o.seed));
  c.emplace_back("init", o.init.text());
  if (o.init_scale) c.emplace_back("init_scale", text_of(*o.init_scale));
  if (o.average_last) c.emplace_back("average_last", text_of(*o.average_last));
  c.emplace_back("on_nonfinite", std::string(to_string(o.on_nonfinite)) + " (max " + std::to_string(o.max_nonfinite) + " in a row)");
  if (o.clip_grad_norm > 0) c.emplace_back("clip_grad_norm", text_of(o.clip_grad_norm));
  if (o.clip_value > 0) c.emplace_back("clip_value", text_of(o.clip_value));
  if (o.kl_anneal > 0) c.emplace_back("kl_anneal, kl_floor", std::to_string(o.kl_anneal) + ", " + text_of(o.kl_floor));
  c.emplace_back("posterior draws", draws ? std::to_string(draws->rows.size()) : std::string("none"));
  if (fit.exact()) page.notes.push_back("The posterior is exact: every latent site is summed out; no step was taken.");
  if (fit.rejected_steps() > 0)
    page.notes.push_back(std::to_string(fit.rejected_steps()) + " of " + std::to_string(fit.steps_taken()) +
                         " steps were not applied (non-finite); the last because " + fit.last_rejection());
  if (fit.refused_draws() > 0)
    page.notes.push_back(std::to_string(fit.refused_draws()) +
                         " guide draws were refused (the model's log density was −∞): the fit is biased towards the "
                         "draws the model accepts");
  if (std::string trend = fit.still_rising(); !trend.empty())
    page.notes.push_back("The ELBO was still rising at the end (" + trend + "): the fit has not converged.");
  if (std::optional<long> decay = fit.lr_decay_start(); decay && *decay >= 0)
    page.notes.push_back("The ELBO stopped rising at step " + std::to_string(*decay) + "; the learning rate decayed from there.");
  if (!fit.notes().empty()) page.notes.push_back(fit.notes());
  return report::render(page);
}

}  // namespace

std::string report_html(Fit& fit, const Summary& summary, const DrawTable& draws, const ReportOptions& options) {
  return fit_page(fit, &summary, &draws, options);
}

std::string report_html(Fit& fit, const ReportOptions& options) {
  // A failed fit keeps the last good parameters; drawing from them may fail too,
  // and the page still shows the steps and the failure.
  try {
    DrawTable draws = fit.draws(options.num_draws);
    Summary summary = fit.summarize(draws);
    return report_html(fit, summary, draws, options);
  } catch (const Error& e) {
    if (options.failure.empty()) throw;
    ReportOptions o = options;
    o.failure += std::string("\n\nNo posterior draws: ") + e.what();
    return fit_page(fit, nullptr, nullptr, o);
  }
}

std::string report_html(const Model& model, const ReportInputs& inputs, const ReportOptions& options) {
  report::Page page = model_page(detail::Access::impl(model), options);
  if (!inputs.summary_json.empty()) {
    try {
      page.summary = nlohmann::ordered_json::parse(inputs.summary_json);
    } catch (const nlohmann::json::exception& e) {
      api::fail(Error::Kind::Io, std::string("the summary (--summary) is not JSON: ") + e.what(),
                "give the file that `vireo run --summary` wrote");
    }
    if (!page.summary.is_object())
      api::fail(Error::Kind::Io, "the summary (--summary) is not a JSON object", "give the file that `vireo run --summary` wrote");
  }
  read_draws(page, inputs.draws_csv);
  read_history(page, inputs.elbo_history_csv);
  return report::render(page);
}

void write_report(Fit& fit, const std::string& path, const ReportOptions& options) {
  write_files_atomically({{path, report_html(fit, options)}});
}

}  // namespace vireo
