// The tokens of a .vireo file: words (names and reserved words alike),
// numbers and punctuation, each with its Span. The lexer (lexer.hpp) makes
// them; the X3 grammar (x3/) reads them.
#pragma once
#include <string>
#include <string_view>

#include "lang/source.hpp"

namespace vireo::lang::parser {

enum class Tok {
  Word,    // identifier or reserved word: `mu`, `plate`, `data`
  Number,  // `3`, `2.5`, `1e-3`
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
  Comma, Semi, Colon, Tilde, Assign, DotDot,
  Lt, Le, Gt, Ge, EqEq, NotEq,
  Plus, Minus, Star, Slash, At, Caret,
  End,  // end of file
};

struct Token {
  Tok kind = Tok::End;
  std::string_view text;      // points into the SourceFile's text
  Span span;
  bool newline_before = false;  // a line break separates it from the previous token
};

// How a token kind reads in a message: "')'", "a name", "the end of the file".
const char* describe(Tok kind);

// The reserved words of LANGUAGE.md; `data`, `model`, `guide`, `scale` are not among them.
bool is_reserved(std::string_view word);

}  // namespace vireo::lang::parser
