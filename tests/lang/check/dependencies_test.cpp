// Static dependency edges on small programs: data flow through lets and
// functions, control dependencies of `if`, early returns and fn calls.
#include <boost/test/unit_test.hpp>

#include "front_end.hpp"
#include "lang/ir/print.hpp"

using vireo::test::compile_ok;
using vireo::test::edge;

BOOST_AUTO_TEST_CASE(flow_through_lets_and_arithmetic) {
  auto g = compile_ok(R"(
model {
  a ~ Normal(0, 1)
  b ~ Normal(0, 1)
  let c = exp(a) * 2
  let d = c + 1
  x ~ Normal(d, 1)
  y ~ Normal(b, 1)
}
)");
  BOOST_TEST_REQUIRE(edge(g, "a", "x"));
  BOOST_TEST(edge(g, "a", "x")->data_flow);
  BOOST_TEST(edge(g, "a", "x")->exact);
  BOOST_TEST(!edge(g, "a", "y"));
  BOOST_TEST(!edge(g, "b", "x"));
  BOOST_TEST(edge(g, "b", "y"));
}

BOOST_AUTO_TEST_CASE(if_on_a_sampled_value_is_a_control_edge) {
  auto g = compile_ok(R"(
model {
  c ~ Bernoulli(probs = 0.5)
  m ~ Normal(0, 1)
  if c == 1 {
    x ~ Normal(0, 1)
  } else {
    x ~ Normal(m, 1)
  }
  after ~ Normal(0, 1)
}
)");
  auto xs = g.find_sites(vireo::ir::BodyKind::Model, "x");
  BOOST_TEST_REQUIRE(xs.size() == 2u);
  auto c = vireo::test::site(g, "c");
  for (auto x : xs) {
    const auto* e = g.find_edge(c, x, vireo::ir::BodyKind::Model);
    BOOST_TEST_REQUIRE(e);
    BOOST_TEST(e->control);
    BOOST_TEST(!e->data_flow);
  }
  BOOST_TEST(g.find_edge(vireo::test::site(g, "m"), xs[1], vireo::ir::BodyKind::Model)->data_flow);
  BOOST_TEST(!g.find_edge(vireo::test::site(g, "m"), xs[0], vireo::ir::BodyKind::Model));
  BOOST_TEST(!edge(g, "c", "after"));
  // DOT: a control-only edge is dotted.
  BOOST_TEST(vireo::ir::to_dot(g).find("\"c\" -> \"x\" [style=dotted]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(function_arguments_and_returns) {
  auto g = compile_ok(R"(
fn shifted(center, width) {
  inner ~ Normal(center, width)
  return inner + 1
}
fn twice(v) = 2 * v
model {
  a ~ Normal(0, 1)
  b ~ HalfNormal(1)
  u ~ Normal(0, 1)
  let s = shifted(a, b)
  y ~ Normal(s, 1)
  z ~ Normal(twice(u), 1)
}
)");
  BOOST_TEST_REQUIRE(edge(g, "a", "inner"));
  BOOST_TEST(edge(g, "a", "inner")->data_flow);
  BOOST_TEST(edge(g, "b", "inner")->exact);
  BOOST_TEST_REQUIRE(edge(g, "inner", "y"));
  BOOST_TEST(edge(g, "inner", "y")->data_flow);
  BOOST_TEST(edge(g, "u", "z"));
  BOOST_TEST(!edge(g, "u", "y"));
  BOOST_TEST(!g.body(g.find_fn("shifted")).recursive);
}

BOOST_AUTO_TEST_CASE(site_in_fn_depends_on_every_argument_of_its_call) {
  auto g = compile_ok(R"(
fn noise(unused) {
  e ~ Normal(0, 1)
  return e
}
model {
  a ~ Normal(0, 1)
  let r = noise(a)
}
)");
  const auto* e = edge(g, "a", "e");
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(e->control);
  BOOST_TEST(!e->data_flow);
}

BOOST_AUTO_TEST_CASE(early_return_controls_the_rest) {
  auto g = compile_ok(R"(
fn f(p) {
  c ~ Bernoulli(probs = p)
  if c == 1 { return 0 }
  later ~ Normal(0, 1)
  return later
}
model {
  p ~ Beta(1, 1)
  let v = f(p)
}
)");
  const auto* e = edge(g, "c", "later");
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(e->control);
  BOOST_TEST(e->exact);
}

BOOST_AUTO_TEST_CASE(loop_carried_assignment_is_inexact) {
  auto g = compile_ok(R"(
model {
  let acc = 0.0
  for i in 0..3 {
    step ~ Normal(acc, 1)
    acc = acc + step
  }
  total ~ Normal(acc, 1)
}
)");
  const auto* carried = edge(g, "step", "step");
  BOOST_TEST_REQUIRE(carried);
  BOOST_TEST(!carried->exact);
  BOOST_TEST(edge(g, "step", "total")->exact);
}

BOOST_AUTO_TEST_CASE(plates_and_subsampling_in_the_ir) {
  auto g = compile_ok(R"(
data {
  N: int
  x: real[N]
}
model {
  mu ~ Normal(0, 1)
  plate data(N, subsample = 10) as idx {
    observe x[idx] ~ Normal(mu, 1)
  }
}
)");
  BOOST_TEST_REQUIRE(g.plates.size() == 1u);
  const auto& p = g.plates[0];
  BOOST_TEST(p.subsample != vireo::ir::no_expr);
  BOOST_TEST(p.index_slot != vireo::ir::none);
  BOOST_TEST(g.body(p.body).slot_names[p.index_slot] == "idx");
  std::string text = vireo::ir::to_text(g);
  BOOST_TEST(text.find("plate 0 data(N, subsample = 10) as idx in model") != std::string::npos, text);
  BOOST_TEST(text.find("site 1 observe x = x[idx] ~ Normal(mu, 1) in model plates data") != std::string::npos, text);
  BOOST_TEST(vireo::ir::to_dot(g).find("label=\"data (N, subsample 10)\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(slots_and_resolved_calls) {
  auto g = compile_ok(R"(
model {
  let a = 1
  for i in 0..2 {
    let a = 2
    b ~ Normal(a, 1)
  }
  c ~ Normal(a, 1)
}
)");
  const auto& m = g.body(g.model);
  // The outer and the inner `a` are different slots.
  BOOST_TEST(std::count(m.slot_names.begin(), m.slot_names.end(), "a") == 2);
  const auto& c = g.site(vireo::test::site(g, "c"));
  const auto& call = m.expr(c.dist_call);
  BOOST_TEST((call.op == vireo::ir::Op::CallBuiltin));
  BOOST_TEST(vireo::sig::get(call.ref).name == "Normal");
  const auto& loc = m.expr(m.operand(call, 0));
  BOOST_TEST((loc.op == vireo::ir::Op::Slot));
  BOOST_TEST(loc.ref == 0);  // the outer `a`, declared first
}

BOOST_AUTO_TEST_CASE(params_are_sources_only) {
  auto g = compile_ok(R"(
fn layer(v) {
  param w: real = 1
  return w * v
}
model {
  z ~ Normal(0, 1)
  x ~ Normal(layer(z), 1)
}
)");
  for (const auto& e : g.edges) BOOST_TEST((g.site(e.to).kind != vireo::ir::SiteKind::Param));
  BOOST_TEST(edge(g, "w", "x")->data_flow);
  BOOST_TEST(edge(g, "z", "x")->data_flow);
}
