// The report page: everything it shows, gathered by runtime/api/report.cpp
// from a fit or from saved outputs, and the one function that renders it as
// a self-contained HTML file (Vega inlined, the plate diagram as inline SVG,
// a Content-Security-Policy that forbids every fetch).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/report/prior.hpp"
#include "vireo/vireo.hpp"

namespace vireo::report {

struct Page {
  std::string title;
  std::string model_file, model_source;
  std::vector<std::string> latent_sites;  // the model's, in program order
  std::map<std::string, Prior> priors;     // latent sites whose prior has constant arguments
  std::string graph_dot;
  std::string dot_program = "dot";
  std::vector<StepRecord> history;  // every step of the fit; empty when unknown
  bool annealed = false;            // --kl-anneal or --elbo meanfield: plot the latent sites' weight
  nlohmann::ordered_json summary;   // Summary::to_json's object; null when unknown
  // The draws, one column per element (CmdStan names), NaN where absent.
  std::vector<std::string> columns;
  std::vector<std::vector<double>> values;
  std::vector<std::pair<std::string, std::string>> configuration;  // option, value in use
  std::string command_line;
  std::string failure;    // the error that ended the fit
  std::string diagnosis;  // --diagnose's text
  std::vector<std::string> notes;  // what the fit reported (refused steps, a rising ELBO, …)
  int max_elements = 12;
};

std::string render(const Page& page);

// The element labels of a site of `shape`, row-major, 0-based as the
// language indexes: "eta[0]", "z[1, 2]"; the site's name for a scalar.
std::vector<std::string> element_labels(const std::string& name, const std::vector<std::int64_t>& shape);

}  // namespace vireo::report
