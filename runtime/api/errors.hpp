// Turning the runtime's exceptions into vireo::Error: a RunError (a place in
// the program) is rendered like a compile error — file:line:col, the source
// line, a caret, the hint; a DataError keeps one diagnostic per data issue;
// anything else becomes one diagnostic without a place.
#pragma once
#include <exception>
#include <functional>
#include <string>

#include "lang/source.hpp"
#include "vireo/vireo.hpp"

namespace vireo::api {

// Runs `body`; rethrows whatever it throws as a vireo::Error of `kind`
// (a RunError always as Kind::Run, or Kind::Limit for a limit of untrusted
// models, a DataError as Kind::Data, the tape's limit and std::bad_alloc as
// Kind::Limit).
// `data_name` names the data in diagnostics of data issues.
void translate_errors(const lang::SourceFile& source, Error::Kind kind, const std::function<void()>& body,
                      const std::string& data_name = {});

// One diagnostic without a place, rendered "error: message\n  hint: …".
[[noreturn]] void fail(Error::Kind kind, const std::string& message, const std::string& hint = {},
                       const std::string& file = {});

}  // namespace vireo::api
