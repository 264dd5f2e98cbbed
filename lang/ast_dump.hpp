// A deterministic text dump of the AST for golden tests and debugging.
// Expressions print as S-expressions on one line — `(neg (^ 2 2))`,
// `(call Normal 0 scale=1)`, `(index x (: _ _) (: 0 8))`, `[1 2 3]` — and
// statements one per line, indented two spaces per block level.
#pragma once
#include <string>

#include "lang/ast.hpp"

namespace vireo::lang::ast {

std::string dump(const Expr& e);
std::string dump(const TypeExpr& t);
std::string dump(const Stmt& s, int indent = 0);
std::string dump(const Program& p);

}  // namespace vireo::lang::ast
