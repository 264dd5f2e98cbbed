// The guide registry (runtime/guide/registry.cpp): each guide's name, maker
// and fit defaults are one row; and each guide describes its own parameters
// (Guide::parameter_role), which diagnostics and refusal messages ask
// instead of parsing parameter names — with the messages they always gave.
#include <boost/test/unit_test.hpp>

#include "runtime/guide/guide.hpp"
#include "runtime/infer/diagnose.hpp"
#include "runtime/infer/nonfinite.hpp"
#include "support/fit.hpp"

using namespace vireo;

namespace {

const char* model_with_guide = R"(data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  tau ~ HalfNormal(1)
  z ~ Bernoulli(0.5)
  plate data(N) { observe y ~ Normal(mu, tau + z) }
}
guide {
  param m: real = 0
  mu ~ Normal(m, 1)
  tau ~ HalfNormal(1)
  z ~ Bernoulli(0.5)
}
)";

interp::DataSet data() {
  return test::dataset({{ad::Tensor(3.0), interp::Kind::Int}, {ad::Tensor(ad::Shape{3}, {1.0, 2.0, 0.5}), interp::Kind::Real}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_row_makes_its_guide_and_holds_its_defaults) {
  test::Fit fit(model_with_guide, data());
  BOOST_TEST(guide::guide_names() ==
             "auto_normal, auto_diagonal_normal, auto_mvn, auto_lowrank_mvn, auto_realnvp, auto_delta or custom");
  for (const guide::GuideKind& kind : guide::guide_kinds()) {
    guide::GuideOptions o;
    o.kind = kind.name;
    BOOST_TEST(guide::make_guide(o, fit.graph)->name() == kind.name);
    BOOST_TEST(guide::find_guide_kind(kind.name) == &kind);
    BOOST_TEST((kind.defaults.estimator == std::string("stl") || kind.defaults.estimator == std::string("standard")));
  }
  BOOST_TEST(guide::find_guide_kind("auto_mvn")->defaults.lr_schedule == std::string("plateau:100"));
  BOOST_TEST(guide::find_guide_kind("auto_realnvp")->defaults.particles == 8);
  BOOST_TEST(guide::find_guide_kind("auto_nothing") == nullptr);
  guide::GuideOptions bad;
  bad.kind = "auto_nothing";
  try {
    guide::make_guide(bad, fit.graph);
    BOOST_FAIL("an unknown guide was made");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "unknown guide 'auto_nothing'; choose " + guide::guide_names());
  }
}

BOOST_AUTO_TEST_CASE(guides_describe_their_own_parameters) {
  test::Fit fit(model_with_guide, data());
  auto make = [&](const char* kind) {
    guide::GuideOptions o;
    o.kind = kind;
    return guide::make_guide(o, fit.graph);
  };
  const auto normal = make("auto_normal"), mvn = make("auto_mvn"), flow = make("auto_realnvp"), custom = make("custom");
  auto role = [](const guide::Guide& g, const std::string& name) {
    std::optional<guide::ParamRole> r = g.parameter_role(name);
    return r ? r->role + "|" + r->site + "|" + (r->scale ? "scale" : "") : std::string("none");
  };
  BOOST_TEST(role(*normal, "auto.scale.tau") == "scale|tau|scale");
  BOOST_TEST(role(*normal, "auto.loc.mu") == "loc|mu|");
  BOOST_TEST(role(*normal, "auto.logits.z") == "logits|z|");
  BOOST_TEST(role(*normal, "m") == "none");
  BOOST_TEST(role(*mvn, "auto_mvn.scale") == "scale||scale");
  BOOST_TEST(role(*mvn, "auto_mvn.scale_tril") == "scale_tril||");
  BOOST_TEST(role(*mvn, "auto.logits.z") == "logits|z|");  // discrete sites keep per-site guides
  BOOST_TEST(role(*mvn, "auto_lowrank_mvn.scale") == "none");  // another guide's
  BOOST_TEST(role(*flow, "auto_realnvp.layer0.scale.w1") == "layer0.scale.w1||");
  BOOST_TEST(role(*custom, "m") == "none");
  BOOST_TEST(role(*custom, "auto.scale.tau") == "none");
  // The messages, as before the guides described their parameters.
  BOOST_TEST(infer::describe_parameter(*normal, "auto.scale.tau") == "site 'tau' (the automatic guide's scale)");
  BOOST_TEST(infer::describe_parameter(*mvn, "auto_mvn.scale_tril") ==
             "the auto_mvn guide's 'scale_tril' (all continuous sites jointly)");
  BOOST_TEST(infer::describe_parameter(*custom, "m") == "parameter 'm'");
}

// diagnose asks the guide which parameters are scales: a collapsed one is
// reported in the same words, for a per-site and a joint guide.
BOOST_AUTO_TEST_CASE(diagnose_finds_collapsed_scales_through_the_guide) {
  for (const std::string kind : {"auto_normal", "auto_diagonal_normal"}) {
    test::Fit fit("data { N: int  y: real[N] }\nmodel {\n  mu ~ Normal(0, 10)\n  plate data(N) { observe y ~ Normal(mu, 1) }\n}\n",
                  data());
    fit.setup(kind);
    fit.train(1);
    const std::string scale = kind == "auto_normal" ? "auto.scale.mu" : "auto_diagonal_normal.scale";
    fit.store.find(scale)->unconstrained.setConstant(-20);  // softplus: 2e-9
    const infer::Diagnosis d = infer::diagnose(*fit.ctx, *fit.guide, *fit.elbo, 5, [&](long) {});
    const std::string who = kind == "auto_normal" ? "site 'mu' (the automatic guide's scale)"
                                                  : "the auto_diagonal_normal guide's 'scale' (all continuous sites jointly)";
    bool found = false;
    for (const std::string& w : d.warnings) found = found || w.rfind(who + ": a guide scale has collapsed to", 0) == 0;
    BOOST_TEST(found, kind);
  }
}
