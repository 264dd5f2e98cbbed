// Instantiates the statement and block rules for the grammar's iterator and context.
#include "lang/parser/x3/stmt_def.hpp"

namespace vireo::lang::parser::grammar {

BOOST_SPIRIT_INSTANTIATE(block_type, iterator_type, context_type)

}  // namespace vireo::lang::parser::grammar
