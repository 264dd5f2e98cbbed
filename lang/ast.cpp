// Spellings of the AST's operator and type enums, as a user writes them.
#include "lang/ast.hpp"

namespace vireo::lang::ast {

const char* spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Or: return "or";
    case BinaryOp::And: return "and";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::MatMul: return "@";
    case BinaryOp::Pow: return "^";
  }
  return "?";
}

const char* spelling(UnaryOp op) { return op == UnaryOp::Neg ? "-" : "not"; }

const char* spelling(BaseType t) {
  switch (t) {
    case BaseType::Int: return "int";
    case BaseType::Real: return "real";
    case BaseType::Bool: return "bool";
    case BaseType::Simplex: return "simplex";
  }
  return "?";
}

}  // namespace vireo::lang::ast
