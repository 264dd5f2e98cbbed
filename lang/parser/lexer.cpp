// The lexer: X3 matches the two token shapes that need a grammar (numbers
// and words); whitespace, comments and punctuation are read by hand so that
// line breaks are recorded and any byte at all can be stepped over.
#include "lang/parser/lexer.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/spirit/home/x3.hpp>
#include <cmath>
#include <cstdlib>

namespace vireo::lang::parser {

namespace x3 = boost::spirit::x3;

namespace {

// number = digit+ ('.' digit+)? ([eE] [+-]? digit+)?   — no sign, no inf/nan;
// a '.' needs digits on both sides, so `0..n` reads 0 `..` n.
// word   = [A-Za-z_] [A-Za-z0-9_]*
// (char_ ranges, not ascii::alpha: the latter asserts on bytes >= 0x80.)
const auto digit = x3::char_('0', '9');
const auto number_p = x3::raw[+digit >> -('.' >> +digit) >> -(x3::char_("eE") >> -x3::char_("+-") >> +digit)];
const auto word_p = x3::raw[x3::char_("a-zA-Z_") >> *x3::char_("a-zA-Z0-9_")];

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

// How an unexpected character reads in a message: 'σ' or '\x01'.
std::string show_char(std::string_view s, std::size_t i, std::size_t& length) {
  auto c = static_cast<unsigned char>(s[i]);
  length = 1;
  if (c >= 0x80) {
    if (std::size_t n = utf8_length(s, i)) {
      length = n;
      return std::string(s.substr(i, n));
    }
    return fmt::format("\\x{:02x}", c);
  }
  if (c < 0x20 || c == 0x7f) return fmt::format("\\x{:02x}", c);
  return std::string(1, static_cast<char>(c));
}

// A hint for characters a newcomer might type from another language.
std::string hint_for(char c) {
  switch (c) {
    case '!': return "write 'not' for negation and '!=' for inequality";
    case '&': return "write 'and'";
    case '|': return "write 'or'";
    case '%': return "Vireo has no '%' operator";
    case '"': case '\'': return "Vireo has no strings";
    case '.': return "a number needs digits on both sides of '.': write 0.5 or 1.0; a range is written a..b";
    case '$': case '?': case '`': case '\\': return "names use only letters, digits and '_'";
    default: return {};
  }
}

}  // namespace

bool is_reserved(std::string_view w) {
  static constexpr std::array<std::string_view, 18> words = {
      "fn", "let", "deterministic", "param", "observe", "plate", "as", "for", "in",
      "if", "else", "return", "with", "true", "false", "and", "or", "not"};
  for (auto r : words)
    if (r == w) return true;
  return false;
}

const char* describe(Tok kind) {
  switch (kind) {
    case Tok::Word: return "a name";
    case Tok::Number: return "a number";
    case Tok::LParen: return "'('";
    case Tok::RParen: return "')'";
    case Tok::LBracket: return "'['";
    case Tok::RBracket: return "']'";
    case Tok::LBrace: return "'{'";
    case Tok::RBrace: return "'}'";
    case Tok::Comma: return "','";
    case Tok::Semi: return "';'";
    case Tok::Colon: return "':'";
    case Tok::Tilde: return "'~'";
    case Tok::Assign: return "'='";
    case Tok::DotDot: return "'..'";
    case Tok::Lt: return "'<'";
    case Tok::Le: return "'<='";
    case Tok::Gt: return "'>'";
    case Tok::Ge: return "'>='";
    case Tok::EqEq: return "'=='";
    case Tok::NotEq: return "'!='";
    case Tok::Plus: return "'+'";
    case Tok::Minus: return "'-'";
    case Tok::Star: return "'*'";
    case Tok::Slash: return "'/'";
    case Tok::At: return "'@'";
    case Tok::Caret: return "'^'";
    case Tok::End: return "the end of the file";
  }
  return "a token";
}

std::vector<Token> tokenize(const SourceFile& file, Diagnostics& diags) {
  std::string_view s = file.text();
  std::vector<Token> out;
  std::size_t i = 0;
  bool newline = true;
  bool in_bad_run = false;  // one diagnostic per run of unexpected bytes
  auto push = [&](Tok k, std::size_t b, std::size_t e) {
    out.push_back({k, s.substr(b, e - b), {static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e)}, newline});
    newline = false;
    in_bad_run = false;
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '\n') { newline = true; in_bad_run = false; ++i; continue; }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') { in_bad_run = false; ++i; continue; }
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    auto first = s.begin() + static_cast<std::ptrdiff_t>(i);
    auto it = first;
    if (c >= '0' && c <= '9') {
      x3::parse(it, s.end(), number_p);
      std::size_t e = static_cast<std::size_t>(it - s.begin());
      push(Tok::Number, i, e);
      if (e < s.size() && word_char(s[e])) {
        // `2x`, `1e`, `3abc`: a number running into letters.
        std::size_t w = e;
        while (w < s.size() && word_char(s[w])) ++w;
        diags.error({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(w)},
                    fmt::format("malformed number '{}'", s.substr(i, w - i)),
                    "a number is digits with an optional '.' and exponent (2.5, 1e-3); to multiply write '2 * x'");
        e = w;
      }
      i = e;
      continue;
    }
    if (word_char(c)) {
      x3::parse(it, s.end(), word_p);
      std::size_t e = static_cast<std::size_t>(it - s.begin());
      push(Tok::Word, i, e);
      i = e;
      continue;
    }
    auto two = [&](char a, char b) { return c == a && i + 1 < s.size() && s[i + 1] == b; };
    Tok k = Tok::End;
    std::size_t len = 2;
    if (two('.', '.')) k = Tok::DotDot;
    else if (two('<', '=')) k = Tok::Le;
    else if (two('>', '=')) k = Tok::Ge;
    else if (two('=', '=')) k = Tok::EqEq;
    else if (two('!', '=')) k = Tok::NotEq;
    else {
      len = 1;
      switch (c) {
        case '(': k = Tok::LParen; break;
        case ')': k = Tok::RParen; break;
        case '[': k = Tok::LBracket; break;
        case ']': k = Tok::RBracket; break;
        case '{': k = Tok::LBrace; break;
        case '}': k = Tok::RBrace; break;
        case ',': k = Tok::Comma; break;
        case ';': k = Tok::Semi; break;
        case ':': k = Tok::Colon; break;
        case '~': k = Tok::Tilde; break;
        case '=': k = Tok::Assign; break;
        case '<': k = Tok::Lt; break;
        case '>': k = Tok::Gt; break;
        case '+': k = Tok::Plus; break;
        case '-': k = Tok::Minus; break;
        case '*': k = Tok::Star; break;
        case '/': k = Tok::Slash; break;
        case '@': k = Tok::At; break;
        case '^': k = Tok::Caret; break;
        default: break;
      }
    }
    if (k != Tok::End) {
      push(k, i, i + len);
      i += len;
      continue;
    }
    // Anything else: report once per run, step over it.
    std::size_t n = 1;
    std::string shown = show_char(s, i, n);
    if (!in_bad_run) {
      std::string hint = hint_for(c);
      if (hint.empty() && static_cast<unsigned char>(c) >= 0x80 && n > 1)
        hint = "names use only ASCII letters, digits and '_'";
      diags.error({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + n)},
                  fmt::format("unexpected character '{}'", shown), hint);
      in_bad_run = true;
    }
    i += n;
  }
  out.push_back({Tok::End, {}, {static_cast<std::uint32_t>(s.size()), static_cast<std::uint32_t>(s.size())}, true});
  return out;
}

}  // namespace vireo::lang::parser
