// The types every unit of the X3 grammar is instantiated with: the grammar
// reads the lexer's tokens (lexer.hpp), and its only context is the parse
// State (state.hpp). BOOST_SPIRIT_INSTANTIATE in expr.cpp and stmt.cpp uses
// exactly these, so a rule called from another unit links.
#pragma once
#include <boost/spirit/home/x3.hpp>
#include <vector>

#include "lang/parser/token.hpp"

namespace vireo::lang::parser::grammar {

namespace x3 = boost::spirit::x3;

using iterator_type = std::vector<Token>::const_iterator;

class State;
struct state_tag;
using context_type = x3::context<state_tag, State>;

// Thrown once a syntax error has been reported; where() is the token the
// parser stood on, from which recovery skips to the next statement or item.
using syntax_error = x3::expectation_failure<iterator_type>;

}  // namespace vireo::lang::parser::grammar
