// The effect handlers, alone and composed, and the interpreter's site
// naming, plates and recursion limit, observed through traces.
#include <boost/test/unit_test.hpp>

#include "runtime/handlers/block.hpp"
#include "runtime/handlers/condition.hpp"
#include "runtime/handlers/mask.hpp"
#include "runtime/handlers/replay.hpp"
#include "runtime/handlers/scale.hpp"
#include "runtime/handlers/seed.hpp"
#include "runtime/handlers/substitute.hpp"
#include "runtime/interp/interpreter.hpp"
#include "support/fit.hpp"

using namespace vireo;
using handlers::HandlerStack;
using handlers::Trace;
using handlers::TraceHandler;

namespace {

const char* kModel = R"(data { N: int  y: real[N] }
model {
  param s: real<lower=0> = 1.5
  mu ~ Normal(0, 10)
  plate data(N) { observe y ~ Normal(mu, s) }
})";

test::Fit make_fit(const char* text = kModel) {
  return test::Fit(text, test::dataset({{ad::Tensor(4.0), interp::Kind::Int},
                                        {ad::Tensor::vector({1.0, 2.0, 3.0, 4.0}), interp::Kind::Real}}));
}

// Runs the model once under `extra` handlers (outermost first) and a trace outside them all.
Trace run(test::Fit& fit, std::vector<handlers::Handler*> extra = {}) {
  fit.ctx->begin_step();
  Trace t;
  TraceHandler th(t);
  HandlerStack& hs = fit.ctx->handlers();
  hs.push(&th);
  for (auto* h : extra) hs.push(h);
  interp::Interpreter(*fit.ctx).run(fit.graph.model);
  for (std::size_t i = 0; i < extra.size() + 1; ++i) hs.pop();
  t.compute_log_probs();
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(trace_records_every_site_with_frames_and_log_prob) {
  auto fit = make_fit();
  Trace t = run(fit);
  BOOST_REQUIRE(t.find("mu") && t.find("y") && t.find("s"));
  BOOST_TEST(!t.find("mu")->msg.is_observed);
  BOOST_TEST(t.find("mu")->msg.reparameterized);
  BOOST_TEST(t.find("y")->msg.is_observed);
  BOOST_REQUIRE(t.find("y")->msg.frames.size() == 1u);
  BOOST_TEST(t.find("y")->msg.frames[0].name == "data");
  BOOST_TEST(t.find("y")->log_prob.numel() == 4);  // one per plate element
  BOOST_TEST(t.find("s")->msg.value.var.item() == 1.5, boost::test_tools::tolerance(1e-12));
  // log N(y | mu, 1.5) summed, computed by hand.
  double mu = t.find("mu")->msg.value.var.item(), want = 0;
  for (double y : {1.0, 2.0, 3.0, 4.0}) want += -0.5 * std::pow((y - mu) / 1.5, 2) - std::log(1.5) - 0.5 * std::log(2 * M_PI);
  BOOST_TEST(ad::sum(t.find("y")->log_prob).item() == want, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(condition_makes_a_latent_site_observed) {
  auto fit = make_fit();
  handlers::ConditionHandler cond(fit.ctx->tape(), {{"mu", ad::Tensor(2.5)}});
  // The tape is cleared by begin_step inside run, so the condition handler makes its constant per message.
  Trace t = run(fit, {&cond});
  BOOST_TEST(t.find("mu")->msg.is_observed);
  BOOST_TEST(t.find("mu")->msg.value.var.item() == 2.5);
}

BOOST_AUTO_TEST_CASE(block_hides_sites_from_outer_handlers) {
  auto fit = make_fit();
  handlers::BlockHandler all;
  BOOST_TEST(run(fit, {&all}).size() == 0u);
  handlers::BlockHandler only_mu([](const handlers::Message& m) { return m.name == "mu"; });
  Trace t = run(fit, {&only_mu});
  BOOST_TEST(!t.find("mu"));
  BOOST_TEST(t.find("y"));
}

BOOST_AUTO_TEST_CASE(scale_and_mask_change_the_weighted_log_density) {
  auto fit = make_fit();
  handlers::SeedHandler seed1(7), seed2(7), seed3(7);
  Trace plain = run(fit, {&seed1});
  double base = plain.log_prob_sum(fit.ctx->tape()).item();
  handlers::ScaleHandler half(0.5);
  Trace scaled = run(fit, {&seed2, &half});
  BOOST_TEST(scaled.log_prob_sum(fit.ctx->tape()).item() == 0.5 * base, boost::test_tools::tolerance(1e-12));
  handlers::MaskHandler off(false);
  Trace masked = run(fit, {&seed3, &off});
  BOOST_TEST(masked.log_prob_sum(fit.ctx->tape()).item() == 0.0);
}

BOOST_AUTO_TEST_CASE(seed_makes_draws_reproducible) {
  auto fit = make_fit();
  handlers::SeedHandler a(42), b(42);
  double x = run(fit, {&a}).find("mu")->msg.value.var.item();
  double y = run(fit, {&b}).find("mu")->msg.value.var.item();
  double z = run(fit).find("mu")->msg.value.var.item();
  BOOST_TEST(x == y);
  BOOST_TEST(x != z);
}

BOOST_AUTO_TEST_CASE(substitute_replaces_a_param_and_replay_reuses_values) {
  auto fit = make_fit();
  handlers::SubstituteHandler sub(fit.ctx->tape(), {{"s", ad::Tensor(0.25)}});
  Trace t = run(fit, {&sub});
  BOOST_TEST(t.find("s")->msg.value.var.item() == 0.25);
  double mu = t.find("mu")->msg.value.var.item();
  // Replay the recorded mu into a fresh run (values are copied out of the old tape first).
  Trace first = run(fit);
  double mu1 = first.find("mu")->msg.value.var.item();
  fit.ctx->begin_step();
  Trace recorded;
  {
    handlers::TraceHandler th(recorded);
    HandlerStack::Scoped s(fit.ctx->handlers(), th);
    interp::Interpreter(*fit.ctx).run(fit.graph.model);
  }
  Trace replayed;
  {
    handlers::TraceHandler th(replayed);
    handlers::ReplayHandler rp(recorded);
    HandlerStack::Scoped s1(fit.ctx->handlers(), th);
    HandlerStack::Scoped s2(fit.ctx->handlers(), rp);
    interp::Interpreter(*fit.ctx).run(fit.graph.model);
  }
  BOOST_TEST(replayed.find("mu")->msg.value.var.item() == recorded.find("mu")->msg.value.var.item());
  BOOST_TEST(mu != mu1);  // independent draws differ
}

BOOST_AUTO_TEST_CASE(language_scale_block_and_subsampled_plate) {
  auto fit = make_fit(R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  scale 0.25 { plate data(N, subsample = 2) as idx { observe y[idx] ~ Normal(mu, 1) } }
})");
  Trace t = run(fit);
  const auto& y = *t.find("y");
  BOOST_TEST(y.msg.scale == 0.25 * 4.0 / 2.0);  // the block's weight times size / subsample
  BOOST_TEST(y.log_prob.numel() == 2);
  const auto* idx = t.find("data");
  BOOST_REQUIRE(idx);
  BOOST_TEST(idx->msg.value.var.numel() == 2);
  BOOST_TEST(idx->msg.value.var.data()[0] != idx->msg.value.var.data()[1]);
}

BOOST_AUTO_TEST_CASE(site_names_for_loops_and_repeats) {
  auto fit = make_fit(R"(fn f(a) { u ~ Normal(a, 1)  return u }
data { N: int  y: real[N] }
model {
  let x = 0.0
  for t in 0..3 { x ~ Normal(x, 1) }
  let a = f(0)
  let b = f(1)
})");
  Trace t = run(fit);
  for (const char* n : {"x[0]", "x[1]", "x[2]", "u", "u#1"}) BOOST_TEST(t.find(n), "missing site " << n);
}

BOOST_AUTO_TEST_CASE(recursion_limit_is_a_clear_error) {
  auto fit = make_fit(R"(fn down(n) { return down(n + 1) }
data { N: int  y: real[N] }
model { let z = down(0)  mu ~ Normal(z, 1) })");
  try {
    run(fit);
    BOOST_FAIL("no error");
  } catch (const interp::RunError& e) {
    BOOST_TEST(std::string(e.what()).find("recursion deeper than") != std::string::npos);
  }
}

// A statement in a loop is named by its loop indices and counted by them:
// the interpreter counts the increasing run of a loop's indices without a
// lookup and switches to a map once they come out of order (a fn with a loop
// called again, a loop inside a loop). Every order must give the names the
// language fixes (LANGUAGE.md: `[i]` per loop, `#k` on the k-th repeat), in
// program order.
BOOST_AUTO_TEST_CASE(loop_site_names_when_indices_repeat_out_of_order) {
  auto fit = make_fit(R"(fn g(n) {
  let s = 0.0
  for k in 0..n { v ~ Normal(0, 1)  s = s + v }
  return s
}
data { N: int  y: real[N] }
model {
  let a = g(3)
  let b = g(2)
  let c = g(4)
  for t in 0..2 {
    let q = g(1)
    for k in 0..2 { w ~ Normal(q, 1) }
  }
  for t in 1..3 { for k in 0..t { z ~ Normal(0, 1) } }
})");
  // Twice: the counts kept between runs start afresh.
  for (int run_no = 0; run_no < 2; ++run_no) {
    Trace t = run(fit);
    std::vector<std::string> names;
    for (const auto& s : t.sites()) names.push_back(s.msg.name);
    const std::vector<std::string> want = {"v[0]",    "v[1]",    "v[2]",    "v[0]#1",  "v[1]#1", "v[0]#2",
                                           "v[1]#2",  "v[2]#1",  "v[3]",    "v[0]#3",  "w[0][0]", "w[0][1]",
                                           "v[0]#4",  "w[1][0]", "w[1][1]", "z[1][0]", "z[2][0]", "z[2][1]"};
    BOOST_TEST(names == want, boost::test_tools::per_element());
    // The loop indices travel with the message, outermost first.
    BOOST_TEST(t.find("w[1][0]")->msg.loop_index == (std::vector<std::int64_t>{1, 0}), boost::test_tools::per_element());
    BOOST_TEST(t.find("v[2]#1")->msg.loop_index == (std::vector<std::int64_t>{2}), boost::test_tools::per_element());
  }
}

// Subscripts and bounds made of integer arithmetic on loop variables and
// numbers (`y[t - 1]`) are computed without the tape; what they select, and
// the errors at their place, are those of the tape's arithmetic.
BOOST_AUTO_TEST_CASE(index_arithmetic_in_loops_selects_and_fails_at_the_subscript) {
  auto fit = make_fit(R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 1)
  for t in 1..N - 1 {
    deterministic d = y[t - 1] + 10 * y[2 * t - t + 1] + 100 * y[-t]
  }
})");
  Trace t = run(fit);
  // y = 1, 2, 3, 4: d[t] = y[t-1] + 10 y[t+1] + 100 y[N-t].
  BOOST_TEST(t.find("d[1]")->msg.value.var.item() == 1 + 10 * 3 + 100 * 4);
  BOOST_TEST(t.find("d[2]")->msg.value.var.item() == 2 + 10 * 4 + 100 * 3);
  BOOST_TEST(!t.find("d[3]"));

  const auto error_at = [](const char* text, const std::string& message, const std::string& place) {
    auto f = make_fit(text);
    try {
      run(f);
      BOOST_FAIL("no error");
    } catch (const interp::RunError& e) {
      BOOST_TEST(std::string(e.what()) == message);
      const std::string& src = f.source.text();
      BOOST_TEST(src.substr(e.span().begin, e.span().end - e.span().begin) == place);
    }
  };
  error_at(R"(data { N: int  y: real[N] }
model { for t in 0..N { observe y[t + 1] ~ Normal(0, 1) } })",
           "index 4 is out of range for dimension 0 of size 4", "t + 1");
  error_at(R"(data { N: int  y: real[N] }
model { for t in 0..N { observe y[t - 5 + 0 * t] ~ Normal(0, 1) } })",
           "index -5 is out of range for dimension 0 of size 4", "t - 5 + 0 * t");
  error_at(R"(data { N: int  y: real[N] }
model { for t in 0..N { for k in t..2 { observe y[k:t] ~ Normal(0, 1) } } })",
           "slice 1:0 is outside 0:4 (dimension 0 of shape [4])", "k:t");
}

// x[i] on a value with a gradient is one node now (ad::index): the gradient
// reaching each element is the same as through slice + reshape.
BOOST_AUTO_TEST_CASE(gradient_through_loop_subscripts) {
  auto fit = make_fit(R"(data { N: int  y: real[N] }
model {
  param w: real[4] = 0.5
  for t in 0..N { observe y[t] ~ Normal(w[t] + 2 * w[N - 1 - t], 1) }
})");
  Trace t = run(fit);
  ad::Tape& tape = fit.ctx->tape();
  tape.backward(t.log_prob_sum(tape));
  const ad::Tensor g = fit.ctx->param_leaf("w").grad();
  // d/dw_k Σ_t -(y_t - w_t - 2 w_{3-t})² / 2 = r_k + 2 r_{3-k}, r_t = y_t - 1.5.
  for (int k = 0; k < 4; ++k) BOOST_TEST(g[k] == (k + 1 - 1.5) + 2 * (4 - k - 1.5));
}

// `A @ w + b` (either order) is one tape node (ad::matmul_add), not the
// product and the sum: one node fewer than the same sum written in two
// steps, with the same log density and gradient.
BOOST_AUTO_TEST_CASE(an_affine_mean_is_one_tape_node) {
  const std::string head = "data { N: int  y: real[N] }\nmodel {\n  param A: real[4, 2] = 0.5\n"
                           "  param w: real[2] = 0.25\n  param b: real = 1\n";
  struct Run {
    std::size_t nodes;
    double log_density;
    ad::Tensor grad_a;
  };
  auto run_model = [&](const std::string& body) {
    const std::string text = head + body + "}\n";
    auto fit = make_fit(text.c_str());
    Trace t = run(fit);
    ad::Tape& tape = fit.ctx->tape();
    const ad::Var lp = t.log_prob_sum(tape);
    const std::size_t nodes = tape.num_nodes();
    tape.backward(lp);
    return Run{nodes, lp.item(), fit.ctx->param_leaf("A").grad()};
  };
  const Run two = run_model("  let z = A @ w\n  plate data(N) { observe y ~ Normal(z + b, 1) }\n");
  for (const std::string spelling : {"A @ w + b", "b + A @ w"}) {
    BOOST_TEST_CONTEXT(spelling) {
      const Run one = run_model("  plate data(N) { observe y ~ Normal(" + spelling + ", 1) }\n");
      BOOST_TEST(one.nodes + 1 == two.nodes);
      BOOST_TEST(one.log_density == two.log_density);
      for (std::int64_t i = 0; i < 8; ++i) BOOST_TEST(one.grad_a[i] == two.grad_a[i]);
    }
  }
}

// A step has one leaf per parameter, found by name or by the entry's index;
// the leaves' names and entries are this step's even when the store was cut
// back and refilled (a refused step), or replaced, since the last one.
BOOST_AUTO_TEST_CASE(a_parameter_has_one_leaf_per_step) {
  auto fit = make_fit();
  auto add = [&](const std::string& name, double v) {
    params::Entry e;
    e.name = name;
    e.constraint = "real";
    e.unconstrained = Eigen::ArrayXd::Constant(1, v);
    fit.store.add(std::move(e));
  };
  add("a", 1.0);
  add("b", 2.0);
  interp::Context& ctx = *fit.ctx;
  auto names = [&] {
    std::vector<std::string> out;
    for (std::size_t k = 0; k < ctx.param_leaves().size(); ++k)
      out.push_back((ctx.param_leaves().begin() + k)->first + "@" + std::to_string(ctx.param_leaf_entry(k)));
    return out;
  };
  ctx.begin_step();
  const ad::Var b = ctx.param_leaf_at(1);
  BOOST_TEST(ctx.find_param_leaf("b").index() == b.index());
  BOOST_TEST(ctx.param_leaf("a").item() == 1.0);
  BOOST_TEST(ctx.param_leaf_at(0).index() == ctx.param_leaf("a").index());
  BOOST_TEST(!ctx.find_param_leaf("c").valid());
  BOOST_TEST(names() == (std::vector<std::string>{"b@1", "a@0"}), boost::test_tools::per_element());
  // Cut back and refilled within the step: entry 1 is another parameter now.
  fit.store.truncate(1);
  add("c", 3.0);
  const ad::Var c = ctx.param_leaf_at(1);
  BOOST_TEST(c.index() != b.index());
  BOOST_TEST(c.item() == 3.0);
  BOOST_TEST(names() == (std::vector<std::string>{"b@1", "a@0", "c@1"}), boost::test_tools::per_element());
  // The next step reuses the slots: the names are the new step's.
  ctx.begin_step();
  BOOST_TEST(ctx.param_leaf_at(1).item() == 3.0);
  BOOST_TEST(ctx.param_leaf_at(0).item() == 1.0);
  BOOST_TEST(names() == (std::vector<std::string>{"c@1", "a@0"}), boost::test_tools::per_element());
  // A store replaced between steps: its own entries.
  fit.store = params::ParamStore{};
  add("d", 4.0);
  ctx.begin_step();
  BOOST_TEST(ctx.param_leaf("d").item() == 4.0);
  BOOST_TEST(names() == (std::vector<std::string>{"d@0"}), boost::test_tools::per_element());
}
