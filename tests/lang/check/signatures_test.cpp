// The builtin table: every builtin of LANGUAGE.md is a row; argument binding
// and shape rules.
#include <boost/test/unit_test.hpp>

#include "stdlib/signatures/shape.hpp"
#include "stdlib/signatures/signature.hpp"

namespace sig = vireo::sig;

BOOST_AUTO_TEST_CASE(every_builtin_of_the_language_is_a_row) {
  for (const char* f : {"exp", "log", "log1p", "expm1", "sqrt", "abs", "pow", "sin", "cos", "tanh", "sigmoid", "logit",
                        "softplus", "relu", "softmax", "log_softmax", "logsumexp", "sum", "mean", "min", "max", "dot",
                        "transpose", "zeros", "ones", "fill", "arange", "one_hot", "size", "detach"}) {
    const sig::Signature* s = sig::find(f);
    BOOST_TEST_REQUIRE(s, f);
    BOOST_TEST(!s->is_distribution(), f);
  }
  for (const char* d : {"Normal", "HalfNormal", "LogNormal", "Cauchy", "HalfCauchy", "StudentT", "Laplace",
                        "Exponential", "Gamma", "InverseGamma", "Beta", "Uniform", "Bernoulli", "Binomial",
                        "Categorical", "Poisson", "Geometric", "NegativeBinomial", "MultivariateNormal", "Dirichlet"}) {
    const sig::Signature* s = sig::find(d);
    BOOST_TEST_REQUIRE(s, d);
    BOOST_TEST(s->is_distribution(), d);
    BOOST_TEST(sig::get(s->id).name == d);
  }
  for (const char* i : {"init_normal", "init_uniform", "glorot_uniform", "he_normal"}) {
    const sig::Signature* s = sig::find(i);
    BOOST_TEST_REQUIRE(s, i);
    BOOST_TEST(s->is_initializer(), i);  // valid only as a param's initial value
  }
  BOOST_TEST(sig::find("init_normal")->describe() == "init_normal(loc, scale)");
  BOOST_TEST(sig::find("Normal")->describe() == "Normal(loc, scale)");
  BOOST_TEST(sig::find("Binomial")->describe() == "Binomial(total_count, probs | logits)");
  BOOST_TEST(sig::find("MultivariateNormal")->describe() == "MultivariateNormal(loc, covariance_matrix | scale_tril)");
  BOOST_TEST(sig::find("Categorical")->discrete);
  BOOST_TEST((sig::find("HalfCauchy")->support == sig::Support::Positive));
  BOOST_TEST((sig::find("Dirichlet")->support == sig::Support::Simplex));
  BOOST_TEST(sig::find("Dirichlet")->event_rank == 1);
}

BOOST_AUTO_TEST_CASE(binding_arguments) {
  const sig::Signature& bin = *sig::find("Binomial");
  sig::Binding b = sig::bind_arguments(bin, {"", "logits"});
  BOOST_TEST(b.ok());
  BOOST_TEST(b.param_of_arg[0] == 0);
  BOOST_TEST(b.param_of_arg[1] == 2);
  b = sig::bind_arguments(bin, {"", ""});  // positional goes to the group's first member
  BOOST_TEST(b.ok());
  BOOST_TEST(b.param_of_arg[1] == 1);
  b = sig::bind_arguments(bin, {"total_count"});
  BOOST_TEST_REQUIRE(!b.ok());
  BOOST_TEST(b.errors[0].message == "Binomial needs 'probs' or 'logits'");
  b = sig::bind_arguments(*sig::find("zeros"), {"", ""});
  BOOST_TEST(b.ok());
  BOOST_TEST(b.variadic_count == 2);
  b = sig::bind_arguments(*sig::find("Normal"), {"", "", ""});
  BOOST_TEST_REQUIRE(!b.ok());
  BOOST_TEST(b.errors[0].message == "Normal takes (loc, scale); got 3 arguments");
}

BOOST_AUTO_TEST_CASE(shape_rules) {
  using sig::Dim;
  sig::Shape nd{{Dim::named("N"), Dim::named("D")}}, d{{Dim::named("D")}}, n{{Dim::named("N")}};
  BOOST_TEST(sig::matmul(nd, d).shape->str() == "[N]");
  BOOST_TEST(!sig::matmul(nd, n).error.empty());
  BOOST_TEST(sig::broadcast(nd, d).shape->str() == "[N, D]");
  BOOST_TEST(!sig::broadcast(n, d).error.empty());
  BOOST_TEST(sig::broadcast(sig::Shape{{Dim::fixed(3)}}, n).error.empty());  // 3 may equal N
  // Plate-tagged dimensions align by tag whatever their position.
  Dim a = Dim::named("A"), b = Dim::named("B");
  a.tag = 0;
  b.tag = 1;
  BOOST_TEST(sig::broadcast(sig::Shape{{a}}, sig::Shape{{a, b}}).shape->str() == "[A, B]");
  BOOST_TEST(sig::broadcast(sig::Shape{{a}}, sig::Shape{{b}}).shape->str() == "[A, B]");
  // Categorical: batch shape is probs without its last dimension.
  std::vector<sig::ShapeArg> args(2);
  args[0].present = false;
  args[1].shape = nd;
  BOOST_TEST(sig::result_shape(*sig::find("Categorical"), args).shape->str() == "[N]");
  std::vector<sig::ShapeArg> fill(2);
  fill[0].shape = sig::Shape{};
  fill[1].shape = sig::Shape{};
  fill[1].as_dim = Dim::named("K");
  BOOST_TEST(sig::result_shape(*sig::find("fill"), fill).shape->str() == "[K]");
}
