// Golden AST dumps: precedence and associativity (LANGUAGE.md's operator
// table), every statement kind, types, items, and the spans the parser records.
#include <boost/test/unit_test.hpp>

#include "test_util.hpp"

using vireo::test::dump_or_errors;
using vireo::test::expr_dump;
namespace ast = vireo::lang::ast;

BOOST_AUTO_TEST_SUITE(precedence)

BOOST_AUTO_TEST_CASE(arithmetic) {
  BOOST_TEST(expr_dump("1 + 2 * 3") == "(+ 1 (* 2 3))");
  BOOST_TEST(expr_dump("1 - 2 - 3") == "(- (- 1 2) 3)");
  BOOST_TEST(expr_dump("a / b * c") == "(* (/ a b) c)");
  BOOST_TEST(expr_dump("X @ w + b") == "(+ (@ X w) b)");
  BOOST_TEST(expr_dump("(1 + 2) * 3") == "(* (+ 1 2) 3)");
}

BOOST_AUTO_TEST_CASE(power_and_unary_minus) {
  BOOST_TEST(expr_dump("-2^2") == "(neg (^ 2 2))");
  BOOST_TEST(expr_dump("2^3^2") == "(^ 2 (^ 3 2))");
  BOOST_TEST(expr_dump("2^-1") == "(^ 2 (neg 1))");
  BOOST_TEST(expr_dump("-a * b") == "(* (neg a) b)");
  BOOST_TEST(expr_dump("a * -b") == "(* a (neg b))");
  BOOST_TEST(expr_dump("- -a") == "(neg (neg a))");
  BOOST_TEST(expr_dump("x[i]^2") == "(^ (index x i) 2)");
}

BOOST_AUTO_TEST_CASE(logic_and_comparison) {
  BOOST_TEST(expr_dump("a or b and c") == "(or a (and b c))");
  BOOST_TEST(expr_dump("a and b or c") == "(or (and a b) c)");
  BOOST_TEST(expr_dump("a or b or c") == "(or (or a b) c)");
  BOOST_TEST(expr_dump("not a == b") == "(not (== a b))");
  BOOST_TEST(expr_dump("not a and b") == "(and (not a) b)");
  BOOST_TEST(expr_dump("a + 1 < b * 2") == "(< (+ a 1) (* b 2))");
  BOOST_TEST(expr_dump("a <= b and b != c") == "(and (<= a b) (!= b c))");
  BOOST_TEST(expr_dump("x >= 0 or not done") == "(or (>= x 0) (not done))");
}

BOOST_AUTO_TEST_CASE(literals_and_postfix) {
  BOOST_TEST(expr_dump("1e-3 + 1.5e+2 + 2.5") == "(+ (+ 1e-3 1.5e+2) 2.5)");
  BOOST_TEST(expr_dump("true and false") == "(and true false)");
  BOOST_TEST(expr_dump("[1, 2, 3]") == "[1 2 3]");
  BOOST_TEST(expr_dump("[]") == "[]");
  BOOST_TEST(expr_dump("x[:, 0:8]") == "(index x (: _ _) (: 0 8))");
  BOOST_TEST(expr_dump("x[a:, :b][i]") == "(index (index x (: a _) (: _ b)) i)");
  BOOST_TEST(expr_dump("phi[idx]") == "(index phi idx)");
  BOOST_TEST(expr_dump("x[a:b, :, i + 1]") == "(index x (: a b) (: _ _) (+ i 1))");
  BOOST_TEST(expr_dump("0..n").find("unexpected '..' after the expression") != std::string::npos);
  BOOST_TEST(expr_dump("Bernoulli(logits = X @ w + b)") == "(call Bernoulli logits=(+ (@ X w) b))");
  BOOST_TEST(expr_dump("f(in = 1, if = 2)") == "(call f in=1 if=2)");
  BOOST_TEST(expr_dump("Normal(loc, scale)") == "(call Normal loc scale)");
  BOOST_TEST(expr_dump("fill(1.0 / K, K)") == "(call fill (/ 1.0 K) K)");
  BOOST_TEST(expr_dump("f()") == "(call f)");
  BOOST_TEST(expr_dump("database + iffy") == "(+ database iffy)");
}

BOOST_AUTO_TEST_CASE(number_flags) {
  vireo::lang::SourceFile f("n.vireo", "3 + 2.5 + 1e3");
  vireo::lang::Diagnostics d;
  ast::Expr e = vireo::lang::parse_expression(f, d);
  const auto& outer = std::get<ast::Binary>(e.node);
  const auto& inner = std::get<ast::Binary>(outer.lhs->node);
  BOOST_TEST(std::get<ast::NumberLit>(inner.lhs->node).is_integer);
  BOOST_TEST(std::get<ast::NumberLit>(inner.lhs->node).value == 3.0);
  BOOST_TEST(!std::get<ast::NumberLit>(inner.rhs->node).is_integer);
  BOOST_TEST(!std::get<ast::NumberLit>(outer.rhs->node).is_integer);
  BOOST_TEST(std::get<ast::NumberLit>(outer.rhs->node).value == 1000.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(statements)

BOOST_AUTO_TEST_CASE(every_statement_kind) {
  const char* text = R"(
fn f(a, b) {
  let x = a; x = x + 1
  return x * b
}
fn g(a) = a ^ 2
model {
  mu ~ Normal(0, 5)
  w: real[D] ~ Normal(0, 1)
  deterministic theta = mu + 1
  param p: real<lower=0> = 1
  plate data(N) {
    observe y ~ Normal(theta, 1)
  }
  plate batch(N, subsample = 8) as idx {
    observe x[idx] ~ Normal(mu, 1)
  }
  for i in 0..n {
    observe flips[i] ~ Bernoulli(probs = p)
  }
  if flip == 1 { return depth } else if flip == 2 { return 0 } else { return 1 }
  scale 0.5 {
    z ~ Categorical(logits = phi) with baseline(beta = 0.9)
  }
  c ~ Bernoulli(probs = 0.5) with baseline(none)
}
)";
  const char* want = R"(fn f(a, b)
  let x = a
  assign x = (+ x 1)
  return (* x b)
fn g(a)
  return (^ a 2)
model
  sample mu ~ (call Normal 0 5)
  sample w : real[D] ~ (call Normal 0 1)
  deterministic theta = (+ mu 1)
  param p : real<lower=0> = 1
  plate data (N)
    observe y ~ (call Normal theta 1)
  plate batch (N) subsample=8 as idx
    observe (index x idx) ~ (call Normal mu 1)
  for i in 0 .. n
    observe (index flips i) ~ (call Bernoulli probs=p)
  if (== flip 1)
    return depth
  else
    if (== flip 2)
      return 0
    else
      return 1
  scale 0.5
    sample z ~ (call Categorical logits=phi) with (baseline beta=0.9)
  sample c ~ (call Bernoulli probs=0.5) with (baseline none)
)";
  BOOST_TEST(dump_or_errors(text) == want);
}

BOOST_AUTO_TEST_CASE(contextual_keywords) {
  // `data`, `model`, `guide`, `scale` are names except where their block or statement starts.
  const char* text = R"(model {
  scale ~ HalfNormal(1)
  data ~ Normal(0, scale)
  scale = scale * 2
  guide: real ~ Normal(0, 1)
  plate model(N) { let x = 1 }
  scale scale { let y = 2 }
})";
  const char* want = R"(model
  sample scale ~ (call HalfNormal 1)
  sample data ~ (call Normal 0 scale)
  assign scale = (* scale 2)
  sample guide : real ~ (call Normal 0 1)
  plate model (N)
    let x = 1
  scale scale
    let y = 2
)";
  BOOST_TEST(dump_or_errors(text) == want);
}

BOOST_AUTO_TEST_CASE(types_and_data) {
  const char* text = R"(data {
  J: int<lower=1>; y: real[J]
  sigma: real<lower=0>[J]
  flips: int<lower=0, upper=1>[n]
  X: real[N, D]
  a: real<upper=K, lower=(a + 1)>
  theta: simplex[K]
  ok: bool
})";
  const char* want = R"(data
  J : int<lower=1>
  y : real[J]
  sigma : real<lower=0>[J]
  flips : int<lower=0, upper=1>[n]
  X : real[N, D]
  a : real<lower=(+ a 1), upper=K>
  theta : simplex[K]
  ok : bool
)";
  BOOST_TEST(dump_or_errors(text) == want);
}

BOOST_AUTO_TEST_CASE(comments_and_separators) {
  BOOST_TEST(dump_or_errors("# only a comment\nmodel { a ~ N(1) ;; b ~ N(2) } # trailing\n") ==
             "model\n  sample a ~ (call N 1)\n  sample b ~ (call N 2)\n");
  BOOST_TEST(dump_or_errors("") == "");
}

BOOST_AUTO_TEST_CASE(spans_are_byte_offsets) {
  const std::string text = "model {\n  mu ~ Normal(0, 5 + x)\n}\n";
  vireo::lang::SourceFile file("s.vireo", text);
  vireo::lang::Diagnostics diags;
  ast::Program p = vireo::lang::parse(file, diags);
  BOOST_TEST_REQUIRE(p.items.size() == 1u);
  const auto& m = std::get<ast::ModelBlock>(p.items[0]);
  BOOST_TEST(m.span.begin == 0u);
  BOOST_TEST(m.span.end == text.size() - 1);
  const ast::Stmt& s = m.body.at(0);
  auto slice = [&](vireo::lang::Span sp) { return text.substr(sp.begin, sp.end - sp.begin); };
  BOOST_TEST(slice(s.span) == "mu ~ Normal(0, 5 + x)");
  const auto& sample = std::get<ast::SampleStmt>(s.node);
  BOOST_TEST(slice(sample.name_span) == "mu");
  BOOST_TEST(slice(sample.dist.span) == "Normal(0, 5 + x)");
  const auto& call = std::get<ast::Call>(sample.dist.node);
  BOOST_TEST(slice(call.callee_span) == "Normal");
  BOOST_TEST(slice(call.args[1].value->span) == "5 + x");
  BOOST_TEST(slice(std::get<ast::Binary>(call.args[1].value->node).op_span) == "+");
}

BOOST_AUTO_TEST_SUITE_END()
