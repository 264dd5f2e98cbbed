// Host functions (vireo::HostFunctions): C++ functions that model files call
// like builtins. A fit through a host function with a gradient against the
// conjugate posterior and against the same model written with a builtin;
// LogDensity's gradient through one against finite differences; the
// checker's refusals (unknown name with a suggestion, arity, shapes, no
// gradient where one is needed) and what needs no gradient (data); the site
// graph naming them; and tables scoped per model.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>

#include "vireo/vireo.hpp"

namespace {

using vireo::Array;

// twice(x) = 2x on a scalar; its vjp 2·adjoint.
vireo::HostFunction twice(bool with_gradient = true) {
  vireo::HostFunction f;
  f.name = "twice";
  f.params = {{"x", {}}};
  f.result = {};
  f.value = [](const std::vector<Array>& a) { return Array{{}, {2 * a[0].values[0]}}; };
  if (with_gradient)
    f.gradient = [](const std::vector<Array>&, const Array&, const Array& g) {
      return std::vector<Array>{Array{{}, {2 * g.values[0]}}};
    };
  return f;
}

// wave(v, w) = Σ_i sin(v_i) · w_i over vectors of any length; no gradient
// unless asked.
vireo::HostFunction wave(bool with_gradient) {
  vireo::HostFunction f;
  f.name = "wave";
  f.params = {{"v", {-1}}, {"w", {-1}}};
  f.result = {};
  f.value = [](const std::vector<Array>& a) {
    double s = 0;
    for (std::size_t i = 0; i < a[0].values.size(); ++i) s += std::sin(a[0].values[i]) * a[1].values[i];
    return Array{{}, {s}};
  };
  if (with_gradient)
    f.gradient = [](const std::vector<Array>& a, const Array&, const Array& g) {
      Array dv{a[0].shape, a[0].values}, dw{a[1].shape, a[1].values};
      for (std::size_t i = 0; i < a[0].values.size(); ++i) {
        dv.values[i] = g.values[0] * std::cos(a[0].values[i]) * a[1].values[i];
        dw.values[i] = g.values[0] * std::sin(a[0].values[i]);
      }
      return std::vector<Array>{dv, dw};
    };
  return f;
}

const std::vector<double> ys = {1.3, 2.9, 0.4, 2.2, 1.6};

std::string normal_mean_model(const std::string& mean) {
  return "data {\n  N: int<lower=1>\n  y: real[N]\n}\nmodel {\n  mu ~ Normal(0, 10)\n  plate obs(N) {\n"
         "    observe y ~ Normal(" + mean + ", 1)\n  }\n}\n";
}

vireo::Data data_for(const vireo::Model& m) {
  return vireo::Data::from_arrays(m, {{"N", {{}, {5}}}, {"y", {{5}, ys}}});
}

// The message of the vireo::Error `f` throws (kind `kind`), or "" if none.
template <class F>
std::string error_of(F f, vireo::Error::Kind kind = vireo::Error::Kind::Model) {
  try {
    f();
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == kind));
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// y_i ~ Normal(2 mu, 1), mu ~ Normal(0, 10): the posterior of mu is normal
// with precision 1/100 + 4N and mean 2 Σy / (1/100 + 4N).
BOOST_AUTO_TEST_CASE(a_fit_through_a_host_function_finds_the_conjugate_posterior) {
  vireo::HostFunctions hosts;
  hosts.add(twice());
  vireo::Model m = vireo::Model::from_string(normal_mean_model("twice(mu)"), "twice.vireo", hosts);
  vireo::Data d = data_for(m);
  vireo::Fit fit(m, d, {.seed = 7});
  fit.run(3000);
  vireo::Summary s = fit.summarize(4000);
  const double precision = 0.01 + 4.0 * ys.size();
  double sum = 0;
  for (double y : ys) sum += y;
  const double mean = 2 * sum / precision, sd = 1 / std::sqrt(precision);  // 0.8396, 0.2236
  BOOST_TEST_REQUIRE(s.sites.size() == 1u);
  // 4000 independent draws: Monte Carlo error of the mean sd/63 ≈ 0.0035, of
  // the sd about sd/89 ≈ 0.0025; the fit itself (auto_normal, sticking the
  // landing, averaged iterates) ends within a few hundredths of an sd. 0.1 sd
  // on both is over five of those errors.
  BOOST_TEST(std::abs(s.sites[0].mean[0] - mean) < 0.1 * sd, s.sites[0].mean[0] << " vs " << mean);
  BOOST_TEST(std::abs(s.sites[0].sd[0] - sd) < 0.1 * sd, s.sites[0].sd[0] << " vs " << sd);

  // The same model with the builtin product: the host's value and vjp are
  // the same arithmetic as the tape's 2 * mu, so every step is the same.
  vireo::Model builtin = vireo::Model::from_string(normal_mean_model("2 * mu"), "builtin.vireo");
  vireo::Data db = data_for(builtin);
  vireo::Fit fb(builtin, db, {.seed = 7});
  fb.run(3000);
  BOOST_TEST(fb.summarize(4000).sites[0].mean[0] == s.sites[0].mean[0], boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(log_density_gradient_through_a_host_function_matches_finite_differences) {
  vireo::HostFunctions hosts;
  hosts.add(wave(true));
  const char* text = R"(data {
  K: int<lower=1>
  w: real[K]
}
model {
  v: real[K] ~ Normal(0, 1)
  s ~ Normal(0, 1)
  observe w ~ Normal(s * wave(v, w), 1)
}
)";
  vireo::Model m = vireo::Model::from_string(text, "wave.vireo", hosts);
  const std::vector<double> w = {0.5, -1.2, 2.0};
  vireo::Data d = vireo::Data::from_arrays(m, {{"K", {{}, {3}}}, {"w", {{3}, w}}});
  vireo::LogDensity ld(m, d);
  BOOST_TEST_REQUIRE(ld.dimension() == 4u);
  const std::vector<double> x = {0.3, -0.7, 1.1, 0.8};
  // The formula: N(v; 0, 1) N(s; 0, 1) Π N(w_k; s Σ sin(v_i) w_i, 1).
  double wv = 0;
  for (int i = 0; i < 3; ++i) wv += std::sin(x[i]) * w[i];
  const double c = -0.5 * std::log(2 * std::numbers::pi);
  double want = 0;
  for (double v : x) want += c - 0.5 * v * v;
  for (double wk : w) want += c - 0.5 * (wk - x[3] * wv) * (wk - x[3] * wv);
  std::vector<double> g;
  BOOST_TEST(ld.log_density(x, &g) == want, boost::test_tools::tolerance(1e-12));
  // Central differences, h = 1e-5: truncation h²/6 |f'''| ≈ 1e-10 and
  // rounding 1e-16 |f| / h ≈ 1e-10 for |f| ≈ 10, far below 1e-6.
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp = x, xm = x;
    xp[i] += 1e-5;
    xm[i] -= 1e-5;
    const double fd = (ld.log_density(xp) - ld.log_density(xm)) / 2e-5;
    BOOST_TEST(std::abs(g[i] - fd) < 1e-6 * std::max(1.0, std::abs(fd)), "coordinate " << i << ": " << g[i] << " vs " << fd);
  }
}

BOOST_AUTO_TEST_CASE(the_checker_refuses_bad_calls_of_host_functions) {
  vireo::HostFunctions hosts;
  hosts.add(twice()).add(wave(false));
  auto compile = [&](const std::string& mean) {
    return error_of([&] { vireo::Model::from_string(normal_mean_model(mean), "m.vireo", hosts); });
  };
  std::string e = compile("twcie(mu)");
  BOOST_TEST(has(e, "unknown function 'twcie'"), e);
  BOOST_TEST(has(e, "did you mean 'twice'?"), e);
  e = compile("twice(mu, 1)");
  BOOST_TEST(has(e, "twice takes (x); got 2 arguments"), e);
  e = compile("twice(y)");  // y: real[N], the whole array
  BOOST_TEST(has(e, "twice takes x of shape scalar; got [N]"), e);
  e = error_of([&] {  // z: one value per element of the plate
    vireo::Model::from_string("data {\n  N: int\n  y: real[N]\n}\nmodel {\n  plate obs(N) {\n    z ~ Normal(0, 1)\n"
                              "    observe y ~ Normal(twice(z), 1)\n  }\n}\n",
                              "m.vireo", hosts);
  });
  BOOST_TEST(has(e, "twice's argument x varies along plate 'obs'"), e);
  e = error_of([&] {
    vireo::Model::from_string("model {\n  mu ~ Normal(0, 1)\n  observe 1.0 ~ Normal(twice([mu, mu]), 1)\n}\n", "m.vireo",
                              hosts);
  });
  BOOST_TEST(has(e, "twice takes x of shape scalar; got [2]"), e);
  BOOST_TEST(has(e, "m.vireo:3:"), e);
  // No gradient, and the argument depends on the latent mu: refused, naming both.
  e = error_of([&] {
    vireo::Model::from_string(
        "data {\n  K: int\n  w: real[K]\n}\nmodel {\n  v: real[K] ~ Normal(0, 1)\n  let t = v + 1\n"
        "  observe w ~ Normal(wave(t, w), 1)\n}\n",
        "m.vireo", hosts);
  });
  BOOST_TEST(has(e, "host function 'wave' has no gradient, but its argument depends on latent site 'v'"), e);
  BOOST_TEST(has(e, "m.vireo:8:"), e);
  // Through a deterministic site, and from a param.
  vireo::HostFunctions plain;
  plain.add(twice(false));
  e = error_of([&] {
    vireo::Model::from_string("model {\n  mu ~ Normal(0, 1)\n  deterministic m = mu * 3\n"
                              "  factor f = twice(m)\n}\n", "m.vireo", plain);
  });
  BOOST_TEST(has(e, "host function 'twice' has no gradient, but its argument depends on"), e);
  BOOST_TEST(has(e, "m.vireo:4:"), e);
  e = error_of([&] {
    vireo::Model::from_string("model {\n  param p: real = 0\n  factor f = twice(p)\n}\n", "m.vireo",
                              plain);
  });
  BOOST_TEST(has(e, "depends on param 'p'"), e);
  // On data only it needs none: the model compiles and fits.
  const char* on_data = "data {\n  K: int\n  w: real[K]\n}\nmodel {\n  s ~ Normal(0, 1)\n"
                        "  observe w ~ Normal(s * wave(w, w), 1)\n}\n";
  vireo::Model ok = vireo::Model::from_string(on_data, "ok.vireo", hosts);
  vireo::Data d = vireo::Data::from_arrays(ok, {{"K", {{}, {2}}}, {"w", {{2}, {0.5, 1.5}}}});
  vireo::Fit fit(ok, d, {.seed = 1});
  fit.run(50);
  BOOST_TEST(std::isfinite(fit.running_elbo()));
  // Without the table the same file does not know the name.
  e = error_of([&] { vireo::Model::from_string(on_data, "ok.vireo"); });
  BOOST_TEST(has(e, "unknown function 'wave'"), e);
}

BOOST_AUTO_TEST_CASE(registration_is_validated) {
  vireo::HostFunctions hosts;
  hosts.add(twice());
  auto add = [&](vireo::HostFunction f) { return error_of([&] { hosts.add(std::move(f)); }, vireo::Error::Kind::Usage); };
  BOOST_TEST(has(add(twice()), "host function 'twice' is added twice"));
  vireo::HostFunction f = twice();
  f.name = "exp";
  BOOST_TEST(has(add(f), "'exp' is a builtin"));
  f.name = "2x";
  BOOST_TEST(has(add(f), "is not an identifier"));
  f = wave(false);
  f.result = {-1, -1};
  BOOST_TEST(has(add(f), "more than one extent -1"));
  f = wave(false);
  f.value = nullptr;
  BOOST_TEST(has(add(f), "has no value function"));
}

BOOST_AUTO_TEST_CASE(the_site_graph_shows_host_functions) {
  vireo::HostFunctions hosts;
  hosts.add(twice());
  vireo::Model m = vireo::Model::from_string(normal_mean_model("twice(mu)"), "twice.vireo", hosts);
  const std::string text = m.graph_text();
  BOOST_TEST(has(text, "observe y = y ~ Normal(twice(mu), 1)"), text);
  BOOST_TEST(has(text, "edge model host twice -> y"), text);
  const std::string dot = m.graph_dot();
  BOOST_TEST(has(dot, "\"host:twice\" [label=\"twice()\""), dot);
  BOOST_TEST(has(dot, "\"host:twice\" -> \"y\""), dot);
}

// Tables belong to the models compiled with them: the same name means
// different functions in two models, and adding to a table after compiling
// changes no model.
BOOST_AUTO_TEST_CASE(host_functions_are_scoped_per_model) {
  vireo::HostFunctions a, b;
  a.add(twice());
  vireo::HostFunction thrice = twice();
  thrice.value = [](const std::vector<Array>& x) { return Array{{}, {3 * x[0].values[0]}}; };
  thrice.gradient = [](const std::vector<Array>&, const Array&, const Array& g) {
    return std::vector<Array>{Array{{}, {3 * g.values[0]}}};
  };
  b.add(thrice);
  vireo::Model ma = vireo::Model::from_string(normal_mean_model("twice(mu)"), "a.vireo", a);
  vireo::Model mb = vireo::Model::from_string(normal_mean_model("twice(mu)"), "b.vireo", b);
  a.add(wave(true));
  vireo::Data da = data_for(ma), db = data_for(mb);
  vireo::LogDensity la(ma, da), lb(mb, db);
  // At mu = 1: Σ log N(y_i; k, 1) for k = 2 and 3, plus the same prior.
  double sa = 0, sb = 0;
  for (double y : ys) sa += -0.5 * (y - 2) * (y - 2), sb += -0.5 * (y - 3) * (y - 3);
  BOOST_TEST(la.log_density({1.0}) - lb.log_density({1.0}) == sa - sb, boost::test_tools::tolerance(1e-12));
  std::string e = error_of([&] {
    vireo::Model::from_string(normal_mean_model("wave([mu], [1.0])"), "a.vireo", b);
  });
  BOOST_TEST(has(e, "unknown function 'wave'"), e);
}

BOOST_AUTO_TEST_CASE(a_failing_host_function_is_a_run_error_at_the_call) {
  vireo::HostFunctions hosts;
  vireo::HostFunction f = twice();
  f.value = [](const std::vector<Array>&) -> Array { throw std::runtime_error("out of range"); };
  hosts.add(f);
  vireo::Model m = vireo::Model::from_string(normal_mean_model("twice(mu)"), "bad.vireo", hosts);
  vireo::Data d = data_for(m);
  std::string e = error_of([&] { vireo::Fit fit(m, d, {.seed = 1}); fit.run(5); }, vireo::Error::Kind::Run);
  BOOST_TEST(has(e, "host function 'twice' failed: out of range"), e);
  BOOST_TEST(has(e, "bad.vireo:8:"), e);
}
