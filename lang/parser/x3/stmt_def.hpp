// Statements and blocks (LANGUAGE.md, "Statements"):
//   block     = '{' (statement ';'?)* '}'
//   statement = name (':' type)? '~' dist options          sample
//             | 'observe' expr (':' type)? '~' dist options
//             | 'let' name '=' expr | 'deterministic' name '=' expr | name '=' expr
//             | 'param' name ':' type '=' expr
//             | 'plate' name '(' expr (',' 'subsample' '=' expr)? ')' ('as' name)? block
//             | 'for' name 'in' expr '..' expr block
//             | 'if' expr block ('else' (if | block))?
//             | 'return' expr
//             | 'scale' expr block                        — `scale` is a keyword only here
//             | 'factor' name '=' expr                    — `factor` is a keyword only here
//   dist      = name '(' args ')'
//   options   = ('with' name '(' args ')' (',' name '(' args ')')*)*
// Included only by stmt.cpp.
#pragma once
#include <fmt/format.h>

#include <string>

#include "lang/parser/x3/expr.hpp"
#include "lang/parser/x3/names.hpp"
#include "lang/parser/x3/primitives.hpp"
#include "lang/parser/x3/stmt.hpp"

namespace vireo::lang::parser::grammar {

struct statement_class;
struct name_led_class;
struct sample_class;
struct dist_class;
struct options_class;
struct option_class;
struct observe_class;
struct let_class;
struct deterministic_class;
struct param_class;
struct plate_class;
struct for_class;
struct if_class;
struct return_class;
struct scale_class;
struct factor_class;

inline const x3::rule<statement_class, ast::Stmt> statement = "a statement";
inline const x3::rule<name_led_class, ast::Stmt> name_led = "a statement";
inline const x3::rule<sample_class, ast::SampleStmt> sample = "a sample statement";
inline const x3::rule<dist_class, ast::Expr> dist = "a distribution call";
inline const x3::rule<options_class, std::vector<ast::SiteOption>> options = "site options";
inline const x3::rule<option_class, ast::SiteOption> option = "a site option";
inline const x3::rule<observe_class, ast::ObserveStmt> observe_stmt = "an observe statement";
inline const x3::rule<let_class, ast::LetStmt> let_stmt = "a let statement";
inline const x3::rule<deterministic_class, ast::DeterministicStmt> deterministic_stmt = "a deterministic statement";
inline const x3::rule<param_class, ast::ParamStmt> param_stmt = "a param statement";
inline const x3::rule<plate_class, ast::PlateStmt> plate_stmt = "a plate";
inline const x3::rule<for_class, ast::ForStmt> for_stmt = "a for loop";
inline const x3::rule<if_class, ast::IfStmt> if_stmt = "an if statement";
inline const x3::rule<return_class, ast::ReturnStmt> return_stmt = "a return statement";
inline const x3::rule<scale_class, ast::ScaleStmt> scale_stmt = "a scale block";
inline const x3::rule<factor_class, ast::FactorStmt> factor_stmt = "a factor statement";

namespace stmt_detail {

inline const auto wrap = [](State&, Match, ast::Stmt& v, auto& node) { v.node = std::move(node); };
inline const auto take = [](State&, Match, auto& v, auto& a) { v = std::move(a); };
inline const auto no_hint = [](auto&) { return std::string(); };

inline const auto same_line_lparen =
    when([](State&, iterator_type it) { return it->kind == Tok::LParen && !it->newline_before; });

// ')' closing the arguments of a call or option, inside its frame.
inline const auto close_args = check([](State& s, iterator_type it, auto&) { expect_close_args(s, it); })
                               >> tok(Tok::RParen);

// name[…] or name(…) where a statement should be.
inline const auto misused = [](State& s, Match m, ast::Stmt&, ast::Expr& e) {
  iterator_type it = m.end;
  std::string text(s.text(e.span));
  if (it->kind == Tok::Tilde)
    s.fail(it, e.span, fmt::format("a sample site is named by a plain name, not '{}'", text),
           fmt::format("to score data write 'observe {} ~ …'", text));
  if (it->kind == Tok::Assign)
    s.fail(it, e.span, fmt::format("cannot assign to '{}': only a whole variable can be assigned", text),
           "build the array at once, e.g. with a plate or a vector literal");
  // `factor(lp)`: the statement is `factor name = lp`, not a function call.
  const auto* call = std::get_if<ast::Call>(&e.node);
  if (call && call->callee == "factor") {
    std::string args(call->args.empty() ? std::string_view("…")
                                         : s.text(Span{call->args.front().value->span.begin,
                                                       call->args.back().value->span.end}));
    s.fail(it, e.span, "'factor' is a statement, not a function",
           fmt::format("a factor is named like a site: 'factor lik = {}'", args));
  }
  s.fail(it, e.span, fmt::format("'{}' cannot stand alone as a statement", text),
         fmt::format("bind it: 'let r = {}'", text));
};

// A name followed by none of '~', ':', '=', '[', '('.
inline const auto name_led_fail = check([](State& s, iterator_type it, ast::Stmt&) {
  const Token& name_tok = *(it - 1);
  std::string hint =
      fmt::format("a statement starting with a name reads '{0} ~ Normal(0, 1)' or '{0} = …'", name_tok.text);
  Span where = s.here(it);
  if (it->kind == Tok::EqEq)
    hint = "'==' compares; write '=' to assign";
  else if (it->kind == Tok::Word && !it->newline_before) {
    // `lett x = 3`, `observ y ~ …`: a misspelt keyword; point at it.
    std::string near = closest_name(std::string(name_tok.text), {"let", "deterministic", "param", "observe", "plate",
                                                                 "for", "if", "return", "scale", "factor"});
    if (!near.empty()) hint = fmt::format("did you mean '{}'?", near), where = name_tok.span;
  }
  s.fail(it, where, fmt::format("expected '~', ':' or '=' after '{}', found {}", name_tok.text, s.found(it)), hint);
});

// The end of a block whose '}' is missing: the end of the file, or the next
// top-level item at the start of a line.
inline const auto block_end = when(
    [](State& s, iterator_type it) { return it->kind == Tok::End || (s.at_item_start(it) && it->newline_before); });

inline auto fail_at_token(const char* message, const char* hint = "") {
  return check([message, hint](State& s, iterator_type it, auto&) { s.fail(it, it->span, message, hint); });
}

inline const auto expect_open_brace = check([](State& s, iterator_type it, ast::Block&) {
  if (it->kind != Tok::LBrace) s.expected(it, fmt::format("expected '{{' to open the {}", s.frames.back().what));
});

inline const auto push_statement = [](ast::Block& b, ast::Stmt&& st) { b.push_back(std::move(st)); };

// A missing '}' is reported where the block ends; at the end of the file,
// only for the innermost block.
inline const auto report_unclosed_block = check([](State& s, iterator_type it, ast::Block&) {
  const Frame& f = s.frames.back();
  if (!s.reported_eof)
    s.report(s.here(it), fmt::format("expected '}}' to close the {}", f.what),
             fmt::format("the {} opens with '{{' at line {}", f.what, s.line(f.open)));
  s.reported_eof = it->kind == Tok::End;
});

// let and deterministic: kw name '=' expr
inline auto binding(const char* kw) {
  return word(kw) >> act(expect_name_f([kw](auto&) { return fmt::format("a name after '{}'", kw); }), set_name)
         >> expect_tok(
             Tok::Assign, [kw](auto& v) { return fmt::format("expected '=' after '{} {}'", kw, v.name); },
             [kw](auto& v) { return fmt::format("write '{} {} = …'", kw, v.name); })
         >> tok(Tok::Assign) >> act(expr, [](State&, Match, auto& v, ast::Expr& e) { v.value = std::move(e); });
}

}  // namespace stmt_detail

using namespace stmt_detail;

// block = '{' (statement ';'?)* '}'   — a failed statement is skipped
// (recover), and a missing '}' is reported where the block must have ended
inline const auto block_def =
    nest[expect_open_brace >> tok(Tok::LBrace)
         >> *(!tok(Tok::RBrace) >> going >> !block_end >> (tok(Tok::Semi) | recover(push_statement)[statement]))
         >> -(tok(Tok::RBrace) | (block_end >> report_unclosed_block))];

inline const auto statement_def =
    node[act(observe_stmt, wrap) | act(let_stmt, wrap) | act(deterministic_stmt, wrap) | act(param_stmt, wrap)
         | act(plate_stmt, wrap) | act(for_stmt, wrap) | act(if_stmt, wrap) | act(return_stmt, wrap)
         | act(scale_stmt, wrap) | act(&(word("factor") >> name) >> factor_stmt, wrap)
         | (&word("else") >> fail_at_token("'else' without 'if'", "'else' follows the '}' of an 'if' block"))
         | (&word("fn") >> fail_at_token("functions are declared at the top level, not inside a block"))
         | (&reserved >> check([](State& s, iterator_type it, ast::Stmt&) {
             s.fail(it, it->span, fmt::format("expected a statement, found the reserved word '{}'", it->text));
           }))
         | act(name_led, take) | check([](State& s, iterator_type it, ast::Stmt&) {
             s.fail(it, it->span, fmt::format("expected a statement, found {}", s.found(it)),
                    it->kind == Tok::LBrace ? "a block opens only after 'plate', 'for', 'if', 'else' or 'scale'" : "");
           })];

// name '~' …  |  name ':' type '~' …  |  name '=' expr  |  an expression misused as a statement
inline const auto name_led_def =
    node[act(&(name >> tok_in(Tok::Tilde, Tok::Colon)) >> sample, wrap)
         | act(name >> tok(Tok::Assign) >> expr,
               [](State&, Match m, ast::Stmt& v, ast::Expr& e) {
                 v.node = ast::AssignStmt{std::string(m.begin->text), m.begin->span, std::move(e)};
               })
         | act(&(name >> (tok(Tok::LBracket) | same_line_lparen)) >> postfix, misused) | (name >> name_led_fail)];

// name (':' type)? '~' dist options
inline const auto sample_def =
    act(name, set_name)
    >> ((tok(Tok::Colon)
         >> act(type, [](State&, Match, ast::SampleStmt& v, ast::TypeExpr& t) { v.type = std::move(t); }) >> expect_tok(
             Tok::Tilde, [](auto& v) { return fmt::format("expected '~' after the type of '{}'", v.name); },
             [](auto& v) { return fmt::format("a typed site reads '{}: real[K] ~ Normal(0, 1)'", v.name); })
         >> tok(Tok::Tilde))
        | tok(Tok::Tilde))
    >> act(dist, [](State&, Match, ast::SampleStmt& v, ast::Expr& e) { v.dist = std::move(e); })
    >> act(options,
           [](State&, Match, ast::SampleStmt& v, std::vector<ast::SiteOption>& o) { v.options = std::move(o); });

// dist = name '(' args ')'
inline const auto dist_def =
    node[(&(name >> tok(Tok::LParen)) >> act(call, take)) | check([](State& s, iterator_type it, ast::Expr&) {
           std::string hint = "for example 'x ~ Normal(0, 1)'";
           if (it->kind == Tok::Word && !is_reserved(it->text))
             hint = fmt::format("a distribution is called with its arguments: '{}(…)'", it->text);
           s.expected(it, "expected a distribution call after '~'", hint);
         })];

inline const auto options_def = *(word("with") >> (act(option, [](State&, Match, std::vector<ast::SiteOption>& v,
                                                                  ast::SiteOption& o) { v.push_back(std::move(o)); })
                                                   % tok(Tok::Comma)));

inline const auto option_def =
    node[act(expect_name("an option after 'with', such as 'baseline(beta = 0.9)'"), set_name) >>
         // `with enumerate` alone takes no arguments; every other option does.
         (when([](State&, iterator_type it) { return (it - 1)->text == "enumerate" && it->kind != Tok::LParen; }) |
          expect_tok(
             Tok::LParen, [](auto& v) { return fmt::format("expected '(' after the option '{}'", v.name); },
             [](auto& v) {
               return fmt::format("write '{}(…)', e.g. 'baseline(beta = 0.9)' or 'baseline(none)'", v.name);
             })
         >> act(framed([](State&, iterator_type, ast::SiteOption& v) {
                  return fmt::format("the option '{}'", v.name);
                })[tok(Tok::LParen) >> args >> close_args],
                [](State&, Match, ast::SiteOption& v, std::vector<ast::Arg>& a) { v.args = std::move(a); }))];

// 'observe' expr (':' type)? '~' dist options
inline const auto observe_stmt_def =
    word("observe") >> act(expr, [](State&, Match, ast::ObserveStmt& v, ast::Expr& e) { v.target = std::move(e); })
    >> -(tok(Tok::Colon) >> act(type, [](State&, Match, ast::ObserveStmt& v, ast::TypeExpr& t) { v.type = std::move(t); }))
    >> expect_tok(
        Tok::Tilde, [](auto&) { return std::string("expected '~' after the observed value"); },
        [](auto&) { return std::string("write 'observe y ~ Normal(mu, 1)'"); })
    >> tok(Tok::Tilde) >> act(dist, [](State&, Match, ast::ObserveStmt& v, ast::Expr& e) { v.dist = std::move(e); })
    >> act(options,
           [](State&, Match, ast::ObserveStmt& v, std::vector<ast::SiteOption>& o) { v.options = std::move(o); });

inline const auto let_stmt_def = binding("let");
inline const auto deterministic_stmt_def = binding("deterministic");

// 'param' name ':' type '=' expr
inline const auto param_stmt_def =
    word("param") >> act(expect_name("a name after 'param'"), set_name) >> expect_tok(
        Tok::Colon, [](auto& v) { return fmt::format("expected ':' and a type after 'param {}'", v.name); },
        [](auto& v) { return fmt::format("a parameter reads 'param {}: real = 0'", v.name); })
    >> tok(Tok::Colon) >> act(type, [](State&, Match, ast::ParamStmt& v, ast::TypeExpr& t) { v.type = std::move(t); })
    >> expect_tok(
        Tok::Assign, [](auto& v) { return fmt::format("expected '=' and an initial value for 'param {}'", v.name); },
        [](auto& v) { return fmt::format("a parameter reads 'param {}: real = 0'", v.name); })
    >> tok(Tok::Assign) >> act(expr, [](State&, Match, ast::ParamStmt& v, ast::Expr& e) { v.init = std::move(e); });

// 'plate' name '(' expr (',' 'subsample' '=' expr)? ')' ('as' name)? block
inline const auto plate_shape = [](auto& v) { return fmt::format("a plate reads 'plate {}(N) {{ … }}'", v.name); };
inline const auto plate_stmt_def =
    word("plate") >> act(expect_name("a plate name after 'plate'"), set_name) >> expect_tok(
        Tok::LParen, [](auto& v) { return fmt::format("expected '(' and a size after 'plate {}'", v.name); },
        plate_shape)
    >> tok(Tok::LParen) >> act(expr, [](State&, Match, ast::PlateStmt& v, ast::Expr& e) { v.size = std::move(e); })
    >> -(tok(Tok::Comma) >> check([](State& s, iterator_type it, ast::PlateStmt& v) {
           if (!(it->kind == Tok::Word && it->text == "subsample"))
             s.expected(it, "expected 'subsample = B' after ','",
                        fmt::format("a mini-batch plate reads 'plate {}(N, subsample = B) as idx {{ … }}'", v.name));
         })
         >> word("subsample") >> expect_tok(
             Tok::Assign, [](auto&) { return std::string("expected '=' after 'subsample'"); },
             [](auto&) { return std::string("write 'subsample = B'"); })
         >> tok(Tok::Assign)
         >> act(expr, [](State&, Match, ast::PlateStmt& v, ast::Expr& e) { v.subsample = std::move(e); }))
    >> expect_tok(
        Tok::RParen, [](auto& v) { return fmt::format("expected ')' to close the size of plate '{}'", v.name); },
        plate_shape)
    >> tok(Tok::RParen) >> -(word("as") >> act(expect_name("an index name after 'as'"),
                                               [](State&, Match m, ast::PlateStmt& v, x3::unused_type) {
                                                 v.index_name = std::string(m.begin->text);
                                                 v.index_span = m.begin->span;
                                               }))
    >> act(framed([](State&, iterator_type, ast::PlateStmt& v) { return fmt::format("plate '{}'", v.name); })[block],
           [](State&, Match, ast::PlateStmt& v, ast::Block& b) { v.body = std::move(b); });

// 'for' name 'in' expr '..' expr block
inline const auto loop_shape = [](auto& v) { return fmt::format("a loop reads 'for {} in 0..n {{ … }}'", v.var); };
inline const auto for_stmt_def =
    word("for") >> act(expect_name("a loop variable after 'for'"),
                       [](State&, Match m, ast::ForStmt& v, x3::unused_type) {
                         v.var = std::string(m.begin->text);
                         v.var_span = m.begin->span;
                       })
    >> check([](State& s, iterator_type it, ast::ForStmt& v) {
        if (!(it->kind == Tok::Word && it->text == "in"))
          s.expected(it, fmt::format("expected 'in' after 'for {}'", v.var), loop_shape(v));
      })
    >> word("in") >> act(expr, [](State&, Match, ast::ForStmt& v, ast::Expr& e) { v.lo = std::move(e); }) >> expect_tok(
        Tok::DotDot, [](auto&) { return std::string("expected '..' between the bounds of the range"); }, loop_shape)
    >> tok(Tok::DotDot) >> act(expr, [](State&, Match, ast::ForStmt& v, ast::Expr& e) { v.hi = std::move(e); })
    >> act(framed("body of the for loop")[block],
           [](State&, Match, ast::ForStmt& v, ast::Block& b) { v.body = std::move(b); });

// 'if' expr block ('else' (if | block))?  — `else if` recurses once per link, so it nests
inline const auto if_stmt_def =
    word("if") >> act(expr, [](State&, Match, ast::IfStmt& v, ast::Expr& e) { v.cond = std::move(e); })
    >> act(framed("body of the 'if'")[block],
           [](State&, Match, ast::IfStmt& v, ast::Block& b) { v.then_body = std::move(b); })
    >> -(word("else") >> (act(&word("if") >> nest[if_stmt],
                              [](State&, Match m, ast::IfStmt& v, ast::IfStmt& inner) {
                                ast::Block b;
                                b.push_back(ast::Stmt{std::move(inner), m.span()});
                                v.else_body = std::move(b);
                              })
                          | act(framed("body of the 'else'")[block],
                                [](State&, Match, ast::IfStmt& v, ast::Block& b) { v.else_body = std::move(b); })));

// 'return' expr
inline const auto return_stmt_def = word("return") >> act(expr, [](State&, Match, ast::ReturnStmt& v, ast::Expr& e) {
                                      v.value = std::move(e);
                                    });

// 'scale' expr block
inline const auto scale_stmt_def =
    word("scale") >> !tok_in(Tok::Tilde, Tok::Assign, Tok::Colon)
    >> act(expr, [](State&, Match, ast::ScaleStmt& v, ast::Expr& e) { v.weight = std::move(e); })
    >> act(framed("body of 'scale'")[block],
           [](State&, Match, ast::ScaleStmt& v, ast::Block& b) { v.body = std::move(b); });

// 'factor' name '=' expr — only when a name follows `factor`, so that
// `factor = 1`, `factor ~ Normal(0, 1)` and `factor(x)` read `factor` as a name
inline const auto factor_stmt_def = binding("factor");

struct block_class {};
struct statement_class : span_hook {};
struct name_led_class : span_hook {};
struct sample_class {};
struct dist_class : span_hook {};
struct options_class {};
struct option_class : span_hook {};
struct observe_class {};
struct let_class {};
struct deterministic_class {};
struct param_class {};
struct plate_class {};
struct for_class {};
struct if_class {};
struct return_class {};
struct scale_class {};
struct factor_class {};

BOOST_SPIRIT_DEFINE(block, statement, name_led, sample, dist, options, option, observe_stmt, let_stmt,
                    deterministic_stmt, param_stmt, plate_stmt, for_stmt, if_stmt, return_stmt, scale_stmt,
                    factor_stmt)

}  // namespace vireo::lang::parser::grammar
