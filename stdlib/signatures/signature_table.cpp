// The rows of the builtin table: LANGUAGE.md's standard library, functions
// first, then distributions (parameter names as in PyTorch/Pyro).
#include "stdlib/signatures/signature.hpp"

namespace vireo::sig {
namespace {

using C = Callable;
using K = ValueKind;
using R = ShapeRule;
using S = Support;

using D = Domain;

Parameter req(std::string_view n, D domain = D::Any, std::string_view below = {}) {
  return {n, true, {}, -1, domain, below};
}
Parameter opt(std::string_view n, std::string_view def = {}) { return {n, false, def, -1, D::Any, {}}; }
Parameter alt(std::string_view n, int group, D domain = D::Any) { return {n, false, {}, group, domain, {}}; }

Signature fn(std::string_view name, std::vector<Parameter> ps, K kind, R shape, std::string_view summary) {
  Signature s;
  s.name = name;
  s.callable = C::Function;
  s.params = std::move(ps);
  s.kind = kind;
  s.shape = shape;
  s.summary = summary;
  return s;
}

Signature unary(std::string_view name, std::string_view summary, K kind = K::Real) {
  return fn(name, {req("x")}, kind, R::Elementwise, summary);
}

Signature mixing(Signature s, Mixing m = Mixing::Always) {
  s.mixing = m;
  return s;
}

Signature variadic(Signature s, int min, std::string_view what) {
  s.variadic_min = min;
  s.variadic_name = what;
  return s;
}

Signature initializer(std::string_view name, std::vector<Parameter> ps, std::string_view summary) {
  Signature s = fn(name, std::move(ps), K::Real, R::ParamShape, summary);
  s.callable = C::Initializer;
  return s;
}

Signature dist(std::string_view name, std::vector<Parameter> ps, S support, bool discrete, bool reparam,
               std::string_view summary, R shape = R::Batch, int event_rank = 0) {
  Signature s;
  s.name = name;
  s.callable = C::Distribution;
  s.params = std::move(ps);
  s.kind = discrete ? K::Int : K::Real;
  s.shape = shape;
  s.support = support;
  s.discrete = discrete;
  s.event_rank = event_rank;
  s.reparameterized = reparam;
  s.summary = summary;
  return s;
}

std::vector<Signature> make_table() {
  std::vector<Signature> t = {
      // ---- elementwise functions
      unary("exp", "e^x"),
      unary("log", "natural logarithm"),
      unary("log1p", "log(1 + x), accurate near 0"),
      unary("expm1", "e^x - 1, accurate near 0"),
      unary("sqrt", "square root"),
      unary("abs", "absolute value", K::SameAsFirst),
      fn("pow", {req("x"), req("y")}, K::Real, R::Elementwise, "x^y"),
      unary("sin", "sine"),
      unary("cos", "cosine"),
      unary("tanh", "hyperbolic tangent"),
      unary("sigmoid", "1 / (1 + e^-x)"),
      unary("logit", "log(x / (1 - x))"),
      unary("softplus", "log(1 + e^x)"),
      unary("relu", "max(x, 0)"),
      // ---- along the last dimension / reductions
      mixing(fn("softmax", {req("x")}, K::Real, R::SameAsFirst, "exp(x) normalised over the last dimension")),
      mixing(fn("log_softmax", {req("x")}, K::Real, R::SameAsFirst, "log of softmax(x)")),
      mixing(fn("logsumexp", {req("x")}, K::Real, R::Reduce, "log of the sum of exp(x)")),
      mixing(fn("sum", {req("x")}, K::SameAsFirst, R::Reduce, "sum of all elements")),
      mixing(fn("mean", {req("x")}, K::Real, R::Reduce, "mean of all elements")),
      mixing(fn("min", {req("x"), opt("y")}, K::SameAsFirst, R::ReduceOrElementwise,
                "smallest element of x, or the elementwise minimum of x and y"), Mixing::WithOneArgument),
      mixing(fn("max", {req("x"), opt("y")}, K::SameAsFirst, R::ReduceOrElementwise,
                "largest element of x, or the elementwise maximum of x and y"), Mixing::WithOneArgument),
      mixing(fn("dot", {req("x"), req("y")}, K::Real, R::Dot, "inner product of two vectors")),
      mixing(fn("transpose", {req("x")}, K::SameAsFirst, R::Transpose, "a matrix's transpose")),
      mixing(fn("dense", {req("x"), req("W"), req("b")}, K::Real, R::Dense,
                "a dense layer x @ W + b (W [in, out], b [out]; per plate element, a batch of rows)")),
      // ---- construction
      variadic(fn("zeros", {}, K::Real, R::SizeArgs, "an array of zeros of the given dims"), 1, "dims"),
      variadic(fn("ones", {}, K::Real, R::SizeArgs, "an array of ones of the given dims"), 1, "dims"),
      variadic(fn("fill", {req("value")}, K::SameAsFirst, R::Fill, "an array of the given dims filled with value"), 1,
               "dims"),
      fn("arange", {req("start"), opt("stop")}, K::Int, R::Arange,
         "the integers start, …, stop-1 (one argument: 0, …, start-1)"),
      fn("one_hot", {req("x"), req("num_classes")}, K::Int, R::OneHot, "indicator vectors of integer classes"),
      fn("size", {req("x"), opt("dim", "0")}, K::Int, R::Size, "length of a dimension (the first by default)"),
      fn("detach", {req("x")}, K::SameAsFirst, R::SameAsFirst, "x with no gradient flowing through it"),
      // ---- random initialisers: only as a param's initial value (`param W: real[4, 3] = glorot_uniform()`);
      //      fan_in, fan_out = the declared shape's last two dims (a vector: its length twice; a scalar: 1)
      initializer("init_normal", {req("loc", D::Real), req("scale", D::Positive)}, "independent Normal(loc, scale) draws"),
      initializer("init_uniform", {req("low", D::Real, "high"), req("high", D::Real)},
                  "independent Uniform(low, high) draws"),
      initializer("glorot_uniform", {}, "Uniform(-a, a), a = sqrt(6 / (fan_in + fan_out))"),
      initializer("he_normal", {}, "Normal(0, sqrt(2 / fan_in))"),

      // ---- distributions
      dist("Normal", {req("loc", D::Real), req("scale", D::Positive)}, S::Real, false, true, "Gaussian"),
      dist("HalfNormal", {req("scale", D::Positive)}, S::Positive, false, true, "|Normal(0, scale)|"),
      dist("LogNormal", {req("loc", D::Real), req("scale", D::Positive)}, S::Positive, false, true, "exp of a Normal"),
      dist("Cauchy", {req("loc", D::Real), req("scale", D::Positive)}, S::Real, false, true, "Cauchy"),
      dist("HalfCauchy", {req("scale", D::Positive)}, S::Positive, false, true, "|Cauchy(0, scale)|"),
      dist("StudentT", {req("df", D::Positive), req("loc", D::Real), req("scale", D::Positive)}, S::Real, false, true,
           "Student's t"),
      dist("Laplace", {req("loc", D::Real), req("scale", D::Positive)}, S::Real, false, true, "double exponential"),
      dist("Exponential", {req("rate", D::Positive)}, S::Positive, false, true, "exponential"),
      dist("Gamma", {req("concentration", D::Positive), req("rate", D::Positive)}, S::Positive, false, true, "gamma"),
      dist("InverseGamma", {req("concentration", D::Positive), req("rate", D::Positive)}, S::Positive, false, true,
           "inverse gamma"),
      dist("Beta", {req("concentration1", D::Positive), req("concentration0", D::Positive)}, S::UnitInterval, false,
           true, "beta"),
      dist("Uniform", {req("low", D::Real, "high"), req("high", D::Real)}, S::Interval, false, true,
           "uniform on (low, high)"),
      dist("Bernoulli", {alt("probs", 0, D::Probability), alt("logits", 0, D::Real)}, S::Boolean, true, false,
           "a coin flip"),
      dist("Binomial", {req("total_count", D::NonNegativeInteger), alt("probs", 0, D::Probability), alt("logits", 0, D::Real)},
           S::IntegerUpToCount, true, false, "number of successes in total_count trials"),
      dist("Categorical", {alt("probs", 0, D::NonNegative), alt("logits", 0, D::Real)}, S::Category, true, false,
           "one of K categories (the last dimension)", R::CategoricalBatch),
      dist("Poisson", {req("rate", D::NonNegative)}, S::NonNegativeInteger, true, false, "Poisson counts"),
      dist("Geometric", {req("probs", D::Probability)}, S::NonNegativeInteger, true, false,
           "failures before the first success"),
      dist("NegativeBinomial", {req("total_count", D::Positive), req("probs", D::Probability)}, S::NonNegativeInteger,
           true, false, "failures before total_count successes"),
      dist("MultivariateNormal", {req("loc", D::Real), alt("covariance_matrix", 0), alt("scale_tril", 0)},
           S::RealVector, false, true, "Gaussian vector", R::VectorEvent, 1),
      dist("Dirichlet", {req("concentration", D::Positive)}, S::Simplex, false, true, "a point on the simplex",
           R::SimplexEvent, 1),
  };
  for (std::size_t i = 0; i < t.size(); ++i) t[i].id = static_cast<BuiltinId>(i);
  return t;
}

}  // namespace

const std::vector<Signature>& signatures() {
  static const std::vector<Signature> table = make_table();  // immutable after first use
  return table;
}

}  // namespace vireo::sig
