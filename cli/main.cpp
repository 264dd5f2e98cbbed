// The `vireo` command: a thin host of include/vireo (nothing else).
//   vireo check FILE [--data D]              parse + check (+ the data and one execution); errors with file:line:col
//   vireo graph FILE [--guide] [--format dot|text]
//   vireo run   FILE [--data DATA] [fit options] [--draws CSV] [--summary JSON] [--save-params F] [--load-params F]
//               [--evidence N] [--evaluate N] [--predictive CSV] [--elbo-history CSV] [--report HTML]
//   vireo report FILE [--summary JSON] [--draws CSV] [--elbo-history CSV] [--command TEXT] -o HTML
//                                            the HTML report of a run from its saved outputs
//   vireo sample FILE [--data DATA] [--num-draws N] [--seed S] [--draws CSV] [--summary JSON]
//                                            forward (prior predictive) draws; observed items left out are sampled
//   vireo trace FILE [--data DATA] [--seed S]  one execution, site by site
//   vireo evidence FILE [--data DATA] [--guide G] [--load-params F] [--draws N] [--seed S]
//                                            log p(data) by importance sampling from the guide, with Pareto k̂
// Exit status: 0 on success, 1 when the model, the data, the fit or an
// output fails (nothing is written then), 2 on a command-line mistake.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>
#include <string>
#include <thread>

#include "vireo/distributed.hpp"
#include "vireo/vireo.hpp"
#ifdef VIREO_CLI_MPI
#include "vireo/mpi.hpp"
#endif

namespace {

int report(const vireo::Error& e) {
  std::cerr << e.what();
  std::size_t errors = 0;
  for (const auto& d : e.diagnostics())
    if (d.severity == vireo::Diagnostic::Severity::Error) ++errors;
  if (errors > 1 && e.kind() == vireo::Error::Kind::Model) std::cerr << errors << " errors\n";
  return 1;
}

// Refuses an output path whose folder does not exist before the fit starts,
// rather than after minutes of work. The write itself is atomic (vireo::write_files_atomically).
void check_output(const std::string& path, const char* option) {
  if (path.empty()) return;
  std::filesystem::path p(path);
  std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec) || std::filesystem::is_directory(p, ec)) {
    vireo::Diagnostic d;
    d.file = path;
    d.message = std::string(option) + ": cannot write '" + path + "': " +
                (std::filesystem::is_directory(p, ec) ? "it is a folder" : "the folder does not exist");
    throw vireo::Error(path + ": error: " + d.message + "\n", {d}, vireo::Error::Kind::Io);
  }
}

// The data of `--data PATH`; without it, the empty data set of a model that
// declares no data, or an error naming what the data block asks for.
vireo::Data load_data(const vireo::Model& model, const std::string& path) {
  if (!path.empty()) return vireo::Data::from_json_file(model, path);
  std::vector<std::string> names = model.data_names();
  if (names.empty()) return vireo::Data::from_arrays(model, {});
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  vireo::Diagnostic d;
  d.file = model.file_name();
  d.message = "this model has a data block (" + list + "): pass its values with --data FILE.json";
  d.hint = "a JSON object keyed by the data names, e.g. {\"" + names.front() + "\": …}";
  throw vireo::Error(model.file_name() + ": error: " + d.message + "\n  hint: " + d.hint + "\n", {d},
                     vireo::Error::Kind::Data);
}

// Fixed-point, but a number too large to read that way (an ELBO of −1e208
// when a fit blows up) in exponent form.
std::string fixed(double x, int digits = 4) {
  char buf[48];
  if (std::abs(x) >= 1e9)
    std::snprintf(buf, sizeof buf, "%.6g", x);
  else
    std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// Progress on stderr: a bar redrawn in place on a terminal, a plain line at
// every 10% otherwise (logs and CI).
class Progress {
 public:
  explicit Progress(long total) : total_(total), tty_(::isatty(STDERR_FILENO) == 1) {}
  // "  epoch E" after the step count, for mini-batches as epochs.
  std::string epoch;
  void operator()(long step, long total, double elbo) {
    if (tty_) {
      auto now = std::chrono::steady_clock::now();
      if (step != total && now - last_ < std::chrono::milliseconds(100)) return;
      last_ = now;
      const int width = 30;
      int filled = static_cast<int>(width * step / std::max(1L, total));
      std::cerr << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
                << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << step << "/" << total
                << epoch << "  elbo " << fixed(elbo, 3) << "   " << std::flush;
      if (step == total) std::cerr << "\n";
    } else {
      long every = std::max(1L, total / 10);
      if (step % every == 0 || step == total)
        std::cerr << "step " << step << "/" << total << epoch << "  elbo " << fixed(elbo, 3) << "\n";
    }
  }

 private:
  long total_;
  bool tty_;
  std::chrono::steady_clock::time_point last_{};
};

// The typed fit options as the command line spells them, parsed into
// FitOptions (vireo::parse_guide, …) once CLI11 has read them: a spelling
// outside the set is a vireo::Error naming the accepted ones and the closest.
// Empty: not given.
struct OptionSpellings {
  std::string guide, elbo, baseline, optim, on_nonfinite, subsample, init, flow_clamp, flow_base;
  void apply(vireo::FitOptions& o) const {
    if (!guide.empty()) o.guide = vireo::parse_guide(guide);
    if (!elbo.empty()) o.elbo = vireo::parse_elbo(elbo);
    if (!baseline.empty()) o.baseline = vireo::Baseline::parse(baseline);
    if (!optim.empty()) o.optim = vireo::parse_optimizer(optim);
    if (!on_nonfinite.empty()) o.on_nonfinite = vireo::parse_on_nonfinite(on_nonfinite);
    if (!subsample.empty()) o.subsample = vireo::parse_subsample(subsample);
    if (!init.empty()) o.init = vireo::Init::parse(init);
    if (!flow_clamp.empty()) o.flow_clamp = vireo::parse_flow_clamp(flow_clamp);
    if (!flow_base.empty()) o.flow_base = vireo::parse_flow_base(flow_base);
  }
};

struct RunArgs {
  std::string model, data;
  vireo::FitOptions fit;
  long steps = 2000;
  bool steps_given = false;
  long epochs = 0;  // --epochs: steps = ceil(epochs·N/B) of the subsampled plate
  long num_draws = 1000;
  int grad_var = 0;
  long diagnose = 0;
  long evidence = 0;
  long evaluate = 0;
  std::string draws, summary, save_params, load_params, predictive;
  std::string elbo_history, report;  // --elbo-history CSV, --report HTML
  std::string command_line;          // shown in the report, so that the page reproduces the run
  std::string shard_plate;           // --shard-plate: the plate a data-parallel run splits
  bool threads_given = false;        // --threads given: under mpirun the cores are not shared out
};

// The header of a fit: every setting in use, then the ones the guide chose
// because the command line left them unset, and what the end of the run does.
std::string header(const RunArgs& a, const vireo::FitOptions& o, const vireo::Fit& fit) {
  if (fit.exact())
    return "computing the exact posterior of " + a.model + ": " +
           (fit.elbo_reason().empty() ? std::string("every latent site is summed out") : fit.elbo_reason()) +
           ", and there is nothing continuous to fit (no optimisation; --steps is not used)";
  const bool adaptive_schedule = fit.lr_decay_start().has_value();
  using E = vireo::Elbo;
  const std::string elbo = o.elbo == E::TraceGraph ? "TraceGraph_ELBO, baseline " + o.baseline.text()
                           : o.elbo == E::MeanField ? "TraceMeanField_ELBO"
                           : o.elbo == E::Enum      ? "TraceEnum_ELBO"
                                                    : "Trace_ELBO";
  const std::string guide = vireo::to_string(*o.guide);
  const int particles = *o.particles;
  std::ostringstream h;
  h << "fitting " << a.model << ": guide " << guide << ", " << elbo << " (" << particles << " particle"
    << (particles == 1 ? "" : "s") << ", "
    << (*o.estimator == vireo::Estimator::Stl ? "sticking-the-landing" : "standard") << " gradient), "
    << vireo::to_string(o.optim) << " lr " << *o.lr;
  if (o.optim == vireo::Optimizer::ClippedAdam && o.lrd != 1) h << " decaying by " << o.lrd << " a step";
  if (!o.lr_schedule->is_constant()) h << " scheduled " << o.lr_schedule->text();
  if (adaptive_schedule) h << " (constant until the ELBO stops rising, then decaying as inv_sqrt from that step)";
  h << ", " << a.steps << " steps, seed " << a.fit.seed;
  const long averaged = *o.average_last > 0 ? std::max(1L, std::lround(static_cast<double>(a.steps) * *o.average_last)) : 0;
  if (averaged > 0)
    h << "; ends on the mean of the last " << fixed(100 * *o.average_last, 0) << "% of the iterates (" << averaged
      << " steps)";
  else
    h << "; ends on the last iterate";
  // The options the guide's defaults filled in.
  std::vector<std::string> chosen;
  const auto num = [](double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  };
  if (!a.fit.estimator) chosen.push_back(std::string("--estimator ") + vireo::to_string(*o.estimator));
  if (!a.fit.lr) chosen.push_back("--lr " + num(*o.lr));
  if (!a.fit.init_scale && o.guide != vireo::Guide::Custom && o.guide != vireo::Guide::AutoDelta)
    chosen.push_back("--init-scale " + num(*o.init_scale));
  if (!a.fit.lr_schedule)
    chosen.push_back("--lr-schedule " + (o.lr_schedule->is_constant() ? std::string("none") : o.lr_schedule->text()));
  if (!a.fit.particles) chosen.push_back("--particles " + std::to_string(particles));
  if (!a.fit.average_last) chosen.push_back("--average-last " + num(*o.average_last));
  if (!chosen.empty()) {
    h << "\n  " << guide << "'s defaults:";
    for (const auto& c : chosen) h << " " << c;
  }
  if (!fit.elbo_reason().empty()) h << "\n  --elbo " << vireo::to_string(*o.elbo) << ": " << fit.elbo_reason();
  return h.str();
}

// The one (N, B) of the model's subsampled plates, or an error saying why
// --epochs cannot count its steps.
std::pair<long, long> epoch_plate(vireo::Fit& fit, const std::string& file) {
  std::map<std::string, std::pair<long, long>> plates = fit.subsampled_plates();
  auto refuse = [&](const std::string& message, const std::string& hint) {
    vireo::Diagnostic d;
    d.file = file;
    d.message = message;
    d.hint = hint;
    throw vireo::Error(file + ": error: " + message + "\n  hint: " + hint + "\n", {d}, vireo::Error::Kind::Options);
  };
  if (plates.empty())
    refuse("--epochs counts passes over a subsampled plate, and this model has none",
           "give the number of steps with --steps, or subsample a plate: `plate data(N, subsample = B)`");
  for (const auto& [name, nb] : plates)
    if (nb != plates.begin()->second)
      refuse("--epochs needs one data size: plates '" + plates.begin()->first + "' and '" + name +
                 "' are subsampled with different sizes",
             "give the number of steps with --steps");
  return plates.begin()->second;
}

// `comm`: a data-parallel run over its ranks (mpirun, or --shard-plate),
// null for the plain fit. Rank 0 prints and writes every output; every step
// of every rank meets the others, and what is checked before the fit is
// agreed, so that no rank waits for one that stopped.
int run(RunArgs a, std::shared_ptr<vireo::Communicator> comm = nullptr) {
  const bool lead = !comm || comm->rank() == 0;
  auto agreed = [&](const std::function<void()>& body) { comm ? vireo::agree(*comm, body) : body(); };
  std::optional<vireo::Model> model;
  agreed([&] {
    if (lead) {
      check_output(a.draws, "--draws");
      check_output(a.summary, "--summary");
      check_output(a.save_params, "--save-params");
      check_output(a.predictive, "--predictive");
      check_output(a.elbo_history, "--elbo-history");
      check_output(a.report, "--report");
    }
    if (comm) {
      const char* alone = a.evidence > 0 ? "--evidence" : a.evaluate > 0 ? "--evaluate" : a.grad_var > 0 ? "--grad-var" : nullptr;
      std::string why;
      if (alone) why = std::string(alone) + " would see rank 0's rows only";
      if (a.data.empty()) why = "a data-parallel run needs --data (one file, or one per rank: 'part-{rank}.json')";
      if (!why.empty()) {
        vireo::Diagnostic d;
        d.message = why;
        d.hint = "run it without mpirun, on the whole data";
        throw vireo::Error("error: " + d.message + "\n  hint: " + d.hint + "\n", {d}, vireo::Error::Kind::Options);
      }
    }
    model.emplace(vireo::Model::from_file(a.model));
  });
  std::cerr << model->rendered_warnings();
  vireo::Data data = comm ? vireo::load_shard(*model, a.data, comm, vireo::ShardOptions{a.shard_plate}) : load_data(*model, a.data);
  std::cerr << data.rendered_warnings();
  if (comm) {
    const vireo::ShardInfo s = vireo::shard_info(data);
    std::cerr << "data-parallel over " << s.ranks << " rank" << (s.ranks == 1 ? "" : "s") << ": plate '" << s.plate
              << "' of " << s.total << " rows split, rank 0 holding rows 0-" << s.rows - 1 << ", "
              << a.fit.threads << " thread" << (a.fit.threads == 1 ? "" : "s") << " a rank\n";
  }
  std::optional<vireo::Fit> fit_holder;
  agreed([&] {
    fit_holder.emplace(*model, data, a.fit);
    if (!a.load_params.empty()) fit_holder->load_params(a.load_params);
    if (a.epochs > 0) {
      if (a.steps_given) {
        vireo::Diagnostic d;
        d.message = "--steps and --epochs both say how long to train";
        d.hint = "give one of them";
        throw vireo::Error("error: " + d.message + "\n  hint: " + d.hint + "\n", {d}, vireo::Error::Kind::Options);
      }
      const auto [n, b] = epoch_plate(*fit_holder, a.model);
      a.steps = (a.epochs * n + b - 1) / b;  // ceil(E·N/B)
    }
  });
  vireo::Fit& fit = *fit_holder;
  if (comm && a.epochs > 0) {  // every rank takes rank 0's count (its share's N and B round differently)
    std::vector<std::uint64_t> all(static_cast<std::size_t>(comm->size()));
    const std::uint64_t mine = static_cast<std::uint64_t>(a.steps);
    comm->gather_all(&mine, 1, all.data());
    a.steps = static_cast<long>(all[0]);
  }

  std::cerr << header(a, fit.options(), fit) << "\n";
  vireo::ReportOptions report_options;
  report_options.command_line = a.command_line;
  report_options.num_draws = a.num_draws;
  // A failed fit writes none of its outputs but the report, alone: the steps
  // up to the failure and the guard's message.
  const auto report_failure = [&](const std::string& message) {
    if (a.report.empty()) return;
    report_options.failure = message;
    try {
      vireo::write_report(fit, a.report, report_options);
      std::cerr << "written: " << a.report << " (the fit up to its failure)\n";
    } catch (const vireo::Error& e) {
      std::cerr << e.what();
    }
  };
  if (a.diagnose > 0) {
    std::string text = fit.diagnose(a.diagnose).text;
    report_options.diagnosis += "before the fit: " + text;
    std::cerr << "before the fit: " << text;
  }
  Progress progress(a.steps);
  bool hinted = false;
  try {
    std::optional<std::pair<long, long>> batches;  // (N, B), known after the first step
    fit.run(a.steps, [&](long step, long total, double elbo) {
      if (!batches && fit.options().subsample == vireo::Subsample::Epochs) {
        std::map<std::string, std::pair<long, long>> plates = fit.subsampled_plates();
        batches = plates.empty() ? std::pair<long, long>{0, 0} : plates.begin()->second;
      }
      if (batches && batches->first > 0)  // the epoch of the step's first element
        progress.epoch = "  epoch " + std::to_string((fit.steps_taken() - 1) * batches->second / batches->first + 1);
      progress(step, total, elbo);
      // An extremely low first ELBO is the commonest trouble: say where to look.
      if (step == 1 && !hinted && a.diagnose == 0 && fit.elbo_history().front() < -1e6) {
        hinted = true;
        std::cerr << "note: the first ELBO is " << fit.elbo_history().front()
                  << "; run with --diagnose to see which site and what to do\n";
      }
    });
  } catch (const vireo::Error& e) {
    if (a.diagnose > 0) {
      std::string text = fit.diagnose(a.diagnose).text;
      report_options.diagnosis += "at the last good step: " + text;
      std::cerr << "at the last good step: " << text;
    }
    report_failure(e.what());
    throw;
  }
  if (!lead) return 0;  // rank 0 summarises and writes
  if (a.diagnose > 0) {
    std::string text = fit.diagnose(a.diagnose).text;
    report_options.diagnosis += "after the fit: " + text;
    std::cerr << "after the fit: " << text;
  }
  if (!fit.notes().empty()) std::cerr << fit.notes() << "\n";
  if (fit.rejected_steps() > 0)
    std::cerr << "warning: " << fit.rejected_steps() << " of " << a.steps
              << " steps were not applied (non-finite); the last because " << fit.last_rejection() << "\n";
  if (fit.refused_draws() > 0)
    std::cerr << "warning: " << fit.refused_draws() << " guide draw" << (fit.refused_draws() == 1 ? " was" : "s were")
              << " refused because the model's log density was -inf (a value outside a likelihood's support); "
                 "the fit is biased towards the draws the model accepts\n"
              << "  hint: reparameterise so that no support depends on a latent value (`vireo check` points to "
                 "where one does), or start nearer with --init-values FILE.json\n";
  if (const std::optional<long> decay = fit.lr_decay_start()) {
    if (*decay >= 0)
      std::cerr << "note: the ELBO stopped rising at step " << *decay << "; the learning rate decayed from there\n";
    else
      std::cerr << "note: the ELBO did not stop rising: the learning rate stayed at " << *fit.options().lr << "\n";
  }
  if (std::string trend = fit.still_rising(); !trend.empty())
    std::cerr << "warning: the ELBO was still rising at the end (" << trend
              << "): the fit has not converged and its summary is not the optimum's\n"
              << "  hint: run more --steps (or a larger --lr)\n";
  if (a.steps > 0 && !fit.exact() && !std::isfinite(fit.running_elbo())) {
    const std::string message = "error: the fit failed: no step gave a finite ELBO (" + fit.last_rejection() + ")\n" +
                                "  hint: try a smaller --lr, another --init, or check the model's scales; nothing was written\n";
    std::cerr << message;
    report_failure(message);
    return 1;
  }

  vireo::DrawTable draws = fit.draws(a.num_draws);
  vireo::Summary summary = fit.summarize(draws);
  if (a.grad_var > 0) {
    summary.gradient_variance = fit.gradient_variance(a.grad_var);
    summary.gradient_variance_draws = a.grad_var;
  }
  if (a.evidence > 0) summary.evidence = fit.evidence(a.evidence);
  if (a.evaluate > 0) summary.evaluation = fit.evaluate(a.evaluate);
  std::vector<std::pair<std::string, std::string>> outputs;
  if (!a.draws.empty()) outputs.emplace_back(a.draws, draws.to_csv());
  if (!a.summary.empty()) outputs.emplace_back(a.summary, summary.to_json());
  if (!a.save_params.empty()) outputs.emplace_back(a.save_params, fit.params_json());
  // Posterior predictive: the same draws (same generators), with every
  // observed site sampled from the model given them.
  if (!a.predictive.empty()) outputs.emplace_back(a.predictive, fit.draws(a.num_draws, true).to_csv());
  if (!a.elbo_history.empty()) outputs.emplace_back(a.elbo_history, fit.step_history_csv());
  if (!a.report.empty()) outputs.emplace_back(a.report, vireo::report_html(fit, summary, draws, report_options));
  vireo::write_files_atomically(outputs);
  std::cout << summary.to_table();
  return 0;
}

struct SampleArgs {
  std::string model, data, draws, summary;
  long num_draws = 1000;
  std::uint64_t seed = 0;
  int max_depth = 200;
  vireo::Limits limits;
};

// Forward draws (the prior predictive): no guide, no fit. The data may leave
// out the items the model only observes (all of them, without --data): those
// are sampled; sizes and covariates must be given.
int sample(const SampleArgs& a) {
  check_output(a.draws, "--draws");
  check_output(a.summary, "--summary");
  vireo::Model model = vireo::Model::from_file(a.model);
  std::cerr << model.rendered_warnings();
  const vireo::DataOptions options{.allow_missing_observed = true};
  vireo::Data data = a.data.empty() ? vireo::Data::from_arrays(model, {}, options)
                                    : vireo::Data::from_json_file(model, a.data, options);
  std::cerr << data.rendered_warnings();
  std::string drawn;
  for (const auto& name : data.missing()) drawn += (drawn.empty() ? "" : ", ") + name;
  std::cerr << "sampling " << a.model << " forward (prior predictive): " << a.num_draws << " draws, seed " << a.seed
            << (drawn.empty() ? "; every observed item is given and stays fixed" : "; observed items drawn: " + drawn)
            << "\n";
  vireo::DrawTable draws = vireo::sample_prior(model, data, a.num_draws, a.seed, a.max_depth, a.limits);
  vireo::Summary summary = vireo::summarize(draws);
  std::vector<std::pair<std::string, std::string>> outputs;
  if (!a.draws.empty()) outputs.emplace_back(a.draws, draws.to_csv());
  if (!a.summary.empty()) outputs.emplace_back(a.summary, summary.to_json());
  vireo::write_files_atomically(outputs);
  std::cout << summary.to_table();
  return 0;
}

struct EvidenceArgs {
  std::string model, data, load_params;
  vireo::FitOptions fit;
  long draws = 10000;
};

// The evidence at saved parameters (or, with a note, at the initial ones).
// An unreliable estimate still exits 0: the verdict is in the output.
int evidence(const EvidenceArgs& a) {
  vireo::Model model = vireo::Model::from_file(a.model);
  std::cerr << model.rendered_warnings();
  vireo::Data data = load_data(model, a.data);
  std::cerr << data.rendered_warnings();
  vireo::Fit fit(model, data, a.fit);
  if (!a.load_params.empty())
    fit.load_params(a.load_params);  // refuses the parameters of another guide
  else if (!fit.exact())  // an exact model has no parameters to load
    std::cerr << "note: no --load-params: the guide (" << fit.guide_name() << ") is at its initial parameters; "
              << "fit it first (`vireo run --save-params F`, or `vireo run --evidence N`)\n";
  // A file holding none of the parameters the guide makes on its first run
  // (another model's) would leave the estimate at initial values: refused.
  // Parameters of sites the fit never reached (a recursion deeper than any
  // of its draws) are not required: they start from their init, as in a fit.
  if (!a.load_params.empty()) {
    vireo::Fit fresh(model, data, a.fit);
    try {
      fresh.trace();
    } catch (const vireo::Error&) {
      // A first run that fails at the initial values still made the
      // parameters of the sites before the failure; the loaded ones may run.
    }
    const auto mine = fresh.parameters(), held = fit.parameters();
    bool any = mine.empty();
    for (const auto& [name, value] : mine) any = any || held.count(name) > 0;
    if (!any) {
      std::cerr << "error: " << a.load_params << " does not hold the parameters of the guide " << fit.guide_name()
                << " for this model\n  hint: pass the model and --guide the fit used (`vireo run --guide ...`)\n";
      return 1;
    }
  }
  vireo::Evidence e = fit.evidence(a.draws);
  std::cout << e.to_text();
  return 0;
}

// The command line as a shell would take it back: arguments with characters
// the shell treats specially in single quotes.
std::string quoted_command(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789-_./=:+,@%") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      arg = q + "'";
    }
    out += (i ? " " : "") + arg;
  }
  return out;
}

struct ReportArgs {
  std::string model, summary, draws, elbo_history, out, command, title;
  int max_elements = 12;
};

std::string read_input(const std::string& path, const char* option) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) {
    vireo::Diagnostic d;
    d.file = path;
    d.message = std::string(option) + ": cannot read '" + path + "'";
    throw vireo::Error(path + ": error: " + d.message + "\n", {d}, vireo::Error::Kind::Io);
  }
  return text.str();
}

// The report of a run from its saved outputs (--summary, --draws, --elbo-history).
int report_from_outputs(const ReportArgs& a) {
  check_output(a.out, "--output");
  vireo::Model model = vireo::Model::from_file(a.model);
  std::cerr << model.rendered_warnings();
  vireo::ReportInputs inputs{read_input(a.summary, "--summary"), read_input(a.draws, "--draws"),
                             read_input(a.elbo_history, "--elbo-history")};
  vireo::ReportOptions options;
  options.title = a.title;
  options.command_line = a.command;
  options.max_elements = a.max_elements;
  vireo::write_files_atomically({{a.out, vireo::report_html(model, inputs, options)}});
  std::cerr << "written: " << a.out << "\n";
  return 0;
}

}  // namespace

// Started by mpirun (Open MPI or a PMI launcher): each process is a rank.
bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

// `mpirun -np R vireo run …`: the ranks of MPI_COMM_WORLD train one model.
// Ranks other than 0 print nothing (rank 0 prints every agreed error).
// Without --threads, the ranks on one machine share its cores: R ranks on C
// cores take C / R threads each (at least one), rather than C each.
int run_parallel(const RunArgs& given) {
#ifdef VIREO_CLI_MPI
  MPI_Init(nullptr, nullptr);
  int code = 1;
  {
    RunArgs a = given;
    if (!a.threads_given) {
      MPI_Comm node;
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
      int on_node = 1;
      MPI_Comm_size(node, &on_node);
      MPI_Comm_free(&node);
      a.fit.threads = std::max(1, a.fit.threads / std::max(1, on_node));
    }
    std::shared_ptr<vireo::Communicator> comm = vireo::mpi::communicator(MPI_COMM_WORLD);
    if (comm->rank() != 0) {
      std::freopen("/dev/null", "w", stdout);
      std::freopen("/dev/null", "w", stderr);
    }
    try {
      code = run(a, comm);
    } catch (const vireo::Error& e) {
      code = report(e);
    }
  }
  MPI_Finalize();
  return code;
#else
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!size) size = std::getenv("PMI_SIZE");
  if (size && std::string(size) != "1") {
    std::cerr << "error: this vireo was built without MPI: under mpirun each of the " << size
              << " processes would fit the whole data alone\n"
              << "  hint: install libopenmpi-dev and openmpi-bin and build again (CMake finds MPI), or run without mpirun\n";
    return 1;
  }
  return run(given, given.shard_plate.empty() ? nullptr : vireo::single_process());
#endif
}

int main(int argc, char** argv) {
  CLI::App app{"Vireo: probabilistic models and variational inference"};
  app.require_subcommand(1);
  app.fallthrough(false);

  const char* data_help = "the data, a JSON object keyed by data names (needed only when the model has a data block)";
  std::string check_file, check_data;
  CLI::App* check = app.add_subcommand("check", "Parse and check a model (and, with --data, the data and one execution); errors with file:line:col");
  check->add_option("FILE", check_file, "the .vireo file")->required();
  check->add_option("--data", check_data,
                    "also check the data against the declarations, then run the model (and guide) once at the "
                    "initial values: what only the data can show (a size that does not fit a plate, an index out of "
                    "range, a parameter outside its domain) is reported as `run` would");

  std::string graph_file, format = "dot";
  bool with_guide = false;
  CLI::App* graph = app.add_subcommand("graph", "The model as a Graphviz graph of sites and plates");
  graph->add_option("FILE", graph_file, "the .vireo file")->required();
  graph->add_flag("--guide", with_guide, "also draw the guide's sites");
  graph->add_option("--format", format, "dot (default) or text")->check(CLI::IsMember({"dot", "text"}));

  RunArgs ra;
  OptionSpellings run_spelled, trace_spelled, evidence_spelled;
  CLI::App* run_cmd = app.add_subcommand("run", "Fit a model to data by stochastic variational inference");
  run_cmd->add_option("FILE", ra.model, "the .vireo file")->required();
  run_cmd->add_option("--data", ra.data,
                      std::string(data_help) +
                          ". Under mpirun (a data-parallel run): one file split by rows over the ranks, or one per rank "
                          "with {rank} in its name ('part-{rank}.json': that rank's rows, its plate size as their "
                          "number, and the items shared by every rank)");
  run_cmd->add_option("--shard-plate", ra.shard_plate,
                      "a data-parallel run (mpirun -np R vireo run …) splits this plate's rows over the ranks "
                      "(default: the outermost plate whose size is a data item leading other data items)");
  run_cmd->add_option("--guide", run_spelled.guide,
                      "auto_normal | auto_diagonal_normal | auto_mvn | auto_lowrank_mvn | auto_realnvp | auto_delta | custom "
                      "(default: custom when the file has a guide block, else auto_normal)");
  run_cmd->add_option("--elbo", run_spelled.elbo,
                      "trace (Trace_ELBO) | tracegraph (TraceGraph_ELBO: Rao-Blackwellised score terms with baselines) | "
                      "meanfield (TraceMeanField_ELBO: analytic KL(q || p) where the pair has one) | "
                      "enum (TraceEnum_ELBO: discrete sites of finite support summed out exactly). Default: enum when "
                      "every discrete latent site can be summed out, tracegraph when some cannot, trace without any");
  run_cmd->add_option("--baseline", run_spelled.baseline,
                      "tracegraph: baseline for sites without `with baseline(...)`: avg (default, beta 0.90) | avg:BETA | "
                      "value:X | loo (leave-one-out across particles) | avg+loo | none");
  run_cmd->add_option("--diagnose", ra.diagnose,
                      "before and after the fit, over N draws: the ELBO per site, gradient norms, guide scales, and advice "
                      "when the ELBO is extremely low (0: off)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--grad-var", ra.grad_var,
                      "after the fit, the variance of each parameter's gradient estimate over N draws (0: off)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--optim", run_spelled.optim, "adam (default) | clipped_adam | sgd | adagrad | rmsprop");
  double lr = 0, init_scale = 0, average_last = 0;
  int particles = 1;
  std::string estimator, lr_schedule;
  CLI::Option* lr_option = run_cmd->add_option(
      "--lr", lr, "learning rate (default: the guide's; 0.05 for auto_normal and auto_diagonal_normal, 0.01 otherwise)");
  run_cmd->add_option("--clip-norm", ra.fit.clip_norm, "clipped_adam: gradient elements clamped to ±this (default 10)");
  run_cmd->add_option("--lrd", ra.fit.lrd, "clipped_adam: lr multiplied by this every step (default 1)");
  run_cmd->add_option("--on-nonfinite", run_spelled.on_nonfinite,
                      "a step with a non-finite loss or gradient is never applied; then: skip (default; stop after "
                      "--max-nonfinite in a row) | stop | shrink-lr (halve the learning rate)");
  run_cmd->add_option("--max-nonfinite", ra.fit.max_nonfinite, "refused steps in a row that stop the fit (default 20)");
  run_cmd->add_option("--clip-grad-norm", ra.fit.clip_grad_norm,
                      "scale the whole gradient down to this norm when it is larger, any optimizer (default 0: off)");
  run_cmd->add_option("--clip-value", ra.fit.clip_value, "clamp every gradient element to ±this (default 0: off)");
  CLI::Option* lr_schedule_option = run_cmd->add_option(
      "--lr-schedule", lr_schedule,
      "exp:GAMMA | step:EVERY:GAMMA | inv_sqrt:STEPS (1/sqrt(1 + t/STEPS)) | warmup:STEPS | plateau:STEPS (constant "
      "until the ELBO stops rising over blocks of STEPS steps, then inv_sqrt:STEPS from there), joined by '+', or none "
      "(default: the guide's; plateau:100 for auto_mvn and auto_lowrank_mvn, none otherwise)");
  run_cmd->add_option("--kl-anneal", ra.fit.kl_anneal,
                      "weight the latent sites' log p and log q from --kl-floor up to 1 over this many steps (default 0: off)");
  run_cmd->add_option("--kl-floor", ra.fit.kl_floor, "the starting weight of --kl-anneal (default 0.01)");
  CLI::Option* average_last_option = run_cmd->add_option(
      "--average-last", average_last,
      "end with the parameters' mean over this fraction of the last steps, counting those before --load-params "
      "(Polyak-Ruppert; --save-params keeps the last iterate to resume from; default 0.1; 0: the last iterate)");
  const char* depth_help = "the deepest chain of nested fn calls (recursion) an execution may make, 1 to 100000 "
                           "(default 200); --max-recursion is the same";
  // Limits for untrusted models (vireo::Limits), on every command that runs one.
  auto add_limits = [](CLI::App* cmd, vireo::Limits& l) {
    cmd->add_option("--max-sites", l.max_sites,
                    "the most sites (sample, observe, factor, deterministic statements run) one execution of the model "
                    "or guide may run, 1 to 10^12 (default 100000; a plate counts once)");
    cmd->add_option("--max-tape-mb", l.max_tape_mb,
                    "the most memory one execution's AD tape may take, in MB, 1 to 10^9 (default 4096): larger arrays "
                    "are refused before they are allocated");
    cmd->add_option("--time-limit", l.time_limit,
                    "stop with an error after this many seconds of wall time, between steps or inside an execution "
                    "(default 0: no limit)");
  };
  run_cmd->add_option("--max-depth,--max-recursion", ra.fit.max_depth, depth_help);
  add_limits(run_cmd, ra.fit.limits);
  CLI::Option* steps_option =
      run_cmd->add_option("--steps", ra.steps, "SVI steps (default 2000)")->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--epochs", ra.epochs,
                      "train for this many passes over the data: ceil(E·N/B) steps for the subsampled plate "
                      "`plate data(N, subsample = B)` (instead of --steps)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--subsample", run_spelled.subsample,
                      "how a subsampled plate draws its mini-batches: epochs (default; shuffled epochs, every "
                      "element once per epoch, reshuffled each epoch) | independent (B distinct indices afresh "
                      "each step)")
      ->check(CLI::IsMember({"epochs", "independent"}));
  CLI::Option* particles_option =
      run_cmd->add_option("--particles", particles, "ELBO particles per step (default: the guide's; 8 for auto_realnvp, 1 otherwise)");
  run_cmd->add_option("--seed", ra.fit.seed, "random seed (default 0); the same seed gives the same output");
  ra.fit.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::Option* threads_option = run_cmd->add_option("--threads", ra.fit.threads,
                      "threads a step may use (default: this machine's cores, " + std::to_string(ra.fit.threads) +
                          "; under mpirun, the cores shared among the ranks on each machine): particles run in "
                          "parallel and large plates are split into fixed chunks; the output is the same, bit for "
                          "bit, on any number of threads")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            std::size_t used = 0;
            long n = 0;
            try {
              n = std::stol(v, &used);
            } catch (const std::exception&) {
              used = 0;
            }
            if (used == 0 || used != v.size() || n < 1 || n > 4096)
              return "--threads must be a whole number of threads from 1 to 4096; got '" + v + "'";
            return "";
          },
          "N"));
  run_cmd->add_option("--init", run_spelled.init, "init strategy: median (default) | mean | sample | feasible | uniform(R)");
  run_cmd->add_option("--init-values", ra.fit.init_values_file,
                      "starting values per latent site, a JSON object {\"M\": 14, \"eta\": [0, 0]} on the constrained "
                      "scale, checked against the supports; other sites start by --init");
  CLI::Option* estimator_option = run_cmd->add_option(
      "--estimator", estimator,
      "standard | stl: sticking-the-landing path gradients (every guide but auto_delta), whose variance vanishes at "
      "the exact posterior (default: stl for the automatic guides but auto_delta, standard for auto_delta and "
      "hand-written guides)");
  CLI::Option* init_scale_option = run_cmd->add_option(
      "--init-scale", init_scale, "initial guide scale, unconstrained (default: the guide's; 1 for auto_mvn and auto_lowrank_mvn, 0.1 otherwise)");
  run_cmd->add_option("--flow-layers", ra.fit.flow_layers, "auto_realnvp: affine coupling layers (default 4)");
  run_cmd->add_option("--flow-hidden", ra.fit.flow_hidden, "auto_realnvp: hidden width of each layer's nets (default 32)");
  run_cmd->add_option("--flow-clamp", run_spelled.flow_clamp,
                      "auto_realnvp: clamp of the log-scale: soft (asymmetric atan, default) | hard (Pyro's [-5, 3]) | none");
  run_cmd->add_option("--flow-alpha-pos", ra.fit.flow_alpha_pos,
                      "auto_realnvp: the soft clamp's bound above 0, > 0 (default 0.1: a layer can barely expand)");
  run_cmd->add_option("--flow-alpha-neg", ra.fit.flow_alpha_neg,
                      "auto_realnvp: the soft clamp's bound below 0, > 0 (default 2)");
  run_cmd->add_option("--flow-base", run_spelled.flow_base,
                      "auto_realnvp: base distribution: normal (default) | student_t (degrees of freedom learned per coordinate)");
  run_cmd->add_option("--flow-net-lr", ra.fit.flow_net_lr,
                      "auto_realnvp: the coupling nets' learning rate relative to --lr (default 0: min(1, 100/D) for D "
                      "latent coordinates)");
  run_cmd->add_option("--loft-tau", ra.fit.loft_tau, "auto_realnvp: LOFT threshold (default 100; 0: no LOFT layer)");
  run_cmd->add_option("--draws", ra.draws, "write posterior draws to this CSV (CmdStan column names)");
  run_cmd->add_option("--num-draws", ra.num_draws, "posterior draws for --draws and the summary (default 1000)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--summary", ra.summary, "write the posterior summary to this JSON file");
  run_cmd->add_option("--save-params", ra.save_params, "save parameters and optimizer state (to resume later)");
  run_cmd->add_option("--load-params", ra.load_params, "start from parameters saved by --save-params");
  run_cmd->add_option("--predictive", ra.predictive,
                      "write posterior predictive draws to this CSV: every observed site sampled given each posterior "
                      "draw (--num-draws rows), with that draw's latent and deterministic sites, named as --draws");
  run_cmd->add_option("--evidence", ra.evidence,
                      "after the fit, estimate log p(data) by importance sampling with N draws from the guide, "
                      "with Pareto k̂ (0: off)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--evaluate", ra.evaluate,
                      "after the fit, the ELBO from N fresh draws over the whole data (subsampled plates taken "
                      "whole), split into log-likelihood and KL, per element of a subsampled plate, and the active "
                      "units of per-element latent sites (0: off)")
      ->check(CLI::NonNegativeNumber);

  run_cmd->add_option("--elbo-history", ra.elbo_history,
                      "write every step to this CSV: step, elbo, lr (the learning rate used), latent_weight (the KL "
                      "annealing weight, 1 without --kl-anneal), rejected (1 when the non-finite guard refused it)");
  run_cmd->add_option("--report", ra.report,
                      "write one self-contained HTML page of the fit (the model, the plate diagram, the ELBO per step, "
                      "a panel per site, the diagnostics, this command); opens offline. When the fit fails, the report "
                      "alone is written, showing the fit up to the failure");

  ReportArgs rpa;
  CLI::App* report_cmd = app.add_subcommand(
      "report", "Write the HTML report of a run from its saved outputs (--summary, --draws, --elbo-history)");
  report_cmd->footer(
      "Example: vireo run m.vireo --data d.json --summary s.json --draws d.csv --elbo-history h.csv; then "
      "vireo report m.vireo --summary s.json --draws d.csv --elbo-history h.csv -o report.html. Each input may be left "
      "out: its part of the page then says so. `vireo run --report FILE` writes the same page directly.");
  report_cmd->add_option("FILE", rpa.model, "the .vireo file the run fitted")->required();
  report_cmd->add_option("--summary", rpa.summary, "the posterior summary (`vireo run --summary`)");
  report_cmd->add_option("--draws", rpa.draws, "the posterior draws (`vireo run --draws`)");
  report_cmd->add_option("--elbo-history", rpa.elbo_history, "the steps (`vireo run --elbo-history`)");
  report_cmd->add_option("--command", rpa.command, "the command line of the run, shown on the page");
  report_cmd->add_option("--title", rpa.title, "the page's title (default: the model's file name)");
  report_cmd->add_option("--max-elements", rpa.max_elements, "small multiples per vector site (default 12)")
      ->check(CLI::PositiveNumber);
  report_cmd->add_option("-o,--output", rpa.out, "the HTML file to write")->required();

  SampleArgs sa;
  CLI::App* sample_cmd = app.add_subcommand(
      "sample", "Run the model forward (prior predictive; no guide, no fit): draws as CSV, observed items left out sampled");
  sample_cmd->footer(
      "Observed data items left out of --data (all of them, without --data) are sampled per element; given ones stay "
      "fixed, and nothing is conditioned on them (that is what `run` does). Sizes, covariates and indices must be "
      "given. Example: vireo sample coin.vireo --data n.json --draws prior.csv  (n.json: {\"n\": 10})");
  sample_cmd->add_option("FILE", sa.model, "the .vireo file")->required();
  sample_cmd->add_option("--data", sa.data,
                         "the data, a JSON object keyed by data names; items the model uses only as observed values "
                         "may be left out, to be sampled (needed only for the other items)");
  sample_cmd->add_option("--num-draws", sa.num_draws, "forward draws (default 1000)")->check(CLI::PositiveNumber);
  sample_cmd->add_option("--seed", sa.seed, "random seed (default 0); draw i depends only on the seed and i");
  sample_cmd->add_option("--draws", sa.draws,
                         "write the draws to this CSV, one row per draw (latent, deterministic and sampled observed "
                         "sites; CmdStan column names, as `vireo run --draws`)");
  sample_cmd->add_option("--summary", sa.summary, "write the draws' summary to this JSON file (as `vireo run --summary`)");
  sample_cmd->add_option("--max-depth,--max-recursion", sa.max_depth, depth_help);
  add_limits(sample_cmd, sa.limits);

  std::string trace_file, trace_data, trace_params;
  vireo::FitOptions trace_options;
  CLI::App* trace = app.add_subcommand("trace", "One execution (guide draw + model replay): every site, its value and log-density");
  trace->add_option("FILE", trace_file, "the .vireo file")->required();
  trace->add_option("--data", trace_data, data_help);
  trace->add_option("--seed", trace_options.seed, "random seed (default 0)");
  trace->add_option("--guide", trace_spelled.guide, "the guide (default as for `vireo run`)");
  trace->add_option("--init", trace_spelled.init, "init strategy (default median)");
  trace->add_option("--load-params", trace_params, "use parameters saved by `vireo run --save-params`");
  trace->add_option("--max-depth,--max-recursion", trace_options.max_depth, depth_help);
  add_limits(trace, trace_options.limits);

  EvidenceArgs ea;
  CLI::App* evidence_cmd = app.add_subcommand(
      "evidence", "Estimate log p(data) by importance sampling from the guide, with its Pareto k̂ diagnostic");
  evidence_cmd->add_option("FILE", ea.model, "the .vireo file")->required();
  evidence_cmd->add_option("--data", ea.data, data_help);
  evidence_cmd->add_option("--guide", evidence_spelled.guide, "the guide the parameters belong to (default as for `vireo run`)");
  evidence_cmd->add_option("--load-params", ea.load_params, "the fitted parameters (`vireo run --save-params`)");
  evidence_cmd->add_option("--draws", ea.draws, "draws from the guide (default 10000)")->check(CLI::PositiveNumber);
  evidence_cmd->add_option("--seed", ea.fit.seed, "random seed (default 0)");
  evidence_cmd->add_option("--init", evidence_spelled.init, "init strategy without --load-params (default median)");
  evidence_cmd->add_option("--max-depth,--max-recursion", ea.fit.max_depth, depth_help);
  add_limits(evidence_cmd, ea.fit.limits);

  if (argc >= 2 && argv[1][0] != '-') {
    std::string cmd = argv[1];
    if (cmd != "check" && cmd != "graph" && cmd != "run" && cmd != "trace" && cmd != "evidence" && cmd != "sample" &&
        cmd != "report") {
      std::cerr << "vireo: unknown command '" << cmd << "'\n"
                << "  the commands are: check, graph, run, sample, trace, evidence, report (see `vireo --help`)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  // Unset options stay unset: the guide's defaults fill them (vireo::FitOptions).
  if (lr_option->count()) ra.fit.lr = lr;
  if (init_scale_option->count()) ra.fit.init_scale = init_scale;
  if (average_last_option->count()) ra.fit.average_last = average_last;
  if (particles_option->count()) ra.fit.particles = particles;
  ra.threads_given = threads_option->count() > 0;
  ra.steps_given = steps_option->count() > 0;

  try {
    run_spelled.apply(ra.fit);
    trace_spelled.apply(trace_options);
    evidence_spelled.apply(ea.fit);
    if (estimator_option->count()) ra.fit.estimator = vireo::parse_estimator(estimator);
    if (lr_schedule_option->count()) ra.fit.lr_schedule = vireo::LrSchedule::parse(lr_schedule);
    if (*check) {
      vireo::Model model = vireo::Model::from_file(check_file);
      std::cerr << model.rendered_warnings();
      // With the data, or when the model needs none: one execution at the
      // initial values (seed 0), whose errors are those of `run`'s first step.
      if (!check_data.empty() || model.data_names().empty()) {
        vireo::Data data = load_data(model, check_data);
        std::cerr << data.rendered_warnings();
        vireo::Fit fit(model, data, {});
        fit.trace();
      }
      std::cout << check_file << ": ok\n";
      return 0;
    }
    if (*graph) {
      vireo::Model model = vireo::Model::from_file(graph_file);
      std::cerr << model.rendered_warnings();
      std::cout << (format == "text" ? model.graph_text() : model.graph_dot(with_guide));
      return 0;
    }
    if (*run_cmd) {
      ra.command_line = quoted_command(argc, argv);
      if (launched_by_mpirun()) return run_parallel(ra);
      return run(ra, ra.shard_plate.empty() ? nullptr : vireo::single_process());
    }
    if (*report_cmd) return report_from_outputs(rpa);
    if (*evidence_cmd) return evidence(ea);
    if (*sample_cmd) return sample(sa);
    if (*trace) {
      vireo::Model model = vireo::Model::from_file(trace_file);
      std::cerr << model.rendered_warnings();
      vireo::Data data = load_data(model, trace_data);
      std::cerr << data.rendered_warnings();
      vireo::Fit fit(model, data, trace_options);
      if (!trace_params.empty()) fit.load_params(trace_params);
      std::cout << fit.trace().to_text();
      return 0;
    }
  } catch (const vireo::Error& e) {
    return report(e);
  }
  return 2;
}
