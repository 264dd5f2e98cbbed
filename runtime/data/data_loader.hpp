// Loading data: a JSON file (or arrays from a host program) checked against a
// model's `data { … }` block and turned into the interpreter's DataSet.
// Items are read in declaration order, so a size or bound may use any earlier
// item (`y: real[J]`). Every problem is collected before anything is thrown:
// one DataError lists them all, each naming the item, the element index
// (0-based, as the language indexes) and the declaration's line. Nothing is
// returned partially.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "lang/diagnostic.hpp"
#include "lang/ir/graph.hpp"
#include "lang/source.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::data {

// One problem with the data. Rendered (DataError::what, render) as
//   eight_schools.json:1:53: 'sigma[3]' = -2 is below its lower bound 0
//     (declared at eight_schools.vireo:5: `sigma: real<lower=0>[J]`)
// on one line; the position in the data file is there only when the data
// came as text (load_json_text, load_json_file).
struct DataIssue {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  std::string item;       // the data name ("sigma"); empty for the file as a whole
  std::string index;      // "[3]", "[2, 1]"; empty for the whole item
  std::string message;    // what is wrong, naming the item: "'sigma[3]' = -2 is below its lower bound 0"
  int decl_line = 0;      // the declaration's line in the model file; 0 when not a declared item
  std::string decl_text;  // the declaration as written: "sigma: real<lower=0>[J]"
  int data_line = 0;      // position in the data file, when known; 0 otherwise
  int data_column = 0;
};

// One line of the report: the issue with the data's name (and position), and
// the declaration's file, line and text.
std::string render(const DataIssue& issue, const std::string& data_name, const std::string& model_name);

class DataError : public std::runtime_error {
 public:
  DataError(const std::string& report, std::vector<DataIssue> issues)
      : std::runtime_error(report), issues_(std::move(issues)) {}
  // Errors first, in declaration order, then warnings (unknown keys).
  const std::vector<DataIssue>& issues() const { return issues_; }

 private:
  std::vector<DataIssue> issues_;
};

// How to load. allow_missing_observed: an item the model uses only as an
// observed value (the data at the root of `observe flips[i] ~ …`) may be left
// out — forward sampling (vireo::sample_prior, `vireo sample`) then draws it.
// It becomes a NaN placeholder of its declared shape, marked in
// DataSet::missing. An item left out that the model also uses otherwise (a
// size, a covariate, an index) is reported at its declaration
// (MissingItemsError). Without the option every item must be given.
struct LoadOptions {
  bool allow_missing_observed = false;
};

// Items left out that the model needs (under allow_missing_observed): one
// diagnostic per item, at its declaration in the model file, saying where the
// model uses it and what to do. Thrown instead of a DataError.
class MissingItemsError : public std::runtime_error {
 public:
  MissingItemsError(std::vector<lang::Diagnostic> diagnostics, std::vector<std::string> items)
      : std::runtime_error("data items are missing"), diagnostics_(std::move(diagnostics)), items_(std::move(items)) {}
  const std::vector<lang::Diagnostic>& diagnostics() const { return diagnostics_; }
  const std::vector<std::string>& items() const { return items_; }  // one per diagnostic

 private:
  std::vector<lang::Diagnostic> diagnostics_;
  std::vector<std::string> items_;
};

// The data item at the root of an observe site's target (`flips` in
// `observe flips[i] ~ …`), as an index into g.data; -1 when there is none.
int observed_item(const ir::Graph& g, const ir::Site& site);

// Per data item, in declaration order: the first place (in source order)
// where the model — its body, the data block's sizes and bounds, or a fn —
// reads the item other than as the root of an observe site's target, or
// nullopt when it reads it only there (or not at all). The guide is not
// looked at: forward sampling does not run it.
std::vector<std::optional<lang::Span>> uses_beyond_observation(const ir::Graph& g);

// Checks the parsed JSON object `j` against g's data block. `data_file_name`
// names the data in messages. Keys not declared in the data block are
// ignored; they are reported as warnings, in `warnings` when loading
// succeeds (may be null) and in the DataError when it fails.
interp::DataSet load_json(const ir::Graph& g, const nlohmann::json& j, const lang::SourceFile& model_source,
                          const std::string& data_file_name, std::vector<DataIssue>* warnings = nullptr,
                          const LoadOptions& options = {});

// The same from JSON text: malformed JSON (truncated, `NaN`, a trailing comma)
// is reported at its line:col in `text`, and every other problem also gets
// the position of the offending value.
interp::DataSet load_json_text(const ir::Graph& g, const std::string& text, const lang::SourceFile& model_source,
                               const std::string& data_file_name, std::vector<DataIssue>* warnings = nullptr,
                               const LoadOptions& options = {});

// load_json_text on the contents of the file at `path` (named `path` in
// messages). A file that cannot be read is a DataError too.
interp::DataSet load_json_file(const ir::Graph& g, const std::string& path, const lang::SourceFile& model_source,
                               std::vector<DataIssue>* warnings = nullptr, const LoadOptions& options = {});

// For hosts that hold arrays: name -> (shape, row-major values). A scalar
// has an empty shape and one value. Validated like JSON: shapes against the
// declared dims, integers for int, 0/1 for bool, finiteness, bounds, simplex.
struct ArrayInput {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};
interp::DataSet load_arrays(const ir::Graph& g, const std::map<std::string, ArrayInput>& arrays,
                            const lang::SourceFile& model_source, std::vector<DataIssue>* warnings = nullptr,
                            const LoadOptions& options = {});

}  // namespace vireo::data
