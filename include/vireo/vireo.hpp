// Vireo's embedding API: the only header a host program (and the `vireo`
// command) includes. This slice is the front end: load a model from a file
// or a string — parsed and checked, errors thrown as vireo::Error with every
// diagnostic — and draw its site graph. Fitting is added to the same classes
// later; the implementation stays behind a pointer (runtime/api), so this
// header depends on the standard library only.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vireo {

// One message about a place in a .vireo file.
struct Diagnostic {
  enum class Severity { Error, Warning, Note };
  Severity severity = Severity::Error;
  std::string file;
  int line = 0;    // 1-based; 0 when the message is about the file as a whole
  int column = 0;  // 1-based, in bytes
  std::string message;
  std::string hint;  // what to do; may be empty
};

// Thrown when a model cannot be loaded. what() is the rendered report
// (file:line:col: error: message, the source line, a caret, the hint) of
// every diagnostic; diagnostics() has them one by one.
class Error : public std::runtime_error {
 public:
  Error(const std::string& rendered, std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// A checked model: its data declarations, model, optional guide and fns,
// lowered to a site graph.
class Model {
 public:
  // Reads, parses and checks a .vireo file. Throws vireo::Error.
  static Model from_file(const std::string& path);
  // The same for program text; `name` is the file name used in messages.
  static Model from_string(const std::string& text, const std::string& name = "<string>");

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::string& file_name() const;
  bool has_guide() const;
  // Non-fatal diagnostics (warnings) found while checking.
  const std::vector<Diagnostic>& warnings() const;
  // The warnings rendered like errors, for printing; empty when there are none.
  std::string rendered_warnings() const;

  // Graphviz DOT of the model's sites and plates (and the guide's, on request).
  std::string graph_dot(bool include_guide = false) const;
  // The site graph as text: data, plates, sites, dependency edges.
  std::string graph_text() const;

  // Names of the model's latent (sampled, not observed) sites, in program order.
  std::vector<std::string> latent_sites() const;
  // Names of the data items, in declaration order.
  std::vector<std::string> data_names() const;

  struct Impl;  // runtime/api; opaque to hosts
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vireo
