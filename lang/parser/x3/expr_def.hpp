// Expressions and types. Operator levels, loosest first (LANGUAGE.md):
//   expr           = or_expr
//   or_expr        = and_expr ('or' and_expr)*
//   and_expr       = not_expr ('and' not_expr)*
//   not_expr       = 'not' not_expr | comparison
//   comparison     = additive (cmp_op additive)?          — no chaining
//   additive       = multiplicative (('+' | '-') multiplicative)*
//   multiplicative = unary (('*' | '/' | '@') unary)*
//   unary          = '-' unary | power
//   power          = postfix ('^' unary)?                  — right-assoc; -2^2 = -(2^2)
//   postfix        = primary ('[' subscript (',' subscript)* ']')*
//   primary        = number | 'true' | 'false' | name | name '(' args ')'
//                  | '(' expr ')' | '[' (expr (',' expr)*)? ']'
// Included only by expr.cpp.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "lang/parser/x3/expr.hpp"
#include "lang/parser/x3/primitives.hpp"

namespace vireo::lang::parser::grammar {

namespace expr_detail {

inline ast::Expr make(auto node, Span span) { return ast::Expr{std::move(node), span}; }

inline ast::Expr binary(ast::BinaryOp op, ast::Expr lhs, ast::Expr rhs, Span op_span) {
  Span s = join(lhs.span, rhs.span);
  std::uint32_t h = std::max(lhs.height, rhs.height) + 1;
  ast::Expr e = make(ast::Binary{op, std::move(lhs), std::move(rhs), op_span}, s);
  e.height = h;
  return e;
}

inline ast::BinaryOp binary_op(Tok k) {
  switch (k) {
    case Tok::Lt:
      return ast::BinaryOp::Lt;
    case Tok::Le:
      return ast::BinaryOp::Le;
    case Tok::Gt:
      return ast::BinaryOp::Gt;
    case Tok::Ge:
      return ast::BinaryOp::Ge;
    case Tok::EqEq:
      return ast::BinaryOp::Eq;
    case Tok::NotEq:
      return ast::BinaryOp::Ne;
    case Tok::Plus:
      return ast::BinaryOp::Add;
    case Tok::Minus:
      return ast::BinaryOp::Sub;
    case Tok::Star:
      return ast::BinaryOp::Mul;
    case Tok::Slash:
      return ast::BinaryOp::Div;
    case Tok::At:
      return ast::BinaryOp::MatMul;
    default:
      return ast::BinaryOp::Pow;
  }
}

inline ast::Expr number(State& s, const Token& t) {
  ast::NumberLit n;
  n.text = std::string(t.text);
  n.is_integer = n.text.find_first_of(".eE") == std::string::npos;
  n.value = std::strtod(n.text.c_str(), nullptr);
  if (!std::isfinite(n.value)) s.report(t.span, fmt::format("the number {} is too large", n.text));
  return make(std::move(n), t.span);
}

[[noreturn]] inline void fail_expression(State& s, iterator_type it) {
  std::string after = it != s.begin() ? fmt::format(" after '{}'", s.prev(it).text) : std::string{};
  std::string hint;
  if (it->kind == Tok::Plus)
    hint = "there is no unary '+'";
  else if (it->kind == Tok::Word && it->text == "not")
    hint = "'not' binds looser than comparisons and arithmetic: write 'not (…)'";
  else if (it->kind == Tok::Word && is_reserved(it->text))
    hint = fmt::format("'{}' is a reserved word and cannot be used as a value", it->text);
  s.fail(it, s.here(it), fmt::format("expected an expression{}, found {}", after, s.found(it)), hint);
}

// ---- actions
inline const auto set = [](State&, Match, ast::Expr& v, ast::Expr& a) { v = std::move(a); };
// A left-associative chain deepens the tree by one per operator without any
// nesting in the text, so its height is checked here (State::max_chain).
inline void check_height(State& s, Match m, const ast::Expr& v) {
  if (v.height > State::max_chain)
    s.fail(m.begin, m.begin->span,
           fmt::format("this expression is more than {} operators deep", State::max_chain),
           "split it into parts with `let`");
}
inline auto fold(ast::BinaryOp op) {
  return [op](State& s, Match m, ast::Expr& v, ast::Expr& rhs) {
    v = binary(op, std::move(v), std::move(rhs), m.begin->span);
    check_height(s, m, v);
  };
}
// The operator is the first token matched.
inline const auto fold_by_token = [](State& s, Match m, ast::Expr& v, ast::Expr& rhs) {
  v = binary(binary_op(m.begin->kind), std::move(v), std::move(rhs), m.begin->span);
  check_height(s, m, v);
};
inline auto prefix(ast::UnaryOp op) {
  return [op](State& s, Match m, ast::Expr& v, ast::Expr& operand) {
    std::uint32_t h = operand.height + 1;
    v = make(ast::Unary{op, std::move(operand)}, m.span());
    v.height = h;
    check_height(s, m, v);
  };
}

inline const auto cmp_op = tok_in(Tok::Lt, Tok::Le, Tok::Gt, Tok::Ge, Tok::EqEq, Tok::NotEq);

}  // namespace expr_detail

// ---- rules local to this unit
struct or_class;
struct and_class;
struct not_class;
struct comparison_class;
struct additive_class;
struct multiplicative_class;
struct unary_class;
struct power_class;
struct primary_class;
struct vector_class;
struct subscript_class;
struct arg_class;
struct bound_class;

inline const x3::rule<or_class, ast::Expr> or_expr = "an expression";
inline const x3::rule<and_class, ast::Expr> and_expr = "an expression";
inline const x3::rule<not_class, ast::Expr> not_expr = "an expression";
inline const x3::rule<comparison_class, ast::Expr> comparison = "an expression";
inline const x3::rule<additive_class, ast::Expr> additive = "an expression";
inline const x3::rule<multiplicative_class, ast::Expr> multiplicative = "an expression";
inline const x3::rule<unary_class, ast::Expr> unary = "an expression";
inline const x3::rule<power_class, ast::Expr> power = "an expression";
inline const x3::rule<primary_class, ast::Expr> primary = "an expression";
inline const x3::rule<vector_class, ast::Expr> vector_lit = "a vector literal";
inline const x3::rule<subscript_class, ast::Subscript> subscript = "an index";
inline const x3::rule<arg_class, ast::Arg> arg = "an argument";
inline const x3::rule<bound_class, ast::Expr> bound = "a bound";

namespace expr_detail {

// `a < b < c`: reported once, with the rewrite, after reading the third
// operand (so that the message can quote it).
struct chained_parser : x3::parser<chained_parser> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  static bool const has_action = true;

  template <class It, class Ctx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, ast::Expr& first_cmp, Attr&) const {
    State& s = state(ctx);
    const Token& op2 = *first;
    It i = next(first);
    std::string third = "c";
    try {
      ast::Expr e;
      if (additive.parse(i, last, ctx, x3::unused, e)) third = std::string(s.text(e.span));
    } catch (const syntax_error& err) {
      if (s.stopped()) throw;
      i = err.where();
    }
    const auto& b = std::get<ast::Binary>(first_cmp.node);
    std::string a(s.text(b.lhs->span)), mid(s.text(b.rhs->span));
    if (a.size() + mid.size() + third.size() > 60) a = "a", mid = "b", third = "c";
    s.fail(i, op2.span,
           fmt::format("'{} {} {} {} {}': comparisons do not chain; write '{} {} {} and {} {} {}'", a,
                       ast::spelling(b.op), mid, op2.text, third, a, ast::spelling(b.op), mid, mid, op2.text, third));
  }
};
inline const chained_parser chained{};

// '**' typed for a power.
inline const auto no_double_star = check([](State& s, iterator_type it, ast::Expr&) {
  const Token& op = *(it - 1);
  if (op.kind == Tok::Star && it->kind == Tok::Star && it->span.begin == op.span.end)
    s.fail(it, {op.span.begin, op.span.end + 1}, "'**' is not an operator; write '^' for powers");
});

inline const auto same_line_lparen =
    when([](State&, iterator_type it) { return it->kind == Tok::LParen && !it->newline_before; });

inline const auto index_suffix =
    act(framed("")[tok(Tok::LBracket) >> check([](State& s, iterator_type it, ast::Expr&) {
                     if (it->kind == Tok::RBracket)
                       s.fail(it, it->span, "expected an index inside '[]'", "write x[i], x[a:b] or x[:, j]");
                   })
                   >> (subscript % tok(Tok::Comma)) >> check([](State& s, iterator_type it, ast::Expr&) {
                       if (it->kind != Tok::RBracket)
                         s.expected(it, "expected ']' to close the index",
                                    fmt::format("the '[' is on line {}; separate subscripts with ','",
                                                s.line(s.frames.back().open)));
                     })
                   >> tok(Tok::RBracket)],
        [](State&, Match m, ast::Expr& v, std::vector<ast::Subscript>& subs) {
          Span span{v.span.begin, (m.end - 1)->span.end};
          v = make(ast::Index{std::move(v), std::move(subs)}, span);
        });

inline const auto subscript_ends = tok(Tok::Comma) | tok(Tok::RBracket);
inline const auto slice_hi =
    -act(!subscript_ends >> expr, [](State&, Match, ast::Subscript& v, ast::Expr& a) { v.hi = std::move(a); });

inline const auto positional_check = check([](State& s, iterator_type it, std::vector<ast::Arg>& args) {
  bool named = it->kind == Tok::Word && next(it)->kind == Tok::Assign;
  if (named) return;
  for (const auto& a : args)
    if (!a.name.empty()) {
      s.report(it->span, fmt::format("a positional argument follows a named one in {}", s.frames.back().what),
               "write positional arguments first");
      return;
    }
});

inline const auto make_name = [](State&, Match m, ast::Expr& v, x3::unused_type) {
  v = make(ast::NameRef{std::string(m.begin->text)}, m.begin->span);
};
inline const auto make_number = [](State& s, Match m, ast::Expr& v, x3::unused_type) { v = number(s, *m.begin); };

// The bound being read is the innermost frame: 'lower' or 'upper'.
inline const auto bound_item = framed([](State&, iterator_type open, ast::TypeExpr&) {
  return std::string(open->text);
})[(word("lower") | word("upper") | check([](State& s, iterator_type it, ast::TypeExpr&) {
      std::string hint;
      if (it->kind == Tok::Word) {
        std::string near = closest_name(std::string(it->text), {"lower", "upper"});
        if (!near.empty()) hint = fmt::format("did you mean '{}'?", near);
      }
      s.expected(it, "expected 'lower' or 'upper' in the bounds",
                 hint.empty() ? "bounds read '<lower=0>' or '<lower=0, upper=1>'" : hint);
    }))
   >> check([](State& s, iterator_type it, ast::TypeExpr& t) {
       const std::string& w = s.frames.back().what;
       if (it->kind != Tok::Assign)
         s.expected(it, fmt::format("expected '=' after '{}'", w), fmt::format("write '{}=0'", w));
       if (w == "lower" ? t.lower.has_value() : t.upper.has_value())
         s.report(s.frames.back().open->span, fmt::format("'{}' is given twice", w));
     })
   >> tok(Tok::Assign) >> act(bound,
                              [](State& s, Match, ast::TypeExpr& t, ast::Expr& e) {
                                (s.frames.back().what == "lower" ? t.lower : t.upper) =
                                    ast::Box<ast::Expr>(std::move(e));
                              })
   >> check([](State& s, iterator_type it, ast::TypeExpr&) {
       if (it->kind != Tok::Gt && it->kind != Tok::Comma)
         s.expected(
             it, "expected ',' or '>' after the bound",
             fmt::format("a bound that is an expression goes in parentheses: '{}=(a + 1)'", s.frames.back().what));
     })];

}  // namespace expr_detail

using namespace expr_detail;

inline const auto expr_def = nest[or_expr];

inline const auto or_expr_def = node[act(and_expr, set) >> *act(word("or") >> and_expr, fold(ast::BinaryOp::Or))];

inline const auto and_expr_def = node[act(not_expr, set) >> *act(word("and") >> not_expr, fold(ast::BinaryOp::And))];

inline const auto not_expr_def =
    node[act(&word("not") >> nest[word("not") >> not_expr], prefix(ast::UnaryOp::Not)) | act(comparison, set)];

inline const auto comparison_def =
    node[act(additive, set) >> -(act(cmp_op >> additive, fold_by_token) >> -(&cmp_op >> chained))];

inline const auto additive_def =
    node[act(multiplicative, set) >> *act(tok_in(Tok::Plus, Tok::Minus) >> multiplicative, fold_by_token)];

inline const auto multiplicative_def =
    node[act(unary, set) >> *act(tok_in(Tok::Star, Tok::Slash, Tok::At) >> no_double_star >> unary, fold_by_token)];

inline const auto unary_def =
    node[act(&tok(Tok::Minus) >> nest[tok(Tok::Minus) >> unary], prefix(ast::UnaryOp::Neg)) | act(power, set)];

inline const auto power_def =
    node[act(postfix, set) >> -act(&tok(Tok::Caret) >> nest[tok(Tok::Caret) >> unary], fold(ast::BinaryOp::Pow))];

inline const auto postfix_def =
    node[act(primary, set) >> *(index_suffix | (same_line_lparen >> check([](State& s, iterator_type it, ast::Expr&) {
                                                  s.fail(it, it->span, "only a name can be called: write 'f(…)'");
                                                })))];

// subscript = expr | expr? ':' expr?
inline const auto subscript_def =
    node[act(tok(Tok::Colon), [](State&, Match, ast::Subscript& v, x3::unused_type) { v.is_slice = true; }) >> slice_hi
         | act(expr,
               [](State&, Match, ast::Subscript& v, ast::Expr& a) { v.index = ast::Box<ast::Expr>(std::move(a)); })
               >> -(act(tok(Tok::Colon),
                        [](State&, Match, ast::Subscript& v, x3::unused_type) {
                          v.lo = std::move(v.index);
                          v.index.reset();
                          v.is_slice = true;
                        })
                    >> slice_hi)];

inline const auto fail_expr = check([](State& s, iterator_type it, ast::Expr&) { fail_expression(s, it); });

inline const auto primary_def =
    node[act(tok(Tok::Number), make_number)
         | act(word("true") | word("false"),
               [](State&, Match m, ast::Expr& v, x3::unused_type) {
                 v = make(ast::BoolLit{m.begin->text == "true"}, m.begin->span);
               })
         | (&reserved >> fail_expr) | (&(name >> tok(Tok::LParen)) >> act(call, set)) | act(name, make_name)
         | act(framed("")[tok(Tok::LParen) >> expr >> check([](State& s, iterator_type it, ast::Expr&) {
                            if (it->kind != Tok::RParen)
                              s.expected(it, "expected ')' to close '('",
                                         fmt::format("the '(' is on line {}", s.line(s.frames.back().open)));
                          })
                          >> tok(Tok::RParen)],
               [](State&, Match m, ast::Expr& v, ast::Expr& inner) {
                 v = std::move(inner);
                 v.span = m.span();
               })
         | act(vector_lit, set) | fail_expr];

inline const auto vector_lit_def =
    node[act(tok(Tok::LBracket), [](State&, Match, ast::Expr& v, x3::unused_type) { v.node = ast::VectorLit{}; })
         >> -(!tok(Tok::RBracket)
              >> (act(expr, [](State&, Match, ast::Expr& v,
                               ast::Expr& e) { std::get<ast::VectorLit>(v.node).elements.push_back(std::move(e)); })
                  % (tok(Tok::Comma) >> !tok(Tok::RBracket)))
              >> -tok(Tok::Comma))
         >> check([](State& s, iterator_type it, ast::Expr&) {
             if (it->kind != Tok::RBracket)
               s.expected(it, "expected ']' to close the vector literal", "separate elements with ','");
           })
         >> tok(Tok::RBracket)];

// call = name '(' (arg (',' arg)*)? ','? ')'
inline const auto call_def =
    node[act(name,
             [](State&, Match m, ast::Expr& v, x3::unused_type) {
               v.node = ast::Call{std::string(m.begin->text), m.begin->span, {}};
             })
         >> act(
             framed([](State&, iterator_type, ast::Expr& v) {
               return fmt::format("the call to '{}'", std::get<ast::Call>(v.node).callee);
             })[tok(Tok::LParen) >> args
                >> check([](State& s, iterator_type it, ast::Expr&) { expect_close_args(s, it); }) >> tok(Tok::RParen)],
             [](State&, Match, ast::Expr& v, std::vector<ast::Arg>& a) {
               std::get<ast::Call>(v.node).args = std::move(a);
             })];

// The arguments after '(', up to the ')'.
inline const auto args_def =
    -(!tok(Tok::RParen) >> ((positional_check >> act(arg, [](State&, Match, std::vector<ast::Arg>& v,
                                                             ast::Arg& a) { v.push_back(std::move(a)); }))
                            % (tok(Tok::Comma) >> !tok(Tok::RParen)))
      >> -tok(Tok::Comma));

// arg = word '=' expr | expr
inline const auto arg_def = act(any_word >> tok(Tok::Assign),
                                [](State&, Match m, ast::Arg& v, x3::unused_type) {
                                  v.name = std::string(m.begin->text);
                                  v.name_span = m.begin->span;
                                })
                                >> act(expr, [](State&, Match, ast::Arg& v, ast::Expr& e) { v.value = std::move(e); })
                            | act(expr, [](State&, Match, ast::Arg& v, ast::Expr& e) { v.value = std::move(e); });

// type   = ('int' | 'real' | 'bool' | 'simplex') bounds? ('[' expr (',' expr)* ']')?
// bounds = '<' ('lower' | 'upper') '=' bound (',' …)* '>'
inline const auto type_def =
    node[(act(word("int") | word("real") | word("bool") | word("simplex"),
              [](State&, Match m, ast::TypeExpr& t, x3::unused_type) {
                std::string_view w = m.begin->text;
                t.base = w == "int"    ? ast::BaseType::Int
                         : w == "real" ? ast::BaseType::Real
                         : w == "bool" ? ast::BaseType::Bool
                                       : ast::BaseType::Simplex;
              })
          | check([](State& s, iterator_type it, ast::TypeExpr&) {
              std::string w(it->kind == Tok::Word ? it->text : std::string_view{});
              std::string hint;
              if (w == "float" || w == "double" || w == "number")
                hint = "did you mean 'real'?";
              else if (w == "integer" || w == "long")
                hint = "did you mean 'int'?";
              else if (w == "boolean")
                hint = "did you mean 'bool'?";
              else if (w == "vector" || w == "array" || w == "matrix")
                hint = "write an array as 'real[N]' or 'real[N, D]'";
              else if (!w.empty()) {
                std::string near = closest_name(w, {"int", "real", "bool", "simplex"});
                if (!near.empty()) hint = fmt::format("did you mean '{}'?", near);
              }
              s.expected(it, "expected a type (int, real, bool or simplex)", hint);
            }))
         >> -(&tok(Tok::Lt) >> check([](State& s, iterator_type it, ast::TypeExpr& t) {
             if (t.base == ast::BaseType::Simplex) s.fail(it, it->span, "simplex takes no bounds");
           }) >> tok(Tok::Lt)
              >> (bound_item % tok(Tok::Comma)) >> tok(Tok::Gt))
         >> ((tok(Tok::LBracket) >> check([](State& s, iterator_type it, ast::TypeExpr&) {
                if (it->kind == Tok::RBracket) s.fail(it, it->span, "expected a size inside '[]'", "write 'real[N]'");
              })
              >> (act(expr, [](State&, Match, ast::TypeExpr& t, ast::Expr& e) { t.dims.push_back(std::move(e)); })
                  % tok(Tok::Comma))
              >> check([](State& s, iterator_type it, ast::TypeExpr&) {
                  if (it->kind != Tok::RBracket)
                    s.expected(it, "expected ']' to close the shape", "write 'real[N]' or 'real[N, D]'");
                })
              >> tok(Tok::RBracket))
             | check([](State& s, iterator_type it, ast::TypeExpr& t) {
                 if (t.base == ast::BaseType::Simplex)
                   s.fail(it, s.here(it), "simplex needs a size", "write 'simplex[K]'");
               }))];

// bound = number | name | '(' expr ')'   — so the closing '>' is never a comparison
inline const auto bound_def =
    node[act(tok(Tok::Number), make_number) | act(name, make_name) | (&tok(Tok::LParen) >> act(primary, set))
         | check([](State& s, iterator_type it, ast::Expr&) {
             if (it->kind == Tok::Minus)
               s.fail(it, it->span,
                      fmt::format("'-' in a bound: write the negative bound in parentheses, '{}=(-1)'",
                                  s.frames.back().what));
             s.expected(it, "expected a number, a name or '(' expression ')' as the bound");
           })];

struct expr_class : span_hook {};
struct or_class : span_hook {};
struct and_class : span_hook {};
struct not_class : span_hook {};
struct comparison_class : span_hook {};
struct additive_class : span_hook {};
struct multiplicative_class : span_hook {};
struct unary_class : span_hook {};
struct power_class : span_hook {};
struct postfix_class : span_hook {};
struct primary_class : span_hook {};
struct vector_class : span_hook {};
struct subscript_class : span_hook {};
struct call_class : span_hook {};
struct args_class {};
struct arg_class {};
struct type_class : span_hook {};
struct bound_class : span_hook {};

BOOST_SPIRIT_DEFINE(expr, or_expr, and_expr, not_expr, comparison, additive, multiplicative, unary, power, postfix,
                    primary, vector_lit, subscript, call, args, arg, type, bound)

}  // namespace vireo::lang::parser::grammar
