// Instantiates the expression and type rules for the grammar's iterator and context.
#include "lang/parser/x3/expr_def.hpp"

namespace vireo::lang::parser::grammar {

BOOST_SPIRIT_INSTANTIATE(expr_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(postfix_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(call_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(args_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(type_type, iterator_type, context_type)

void expect_close_args(State& s, iterator_type it) {
  if (it->kind == Tok::RParen) return;
  bool same_line = !it->newline_before && it->kind != Tok::End;
  s.expected(it, fmt::format("expected ')' to close {}", s.frames.back().what),
             same_line ? "separate arguments with ','" : "");
}

}  // namespace vireo::lang::parser::grammar
