// Diagnostics: what went wrong, where (a Span), and what to do about it.
// Rendering lives in one place (render): file:line:col, the source line, a
// caret under the spot, then the hint. Every stage of the front end reports
// into one Diagnostics so that several independent errors come out together.
#pragma once
#include <string>
#include <vector>

#include "lang/source.hpp"

namespace vireo::lang {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  Span span;
  std::string message;  // what is wrong, in the user's words
  std::string hint;     // what to do; may be empty
};

class Diagnostics {
 public:
  void error(Span span, std::string message, std::string hint = {});
  void warning(Span span, std::string message, std::string hint = {});
  void note(Span span, std::string message, std::string hint = {});

  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return items_; }
  // Errors are capped so that junk input cannot produce unbounded output.
  static constexpr int max_errors = 50;
  bool full() const { return errors_ >= max_errors; }

  // file:line:col: error: message
  //    3 |   mu ~ Normul(0, 5)
  //      |        ^~~~~~
  //   hint: did you mean 'Normal'?
  std::string render(const SourceFile& file) const;

 private:
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

std::string render(const SourceFile& file, const Diagnostic& d);

// The Levenshtein distance between two names (insertions, deletions, substitutions).
std::size_t edit_distance(const std::string& a, const std::string& b);

// The closest name to `name` among `candidates` by edit distance, or "" when
// none is close enough to be a plausible typo. For "did you mean" hints.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace vireo::lang
