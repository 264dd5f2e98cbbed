// The top level (LANGUAGE.md, "Programs"):
//   item = 'data' '{' decl* '}' | 'model' block | 'guide' block | fn
//   decl = name ':' type
//   fn   = 'fn' name '(' (name (',' name)*)? ')' (block | '=' expr)
// `data`, `model` and `guide` are keywords only when a '{' follows them.
// Included only by program.cpp.
#pragma once
#include <fmt/format.h>

#include <string>

#include "lang/parser/x3/expr.hpp"
#include "lang/parser/x3/names.hpp"
#include "lang/parser/x3/primitives.hpp"
#include "lang/parser/x3/stmt.hpp"

namespace vireo::lang::parser::grammar {

struct item_class;
struct data_class;
struct decl_class;
struct model_class;
struct guide_class;
struct fn_class;

inline const x3::rule<item_class, ast::Item> item = "an item";
inline const x3::rule<data_class, ast::DataBlock> data_block = "a data block";
inline const x3::rule<decl_class, ast::DataDecl> decl = "a data declaration";
inline const x3::rule<model_class, ast::ModelBlock> model_block = "a model block";
inline const x3::rule<guide_class, ast::GuideBlock> guide_block = "a guide block";
inline const x3::rule<fn_class, ast::FnDecl> fn_decl = "a function";

namespace program_detail {

inline const auto wrap = [](State&, Match, ast::Item& v, auto& node) { v = std::move(node); };
inline const auto set_body = [](State&, Match, auto& v, ast::Block& b) { v.body = std::move(b); };

// A data block whose '}' is missing ends at the end of the file or the next item.
inline const auto data_end =
    when([](State& s, iterator_type it) { return it->kind == Tok::End || s.at_item_start(it); });

inline const auto push_decl = [](ast::DataBlock& d, ast::DataDecl&& x) { d.decls.push_back(std::move(x)); };

inline const auto report_unclosed_data = check([](State& s, iterator_type it, ast::DataBlock&) {
  if (!s.reported_eof)
    s.report(s.here(it), "expected '}' to close the data block",
             fmt::format("the block opens at line {}", s.line(s.frames.back().open)));
  s.reported_eof = it->kind == Tok::End;
});

}  // namespace program_detail

using namespace program_detail;

// data = 'data' '{' (name ':' type ';'?)* '}'
inline const auto data_block_def =
    node[word("data") >> framed("data block")[tok(Tok::LBrace) >> *(!tok(Tok::RBrace) >> going >> !data_end
                                                                    >> (tok(Tok::Semi) | recover(push_decl)[decl]))
                                              >> -(tok(Tok::RBrace) | (data_end >> report_unclosed_data))]];

inline const auto decl_def =
    node[act(expect_name("a data name"), set_name) >> expect_tok(
             Tok::Colon, [](auto& v) { return fmt::format("expected ':' and a type after '{}'", v.name); },
             [](auto& v) { return fmt::format("a data item reads '{}: int' or '{}: real[N]'", v.name, v.name); })
         >> tok(Tok::Colon)
         >> act(type, [](State&, Match, ast::DataDecl& v, ast::TypeExpr& t) { v.type = std::move(t); })];

inline const auto model_block_def = node[word("model") >> act(framed("model block")[block], set_body)];
inline const auto guide_block_def = node[word("guide") >> act(framed("guide block")[block], set_body)];

// fn = 'fn' name '(' params ')' (block | '=' expr)
inline const auto fn_decl_def =
    node[word("fn") >> act(expect_name("a function name after 'fn'"), set_name) >> expect_tok(
             Tok::LParen, [](auto& v) { return fmt::format("expected '(' after the function name '{}'", v.name); },
             [](auto& v) { return fmt::format("a function reads 'fn {}(a, b) {{ … }}'", v.name); })
         >> tok(Tok::LParen)
         >> -(!tok(Tok::RParen) >> (act(expect_name_f([](ast::FnDecl& f) {
                                          return fmt::format("a parameter name in the definition of '{}'", f.name);
                                        }),
                                        [](State&, Match m, ast::FnDecl& v, x3::unused_type) {
                                          v.params.push_back({std::string(m.begin->text), m.begin->span});
                                        })
                                    % (tok(Tok::Comma) >> !tok(Tok::RParen)))
              >> -tok(Tok::Comma))
         >> expect_tok(
             Tok::RParen, [](auto& v) { return fmt::format("expected ')' to close the parameters of '{}'", v.name); },
             [](auto&) { return std::string(); })
         >> tok(Tok::RParen) >> (act(tok(Tok::Assign) >> expr,
                                     [](State&, Match, ast::FnDecl& v, ast::Expr& e) {
                                       Span span = e.span;
                                       v.body.push_back(ast::Stmt{ast::ReturnStmt{std::move(e)}, span});
                                     })
                                 | act(&tok(Tok::LBrace) >> framed([](State&, iterator_type, ast::FnDecl& v) {
                                     return fmt::format("body of '{}'", v.name);
                                   })[block],
                                       set_body)
                                 | check([](State& s, iterator_type it, ast::FnDecl& v) {
                                     s.expected(it, fmt::format("expected '{{' or '=' after 'fn {}(…)'", v.name),
                                                fmt::format("write 'fn {}(…) {{ … return e }}' or 'fn {}(…) = e'",
                                                            v.name, v.name));
                                   }))];

// item = fn | data | model | guide; anything else at the top level is an error
inline const auto item_def =
    act(fn_decl, wrap) | act(&(word("data") >> tok(Tok::LBrace)) >> data_block, wrap)
    | act(&(word("model") >> tok(Tok::LBrace)) >> model_block, wrap)
    | act(&(word("guide") >> tok(Tok::LBrace)) >> guide_block, wrap)
    | ((word("data") | word("model") | word("guide")) >> check([](State& s, iterator_type it, ast::Item&) {
         std::string_view w = (it - 1)->text;
         s.expected(it, fmt::format("expected '{{' after '{}'", w), fmt::format("a {} block reads '{} {{ … }}'", w, w));
       }))
    | (&tok(Tok::RBrace) >> check([](State& s, iterator_type it, ast::Item&) {
        s.fail(it, it->span, "unmatched '}'", "every '}' closes a '{' opened before it");
      }))
    | check([](State& s, iterator_type it, ast::Item&) {
        const Token& t = *it;
        Tok k = next(it)->kind;
        bool statement_like = t.kind == Tok::Word
                              && (k == Tok::Tilde || k == Tok::Assign || k == Tok::Colon || t.text == "let"
                                  || t.text == "observe" || t.text == "plate" || t.text == "for" || t.text == "param");
        s.fail(it, t.span,
               fmt::format("expected 'data', 'model', 'guide' or 'fn' at the top level, found {}", s.found(it)),
               statement_like ? "statements go inside a block: 'model { … }'" : "");
      });

struct item_class {};
struct data_class : span_hook {};
struct decl_class : span_hook {};
struct model_class : span_hook {};
struct guide_class : span_hook {};
struct fn_class : span_hook {};

BOOST_SPIRIT_DEFINE(item, data_block, decl, model_block, guide_block, fn_decl)

}  // namespace vireo::lang::parser::grammar
