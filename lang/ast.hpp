// The abstract syntax tree of a .vireo file (../shared/LANGUAGE.md).
// Nodes are values: a node owns its children (Box<T> is a deep-copying
// owner), recursion goes through std::variant, and every node carries the
// Span of text it came from so that any later stage can report a location.
// The parser (lang/parse.hpp) builds it; the checker (lang/check/) reads it.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lang/source.hpp"

namespace vireo::lang::ast {

// A value-semantic owner of one T: copies deep, never null once constructed.
template <class T>
class Box {
 public:
  Box() : p_(std::make_unique<T>()) {}
  Box(T v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT: implicit by design
  Box(const Box& o) : p_(std::make_unique<T>(*o.p_)) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) { p_ = std::make_unique<T>(*o.p_); return *this; }
  Box& operator=(Box&&) noexcept = default;
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }

 private:
  std::unique_ptr<T> p_;
};

struct Expr;

// ---- expressions ----------------------------------------------------------
struct NumberLit {
  double value = 0;
  bool is_integer = false;  // written without '.' or exponent: `3`
  std::string text;         // as written, for messages
};
struct BoolLit { bool value = false; };
struct NameRef { std::string name; };

enum class UnaryOp { Neg, Not };
enum class BinaryOp { Or, And, Lt, Le, Gt, Ge, Eq, Ne, Add, Sub, Mul, Div, MatMul, Pow };
const char* spelling(BinaryOp op);  // "+", "and", ...
const char* spelling(UnaryOp op);

struct Unary {
  UnaryOp op;
  Box<Expr> operand;
};
struct Binary {
  BinaryOp op;
  Box<Expr> lhs, rhs;
  Span op_span;
};
// One argument of a call: positional (name empty) or named `k = v`.
struct Arg {
  std::string name;
  Span name_span;
  Box<Expr> value;
};
// f(args) — a function, a distribution, or a user function; the checker decides.
struct Call {
  std::string callee;
  Span callee_span;
  std::vector<Arg> args;
};
// One subscript: an index expression `i`, or a slice `a:b`, `:b`, `a:`, `:`.
struct Subscript {
  bool is_slice = false;
  std::optional<Box<Expr>> index;  // when !is_slice
  std::optional<Box<Expr>> lo, hi; // when is_slice; absent = open end
  Span span;
};
struct Index {
  Box<Expr> base;
  std::vector<Subscript> subscripts;
};
struct VectorLit { std::vector<Expr> elements; };

struct Expr {
  std::variant<NumberLit, BoolLit, NameRef, Unary, Binary, Call, Index, VectorLit> node;
  Span span;
  // Height of the operator tree under this node (1 for a leaf), kept by the
  // parser so that a chain like `1+1+…+1` cannot grow a tree deeper than the
  // later stages' recursion can walk (State::max_chain).
  std::uint32_t height = 1;
};

// ---- types ----------------------------------------------------------------
enum class BaseType { Int, Real, Bool, Simplex };
const char* spelling(BaseType t);

// `real<lower=0, upper=(a+1)>[N, D]`, `simplex[K]`
struct TypeExpr {
  BaseType base = BaseType::Real;
  std::optional<Box<Expr>> lower, upper;
  std::vector<Expr> dims;  // empty = scalar; for simplex, [K]
  Span span;
};

// ---- statements -----------------------------------------------------------
struct Stmt;
using Block = std::vector<Stmt>;

// `with baseline(beta = 0.9)` — one per-site option; `baseline(none)` has one
// positional NameRef argument `none`.
struct SiteOption {
  std::string name;
  Span name_span;
  std::vector<Arg> args;
  Span span;
};

// `x ~ D(args)` or `x: real[K] ~ D(args)`; dist is the Call on the right.
struct SampleStmt {
  std::string name;
  Span name_span;
  std::optional<TypeExpr> type;
  Expr dist;
  std::vector<SiteOption> options;
};
// `observe e ~ D(args)` or `observe e: int[P] ~ D(args)`; e is a data name or
// an indexed data name; the type, when written, is one plate element's event.
struct ObserveStmt {
  Expr target;
  std::optional<TypeExpr> type;
  Expr dist;
  std::vector<SiteOption> options;
};
struct LetStmt { std::string name; Span name_span; Expr value; };
struct AssignStmt { std::string name; Span name_span; Expr value; };
struct DeterministicStmt { std::string name; Span name_span; Expr value; };
struct ParamStmt { std::string name; Span name_span; TypeExpr type; Expr init; };
// `plate name(size) { … }` / `plate name(size, subsample = B) as idx { … }`
struct PlateStmt {
  std::string name;
  Span name_span;
  Expr size;
  std::optional<Expr> subsample;
  std::string index_name;  // empty unless `as idx`
  Span index_span;
  Block body;
};
// `for i in a..b { … }`
struct ForStmt {
  std::string var;
  Span var_span;
  Expr lo, hi;
  Block body;
};
// `if c { … } else { … }`; `else if` is an else block holding one IfStmt.
struct IfStmt {
  Expr cond;
  Block then_body;
  std::optional<Block> else_body;
};
struct ReturnStmt { Expr value; };
// `scale w { … }`
struct ScaleStmt { Expr weight; Block body; };
// `factor name = e`: adds the real e (one number, or one per element of the
// enclosing plates) to the model's log density, as a site called `name`.
struct FactorStmt { std::string name; Span name_span; Expr value; };

struct Stmt {
  std::variant<SampleStmt, ObserveStmt, LetStmt, AssignStmt, DeterministicStmt, ParamStmt, PlateStmt, ForStmt,
               IfStmt, ReturnStmt, ScaleStmt, FactorStmt>
      node;
  Span span;
};

// ---- top level ------------------------------------------------------------
struct DataDecl { std::string name; Span name_span; TypeExpr type; Span span; };
struct DataBlock { std::vector<DataDecl> decls; Span span; };
struct ModelBlock { Block body; Span span; };
struct GuideBlock { Block body; Span span; };
struct Param { std::string name; Span span; };
// `fn f(a, b) { … return e }` or `fn f(a, b) = e` (then body is one ReturnStmt).
struct FnDecl {
  std::string name;
  Span name_span;
  std::vector<Param> params;
  Block body;
  Span span;
};

using Item = std::variant<DataBlock, ModelBlock, GuideBlock, FnDecl>;

// A whole file, items in source order. The parser does not enforce "exactly
// one model"; the checker does, so that the message can point at the text.
struct Program {
  std::vector<Item> items;
};

}  // namespace vireo::lang::ast
