// The `vireo` command: a thin host of include/vireo (nothing else).
//   vireo check FILE                         parse + check; errors with file:line:col
//   vireo graph FILE [--guide] [--format dot|text]
// Exit status: 0 on success, 1 when the model has errors or cannot be read,
// 2 on a command-line mistake.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "vireo/vireo.hpp"

namespace {

int report(const vireo::Error& e) {
  std::cerr << e.what();
  std::size_t errors = 0;
  for (const auto& d : e.diagnostics())
    if (d.severity == vireo::Diagnostic::Severity::Error) ++errors;
  if (errors > 1) std::cerr << errors << " errors\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Vireo: probabilistic models and variational inference"};
  app.require_subcommand(1);
  app.fallthrough(false);

  std::string check_file;
  CLI::App* check = app.add_subcommand("check", "Parse and check a model; errors with file:line:col");
  check->add_option("FILE", check_file, "the .vireo file")->required();

  std::string graph_file, format = "dot";
  bool with_guide = false;
  CLI::App* graph = app.add_subcommand("graph", "The model as a Graphviz graph of sites and plates");
  graph->add_option("FILE", graph_file, "the .vireo file")->required();
  graph->add_flag("--guide", with_guide, "also draw the guide's sites");
  graph->add_option("--format", format, "dot (default) or text")->check(CLI::IsMember({"dot", "text"}));

  if (argc >= 2 && argv[1][0] != '-' && std::string(argv[1]) != "check" && std::string(argv[1]) != "graph") {
    std::cerr << "vireo: unknown command '" << argv[1] << "'\n"
              << "  the commands are: check, graph (see `vireo --help`)\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*check) {
      vireo::Model model = vireo::Model::from_file(check_file);
      std::cerr << model.rendered_warnings();
      std::cout << check_file << ": ok\n";
      return 0;
    }
    if (*graph) {
      vireo::Model model = vireo::Model::from_file(graph_file);
      std::cerr << model.rendered_warnings();
      std::cout << (format == "text" ? model.graph_text() : model.graph_dot(with_guide));
      return 0;
    }
  } catch (const vireo::Error& e) {
    return report(e);
  }
  return 2;
}
