// parse(): the lexer, then the X3 grammar (lang/parser/x3), with every
// failure turned into a diagnostic so that no input makes the front end throw.
#include "lang/parse.hpp"

#include <fmt/format.h>

#include "lang/parser/lexer.hpp"
#include "lang/parser/x3/program.hpp"

namespace vireo::lang {

ast::Program parse(const SourceFile& file, Diagnostics& diags) {
  try {
    return parser::grammar::parse_program(file, diags, parser::tokenize(file, diags));
  } catch (const std::exception& e) {  // e.g. bad_alloc on absurd input: report, never throw
    diags.error({0, 0}, fmt::format("internal error while parsing: {}", e.what()));
  }
  return {};
}

ast::Expr parse_expression(const SourceFile& file, Diagnostics& diags) {
  try {
    return parser::grammar::parse_whole_expression(file, diags, parser::tokenize(file, diags));
  } catch (const std::exception& e) {
    diags.error({0, 0}, fmt::format("internal error while parsing: {}", e.what()));
  }
  return {};
}

}  // namespace vireo::lang
