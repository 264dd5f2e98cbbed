// The statement and block rules of the X3 grammar (stmt_def.hpp defines
// them, stmt.cpp instantiates them); the item rules use block.
#pragma once
#include "lang/ast.hpp"
#include "lang/parser/x3/config.hpp"

namespace vireo::lang::parser::grammar {

struct block_class;
using block_type = x3::rule<block_class, ast::Block>;

// '{' (statement ';'?)* '}' — wrap it in framed("what it is")[block]: the
// frame names the block in "expected '{' to open the …" and "expected '}'
// to close the …".
inline const block_type block = "a block";

BOOST_SPIRIT_DECLARE(block_type)

}  // namespace vireo::lang::parser::grammar
