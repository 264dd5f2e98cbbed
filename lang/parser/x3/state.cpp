// The parse State: token helpers, error reporting and recovery.
#include "lang/parser/x3/state.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vireo::lang::parser::grammar {

State::State(const SourceFile& file, Diagnostics& diags, const std::vector<Token>& tokens)
    : file_(file), diags_(diags), begin_(tokens.begin()), end_(tokens.end() - 1) {
  for (const auto& d : diags_.all())
    if (d.severity == Severity::Error) lexer_error_lines_.push_back(file_.line_col(d.span.begin).line);
  stopped_ = diags_.full();
}

bool State::at_item_start(iterator_type it) const {
  if (it->kind != Tok::Word) return false;
  if (it->text == "fn") return true;
  return (it->text == "data" || it->text == "model" || it->text == "guide") && next(it)->kind == Tok::LBrace;
}

Span State::here(iterator_type it) const {
  if (it != begin_ && it->newline_before) return {prev_end(it), prev_end(it)};
  return it->span;
}

std::string State::found(iterator_type it) const {
  const Token& t = *it;
  switch (t.kind) {
    case Tok::Word:
      return is_reserved(t.text) ? fmt::format("the reserved word '{}'", t.text) : fmt::format("'{}'", t.text);
    case Tok::Number:
      return fmt::format("the number {}", t.text);
    case Tok::End:
      return "the end of the file";
    default:
      return describe(t.kind);
  }
}

void State::report(Span at, std::string message, std::string hint) {
  if (stopped_) return;
  int line = file_.line_col(at.begin).line;
  if (std::find(lexer_error_lines_.begin(), lexer_error_lines_.end(), line) != lexer_error_lines_.end()) return;
  diags_.error(at, std::move(message), std::move(hint));
  if (diags_.full()) stopped_ = true;
}

void State::fail(iterator_type it, Span at, std::string message, std::string hint) {
  report(at, std::move(message), std::move(hint));
  throw syntax_error(it, "syntax error");
}

void State::expected(iterator_type it, const std::string& message, std::string hint) {
  fail(it, here(it), fmt::format("{}, found {}", message, found(it)), std::move(hint));
}

void State::enter(iterator_type it) {
  if (++depth_ > max_depth) {
    --depth_;
    report(it->span, fmt::format("nesting deeper than {} levels", max_depth),
           "split the expression or block with 'let' bindings or functions");
    stopped_ = true;
    throw syntax_error(it, "nesting");
  }
}

iterator_type State::sync_statement(iterator_type it, iterator_type stmt_start) const {
  int depth = 0;
  while (it->kind != Tok::End) {
    const Token& t = *it;
    if (depth == 0) {
      if (t.kind == Tok::Semi) return it + 1;
      if (t.kind == Tok::RBrace) return it;
      if (t.newline_before && it > stmt_start) return it;
    }
    if (t.kind == Tok::LParen || t.kind == Tok::LBracket || t.kind == Tok::LBrace)
      ++depth;
    else if ((t.kind == Tok::RParen || t.kind == Tok::RBracket || t.kind == Tok::RBrace) && depth > 0)
      --depth;
    ++it;
  }
  return it;
}

iterator_type State::sync_item(iterator_type it) const {
  int depth = 0;
  while (it->kind != Tok::End) {
    if (depth == 0 && at_item_start(it)) return it;
    const Token& t = *it;
    if (t.kind == Tok::LParen || t.kind == Tok::LBracket || t.kind == Tok::LBrace)
      ++depth;
    else if ((t.kind == Tok::RParen || t.kind == Tok::RBracket || t.kind == Tok::RBrace) && depth > 0)
      --depth;
    ++it;
  }
  return it;
}

}  // namespace vireo::lang::parser::grammar
