// AutoNormal's plan (guide.hpp, AutoGuide::run_planned): once two runs have
// recorded the same latent sites, a particle draws from the plan instead of
// executing the model program in the guide. The plan must change nothing —
// the same ELBO and gradients, bit for bit, as the interpreted guide — and a
// model whose sites or supports change between runs must refute it. Only SVI
// steps make and drop the plan; evaluations between them leave it alone.
#include <boost/test/unit_test.hpp>

#include "runtime/infer/trace_elbo.hpp"
#include "support/fit.hpp"

using namespace vireo;

namespace {

// The same guide with its plan hidden: every particle runs the model program.
class Interpreted final : public guide::Guide {
 public:
  explicit Interpreted(guide::Guide& g) : g_(g) {}
  std::string name() const override { return g_.name(); }
  void run(interp::Context& ctx) override { g_.run(ctx); }

 private:
  guide::Guide& g_;
};

using test::eight_schools;
using test::schools;

// One particle of an SVI step (the plan is made and used only in steps,
// interp::Context::stepping): its ELBO and the gradient of every parameter,
// flattened in leaf order.
std::vector<double> particle(test::Fit& fit, guide::Guide& guide, infer::ParticleTraces& t) {
  fit.ctx->begin_step();
  fit.ctx->set_stepping(true);
  infer::run_particle(*fit.ctx, guide, t);
  fit.ctx->set_stepping(false);
  ad::Var elbo = infer::particle_elbo(fit.ctx->tape(), t);
  fit.ctx->tape().backward(elbo);
  std::vector<double> out{elbo.item()};
  for (const auto& [name, leaf] : fit.ctx->param_leaves()) {
    const ad::Tensor g = fit.ctx->tape().grad(leaf);
    out.insert(out.end(), g.data(), g.data() + g.numel());
  }
  return out;
}

// `y` exists only when x > 0.4 (the guide starts at x ≈ 0.4 ± 0.1).
const char* branch_model = R"(data { d: real }
model {
  x ~ Normal(0, 1)
  if x > 0.4 { y ~ Normal(x, 1) }
  observe d ~ Normal(x, 1)
})";

auto& auto_guide(test::Fit& fit) { return dynamic_cast<guide::AutoGuide&>(*fit.guide); }

}  // namespace

BOOST_AUTO_TEST_CASE(planned_particles_equal_interpreted_ones_bit_for_bit) {
  test::Fit planned(eight_schools, schools(), 3), plain(eight_schools, schools(), 3);
  planned.setup();
  plain.setup();
  Interpreted interpreted(*plain.guide);
  infer::ParticleTraces a, b;
  int used = 0;
  for (int i = 0; i < 8; ++i) {
    used += auto_guide(planned).plan_ready();
    const std::vector<double> x = particle(planned, *planned.guide, a), y = particle(plain, interpreted, b);
    BOOST_TEST(x == y, boost::test_tools::per_element());
    // The guide trace's distributions are this run's (the model's), usable on this tape.
    const handlers::TraceSite* eta = a.guide.find("eta");
    BOOST_REQUIRE(eta);
    BOOST_TEST(eta->msg.fn->log_prob(eta->msg.value.var).value().numel() == 8);
    BOOST_TEST(eta->msg.fn->param("scale").value()[0] == 1.0);
  }
  BOOST_TEST(!auto_guide(plain).plan_ready());
  BOOST_TEST(used == 6);  // two recording runs, then the plan
}

// branch_model: a plan made without y (or with it) is refuted by the model
// whenever the branch goes the other way, and the particle is
// run again; every particle's guide and model agree on their latent sites.
BOOST_AUTO_TEST_CASE(a_branch_on_a_latent_value_refutes_the_plan) {
  test::Fit fit(branch_model,
                test::dataset({{ad::Tensor(0.3), interp::Kind::Real}}), 5);
  fit.setup();
  infer::ParticleTraces t;
  int with_y = 0, planned = 0;
  for (int i = 0; i < 400; ++i) {
    planned += auto_guide(fit).plan_ready();
    fit.ctx->begin_step();
    fit.ctx->set_stepping(true);
    infer::run_particle(*fit.ctx, *fit.guide, t);  // throws if guide and model disagree
    const bool positive = t.guide.find("x")->msg.value.var.item() > 0.4;
    BOOST_TEST((t.guide.find("y") != nullptr) == positive);
    BOOST_TEST((t.model.find("y") != nullptr) == positive);
    with_y += positive;
  }
  BOOST_TEST(with_y > 40);
  BOOST_TEST(with_y < 360);
  BOOST_TEST(planned > 0);  // the plan was tried (and, when wrong, refuted)
}

// b's support (0, a) moves with a: the plan's stale support would put b
// outside it (log p = −∞). It never agrees with itself, so it is never used.
BOOST_AUTO_TEST_CASE(a_support_that_moves_keeps_the_guide_interpreted) {
  test::Fit fit(R"(model { a ~ Exponential(1)  b ~ Uniform(0, a) })", test::dataset({}), 9);
  fit.setup();
  infer::ParticleTraces t;
  fit.ctx->set_stepping(true);
  for (int i = 0; i < 200; ++i) {
    fit.ctx->begin_step();
    infer::run_particle(*fit.ctx, *fit.guide, t);
    const double a = t.guide.find("a")->msg.value.var.item(), b = t.guide.find("b")->msg.value.var.item();
    BOOST_TEST((0 < b && b < a));
    BOOST_TEST(std::isfinite(infer::particle_elbo(fit.ctx->tape(), t).item()));
    BOOST_TEST(!auto_guide(fit).plan_ready());
  }
}

// A store emptied (as by loading another fit's parameters) after the plan
// was made: the planned run finds no parameters, and the particle is run
// the plain way, which creates them.
BOOST_AUTO_TEST_CASE(a_plan_without_its_parameters_is_abandoned) {
  test::Fit fit(eight_schools, schools(), 11);
  fit.setup();
  infer::ParticleTraces t;
  for (int i = 0; i < 3; ++i) particle(fit, *fit.guide, t);
  BOOST_REQUIRE(auto_guide(fit).plan_ready());
  fit.store = params::ParamStore{};
  const std::vector<double> x = particle(fit, *fit.guide, t);
  BOOST_TEST(std::isfinite(x[0]));
  BOOST_TEST(fit.store.find("auto.loc.eta") != nullptr);
  BOOST_TEST(!auto_guide(fit).plan_ready());
}

// A guide parameter that became NaN fails the planned run as it fails an
// interpreted one: a numeric error at the site, which SVI refuses as a step
// instead of stopping the fit.
BOOST_AUTO_TEST_CASE(a_numeric_failure_in_a_planned_run_is_a_refused_step) {
  test::Fit fit(eight_schools, schools(), 13);
  fit.setup();
  fit.train(3);
  BOOST_REQUIRE(auto_guide(fit).plan_ready());
  fit.store.find("auto.loc.mu")->unconstrained[0] = std::nan("");
  const infer::StepResult r = fit.svi->step();
  BOOST_TEST(!r.applied);
  BOOST_TEST(r.rejected_because.find("mu") != std::string::npos, r.rejected_because);
}

// Evaluations, diagnoses and traces between steps run outside
// Context::stepping: they neither record the plan nor refute it, so the
// steps after them compute what they would have computed without them.
BOOST_AUTO_TEST_CASE(evaluations_between_steps_leave_the_plan_alone) {
  test::Fit fit(eight_schools, schools(), 3);
  fit.setup();
  infer::ParticleTraces t;
  for (int i = 0; i < 4; ++i) {
    fit.ctx->begin_step();
    infer::run_particle(*fit.ctx, *fit.guide, t);
  }
  BOOST_TEST(!auto_guide(fit).plan_ready());  // nothing recorded
  for (int i = 0; i < 2; ++i) particle(fit, *fit.guide, t);
  BOOST_TEST(auto_guide(fit).plan_ready());

  // A plan that the model refutes now and then (the branch on x): a refuting
  // evaluation reruns its particle interpreted and keeps the plan.
  test::Fit branch(branch_model,
                   test::dataset({{ad::Tensor(0.3), interp::Kind::Real}}), 5);
  branch.setup();
  for (int i = 0; i < 400 && !auto_guide(branch).plan_ready(); ++i) particle(branch, *branch.guide, t);
  BOOST_REQUIRE(auto_guide(branch).plan_ready());
  int with_y = 0;
  for (int i = 0; i < 100; ++i) {
    branch.ctx->begin_step();
    infer::run_particle(*branch.ctx, *branch.guide, t);  // throws if guide and model disagree
    with_y += t.model.find("y") != nullptr;
    BOOST_TEST(auto_guide(branch).plan_ready());
  }
  BOOST_TEST(with_y > 5);  // the plan was refuted, in both directions
  BOOST_TEST(with_y < 95);
}
