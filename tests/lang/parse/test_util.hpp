// Helpers shared by the parser tests.
#pragma once
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "lang/ast_dump.hpp"
#include "lang/parse.hpp"

namespace vireo::test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Parses `text`; returns the dump, or the rendered diagnostics when there are any.
inline std::string dump_or_errors(const std::string& text) {
  lang::SourceFile file("test.vireo", text);
  lang::Diagnostics diags;
  lang::ast::Program p = lang::parse(file, diags);
  return diags.all().empty() ? lang::ast::dump(p) : diags.render(file);
}

inline std::string expr_dump(const std::string& text) {
  lang::SourceFile file("expr.vireo", text);
  lang::Diagnostics diags;
  lang::ast::Expr e = lang::parse_expression(file, diags);
  return diags.all().empty() ? lang::ast::dump(e) : diags.render(file);
}

}  // namespace vireo::test
