#include "runtime/api/errors.hpp"

#include <new>

#include "lang/diagnostic.hpp"
#include "runtime/data/data_loader.hpp"
#include "runtime/interp/context.hpp"

namespace vireo::api {

void fail(Error::Kind kind, const std::string& message, const std::string& hint, const std::string& file) {
  Diagnostic d;
  d.file = file;
  d.message = message;
  d.hint = hint;
  std::string rendered = (file.empty() ? std::string() : file + ": ") + "error: " + message + "\n";
  if (!hint.empty()) rendered += "  hint: " + hint + "\n";
  throw Error(rendered, {d}, kind);
}

void translate_errors(const lang::SourceFile& source, Error::Kind kind, const std::function<void()>& body,
                      const std::string& data_name) {
  try {
    body();
  } catch (const Error&) {
    throw;
  } catch (const interp::RunError& e) {
    lang::Diagnostic ld{lang::Severity::Error, e.span(), e.what(), e.hint()};
    Diagnostic d;
    lang::LineCol lc = source.line_col(e.span().begin);
    d.file = source.name();
    d.line = lc.line;
    d.column = lc.column;
    d.message = e.what();
    d.hint = e.hint();
    throw Error(lang::render(source, ld), {d}, e.limit() ? Error::Kind::Limit : Error::Kind::Run);
  } catch (const data::DataError& e) {
    std::vector<Diagnostic> all;
    for (const auto& issue : e.issues()) {
      Diagnostic d;
      d.severity = issue.severity == data::DataIssue::Severity::Error ? Diagnostic::Severity::Error
                                                                      : Diagnostic::Severity::Warning;
      d.file = data_name;
      d.line = issue.data_line;
      d.column = issue.data_column;
      d.message = issue.message;
      d.item = issue.item;
      d.index = issue.index;
      d.declaration_line = issue.decl_line;
      if (issue.decl_line > 0)
        d.hint = "declared at " + source.name() + ":" + std::to_string(issue.decl_line) + ": `" + issue.decl_text + "`";
      all.push_back(std::move(d));
    }
    std::string rendered = e.what();
    if (!rendered.empty() && rendered.back() != '\n') rendered += '\n';
    throw Error(rendered, std::move(all), Error::Kind::Data);
  } catch (const ad::TapeLimitError& e) {  // outside any statement (an automatic guide's draw)
    fail(Error::Kind::Limit, std::string("the tape limit: ") + e.what() + " (Limits::max_tape_mb)",
         "raise it with --max-tape-mb N (FitOptions::limits.max_tape_mb) if the model is meant to be this large");
  } catch (const std::bad_alloc&) {
    fail(Error::Kind::Limit, "out of memory", "lower --max-tape-mb (FitOptions::limits.max_tape_mb) so that a run "
                                              "too large for this machine is refused before it allocates");
  } catch (const std::exception& e) {
    fail(kind, e.what());
  }
}

}  // namespace vireo::api

namespace vireo {

const char* version() {
  static_assert(VIREO_VERSION_MAJOR == VIREO_PROJECT_VERSION_MAJOR && VIREO_VERSION_MINOR == VIREO_PROJECT_VERSION_MINOR,
                "include/vireo/vireo.hpp's version macros differ from the project's version in CMakeLists.txt");
  return VIREO_VERSION_STRING;
}

}  // namespace vireo
