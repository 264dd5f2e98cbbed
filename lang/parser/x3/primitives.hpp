// The X3 building blocks the grammar is written with. The input is the
// lexer's tokens, so the terminals match one token each:
//   tok(Tok::LParen)   one token of a kind          word("plate")  that word
//   name               a word that is not reserved  any_word       any word
//   tok_in(a, b, …)    a token of one of the kinds
// and the non-terminals are joined by these parsers and directives:
//   act(p, f)          a semantic action that sees the whole match: f(state,
//                      match, _val, attribute) — X3 1.74's _where holds the
//                      input after the match, not the match
//   when(f)            succeeds, consuming nothing, when f(state, it)
//   check(f)           calls f(state, it, _val), which may report or throw; succeeds
//   nest[p]            one level deeper; past State::max_depth, the
//                      "nesting deeper than 256 levels" error
//   framed(f)[p]       pushes a Frame (what is open, and where) around p
//   recover(push)[p]   a statement of a block: on a syntax error, skips to
//                      the next statement instead of failing the block
// Every rule either matches, fails without consuming (when its first token
// does not fit), or reports and throws syntax_error: there is no backtracking
// over a reported error.
#pragma once
#include <algorithm>
#include <type_traits>

#include "lang/parser/x3/config.hpp"
#include "lang/parser/x3/state.hpp"

namespace vireo::lang::parser::grammar {

// ---- terminals --------------------------------------------------------------

template <class Pred>
struct token_parser : x3::parser<token_parser<Pred>> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  constexpr explicit token_parser(Pred p) : pred(p) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx&, RCtx&, Attr&) const {
    if (first == last || !pred(*first)) return false;  // `last` is the End token
    ++first;
    return true;
  }
  Pred pred;
};

template <class Pred>
constexpr auto token_if(Pred p) {
  return token_parser<Pred>(p);
}

constexpr auto tok(Tok k) {
  return token_if([k](const Token& t) { return t.kind == k; });
}

template <class... Kinds>
constexpr auto tok_in(Kinds... ks) {
  return token_if([=](const Token& t) { return ((t.kind == ks) || ...); });
}

// A whole word: the lexer has already cut words at their ends, so `iffy`
// never matches word("if").
inline auto word(const char* w) {
  return token_if([w](const Token& t) { return t.kind == Tok::Word && t.text == w; });
}

inline const auto any_word = token_if([](const Token& t) { return t.kind == Tok::Word; });
inline const auto reserved = token_if([](const Token& t) { return t.kind == Tok::Word && is_reserved(t.text); });
// `!keywords >> identifier`: a name is a word that is not reserved.
inline const auto name = !reserved >> any_word;

// ---- actions and checks -----------------------------------------------------

// The tokens a parser matched.
struct Match {
  iterator_type begin, end;
  // From the first character of the first token to the last of the last.
  Span span() const {
    if (begin == end) return {begin->span.begin, begin->span.begin};
    return {begin->span.begin, std::max(begin->span.begin, (end - 1)->span.end)};
  }
};

template <class Subject, class F>
struct act_parser : x3::unary_parser<Subject, act_parser<Subject, F>> {
  using base_type = x3::unary_parser<Subject, act_parser<Subject, F>>;
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  static bool const has_action = true;
  constexpr act_parser(const Subject& s, F f) : base_type(s), f(f) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx& val, Attr&) const {
    using sub_attribute = typename x3::traits::attribute_of<Subject, Ctx>::type;
    sub_attribute a{};
    It i = first;
    if (!this->subject.parse(i, last, ctx, val, a)) return false;
    f(state(ctx), Match{first, i}, val, a);
    first = i;
    return true;
  }
  F f;
};

template <class P, class F>
constexpr auto act(const P& p, F f) {
  using subject = typename x3::extension::as_parser<P>::value_type;
  return act_parser<subject, F>(x3::as_parser(p), f);
}

template <class F>
struct when_parser : x3::parser<when_parser<F>> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  constexpr explicit when_parser(F f) : f(f) {}
  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It&, const Ctx& ctx, RCtx&, Attr&) const {
    return f(state(ctx), first);
  }
  F f;
};

template <class F>
constexpr auto when(F f) {
  return when_parser<F>(f);
}

template <class F>
struct check_parser : x3::parser<check_parser<F>> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  static bool const has_action = true;
  constexpr explicit check_parser(F f) : f(f) {}
  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It&, const Ctx& ctx, RCtx& val, Attr&) const {
    f(state(ctx), first, val);
    return true;
  }
  F f;
};

template <class F>
constexpr auto check(F f) {
  return check_parser<F>(f);
}

// Not at the nesting limit or the error cap.
inline const auto going = when([](State& s, iterator_type) { return !s.stopped(); });

// ---- directives -------------------------------------------------------------

template <class Subject>
struct nest_directive : x3::unary_parser<Subject, nest_directive<Subject>> {
  using base_type = x3::unary_parser<Subject, nest_directive<Subject>>;
  static bool const is_pass_through_unary = true;
  constexpr explicit nest_directive(const Subject& s) : base_type(s) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx& val, Attr& attr) const {
    State& s = state(ctx);
    s.enter(first);
    struct Leave {
      State& s;
      ~Leave() { s.leave(); }
    } leave{s};
    return this->subject.parse(first, last, ctx, val, attr);
  }
};

struct nest_gen {
  template <class P>
  constexpr auto operator[](const P& p) const {
    using subject = typename x3::extension::as_parser<P>::value_type;
    return nest_directive<subject>(x3::as_parser(p));
  }
};
inline constexpr nest_gen nest{};

template <class Subject, class Describe>
struct framed_directive : x3::unary_parser<Subject, framed_directive<Subject, Describe>> {
  using base_type = x3::unary_parser<Subject, framed_directive<Subject, Describe>>;
  static bool const is_pass_through_unary = true;
  constexpr framed_directive(const Subject& s, Describe d) : base_type(s), describe(d) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx& val, Attr& attr) const {
    State& s = state(ctx);
    s.frames.push_back({describe(s, first, val), first});
    struct Pop {
      State& s;
      ~Pop() { s.frames.pop_back(); }
    } pop{s};
    return this->subject.parse(first, last, ctx, val, attr);
  }
  Describe describe;
};

template <class Describe>
struct framed_gen {
  Describe describe;
  template <class P>
  constexpr auto operator[](const P& p) const {
    using subject = typename x3::extension::as_parser<P>::value_type;
    return framed_directive<subject, Describe>(x3::as_parser(p), describe);
  }
};

// framed(f): f(state, open, _val) says what is open.
template <class Describe>
constexpr auto framed(Describe d) {
  return framed_gen<Describe>{d};
}
inline auto framed(const char* what) {
  return framed([what](State&, iterator_type, auto&) { return std::string(what); });
}

template <class Subject, class Push>
struct recover_directive : x3::unary_parser<Subject, recover_directive<Subject, Push>> {
  using base_type = x3::unary_parser<Subject, recover_directive<Subject, Push>>;
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  static bool const has_action = true;
  constexpr recover_directive(const Subject& s, Push p) : base_type(s), push(p) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx& val, Attr&) const {
    using sub_attribute = typename x3::traits::attribute_of<Subject, Ctx>::type;
    It i = first;
    try {
      sub_attribute a{};
      if (!this->subject.parse(i, last, ctx, x3::unused, a)) return false;
      push(val, std::move(a));
    } catch (const syntax_error& e) {
      State& s = state(ctx);
      if (s.stopped()) throw;
      i = s.sync_statement(e.where(), first);
      if (i == first && i->kind != Tok::RBrace) i = next(i);
    }
    first = i;
    return true;
  }
  Push push;
};

template <class Push>
struct recover_gen {
  Push push;
  template <class P>
  constexpr auto operator[](const P& p) const {
    using subject = typename x3::extension::as_parser<P>::value_type;
    return recover_directive<subject, Push>(x3::as_parser(p), push);
  }
};

// recover(push)[p]: push(_val, attribute) keeps what p parsed.
template <class Push>
constexpr auto recover(Push p) {
  return recover_gen<Push>{p};
}

// ---- rules ------------------------------------------------------------------

// node[p]: the definition of a rule that builds its node in actions. X3
// passes such a definition no attribute, so its on_success hook would see
// none; node[] hands the rule's attribute on as the actions' _val instead,
// and the hook sees the finished node.
template <class Subject>
struct node_directive : x3::unary_parser<Subject, node_directive<Subject>> {
  using base_type = x3::unary_parser<Subject, node_directive<Subject>>;
  static bool const has_action = false;
  constexpr explicit node_directive(const Subject& s) : base_type(s) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr& attr) const {
    static_assert(!std::is_same_v<Attr, x3::unused_type>, "node[] needs the rule's attribute");
    return this->subject.parse(first, last, ctx, attr, x3::unused);
  }
};

struct node_gen {
  template <class P>
  constexpr auto operator[](const P& p) const {
    using subject = typename x3::extension::as_parser<P>::value_type;
    return node_directive<subject>(x3::as_parser(p));
  }
};
inline constexpr node_gen node{};

// The on_success hook of every rule: its node's Span is the text of the
// tokens it matched, as byte offsets.
struct span_hook {
  template <class It, class Attr, class Ctx>
  void on_success(const It& first, const It& last, Attr& attr, const Ctx&) const {
    if constexpr (requires { attr.span = Span{}; }) attr.span = Match{first, last}.span();
  }
};

}  // namespace vireo::lang::parser::grammar
