// expect_name: a name that is not a reserved word, or the error
// "expected {what}, found …". Shared by the statement and item rules.
#pragma once
#include <fmt/format.h>

#include <string>

#include "lang/parser/x3/primitives.hpp"

namespace vireo::lang::parser::grammar {

// what(_val) says what was expected: "a plate name after 'plate'".
template <class What>
auto expect_name_f(What what) {
  return name | check([what](State& s, iterator_type it, auto& v) {
           std::string w = what(v);
           if (it->kind == Tok::Word)
             s.fail(it, it->span, fmt::format("expected {}, found the reserved word '{}'", w, it->text),
                    "reserved words cannot name things; pick another name");
           s.expected(it, fmt::format("expected {}", w));
         });
}

inline auto expect_name(const char* what) {
  return expect_name_f([what](auto&) { return std::string(what); });
}

// check(expect_tok(k, message(_val), hint(_val))): the token k must come next.
template <class Message, class Hint>
auto expect_tok(Tok k, Message message, Hint hint) {
  return check([k, message, hint](State& s, iterator_type it, auto& v) {
    if (it->kind != k) s.expected(it, message(v), hint(v));
  });
}

inline const auto set_name = [](State&, Match m, auto& v, x3::unused_type) {
  v.name = std::string(m.begin->text);
  v.name_span = m.begin->span;
};

}  // namespace vireo::lang::parser::grammar
