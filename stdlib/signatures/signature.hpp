// The one table of builtins: every function and distribution of the standard
// library (../shared/LANGUAGE.md), one row each. The checker reads it to
// validate calls and infer shapes; the lowering resolves calls to a row's id;
// the runtime binds implementations to rows by name. Adding a builtin is one
// row in signature_table.cpp — no class per builtin.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vireo::sig {

// Index of a row in signatures(); stable for one build.
using BuiltinId = std::int32_t;
inline constexpr BuiltinId no_builtin = -1;

// An Initializer (init_normal, glorot_uniform, …) is valid only as a
// `param`'s initial value: it is shaped by the param's declared type and drawn
// from the run's seed in a stream of the parameter's name (runtime/interp/site.cpp).
// A Host function is a row that a host program registered for one model
// (host_table.hpp): not in signatures(), but in that model's HostTable.
enum class Callable : std::uint8_t { Function, Distribution, Initializer, Host };

// The element kind of a result (a function's value, a distribution's sample).
enum class ValueKind : std::uint8_t {
  Int,
  Real,
  Bool,
  SameAsFirst,  // the kind of the first argument (abs, sum, detach, min, max, fill's value)
};

// Where a distribution's samples live, so that automatic guides can pick a
// transform from the unconstrained space.
enum class Support : std::uint8_t {
  None,                // functions
  Real,                // ℝ
  Positive,            // (0, ∞)
  UnitInterval,        // (0, 1)
  Interval,            // (low, high): the distribution's own `low`, `high` arguments
  Simplex,             // last dimension sums to 1
  RealVector,          // ℝ^D (MultivariateNormal)
  Boolean,             // {0, 1}
  NonNegativeInteger,  // {0, 1, 2, …}
  IntegerUpToCount,    // {0, …, total_count}
  Category,            // {0, …, K−1}, K the last dimension of probs/logits
};

// How a result's shape follows from the arguments' shapes (see shape.hpp).
enum class ShapeRule : std::uint8_t {
  Elementwise,          // broadcast of every argument (NumPy rules)
  Reduce,               // a scalar: sum, mean, logsumexp
  ReduceOrElementwise,  // min, max: one argument reduces, two broadcast
  SameAsFirst,          // softmax, log_softmax, detach
  Dot,                  // two vectors of one length -> scalar
  Transpose,            // [a, b] -> [b, a]
  Dense,                // dense(x [.., k], W [k, m], b [m]) -> [.., m]
  OneHot,               // shape(x) + [num_classes]
  SizeArgs,             // zeros(d…), ones(d…): the arguments' values are the dims
  Fill,                 // fill(value, d…): the trailing arguments' values are the dims
  Arange,               // arange(stop) / arange(start, stop): a vector
  Size,                 // a scalar int
  // distributions: the batch shape (the event shape is given by event_rank)
  Batch,             // batch = broadcast of all parameters, event = []
  CategoricalBatch,  // batch = probs/logits without their last dimension
  VectorEvent,       // MultivariateNormal: event [D] = loc's last dim; batch = loc[:-1] with matrix[:-2]
  SimplexEvent,      // Dirichlet: event [K] = concentration's last dim; batch = the rest
  // initialisers: the shape of the param they initialise (the checker's check_param)
  ParamShape,
  // host functions: the shapes the host declared (HostRow::arg_shapes, result_shape)
  Declared,
};

// Whether a function's result element may combine several elements of its
// argument — for a plate-indexed argument, several plate elements — which
// decides where an ELBO may Rao-Blackwellise per plate element
// (runtime/infer/dependencies.hpp). A row that says Never but mixes gives a
// silently biased gradient, so every function row states it.
enum class Mixing : std::uint8_t {
  Never,            // elementwise: result element i reads argument element i only
  Always,           // reductions, last-axis normalisations, permutations, contractions
  WithOneArgument,  // min, max: the one-argument form reduces, the two-argument form is elementwise
};

// The values a distribution's parameter takes, elementwise. The checker
// refuses a constant argument outside it; stdlib/dist checks the same at run
// time (checks.hpp) for values known only then.
enum class Domain : std::uint8_t {
  Any,                 // no constraint known (functions' parameters, matrices)
  Real,                // finite
  Positive,            // > 0
  NonNegative,         // >= 0
  Probability,         // in [0, 1]
  NonNegativeInteger,  // 0, 1, 2, …
};
bool in_domain(Domain d, double x);
const char* domain_words(Domain d);  // "positive", "in [0, 1]", …

struct Parameter {
  std::string_view name;
  bool required = true;
  std::string_view default_text;  // the default as the user would write it; empty if none
  // Parameters with the same group (>= 0) are exclusive alternatives:
  // exactly one of them must be given (`probs | logits`).
  int alternative = -1;
  Domain domain = Domain::Any;
  std::string_view below;  // a parameter this one must be less than (Uniform's low < high); empty if none
};

struct Signature {
  BuiltinId id = no_builtin;
  std::string_view name;
  Callable callable = Callable::Function;
  std::vector<Parameter> params;
  // Extra positional arguments accepted after params (zeros(N, D)): minimum count, or -1 for none.
  int variadic_min = -1;
  std::string_view variadic_name;  // how the extras are described: "dims"
  ValueKind kind = ValueKind::Real;
  ShapeRule shape = ShapeRule::Elementwise;
  Support support = Support::None;
  bool discrete = false;
  Mixing mixing = Mixing::Never;  // functions: see Mixing
  int event_rank = 0;            // 1 for MultivariateNormal and Dirichlet
  bool reparameterized = false;  // has a pathwise (reparameterised) sampler
  std::string_view summary;      // one line, for help texts

  bool is_distribution() const { return callable == Callable::Distribution; }
  bool is_initializer() const { return callable == Callable::Initializer; }
  // "(loc, scale)", "(total_count, probs | logits)", "(value, dims…)"
  std::string describe_params() const;
  // "Normal(loc, scale)"
  std::string describe() const { return std::string(name) + describe_params(); }
  int param_index(std::string_view param) const;  // -1 when absent
  // Whether a call with `arguments` present (parameters and extras) may mix
  // its argument's elements.
  bool mixes_elements(int arguments) const {
    return mixing == Mixing::Always || (mixing == Mixing::WithOneArgument && arguments < 2);
  }
};

// Every row, indexed by BuiltinId.
const std::vector<Signature>& signatures();
const Signature* find(std::string_view name);  // nullptr when not a builtin
const Signature& get(BuiltinId id);
std::vector<std::string> names(Callable which);

// ---- binding a call's arguments to a signature's parameters ---------------
// Positional arguments fill the parameters in order, an exclusive group
// counting as one position (its first member); named arguments go to the
// parameter of that name. Operands of a lowered call are in parameter order,
// absent optional parameters as -1, then the variadic extras.
struct BindError {
  int arg = -1;  // index of the offending argument, or -1 for the call as a whole
  std::string message;
  std::string hint;
};
struct Binding {
  std::vector<int> param_of_arg;  // per argument: parameter index, or params.size()+k for the k-th variadic extra
  int variadic_count = 0;
  std::vector<BindError> errors;
  bool ok() const { return errors.empty(); }
};
// arg_names[i] is the name of argument i, empty for a positional one.
Binding bind_arguments(const Signature& sig, const std::vector<std::string>& arg_names);

}  // namespace vireo::sig
