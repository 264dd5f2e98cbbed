// The expression and type rules of the X3 grammar (expr_def.hpp defines
// them, expr.cpp instantiates them); the statement and item rules use these.
#pragma once
#include <vector>

#include "lang/ast.hpp"
#include "lang/parser/x3/config.hpp"

namespace vireo::lang::parser::grammar {

struct expr_class;
struct postfix_class;
struct call_class;
struct args_class;
struct type_class;

using expr_type = x3::rule<expr_class, ast::Expr>;
using postfix_type = x3::rule<postfix_class, ast::Expr>;
using call_type = x3::rule<call_class, ast::Expr>;
using args_type = x3::rule<args_class, std::vector<ast::Arg>>;
using type_type = x3::rule<type_class, ast::TypeExpr>;

inline const expr_type expr = "an expression";
inline const postfix_type postfix = "an indexed value";
inline const call_type call = "a call";
inline const args_type args = "the arguments";
inline const type_type type = "a type";

BOOST_SPIRIT_DECLARE(expr_type, postfix_type, call_type, args_type, type_type)

// ')' closing the arguments of the innermost framed call or option.
void expect_close_args(State& s, iterator_type it);

}  // namespace vireo::lang::parser::grammar
