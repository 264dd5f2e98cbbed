// Text -> AST. The parser reports every syntax error it can find into a
// Diagnostics (recovering at statement level), never throws, and always
// returns a Program, partial when the text has errors.
#pragma once
#include "lang/ast.hpp"
#include "lang/diagnostic.hpp"
#include "lang/source.hpp"

namespace vireo::lang {

// A whole .vireo file.
ast::Program parse(const SourceFile& file, Diagnostics& diags);

// One expression filling the whole file (for tests and tools).
ast::Expr parse_expression(const SourceFile& file, Diagnostics& diags);

}  // namespace vireo::lang
