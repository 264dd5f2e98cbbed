// The driver loops around the X3 grammar: item by item for a file, with
// recovery at the next item; one expression for parse_expression.
#include "lang/parser/x3/program.hpp"

#include "lang/parser/x3/program_def.hpp"

namespace vireo::lang::parser::grammar {

ast::Program parse_program(const SourceFile& file, Diagnostics& diags, const std::vector<Token>& tokens) {
  State s(file, diags, tokens);
  const auto ctx = x3::make_context<state_tag>(s);
  ast::Program prog;
  iterator_type it = s.begin();
  while (it->kind != Tok::End && !s.stopped()) {
    if (it->kind == Tok::Semi) {
      ++it;
      continue;
    }
    iterator_type start = it;
    try {
      ast::Item one;
      if (item.parse(it, s.end(), ctx, x3::unused, one)) prog.items.push_back(std::move(one));
    } catch (const syntax_error& e) {
      if (s.stopped()) break;
      it = s.sync_item(e.where());
    }
    if (it == start) it = next(it);
  }
  return prog;
}

ast::Expr parse_whole_expression(const SourceFile& file, Diagnostics& diags, const std::vector<Token>& tokens) {
  State s(file, diags, tokens);
  const auto ctx = x3::make_context<state_tag>(s);
  iterator_type it = s.begin();
  ast::Expr result;
  try {
    ast::Expr e;
    if (expr.parse(it, s.end(), ctx, x3::unused, e)) result = std::move(e);
    if (it->kind != Tok::End) s.fail(it, it->span, fmt::format("unexpected {} after the expression", s.found(it)));
  } catch (const syntax_error&) {
  }
  return result;
}

}  // namespace vireo::lang::parser::grammar
