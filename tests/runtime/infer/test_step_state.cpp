// State that advances once per step changes in one place (issue 14, items 3
// and 4; STYLE.md): an evaluation — a diagnosis, a gradient variance, an
// evidence estimate — between steps changes nothing, so a fit with them ends
// with the same bytes as one without; and a step refused as non-finite, at
// the loss or at the update, leaves parameters, optimizer moments and step
// counts, the decayed learning rate, the decaying-average baselines and the
// schedule's and annealing's clock exactly as they were. Only the random
// stream moves on. Bit-for-bit comparisons: no tolerance is involved.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "lang/ir/compile.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/infer/svi.hpp"
#include "runtime/infer/tracegraph_elbo.hpp"
#include "vireo/vireo.hpp"

using namespace vireo;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string examples = VIREO_SOURCE_DIR "/examples/";

// Runs `steps` steps of a fit; with `evaluate`, examines it before the first
// step and every `every` steps through every evaluation the API has.
struct Evaluations {
  bool diagnose = false, grad_var = false, evidence = false;
};
vireo::Fit fitted(const vireo::Model& m, const vireo::Data& d, const vireo::FitOptions& o, long steps, long every,
                  const Evaluations& e) {
  vireo::Fit fit(m, d, o);
  for (long i = 0; i < steps; ++i) {
    if (i % every == 0) {
      if (e.diagnose) fit.diagnose(2);
      if (e.grad_var) fit.gradient_variance(2);
      if (e.evidence) fit.evidence(20);
    }
    fit.step();
  }
  return fit;
}

void expect_same_fit(vireo::Fit& plain, vireo::Fit& examined) {
  BOOST_TEST(plain.params_json() == examined.params_json());  // parameters, optimizer, baselines, steps
  BOOST_TEST(plain.elbo_history() == examined.elbo_history(), boost::test_tools::per_element());
  BOOST_TEST(plain.running_elbo() == examined.running_elbo());
}

}  // namespace

// The issue's case: gmm.vireo under TraceGraph_ELBO, whose loss used to
// update the decaying-average baselines every time a diagnostic called it.
// Also a learned baseline (`net = x`), whose parameters a diagnosis before
// the first step would otherwise create from its own random stream.
BOOST_AUTO_TEST_CASE(diagnostics_between_steps_change_nothing_under_tracegraph) {
  const std::string text = slurp(examples + "gmm.vireo");
  const std::string avg = "with baseline(beta = 0.9)";
  BOOST_TEST_REQUIRE(text.find(avg) != std::string::npos);
  std::string with_net = text;
  with_net.replace(with_net.find(avg), avg.size(), "with baseline(beta = 0.9, net = x)");
  for (int k = 0; k < 2; ++k) {
    const std::string& program = k == 0 ? text : with_net;
    BOOST_TEST_CONTEXT((k == 0 ? "average baseline" : "average + net baseline")) {
      vireo::Model m = vireo::Model::from_string(program, "gmm.vireo");
      vireo::Data d = vireo::Data::from_json_file(m, examples + "gmm.json");
      vireo::FitOptions o;
      o.elbo = vireo::Elbo::TraceGraph;
      o.seed = 1;
      vireo::Fit plain = fitted(m, d, o, 30, 10, {});
      vireo::Fit examined = fitted(m, d, o, 30, 10, {true, true, false});
      expect_same_fit(plain, examined);
    }
  }
}

// Automatic guides create their parameters on first use, from the random
// stream of whoever runs them first: a diagnosis before the first step must
// leave that to the step. The evidence and the gradient variance too.
BOOST_AUTO_TEST_CASE(diagnostics_before_the_first_step_change_nothing_for_automatic_guides) {
  vireo::Model m = vireo::Model::from_file(examples + "eight_schools.vireo");
  vireo::Data d = vireo::Data::from_json_file(m, examples + "eight_schools.json");
  for (const char* guide : {"auto_normal", "auto_mvn"}) {
    BOOST_TEST_CONTEXT(guide) {
      vireo::FitOptions o;
      o.guide = vireo::parse_guide(guide);
      o.seed = 7;
      o.lr_schedule = vireo::LrSchedule::parse("exp:0.99");
      o.kl_anneal = 20;
      vireo::Fit plain = fitted(m, d, o, 30, 10, {});
      vireo::Fit examined = fitted(m, d, o, 30, 10, {true, true, true});
      expect_same_fit(plain, examined);
    }
  }
}

namespace {

// A mixture with a score-function site (z, with a decaying-average
// baseline) and a continuous one (w). b1 and b2 enter only as
// 1e-3·(b1 + b2): set to ±DBL_MAX they cancel in value while their
// gradients, equal and non-zero, make any large step overflow one of them —
// an update refused after the optimizer has seen the earlier parameters
// (m comes first). The factor keeps their Adam steps ≈ lr (sqrt(v) ≫ eps).
const char* mixture = R"(data { N: int  x: real[N] }
model {
  w ~ Normal(0, 1)
  loc: real[2] ~ Normal(0, 10)
  plate data(N) {
    z ~ Categorical(probs = [0.5, 0.5])
    observe x ~ Normal(loc[z] + w, 1)
  }
}
guide {
  param m: real = 0
  param b1: real = 0
  param b2: real = 0
  param s: real = 0
  param lm: real[2] = [-1, 1]
  param phi: real[N, 2] = 0
  w ~ Normal(m + 1e-3 * (b1 + b2), softplus(s))
  loc: real[2] ~ Normal(lm, 1)
  plate data(N) { z ~ Categorical(logits = phi) with baseline(beta = 0.9) }
})";

enum class Refusal { None, AtTheLoss, AtTheUpdate };

// One SVI run at the runtime's level, where a test can reach in between
// steps: its data (an observation of 1e300 makes log p −inf for one step)
// and its optimizer's learning rate.
struct Run {
  lang::SourceFile source{"mixture.vireo", mixture};
  ir::Graph graph;
  interp::DataSet data;
  params::ParamStore store;
  rng::Generator rng{5};
  std::unique_ptr<interp::Context> ctx;
  std::unique_ptr<guide::Guide> guide;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<infer::TraceGraphElbo> elbo;
  std::unique_ptr<infer::Svi> svi;

  Run(const optim::OptimOptions& oo, const infer::StabilityOptions& so) {
    lang::Diagnostics diags;
    auto g = ir::compile(source, diags);
    BOOST_TEST_REQUIRE(g.has_value(), diags.render(source));
    graph = std::move(*g);
    std::vector<double> x;
    for (int i = 0; i < 10; ++i) x.push_back(-2 + 0.1 * i);
    for (int i = 0; i < 10; ++i) x.push_back(2 - 0.1 * i);
    data.values = {ad::Tensor(20.0), ad::Tensor(ad::Shape{20}, x)};
    data.kinds = {interp::Kind::Int, interp::Kind::Real};
    ctx = std::make_unique<interp::Context>(graph, data, store, rng);
    guide::GuideOptions go;
    go.kind = "custom";
    guide = guide::make_guide(go, graph);
    optimizer = optim::make_optimizer(oo);
    elbo = std::make_unique<infer::TraceGraphElbo>(graph, infer::TraceGraphOptions{});
    svi = std::make_unique<infer::Svi>(*ctx, *guide, *optimizer, *elbo, so);
  }

  // Everything a step may change, but the random stream, in bytes.
  std::string state() const {
    return store.to_json(optimizer->state()).dump() + elbo->state().dump() + " applied " +
           std::to_string(svi->steps_taken()) + " lr " + std::to_string(optimizer->lr());
  }

  infer::StepResult refused_step(Refusal how) {
    infer::StepResult r;
    if (how == Refusal::AtTheLoss) {
      const double x0 = data.values[1][0];
      data.values[1][0] = 1e300;
      r = svi->step();
      data.values[1][0] = x0;
    } else {
      params::Entry& b1 = *store.find("b1");
      params::Entry& b2 = *store.find("b2");
      const double v1 = b1.unconstrained[0], v2 = b2.unconstrained[0], lr = optimizer->lr();
      b1.unconstrained[0] = std::numeric_limits<double>::max();
      b2.unconstrained[0] = -std::numeric_limits<double>::max();
      optimizer->set_lr(1e300);
      const std::string before = state();
      r = svi->step();
      BOOST_TEST(state() == before);  // checked here too: the restoring below would hide a moved lr
      b1.unconstrained[0] = v1;
      b2.unconstrained[0] = v2;
      optimizer->set_lr(lr);
    }
    return r;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_refused_step_changes_nothing_but_the_random_stream) {
  optim::OptimOptions adam;
  adam.name = "adam";
  adam.lr = 0.05;
  optim::OptimOptions clipped = adam;
  clipped.name = "clipped_adam";
  clipped.lrd = 0.99;
  infer::StabilityOptions constant, scheduled;
  scheduled.schedule = optim::Schedule::parse("exp:0.99");
  scheduled.kl_anneal = 30;
  struct Case {
    const char* name;
    optim::OptimOptions optim;
    infer::StabilityOptions stability;
    Refusal refusal;
  };
  const Case cases[] = {
      {"adam, refused at the loss, schedule and annealing", adam, scheduled, Refusal::AtTheLoss},
      {"adam, refused at the update", adam, constant, Refusal::AtTheUpdate},
      {"clipped_adam lrd 0.99, refused at the loss", clipped, constant, Refusal::AtTheLoss},
      {"clipped_adam lrd 0.99, refused at the update", clipped, constant, Refusal::AtTheUpdate},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      // Run a: 10 steps, a refused step, 10 steps. Run b: the same without
      // the refused step, its random stream moved on as a's was.
      Run a(c.optim, c.stability), b(c.optim, c.stability);
      for (int i = 0; i < 10; ++i) {
        BOOST_TEST_REQUIRE(a.svi->step().applied);
        BOOST_TEST_REQUIRE(b.svi->step().applied);
      }
      BOOST_TEST_REQUIRE(a.state() == b.state());
      const std::string before = a.state();
      const auto stream = a.rng.state();
      const infer::StepResult r = a.refused_step(c.refusal);
      BOOST_TEST_REQUIRE(!r.applied);
      BOOST_TEST_MESSAGE(r.rejected_because);
      BOOST_TEST(a.state() == before);
      BOOST_TEST((a.rng.state() != stream));  // the random stream moves on
      b.rng = a.rng;
      int applied = 0;
      for (int i = 0; i < 10; ++i) applied += a.svi->step().applied + b.svi->step().applied;
      BOOST_TEST(applied == 20);
      BOOST_TEST(a.state() == b.state());
    }
  }
}
