// End-to-end smoke test of the interpreter, AutoNormal, Trace_ELBO and SVI
// on a conjugate Normal–Normal model with a known posterior.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "lang/ir/compile.hpp"
#include "runtime/guide/guide.hpp"
#include "runtime/infer/svi.hpp"

using namespace vireo;

BOOST_AUTO_TEST_CASE(normal_normal_posterior) {
  lang::SourceFile src("nn.vireo", R"(
data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 10)
  plate data(N) { observe y ~ Normal(mu, 1) }
}
)");
  lang::Diagnostics diags;
  auto g = ir::compile(src, diags);
  BOOST_REQUIRE_MESSAGE(g, diags.render(src));
  interp::DataSet data;
  std::vector<double> y = {1.2, 0.8, 2.1, 1.7, 0.4, 1.1, 1.9, 1.3, 0.7, 1.5};
  data.values = {ad::Tensor(10.0), ad::Tensor(ad::Shape{10}, y)};
  data.kinds = {interp::Kind::Int, interp::Kind::Real};
  params::ParamStore store;
  rng::Generator rng(1);
  interp::Context ctx(*g, data, store, rng);
  guide::GuideOptions go;
  auto guide = guide::make_guide(go, *g);
  optim::OptimOptions oo;
  oo.name = "clipped_adam";
  oo.lr = 0.05;
  oo.lrd = 0.999;
  auto opt = optim::make_optimizer(oo);
  infer::TraceElbo elbo(1);
  infer::Svi svi(ctx, *guide, *opt, elbo);
  for (int i = 0; i < 3000; ++i) svi.step();
  double sum = 0;
  for (double v : y) sum += v;
  double post_prec = 1.0 / 100 + 10, post_mean = sum / post_prec, post_sd = std::sqrt(1 / post_prec);
  double loc = store.find("auto.loc.mu")->unconstrained[0];
  double scale = std::log1p(std::exp(store.find("auto.scale.mu")->unconstrained[0]));
  BOOST_TEST_MESSAGE("loc " << loc << " vs " << post_mean << ", scale " << scale << " vs " << post_sd);
  BOOST_TEST(std::abs(loc - post_mean) < 0.05);
  BOOST_TEST(std::abs(scale / post_sd - 1) < 0.15);
}
