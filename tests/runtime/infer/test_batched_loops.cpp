// Loops run as one batch (lang/ir/batch_loops.cpp, Interpreter::
// exec_batched_for): which loops qualify, and that an SVI step's ELBO and
// gradient are those of the loop run one iteration at a time — the same
// numbers up to the order of a sum — including negative subscripts, rows of
// matrices, event-shaped observations, lets, `@`, factors and plain arrays
// broadcast against the iterations. A failing element is named as the
// iteration's own site. Loops with latent sites, and the state they carry
// (the random walk), run as a batch when auto_normal's plan draws them as
// one: from the same random draws, with the same numbers.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "runtime/infer/meanfield_elbo.hpp"
#include "runtime/interp/interpreter.hpp"
#include "support/fit.hpp"

using namespace vireo;

namespace {

// The `batchable` flags of the model's `for` statements, in source order
// (nested ones too, inside plates, ifs and loops).
std::vector<bool> batchable(const std::string& text) {
  lang::SourceFile source("test.vireo", text);
  lang::Diagnostics diags;
  auto g = ir::compile(source, diags);
  if (!g) throw std::runtime_error(diags.render(source));
  std::vector<bool> out;
  std::function<void(const std::vector<ir::Stmt>&)> walk = [&](const std::vector<ir::Stmt>& stmts) {
    for (const auto& s : stmts) {
      if (s.kind == ir::StmtKind::For) out.push_back(s.batchable);
      walk(s.body);
      walk(s.else_body);
    }
  };
  walk(g->body(g->model).stmts);
  return out;
}

const char* const series_data = "data { T: int  y: real[T]  w: real[T] }\n";

ad::Tensor vec(std::vector<double> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return ad::Tensor(ad::Shape{n}, std::move(v));
}

// One SVI loss on a fresh fit of `text` with the model's loops batched or
// not: the ELBO and the gradient of every parameter, in leaf order.
struct Estimate {
  double elbo = 0;
  std::vector<std::pair<std::string, std::vector<double>>> grads;
};

// `steps` SVI losses of `elbo` on `fit` with the model's loops batched or
// not, inside a step (Context::stepping, which the guide's plan needs) or
// not; the last one's ELBO and gradients.
Estimate losses(test::Fit& fit, infer::Elbo& elbo, int steps, bool batched, bool stepping) {
  Estimate out;
  for (int step = 0; step < steps; ++step) {
    fit.ctx->begin_step();
    fit.ctx->set_batch_loops(batched);
    fit.ctx->set_stepping(stepping);
    auto est = elbo.loss(*fit.ctx, *fit.guide);
    fit.ctx->set_batch_loops(false);
    fit.ctx->set_stepping(false);
    fit.ctx->tape().backward(est.loss);
    out.elbo = est.elbo;
    out.grads.clear();
    for (const auto& [name, leaf] : fit.ctx->param_leaves()) {
      const ad::Tensor g = fit.ctx->tape().grad(leaf);
      out.grads.emplace_back(name, std::vector<double>(g.data(), g.data() + g.numel()));
    }
  }
  return out;
}

std::unique_ptr<infer::Elbo> make_elbo(bool meanfield, int particles) {
  if (meanfield) return std::make_unique<infer::TraceMeanFieldElbo>(particles);
  return std::make_unique<infer::TraceElbo>(particles);
}

Estimate estimate(const std::string& text, const interp::DataSet& data, bool batched, bool meanfield = false) {
  test::Fit fit(text, data, 11);
  fit.setup("auto_normal");
  return losses(fit, *make_elbo(meanfield, 2), 2, batched, true);
}

// The batched estimate is the one-by-one loop's up to the order of a sum.
void same_numbers(const Estimate& plain, const Estimate& batch) {
  BOOST_TEST(std::isfinite(plain.elbo));
  BOOST_TEST(std::abs(batch.elbo - plain.elbo) <= 1e-12 * (1 + std::abs(plain.elbo)));
  BOOST_REQUIRE_EQUAL(batch.grads.size(), plain.grads.size());
  BOOST_REQUIRE(!plain.grads.empty());
  for (std::size_t i = 0; i < plain.grads.size(); ++i) {
    BOOST_TEST(batch.grads[i].first == plain.grads[i].first);
    BOOST_REQUIRE_EQUAL(batch.grads[i].second.size(), plain.grads[i].second.size());
    for (std::size_t j = 0; j < plain.grads[i].second.size(); ++j) {
      const double a = batch.grads[i].second[j], b = plain.grads[i].second[j];
      BOOST_TEST(std::abs(a - b) <= 1e-11 * (1 + std::abs(b)), plain.grads[i].first << "[" << j << "]: " << a << " vs " << b);
    }
  }
}

// The site names of one run of the model from its prior, loops batched or not.
std::vector<std::string> model_sites(const std::string& text, const interp::DataSet& data, bool batched) {
  test::Fit fit(text, data, 5);
  fit.ctx->begin_step();
  fit.ctx->set_batch_loops(batched);
  handlers::Trace trace;
  handlers::TraceHandler h(trace);
  handlers::HandlerStack::Scoped scope(fit.ctx->handlers(), h);
  interp::Interpreter(*fit.ctx).run(fit.graph.model);
  std::vector<std::string> names;
  for (const auto& site : trace.sites()) names.push_back(site.msg.name);
  return names;
}

void same_estimates(const std::string& text, const interp::DataSet& data) {
  // The batch is really taken: one site for the loop's statement, not one per iteration.
  const std::vector<std::string> plain = model_sites(text, data, false), batch = model_sites(text, data, true);
  BOOST_TEST(batch.size() < plain.size());
  BOOST_TEST(std::any_of(batch.begin(), batch.end(), [](const std::string& n) { return n.find("..") != std::string::npos; }));
  for (bool meanfield : {false, true}) {
    BOOST_TEST_CONTEXT((meanfield ? "meanfield" : "trace")) {
      same_numbers(estimate(text, data, false, meanfield), estimate(text, data, true, meanfield));
    }
  }
}

// Latent loops run as one batch only on the guide's plan, which SVI steps
// make (interp::Context::stepping): four steps' losses (the last two
// planned) with the loops batched or not, and the last one's ELBO and
// gradients; `batched_sites`: the batched latent sites of a fifth step's
// traces, the guide's then the model's.
Estimate stepped(const std::string& text, const interp::DataSet& data, bool batched, bool meanfield, bool stl,
                 std::vector<std::string>* batched_sites = nullptr) {
  test::Fit fit(text, data, 11);
  fit.setup("auto_normal");
  fit.guide->set_sticking_the_landing(stl);
  const Estimate out = losses(fit, *make_elbo(meanfield, 1), 4, batched, true);
  if (batched_sites) {
    fit.ctx->begin_step();
    fit.ctx->set_batch_loops(batched);
    fit.ctx->set_stepping(true);
    infer::ParticleTraces t;
    infer::run_particle(*fit.ctx, *fit.guide, t);
    fit.ctx->set_batch_loops(false);
    fit.ctx->set_stepping(false);
    for (const auto* trace : {&t.guide, &t.model})
      for (const auto& site : trace->sites())
        if (site.msg.batch_first >= 0 && site.msg.type == handlers::MsgType::Sample && !site.msg.is_observed)
          batched_sites->push_back(site.msg.name);
  }
  return out;
}

void same_latent_estimates(const std::string& text, const interp::DataSet& data,
                           const std::vector<std::string>& expected_batches) {
  std::vector<std::string> sites;
  stepped(text, data, true, false, false, &sites);
  BOOST_TEST(sites == expected_batches, boost::test_tools::per_element());
  for (int variant = 0; variant < 3; ++variant) {
    const bool meanfield = variant == 1, stl = variant == 2;
    BOOST_TEST_CONTEXT((meanfield ? "meanfield" : stl ? "trace, sticking the landing" : "trace")) {
      same_numbers(stepped(text, data, false, meanfield, stl), stepped(text, data, true, meanfield, stl));
    }
  }
}

interp::DataSet series(int T) {
  std::vector<double> y, w;
  double prev = 0.3;
  for (int t = 0; t < T; ++t) {
    prev = 0.6 * prev + std::sin(1.7 * t);
    y.push_back(prev);
    w.push_back(0.5 + 0.25 * std::cos(t));
  }
  return test::dataset({{ad::Tensor(static_cast<double>(T)), interp::Kind::Int},
                        {vec(y), interp::Kind::Real},
                        {vec(w), interp::Kind::Real}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(which_loops_run_as_a_batch) {
  const std::string d = series_data;
  // The AR(1) as Stan users write it, a let, `@`, elementwise functions, a factor.
  BOOST_TEST(batchable(d + "model { phi ~ Normal(0, 1)  s ~ HalfNormal(1)\n"
                           "  for t in 1..T { observe y[t] ~ Normal(phi * y[t - 1], s) } }") == std::vector<bool>{true});
  BOOST_TEST(batchable(d + "model { a ~ Normal(0, 1)\n"
                           "  for t in 0..T { let m = exp(a * w[t])  observe y[t] ~ Normal(m, 1)  factor f = -abs(w[t] - a) } }") ==
             std::vector<bool>{true});
  // Latent sites, and state carried by them from one iteration to the next
  // (the random walk): a batch when the guide drew them as one.
  BOOST_TEST(batchable(d + "model { s ~ HalfNormal(1)  let x = 0.0\n"
                           "  for t in 0..T { x ~ Normal(x, s)  observe y[t] ~ Normal(x, 0.5) } }") == std::vector<bool>{true});
  // A draw given whole to a function that is not elementwise; state carried by an assignment.
  BOOST_TEST(batchable(d + "model { for t in 0..T { z ~ Normal(0, 1)  observe y[t] ~ Normal(max(z, 0.5), 1) } }") ==
             std::vector<bool>{false});
  BOOST_TEST(batchable(d + "model { let m = 0.0\n"
                           "  for t in 0..T { observe y[t] ~ Normal(m, 1)  m = y[t] } }") == std::vector<bool>{false});
  // A varying value given whole to a function that is not elementwise, or
  // subscripted past the first index.
  BOOST_TEST(batchable(d + "model { for t in 1..T { observe y[t] ~ Normal(sum(y[0:t]), 1) } }") == std::vector<bool>{false});
  BOOST_TEST(batchable(d + "model { for t in 1..T { observe y[t] ~ Normal(max(w[t], 0.5), 1) } }") == std::vector<bool>{false});
  BOOST_TEST(batchable("data { T: int  y: real[T]  X: real[2, T] }\n"
                       "model { for t in 0..T { observe y[t] ~ Normal(X[0, t], 1) } }") == std::vector<bool>{false});
  // Two statements of one name (whose clash, when both run, must stay an
  // error), nested loops, loops inside plates and user functions.
  BOOST_TEST(batchable(d + "model { a ~ Normal(0, 1)\n"
                           "  if a > 0 { for t in 0..T { observe y[t] ~ Normal(0, 1) } }\n"
                           "  else { for t in 0..T { observe y[t] ~ Normal(1, 1) } } }") == (std::vector<bool>{false, false}));
  BOOST_TEST(batchable("data { T: int  Y: real[3, T] }\n"
                       "model { for i in 0..3 { for t in 0..T { observe Y[i, t] ~ Normal(0, 1) } } }") ==
             (std::vector<bool>{false, false}));
  BOOST_TEST(batchable("data { T: int  Y: real[2, T] }\n"
                       "model { plate p(2) as i { for t in 0..T { observe Y[i, t] ~ Normal(0, 1) } } }") ==
             std::vector<bool>{false});
  BOOST_TEST(batchable(d + "fn f(v) { return v }\n"
                           "model { for t in 0..T { observe y[t] ~ Normal(f(w[t]), 1) } }") == std::vector<bool>{false});
}

BOOST_AUTO_TEST_CASE(ar1_loop_gives_the_numbers_of_its_iterations) {
  same_estimates(std::string(series_data) +
                     "model { phi ~ Normal(0, 1)  s ~ HalfNormal(1)\n"
                     "  for t in 1..T { observe y[t] ~ Normal(phi * y[t - 1], s) } }",
                 series(50));
}

BOOST_AUTO_TEST_CASE(negative_subscripts_count_from_the_end) {
  // t = 0 reads y[-1], the last element, as the one-by-one loop does.
  same_estimates(std::string(series_data) +
                     "model { phi ~ Normal(0, 1)\n"
                     "  for t in 0..T { observe y[t] ~ Normal(phi * y[t - 1], 1) } }",
                 series(20));
}

BOOST_AUTO_TEST_CASE(lets_functions_factors_and_weights) {
  same_estimates(std::string(series_data) +
                     "model { a ~ Normal(0, 1)  b ~ Normal(0, 1)  s ~ HalfNormal(1)\n"
                     "  for t in 2..T {\n"
                     "    deterministic m = a * y[t - 1] + b * tanh(y[t - 2]) / (1 + w[t])\n"
                     "    observe y[t] ~ StudentT(4, m, s * pow(w[t], 2))\n"
                     "    factor pen = -0.5 * (a - w[t]) ^ 2\n"
                     "  } }",
                 series(30));
}

BOOST_AUTO_TEST_CASE(rows_events_and_plain_arrays) {
  // Rows of a matrix against a latent vector with `@`; an observed row as one
  // event; a scalar per iteration times a plain vector (each iteration's own
  // vector, not lined up with the iterations); a categorical with per-row logits.
  const int N = 12, D = 3, K = 4;
  std::vector<double> X, Y, L, y, k;
  for (int n = 0; n < N; ++n) {
    for (int d = 0; d < D; ++d) X.push_back(std::sin(n + 2.0 * d));
    for (int j = 0; j < K; ++j) {
      Y.push_back(std::cos(0.3 * n + j));
      L.push_back(std::sin(0.7 * n - j));
    }
    y.push_back(0.4 * n - 2);
    k.push_back((n * 7) % K);
  }
  interp::DataSet data = test::dataset({{ad::Tensor(static_cast<double>(N)), interp::Kind::Int},
                                        {ad::Tensor(static_cast<double>(D)), interp::Kind::Int},
                                        {ad::Tensor(static_cast<double>(K)), interp::Kind::Int},
                                        {ad::Tensor(ad::Shape{N, D}, X), interp::Kind::Real},
                                        {ad::Tensor(ad::Shape{N, K}, Y), interp::Kind::Real},
                                        {ad::Tensor(ad::Shape{N, K}, L), interp::Kind::Real},
                                        {vec(y), interp::Kind::Real},
                                        {vec(k), interp::Kind::Int},
                                        {vec({1.0, 0.5, -0.5, 2.0}), interp::Kind::Real}});
  same_estimates("data { N: int  D: int  K: int  X: real[N, D]  Y: real[N, K]  L: real[N, K]  y: real[N]\n"
                 "  k: int<lower=0, upper=3>[N]  v: real[K] }\n"
                 "model { w: real[D] ~ Normal(0, 1)  b ~ Normal(0, 1)  mu: real[K] ~ Normal(0, 1)  c ~ Normal(0, 1)\n"
                 "  for n in 0..N {\n"
                 "    observe y[n] ~ Normal(X[n] @ w + b, 1)\n"
                 "    observe Y[n] ~ Normal(mu + c * y[n] * v, 1)\n"
                 "    observe k[n] ~ Categorical(logits = L[n] * c)\n"
                 "  } }",
                 data);
}

BOOST_AUTO_TEST_CASE(a_failing_iteration_is_named_as_its_own_site) {
  // log(w[5]) = -inf at iteration 5 only: the step is refused, and the
  // reason names the site of that iteration, as the one-by-one loop would.
  interp::DataSet data = series(10);
  data.values[2][5] = 0.0;
  test::Fit fit(std::string(series_data) +
                    "model { a ~ Normal(0, 1)\n"
                    "  for t in 0..T { observe y[t] ~ Normal(a, 1)  factor f = log(w[t]) } }",
                data, 3);
  fit.setup("auto_normal");
  const std::vector<std::string> names = model_sites(fit.source.text(), data, true);
  BOOST_TEST((std::find(names.begin(), names.end(), "f[0..10]") != names.end()));
  const infer::StepResult r = fit.svi->step();
  BOOST_TEST(!r.applied);
  BOOST_TEST_MESSAGE(r.rejected_because);
  BOOST_TEST(r.rejected_because.find("'f[5]'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refused_parameter_is_named_at_its_iteration) {
  // w[3] = -1 is no scale: the fit stops (a mistake in the data, not a number
  // of this step) with the message iteration 3 gives alone.
  interp::DataSet data = series(6);
  data.values[2][3] = -1.0;
  test::Fit fit(std::string(series_data) +
                    "model { m ~ Normal(0, 1)\n"
                    "  for i in 0..T { observe y[i] ~ Normal(m, w[i]) } }",
                data, 3);
  fit.setup("auto_normal");
  BOOST_CHECK_EXCEPTION(fit.svi->step(), interp::RunError, [](const interp::RunError& e) {
    BOOST_TEST_MESSAGE(e.what());
    const std::string m = e.what();
    return !e.numeric() && m.find("at site 'y[3]'") != std::string::npos && m.find("got -1") != std::string::npos &&
           m.find("flat index") == std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(a_random_walk_gives_the_numbers_of_its_iterations) {
  // x carried from one iteration to the next, from 0 before the loop; its
  // last draw read after the loop.
  interp::DataSet data = series(30);
  same_latent_estimates(std::string(series_data) +
                            "model { s ~ HalfNormal(1)  let x = 0.0\n"
                            "  for t in 0..T { x ~ Normal(x, s)  observe y[t] ~ Normal(x, 0.5) }\n"
                            "  observe w[0] ~ Normal(x, 1) }",
                        data, {"x[0..30]", "x[0..30]"});
}

BOOST_AUTO_TEST_CASE(latent_sites_with_supports_shapes_and_state_from_a_latent_start) {
  // Three latent sites an iteration (the draws interleave), one on (0, ∞) and
  // one a vector, state starting at a latent value, a deterministic of the
  // draws, the loop variable in a mean.
  same_latent_estimates(std::string(series_data) +
                            "model { x0 ~ Normal(0, 1)  let x = x0\n"
                            "  for t in 1..T {\n"
                            "    g ~ Gamma(2, 2)\n"
                            "    x ~ Normal(0.9 * x + 0.01 * t, g)\n"
                            "    v: real[2] ~ Normal(x, w[t])\n"
                            "    deterministic d = g * x\n"
                            "    observe y[t] ~ Normal(d, 1)\n"
                            "  } }",
                        series(12), {"g[1..12]", "x[1..12]", "v[1..12]", "g[1..12]", "x[1..12]", "v[1..12]"});
}

BOOST_AUTO_TEST_CASE(vector_state_carried_from_a_literal) {
  // x: real[2] carried from a vector literal, observed as one event per
  // iteration; a scalar site whose state starts as an integer.
  const int T = 9;
  std::vector<double> Y;
  for (int t = 0; t < T; ++t) Y.insert(Y.end(), {std::sin(0.4 * t), std::cos(0.3 * t)});
  interp::DataSet data = test::dataset({{ad::Tensor(static_cast<double>(T)), interp::Kind::Int},
                                        {ad::Tensor(ad::Shape{T, 2}, Y), interp::Kind::Real}});
  same_latent_estimates("data { T: int  Y: real[T, 2] }\n"
                        "model { s ~ HalfNormal(1)  let x = [0.0, 0.5]  let k = 0\n"
                        "  for t in 0..T {\n"
                        "    x: real[2] ~ Normal(x, s)\n"
                        "    k ~ Normal(k, 1)\n"
                        "    observe Y[t] ~ Normal(x + k, 0.5)\n"
                        "  } }",
                        data, {"x[0..9]", "k[0..9]", "x[0..9]", "k[0..9]"});
}
