// The X3 grammar's entry points: the driver loops that parse a file item by
// item (recovering at the next item after an error) and a whole expression.
// lang/parse.cpp calls these with the lexer's tokens.
#pragma once
#include <vector>

#include "lang/ast.hpp"
#include "lang/diagnostic.hpp"
#include "lang/parser/token.hpp"
#include "lang/source.hpp"

namespace vireo::lang::parser::grammar {

// program = item*   — `tokens` ends with one Tok::End.
ast::Program parse_program(const SourceFile& file, Diagnostics& diags, const std::vector<Token>& tokens);

// expr, then the end of the file.
ast::Expr parse_whole_expression(const SourceFile& file, Diagnostics& diags, const std::vector<Token>& tokens);

}  // namespace vireo::lang::parser::grammar
