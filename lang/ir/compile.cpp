// parse -> check -> lower (compile.hpp).
#include "lang/ir/compile.hpp"

#include "lang/check/check.hpp"
#include "lang/ir/lower.hpp"
#include "lang/parse.hpp"

namespace vireo::ir {

std::string stem(const std::string& file_name) {
  std::size_t slash = file_name.find_last_of("/\\");
  std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  std::size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

std::optional<Graph> compile(const lang::SourceFile& file, lang::Diagnostics& diags) {
  lang::ast::Program program = lang::parse(file, diags);
  if (diags.has_errors()) return std::nullopt;  // a partial tree would only add follow-on errors
  if (!lang::check(program, diags)) return std::nullopt;
  Graph g = lower(program, stem(file.name()));
  warn_latent_supports(g, file, diags);
  check_enumerate_options(g, diags);
  if (diags.has_errors()) return std::nullopt;
  return g;
}

}  // namespace vireo::ir
