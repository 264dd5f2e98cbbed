// The state one parse carries through the X3 grammar (as the context tagged
// state_tag): the diagnostics, the nesting depth, the frames of the
// constructs that are open (for messages such as "expected ')' to close the
// call to 'Normal'") and the recovery rules shared by blocks and items.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lang/diagnostic.hpp"
#include "lang/parser/x3/config.hpp"
#include "lang/source.hpp"

namespace vireo::lang::parser::grammar {

// One open construct: what it is, in words, and the token that opened it.
struct Frame {
  std::string what;
  iterator_type open;
};

class State {
 public:
  State(const SourceFile& file, Diagnostics& diags, const std::vector<Token>& tokens);

  // Deepest nesting of parentheses, brackets, blocks, unary operators and
  // '^' chains. X3 rules recurse on the C++ stack, and one parenthesis level
  // passes through a dozen rules: 256 levels take about 3 MB of stack in a
  // Debug build and 5-6 MB under ASan (measured), inside the main thread's
  // 8 MB; no sensible model nests a tenth as deep.
  static constexpr int max_depth = 256;
  // Height of an operator tree: chains (`a + b + …`) deepen the AST without
  // nesting in the text. The checker, lowering and destructors recurse over
  // the tree, 1000 levels take well under 1 MB of stack; the checker's own
  // limit is the same number.
  static constexpr std::uint32_t max_chain = 1000;

  // ---- tokens
  // The token before `it`, or `it` itself at the start.
  const Token& prev(iterator_type it) const { return it == begin_ ? *it : *(it - 1); }
  std::uint32_t prev_end(iterator_type it) const { return it == begin_ ? 0 : (it - 1)->span.end; }
  iterator_type begin() const { return begin_; }
  iterator_type end() const { return end_; }  // the End token, never consumed
  int line(iterator_type it) const { return file_.line_col(it->span.begin).line; }
  std::string_view text(Span s) const { return std::string_view(file_.text()).substr(s.begin, s.end - s.begin); }
  bool at_item_start(iterator_type it) const;

  // ---- errors
  // Where an "expected X" error points: at the token, or just after the
  // previous one when the token is on a later line (the missing ')' of line 3
  // belongs to line 3, not to the statement of line 4).
  Span here(iterator_type it) const;
  // What the token is, for "found …" in messages.
  std::string found(iterator_type it) const;
  void report(Span at, std::string message, std::string hint = {});
  // Reports, then throws syntax_error at `it`.
  [[noreturn]] void fail(iterator_type it, Span at, std::string message, std::string hint = {});
  // fail(it, here(it), "{message}, found {found}", hint): a missing token.
  [[noreturn]] void expected(iterator_type it, const std::string& message, std::string hint = {});

  // ---- nesting (the nest directive)
  void enter(iterator_type it);
  void leave() { --depth_; }

  // ---- recovery
  // After a failed statement: from `it`, skip to the next ';' (consumed), the
  // next token on a new line, or the '}' closing the enclosing block (kept),
  // whichever comes first at the nesting where the failure happened.
  iterator_type sync_statement(iterator_type it, iterator_type stmt_start) const;
  // After a failed item: skip to the next item start at the outermost level.
  iterator_type sync_item(iterator_type it) const;

  bool stopped() const { return stopped_; }  // nesting limit or error cap: unwind silently
  // A missing '}' at the end of the file is reported once, not once per open block.
  bool reported_eof = false;
  std::vector<Frame> frames;

 private:
  const SourceFile& file_;
  Diagnostics& diags_;
  iterator_type begin_, end_;
  int depth_ = 0;
  bool stopped_ = false;
  // Lines where the lexer already reported a bad character: a parse error
  // there is a consequence of it, and is not reported again.
  std::vector<int> lexer_error_lines_;
};

template <class Context>
State& state(const Context& ctx) {
  return x3::get<state_tag>(ctx);
}

// The next token, staying on the End token.
inline iterator_type next(iterator_type it) { return it->kind == Tok::End ? it : it + 1; }

}  // namespace vireo::lang::parser::grammar
