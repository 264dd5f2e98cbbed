// Vireo's embedding API: the only header a host program (and the `vireo`
// command) includes. Load a model from a file or a string (parsed and
// checked), give it data (JSON or the host's arrays), fit a variational
// guide by stochastic variational inference, and read posterior draws and
// summaries. Every failure is a vireo::Error carrying its diagnostics. The
// implementation stays behind pointers (runtime/api), so this header depends
// on the standard library only.
//
// Threads: a Model and a Data are immutable once made and may be shared by
// any number of Fits, LogDensitys and sample_prior calls on different
// threads; each Fit (and each LogDensity) must be used by one thread at a
// time (it owns its tape, random generator, parameter store and handlers;
// nothing is shared between fits, and the library's tables are immutable).
// Fits on threads give the same bytes as the same fits run one after another.
// Limits for models from untrusted authors: vireo::Limits.
//
//   vireo::Model model = vireo::Model::from_file("eight_schools.vireo");
//   vireo::Data data = vireo::Data::from_json_file(model, "eight_schools.json");
//   vireo::Fit fit(model, data, {.optim = vireo::Optimizer::Adam, .lr = 0.01, .seed = 1});
//   for (int i = 0; i < 2000; ++i) fit.step();
//   vireo::DrawTable draws = fit.draws(1000);
//   std::cout << fit.summarize(draws).to_json();
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// The version of this header; vireo::version() is the library's (a host
// can compare the two to catch a header and a library of different builds).
#define VIREO_VERSION_MAJOR 0
#define VIREO_VERSION_MINOR 1
#define VIREO_VERSION_STRING "0.1"

namespace vireo {

// The implementation's types (runtime/api): declared here, defined only
// there, so a host can name none of them. Access is how runtime/api reaches
// into the classes below.
namespace detail {
struct ModelImpl;
struct DataImpl;
struct FitImpl;
struct LogDensityImpl;
struct HostTable;
struct Access;
}  // namespace detail

// "0.1": the version the library was built as.
const char* version();

// One message about a place in a .vireo file (or a data file).
struct Diagnostic {
  enum class Severity { Error, Warning, Note };
  Severity severity = Severity::Error;
  std::string file;
  int line = 0;    // 1-based; 0 when the message is about the file as a whole
  int column = 0;  // 1-based, in bytes
  std::string message;
  std::string hint;  // what to do; may be empty
  // Data problems only: the data item ("sigma"), the element index ("[3]",
  // 0-based as the language indexes; empty for the whole item) and the line
  // of its declaration in the model file (0 when not a declared item).
  std::string item;
  std::string index;
  int declaration_line = 0;
};

// Thrown by every function of this API. what() is the rendered report
// (file:line:col: error: message, the source line, a caret, the hint) of
// every diagnostic; diagnostics() has them one by one; kind() says which
// stage failed.
class Error : public std::runtime_error {
 public:
  enum class Kind {
    Model,    // the .vireo file cannot be read, parsed or checked
    Data,     // the data do not match the data block (or cannot be read)
    Run,      // running the model or guide failed (a site, a shape, a NaN…)
    Options,  // a fit option is unknown or refused (--optim lbfgs, …)
    Io,       // an output could not be written, a saved store not read
    Usage,    // the API was handed something it cannot use (a draw table edited out of shape, a missing column)
    Limit,    // a limit of untrusted models was reached (vireo::Limits, FitOptions::max_depth)
  };
  Error(const std::string& rendered, std::vector<Diagnostic> diagnostics, Kind kind = Kind::Model);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  Kind kind() const { return kind_; }

 private:
  std::vector<Diagnostic> diagnostics_;
  Kind kind_;
};

// An array from the host: its shape (empty for a scalar) and its values in
// row-major order (a matrix is a list of rows). Integers and booleans are
// given as doubles holding whole numbers (0/1 for bool).
struct Array {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

// A C++ function that model files call like a builtin: `y ~ Normal(f(x), 1)`.
// Given to Model::from_file / from_string in a HostFunctions; the checker
// then knows its name (an unknown name suggests it), its arity and its
// arguments' shapes, and the site graph shows which sites it feeds.
//   vireo::HostFunctions hosts;
//   hosts.add({.name = "shift", .params = {{"x", {}}}, .result = {},
//              .value = [](const std::vector<vireo::Array>& a) { return vireo::Array{{}, {a[0].values[0] + 1}}; },
//              .gradient = [](const std::vector<vireo::Array>&, const vireo::Array&, const vireo::Array& g) {
//                return std::vector<vireo::Array>{g}; }});
//   vireo::Model model = vireo::Model::from_file("m.vireo", hosts);
// Without `gradient`, a call whose arguments may depend on a latent site or
// a param (so that the ELBO's or LogDensity's gradient would flow through
// it) is refused: by the checker (vireo::Error of kind Model naming the
// function and the site) where the program shows the dependence, else when
// it runs (kind Run). Calls on data, or on values computed from data only,
// need none. The functions are called on the thread that steps the fit (or
// on a thread of the interpreter's own for calls nested deeper than 100 fn
// calls, one at a time); a model shared by fits on several threads calls
// them concurrently, so they must be safe to call so. A value or gradient
// that throws ends the step with a vireo::Error (kind Run) at the call.
struct HostFunction {
  std::string name;  // an identifier, not a builtin's name
  struct Parameter {
    std::string name;                  // for messages and named arguments
    std::vector<std::int64_t> shape;   // {} a scalar; an extent of -1 takes any size
  };
  std::vector<Parameter> params;       // the arity is params.size()
  // The result's shape; at most one extent -1, taken from the number of
  // values `value` returns (a result of another count is an error).
  std::vector<std::int64_t> result;
  // The value at the arguments (each of its declared shape, row-major).
  // The shape of the Array returned is ignored: `result` decides it.
  std::function<Array(const std::vector<Array>& args)> value;
  // Optional: the vector-Jacobian product — given the arguments, the result
  // and d L / d result (of the result's shape), d L / d argument for every
  // argument, each with as many values as its argument. One call per
  // backward pass that reaches the call.
  std::function<std::vector<Array>(const std::vector<Array>& args, const Array& result, const Array& adjoint)>
      gradient;
  std::string summary;  // one line, for messages
};

// The host functions one model may call. Copied into each Model compiled
// with it (later add()s do not change models already made); there is no
// global registry, so models with different functions may be compiled and
// run on different threads.
class HostFunctions {
 public:
  HostFunctions();
  HostFunctions(const HostFunctions&);
  HostFunctions& operator=(const HostFunctions&);
  ~HostFunctions();
  // Adds `f`. Throws vireo::Error (kind Usage) when its name is not an
  // identifier, is a builtin's or was added before, a parameter's name is
  // not an identifier or repeats, a shape has an extent below -1 (or the
  // result more than one -1), or `value` is empty.
  HostFunctions& add(HostFunction f);
  std::vector<std::string> names() const;

 private:
  friend struct detail::Access;
  std::shared_ptr<const detail::HostTable> table_;
};

// A checked model: its data declarations, model, optional guide and fns,
// lowered to a site graph. Cheap to move; Data and Fit keep what they need
// of it alive on their own.
class Model {
 public:
  // Reads, parses and checks a .vireo file. Throws vireo::Error.
  static Model from_file(const std::string& path);
  // The same for program text; `name` is the file name used in messages.
  static Model from_string(const std::string& text, const std::string& name = "<string>");
  // The same with host functions the program may call (HostFunction).
  static Model from_file(const std::string& path, const HostFunctions& hosts);
  static Model from_string(const std::string& text, const std::string& name, const HostFunctions& hosts);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::string& file_name() const;
  bool has_guide() const;
  // Non-fatal diagnostics (warnings) found while checking.
  const std::vector<Diagnostic>& warnings() const;
  // The warnings rendered like errors, for printing; empty when there are none.
  std::string rendered_warnings() const;

  // Graphviz DOT of the model's sites and plates (and the guide's, on request).
  std::string graph_dot(bool include_guide = false) const;
  // The site graph as text: data, plates, sites, dependency edges.
  std::string graph_text() const;

  // Names of the model's latent (sampled, not observed) sites, in program order.
  std::vector<std::string> latent_sites() const;
  // Names of the data items, in declaration order.
  std::vector<std::string> data_names() const;


 private:
  friend struct detail::Access;
  using Impl = detail::ModelImpl;
  explicit Model(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// How Data reads its items (the overloads of Data::from_* that take it).
struct DataOptions {
  // Let the items that the model uses only as observed values (the data at
  // the root of `observe y ~ …` or `observe flips[i] ~ …`, read nowhere else
  // in the model, its fns or the data block's sizes) be left out, for
  // forward sampling (sample_prior) to draw them. Every other item — a size
  // such as `N`, a covariate such as `X`, an index — must still be given: one
  // left out throws vireo::Error (kind Data) with a diagnostic at its
  // declaration (file:line:col, the line, a caret) naming where the model
  // reads it. A Fit refuses data with items left out. The guide is not
  // looked at: forward sampling does not run it.
  bool allow_missing_observed = false;
};

// Data checked against one model's data block: shapes, integer-ness, bounds
// and finiteness of every item. A mismatch throws vireo::Error (kind Data)
// with one diagnostic per problem, each naming the item, the index and the
// declaration's line. Usable only with the model it was loaded for.
class Data {
 public:
  static Data from_json_file(const Model& model, const std::string& path);
  // `name` names the text in messages.
  static Data from_json_string(const Model& model, const std::string& json, const std::string& name = "<data>");
  static Data from_arrays(const Model& model, const std::map<std::string, Array>& arrays);
  // The same with options: with DataOptions{.allow_missing_observed = true}
  // the observed-only items may be absent (from_arrays(model, {}, options):
  // all of them), to be drawn by sample_prior.
  static Data from_json_file(const Model& model, const std::string& path, const DataOptions& options);
  static Data from_json_string(const Model& model, const std::string& json, const std::string& name,
                               const DataOptions& options);
  static Data from_arrays(const Model& model, const std::map<std::string, Array>& arrays, const DataOptions& options);

  Data(Data&&) noexcept;
  Data& operator=(Data&&) noexcept;
  ~Data();

  // Keys present in the data but not declared (ignored), as warnings.
  const std::vector<Diagnostic>& warnings() const;
  std::string rendered_warnings() const;
  // The items left out (DataOptions::allow_missing_observed), in declaration
  // order; empty for complete data.
  std::vector<std::string> missing() const;


 private:
  friend struct detail::Access;
  using Impl = detail::DataImpl;
  explicit Data(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- The fixed sets of values fit options choose from -------------------
// Each enum has its command-line spelling (to_string: "auto_normal") and a
// parser from it (parse_guide("auto_normal")), which throws vireo::Error
// (kind Options) naming the accepted spellings and the closest one.
enum class Guide { AutoNormal, AutoDiagonalNormal, AutoMvn, AutoLowrankMvn, AutoRealnvp, AutoDelta, Custom };
enum class Elbo { Trace, TraceGraph, MeanField, Enum };  // trace | tracegraph | meanfield | enum
enum class Optimizer { Adam, ClippedAdam, Sgd, Adagrad, RmsProp };
enum class Subsample { Epochs, Independent };
enum class Estimator { Standard, Stl };
enum class OnNonfinite { Skip, Stop, ShrinkLr };  // skip | stop | shrink-lr
enum class FlowClamp { Soft, Hard, None };
enum class FlowBase { Normal, StudentT };  // normal | student_t
const char* to_string(Guide v);
const char* to_string(Elbo v);
const char* to_string(Optimizer v);
const char* to_string(Subsample v);
const char* to_string(Estimator v);
const char* to_string(OnNonfinite v);
const char* to_string(FlowClamp v);
const char* to_string(FlowBase v);
Guide parse_guide(const std::string& text);
Elbo parse_elbo(const std::string& text);
Optimizer parse_optimizer(const std::string& text);
Subsample parse_subsample(const std::string& text);
Estimator parse_estimator(const std::string& text);
OnNonfinite parse_on_nonfinite(const std::string& text);
FlowClamp parse_flow_clamp(const std::string& text);
FlowBase parse_flow_base(const std::string& text);

// The options with parameters are validated builders: made only by their
// factories or parse(), which check the parameters and throw vireo::Error
// (kind Options) as `vireo run` reports a bad value, so a FitOptions never
// holds a malformed one. text() is the command line's spelling.

// tracegraph's baseline for the sites without `with baseline(...)`: a
// decaying average (beta in [0, 1)), a fixed value, leave-one-out across
// particles (needs particles >= 2), a sum of those, or none.
class Baseline {
 public:
  Baseline() : Baseline(avg()) {}  // avg, beta 0.9
  static Baseline avg(double beta = 0.9);
  static Baseline value(double x);
  static Baseline loo();
  static Baseline none();
  Baseline plus(const Baseline& other) const;  // avg().plus(loo()): "avg+loo"
  // avg | avg:BETA | value:X | loo | avg+loo | none
  static Baseline parse(const std::string& text);
  const std::string& text() const { return text_; }
  bool operator==(const Baseline& o) const { return text_ == o.text_; }

 private:
  explicit Baseline(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Where the automatic guides start: the prior's median or mean, a prior
// draw, a feasible point, or uniform in (-radius, radius) unconstrained.
class Init {
 public:
  Init() : text_("median") {}
  static Init median();
  static Init mean();
  static Init sample();
  static Init feasible();
  static Init uniform(double radius = 2);
  // median | mean | sample | feasible | uniform | uniform(R)
  static Init parse(const std::string& text);
  const std::string& text() const { return text_; }
  bool operator==(const Init& o) const { return text_ == o.text_; }

 private:
  explicit Init(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// The learning rate's schedule: constant, or parts applied one after
// another (warmup(100).then(exp(0.999))): exp(gamma) per step, step(every,
// gamma), inv_sqrt(steps), warmup(steps), plateau(steps) (FitOptions::lr_schedule).
class LrSchedule {
 public:
  LrSchedule() = default;  // constant
  static LrSchedule constant() { return {}; }
  static LrSchedule exp(double gamma);
  static LrSchedule step(long every, double gamma);
  static LrSchedule inv_sqrt(long steps);
  static LrSchedule warmup(long steps);
  static LrSchedule plateau(long steps);
  LrSchedule then(const LrSchedule& next) const;
  // exp:GAMMA | step:EVERY:GAMMA | inv_sqrt:STEPS | warmup:STEPS |
  // plateau:STEPS, joined by '+'; "" or none: constant
  static LrSchedule parse(const std::string& text);
  bool is_constant() const { return text_.empty(); }
  const std::string& text() const { return text_; }  // "" when constant
  bool operator==(const LrSchedule& o) const { return text_ == o.text_; }

 private:
  explicit LrSchedule(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Limits for models written by a host's users, so that one cannot take the
// host down: each ends the run with vireo::Error of kind Limit whose message
// says which limit, its value and how to raise it, at the source location of
// the site, loop or call being run (file:line:col, the line, a caret). The
// recursion depth is FitOptions::max_depth (and sample_prior's max_depth).
// The defaults leave room for any model of bench/MODELS.md many times over;
// `vireo run` takes them as --max-sites, --max-tape-mb and --time-limit.
struct Limits {
  // Sites (sample, observe, factor, deterministic statements run) in one
  // execution of the model or the guide: a `for` loop of 10^9 sites stops
  // at this many (1 to 10^12). A plate counts once, however large.
  long long max_sites = 100000;
  // The AD tape of one execution (its values and nodes; the gradient's
  // adjoints can take as much again as the values), in MB (1 to 10^9): an
  // array of 10^12 elements, a plate of 10^12, `zeros(n)` with a huge n
  // from the data are refused before anything is allocated.
  long long max_tape_mb = 4096;
  // Wall-clock seconds for a Fit from its construction (its steps, draws and
  // evaluations; a Fit past it refuses to run more), for one sample_prior
  // call, or for one LogDensity evaluation; checked between steps and inside
  // a long execution (at sites, loop iterations and calls). 0: no limit.
  double time_limit = 0;
};

// How to fit. A value the Fit refuses (a guide the file cannot use, a
// combination that does not go together) throws vireo::Error (kind Options)
// when the Fit is made.
//
// The options left unset (std::nullopt) take the defaults of the guide in
// use, chosen so that a fit with no options converges (Fit::defaults_for;
// `vireo run` prints them in its header); Fit::options() holds them filled in.
//   guide                 estimator  lr    init_scale  lr_schedule   particles  average_last
//   auto_normal,
//   auto_diagonal_normal  stl        0.05  0.1         constant      1          0.1
//   auto_mvn,
//   auto_lowrank_mvn      stl        0.01  1           plateau:100   1          0.1
//   auto_realnvp          stl        0.01  0.1         constant      8          0.1
//   auto_delta, custom    standard   0.01  0.1         constant      1          0.1
// Why: sticking the landing's gradient vanishes where q is the posterior, so
// a fit whose posterior lies in the guide's family settles there instead of
// jittering; averaging the last tenth of the iterates settles the rest (the
// last iterate of a constant learning rate is 0.2–0.4 posterior sd off on a
// conjugate normal mean); the joint Gaussians need the decay as well — Adam
// keeps stepping by about lr while their gradient vanishes — but only once
// the ELBO stops rising (plateau:100), or a far start stops short: on M4
// (d = 100) they end within 0.01 nat of log Z in 5000 steps, against 14 nats
// for Pyro's settings (standard, 0.1, constant lr, last iterate), and on a
// small nested-plate model within 0.02 posterior sd of its means in 2000
// steps, where inv_sqrt:100 from the first step left 2.2 sd — and the flow
// needs the particles (M5: ELBO −870 with one draw of the standard estimator,
// −817 with these).
struct FitOptions {
  // Unset: Custom when the file has a guide block, else AutoNormal.
  std::optional<Guide> guide;
  // trace (Trace_ELBO) | tracegraph (TraceGraph_ELBO: each discrete site's
  // score term weighted only by the costs downstream of it, minus a baseline)
  // | meanfield (TraceMeanField_ELBO: KL(q ‖ p) in closed form where the pair has one)
  // | enum (TraceEnum_ELBO: discrete sites of finite support summed out exactly).
  // Unset (the default): enum when the model has discrete latent sites and
  // every one can be summed out, tracegraph when it has some that cannot,
  // trace otherwise; Fit::options().elbo then says which, Fit::elbo_reason() why.
  std::optional<Elbo> elbo;
  // tracegraph: the baseline of every site without `with baseline(...)`:
  // avg (decaying average, beta 0.90; the default) | avg:BETA | value:X |
  // loo (leave-one-out across particles; needs particles >= 2) | avg+loo | none
  Baseline baseline;
  Optimizer optim = Optimizer::Adam;
  std::optional<double> lr;    // the base learning rate (unset: the guide's)
  double clip_norm = 10;       // clipped_adam: each gradient element clamped to ±clip_norm
  double lrd = 1;              // clipped_adam: lr multiplied by lrd every step
  std::optional<int> particles;  // ELBO particles per step (unset: the guide's)
  std::uint64_t seed = 0;
  // How a subsampled plate (`plate data(N, subsample = B)`) draws a step's
  // mini-batch: "epochs" (the default) takes shuffled epochs — every element
  // once per epoch, reshuffled each epoch, B fixed (a batch that reaches an
  // epoch's end continues in the next epoch's permutation); the epoch state
  // is the step count, so --save-params/--load-params resume it bit for bit
  // and evaluations (diagnose, gradient variance, evidence, draws) draw their
  // batches independently without advancing it. "independent": each step
  // draws B distinct indices afresh.
  Subsample subsample = Subsample::Epochs;
  Init init;  // median (the default) | mean | sample | feasible | uniform(R)
  // Starting values of latent sites on the constrained scale (init_to_value),
  // by site name (`x[3]` inside loops); sites not given start by `init`. Each
  // is checked against its site's support and shape when the site first
  // runs (an error names the site and the element). init_values_file: the
  // same as a JSON object {"M": 14, "eta": [0, 0]} (`--init-values`); for a
  // site in both, init_values wins.
  std::map<std::string, Array> init_values;
  std::string init_values_file;
  std::optional<double> init_scale;  // automatic guides' initial scale, unconstrained (unset: the guide's)
  // auto_realnvp (Real NVP with Andrade's 2024 stabilisers): coupling layers,
  // the hidden width of their scale and shift nets, the clamp of their
  // log-scale (soft: asymmetric atan | hard: Pyro's [-5, 3] | none), the soft
  // clamp's bounds α₊ and α₋ (both > 0), LOFT's threshold (0: no LOFT layer).
  // Sized for 2 cores; the paper used 64 layers, width 100.
  int flow_layers = 4;
  int flow_hidden = 32;
  FlowClamp flow_clamp = FlowClamp::Soft;
  double flow_alpha_pos = 0.1;
  double flow_alpha_neg = 2;
  double loft_tau = 100;
  // The flow's base distribution: normal | student_t (its degrees of freedom
  // learned per coordinate, starting at 30, for heavy-tailed posteriors).
  FlowBase flow_base = FlowBase::Normal;
  // The coupling nets' learning rate relative to lr (> 0), or 0: min(1, 100/D)
  // for D latent coordinates, which keeps Adam's noisy steps on the nets from
  // swamping a high-dimensional flow.
  double flow_net_lr = 0;
  // standard | stl: the path-derivative ("sticking the landing") gradient of
  // every guide but auto_delta (hand-written ones too), whose variance
  // vanishes at the exact posterior (unset: the guide's). For a hand-written
  // guide the guide block runs twice per draw.
  std::optional<Estimator> estimator;

  // Stability. A step whose loss or gradient is not finite is never applied;
  // its report names the first site and term where the non-finite value arose.
  OnNonfinite on_nonfinite = OnNonfinite::Skip;  // skip | stop (at the first) | shrink-lr (halve lr, go on)
  int max_nonfinite = 20;             // refused steps in a row that stop the fit (skip, shrink-lr)
  double clip_grad_norm = 0;          // > 0: the global gradient norm clipped to this, any optimizer
  double clip_value = 0;              // > 0: every gradient element clamped to ±clip_value
  // Learning-rate schedule: exp:GAMMA | step:EVERY:GAMMA | inv_sqrt:STEPS |
  // warmup:STEPS | plateau:STEPS, joined by '+' (warmup:100+exp:0.999); "" or
  // none: constant (unset: the guide's). plateau:N keeps the rate constant
  // while the ELBO rises — until three blocks of N steps in a row each
  // average no higher than the block before — and decays it as inv_sqrt:N
  // from there (runtime/optim/schedule.hpp; lr_decay_start() says where).
  std::optional<LrSchedule> lr_schedule;
  long kl_anneal = 0;     // > 0: latent sites' log p and log q weighted from kl_floor up to 1 over these steps
  double kl_floor = 0.01;
  // Iterate averaging: run(n) ends on the parameters' mean over the last
  // average_last of all the steps taken, those before a load_params too
  // (unconstrained space; 0: off, the last iterate; unset: the guide's, 0.1);
  // only this run's steps
  // are averaged when the window starts before it. Draws, summaries and
  // saved files use the averaged parameters; the next step trains on from
  // the last iterate (saved with them), so a run split by a save and a load
  // gives the same bytes as one that never stopped.
  // At a constant learning rate the iterates jitter around where the fit
  // settles; their tail mean lies closer (Polyak–Ruppert). M3, 3000 steps of
  // Adam 0.05 with 1 particle: 0.1 adds about 0.35 nats to the final ELBO.
  std::optional<double> average_last;
  // The deepest chain of nested fn calls an execution may make (1 to
  // 100000): it stops a recursion that does not end. Deep calls run on stack
  // segments of their own, so the host's stack is safe at any setting.
  int max_depth = 200;
  // Limits for untrusted models (vireo::Limits above).
  Limits limits;
  // Threads a step may use (at least 1; the command line's --threads
  // defaults to the machine's cores): the particles of a step run in
  // parallel, and the large array operations of a big plate (elementwise
  // kernels, sums, the rows of a matrix product, a site's normal draws) are
  // split into chunks of a fixed size that run in parallel. The results are
  // the same, bit for bit, for any number of threads: each particle and each
  // chunk draws from a stream keyed by (seed, step, particle, chunk), and
  // sums across particles and chunks are taken in their order. With more
  // than one thread, host functions (Model::add_function) may be called from
  // several threads at once.
  int threads = 1;
  // Replay recorded steps (README, "Steps that run without the
  // interpreter"): when the model's structure cannot depend on latent
  // values, a step is recorded once and later steps rerun its arithmetic
  // alone. The numbers are the same, bit for bit, either way; false only
  // to compare or to measure.
  bool replay_steps = true;
};

// Posterior draws as a table: one column per element, named CmdStan's way —
// the site name, then the 1-based element indices joined by dots (`mu`,
// `eta.1`, `z.2.3`) in row-major order — and one row per draw. A site absent
// from a draw (stochastic control flow) leaves NaN in its cells.
struct DrawTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  // Which columns belong to which site: columns [first_column, first_column
  // + columns) in row-major order of `shape` (the largest extent seen per
  // dimension when a site's shape varies between draws).
  struct Site {
    std::string name;
    std::string kind;  // "latent" | "deterministic" | "predicted"
    std::vector<std::int64_t> shape;
    std::size_t first_column = 0, columns = 0;
    bool discrete = false;  // drawn from a discrete distribution
    // Enumerated sites (--elbo enum): the posterior probability of each value
    // 0 … support − 1 per element, [value * columns + element], averaged
    // over the draws of its conditional given the continuous sites (Pyro's
    // infer_discrete) — exact when nothing continuous is latent. Empty otherwise.
    std::vector<double> probs;
    std::int64_t support = 0;
  };
  std::vector<Site> sites;  // in order of first appearance
  // present[row][column]: whether the draw has that cell. A site absent from
  // a draw (a branch not taken), or smaller in it, leaves cells absent (NaN
  // in `rows`); a present cell may itself be NaN or ±inf, a value the model
  // computed. Empty: every cell is present.
  std::vector<std::vector<bool>> present;

  // CSV: a header line, then one line per row; absent cells are empty, NaN
  // and ±inf are written nan, inf, -inf (as CmdStan); numbers are written
  // with 17 significant digits (exactly re-readable).
  std::string to_csv() const;
};

// Posterior summary of one site, per element (row-major).
struct SiteSummary {
  std::string name;
  std::string kind;  // "latent" | "deterministic" | "predicted"
  std::vector<std::int64_t> shape;
  // Over the draws where the element is present; an element with a NaN draw
  // has NaN for all five, one with ±inf the arithmetic of it (mean ±inf).
  std::vector<double> mean, sd, q05, q50, q95;  // sd: n − 1 in the denominator (0 when n = 1)
  // Discrete sites: the values seen (or, enumerated, every value of the
  // support), their posterior probabilities per element ([value * elements
  // + element]) and the most probable value per element. For an enumerated
  // site mean, sd and the quantiles are computed from these probabilities.
  std::vector<double> support, probs, mode;
  long n = 0;          // draws in which the site is present
  long nonfinite = 0;  // draws in which an element of the site is NaN or ±inf: its summaries are not reliable
};

// A parameter declared with `param` in the model or a hand-written guide,
// learned by the fit, on its constrained scale (the store keeps it
// unconstrained: Fit::parameters).
struct LearnedParam {
  std::string name;
  std::string program;     // "model" | "guide"
  std::string constraint;  // "real", "positive", "interval(0, 1)", "simplex", …
  std::vector<std::int64_t> shape;
  std::vector<double> value;  // row-major
};

// The evidence log p(data) estimated by importance sampling with the guide
// as the proposal (Fit::evidence), and whether to believe it: the Pareto k̂
// of the weights (Vehtari et al. 2024, "Pareto Smoothed Importance
// Sampling") against min(1 − 1/log10 draws, 0.7). Above 0.7 more draws do
// not help; the guide must come closer to the posterior.
// The fit examined at its current parameters (Fit::diagnose, `vireo run
// --diagnose`): the ELBO per site, gradient norms, and what looks wrong.
struct Diagnosis {
  struct Site {
    std::string name, kind, distribution;  // kind: "latent" | "observed" | "factor"
    double log_p = 0, log_q = 0;           // means over the draws, scaled
    double guide_mean = 0, guide_sd = 0, prior_mean = 0, prior_sd = 0;  // latent: first element; NaN if none
  };
  long draws = 0;
  double elbo = 0;
  std::vector<Site> sites;
  std::map<std::string, double> grad_norm;  // per parameter, mean over the draws
  std::vector<std::string> warnings;        // collapsed/exploded scales, sites far from their priors, crushing likelihoods
  std::vector<std::string> advice;          // plain advice when the ELBO is extremely low
  std::string text;                         // all of it, as `vireo run --diagnose` prints it
};

struct Evidence {
  double log_z = 0;           // −inf when no draw had a finite weight
  double se = 0;              // Monte Carlo standard error of log_z (delta method)
  double ess = 0;             // effective sample size of the weights, out of `draws`
  double khat = 0;            // Pareto k̂ (+inf: too few draws to fit it; −inf: exact)
  double khat_threshold = 0;  // min(1 − 1/log10 draws, 0.7)
  long draws = 0;
  bool reliable = false;      // khat ≤ khat_threshold, and no NaN or +inf log-weight
  std::string warning;        // why not, and what to do; empty when there is nothing to say
  // Draws whose log-weight is NaN (a log-density is NaN) or +inf: left out
  // of the estimate, which is then not reliable. Draws with log-weight −inf
  // (the model rules out what the guide proposed) count as weight 0.
  long nan_draws = 0, inf_draws = 0, zero_draws = 0;
  bool exact = false;  // every weight equal to rounding: the guide is the posterior (no tail to fit)
  // A few lines: log Z ± se, ESS, k̂ against its threshold, and the warning.
  std::string to_text() const;
};

// The ELBO of a fit at its current parameters from fresh draws
// (Fit::evaluate, `vireo run --evaluate N`), over the whole data by default:
// the figure to compare between fits, where the running ELBO of a
// subsampled fit is a noisy mini-batch estimate at moving parameters.
struct Evaluation {
  long draws = 0;
  bool full_data = true;  // every subsampled plate evaluated over all its N elements
  double elbo = 0;        // mean over the draws
  double elbo_se = 0;     // its Monte Carlo standard error (NaN with one draw)
  // The split elbo = log_likelihood − kl: E_q[Σ log p of the observed sites
  // and factors] and E_q[Σ over latent sites of log q − log p], the KL
  // divergence of the guide from the prior (Monte Carlo, the same draws).
  // NaN under --elbo enum, whose summed-out sites have no single split.
  double log_likelihood = 0, kl = 0;
  // Subsampled plates (name → N): the per-element figures divide by N when
  // there is exactly one.
  std::map<std::string, long> plates;
  // Latent sites inside plates with a vector per element (an amortised
  // guide's codes, a VAE's z; not a scalar per group):
  // per coordinate, the variance over the plate's elements of the guide's
  // mean E_q[z]. A coordinate is active when it exceeds 0.01 (Burda et al.
  // 2016); an inactive one tells the elements apart no better than the
  // prior: the posterior collapse that a KL term winning early causes
  // (remedies: --kl-anneal, a smaller lr, more epochs). Only for guide
  // sites whose distribution has a closed-form mean.
  struct Units {
    std::string site, plate;
    long elements = 0;
    std::vector<double> variance;
    long active = 0;
  };
  std::vector<Units> units;
  // A few lines: the ELBO ± se (and per element), the split, active units.
  std::string to_text() const;
};

struct Summary {
  std::vector<SiteSummary> sites;  // program order
  double elbo = 0;                 // mean ELBO over the last 10% of steps (NaN when no step was taken)
  long draws = 0;
  long refused_draws = 0;          // Fit::refused_draws() of the fit summarised
  // Filled by the host when asked for (Fit::gradient_variance): per
  // parameter, the gradient variance summed over its entries, and the draws.
  std::map<std::string, double> gradient_variance;
  int gradient_variance_draws = 0;
  // Filled by the host when asked for (Fit::evidence).
  std::optional<Evidence> evidence;
  // Filled by the host when asked for (Fit::evaluate).
  std::optional<Evaluation> evaluation;
  // The learned `param` values (Fit::learned_params), model's then guide's.
  std::vector<LearnedParam> params;

  // {"site": {"shape", "mean", "sd", "q05", "q50", "q95", "n", "nonfinite"}, …, "elbo": x, "refused_draws": n}
  // and, when measured, "gradient_variance": {"draws": N, "params": {name: v}}
  // and "evidence": {"log_z", "se", "ess", "khat", "khat_threshold", "draws",
  // "reliable", "warning", "nan_draws", "inf_draws", "zero_draws", "exact"}
  // (non-finite numbers as null), and with learned params "params": {name:
  // {"shape", "value", "constraint", "program"}} (every element; kept apart
  // from the sites' entries)
  std::string to_json() const;
  // The table printed by `vireo run`: site, element, mean, sd, 5%, 50%, 95%.
  // At most `max_elements` rows per site (the rest are counted); then the
  // learned params, one line each, at most `max_elements` values.
  std::string to_table(int max_elements = 12) const;
};

// One site of one execution (vireo trace).
struct TraceEntry {
  std::string name;
  std::string kind;          // sample | observe | factor | param | deterministic
  std::string distribution;  // "Normal", …; "factor" for a factor; empty for param and deterministic
  std::vector<std::int64_t> shape;
  std::vector<double> value;  // row-major
  double log_density = 0;     // Σ log p (model) or log q (guide), scaled; NaN for param/deterministic
};

struct Execution {
  std::vector<TraceEntry> guide;  // the guide's draw
  std::vector<TraceEntry> model;  // the model replayed against it
  double elbo = 0;                // Σ log p − Σ log q of this execution

  // Site by site: name, kind, distribution, shape, value (abbreviated past
  // `max_values`), log-density.
  std::string to_text(int max_values = 6) const;
};

// One step of a fit, as Fit::step_history records it (and `vireo run
// --elbo-history` writes it).
struct StepRecord {
  long step = 0;             // 1-based, counting the steps before a load_params
  double elbo = 0;           // the step's ELBO estimate (NaN or ±inf for a refused step)
  double lr = 0;             // the learning rate the step used (schedule, lrd and shrink-lr applied)
  double latent_weight = 1;  // the latent sites' weight (KL annealing, --kl-anneal; 1 without)
  bool rejected = false;     // refused by the guard (not applied)
  std::string rejected_because;  // the guard's reason, for a refused step
};

// A variational fit of one model to one data set. Owns its parameter store,
// optimizer state and random generator; nothing is shared between fits.
// Reproducible: the same options, seed and data give the same numbers, bit
// for bit. Step k draws from a generator derived from (seed, k), so a fit
// saved after k steps and loaded into a fresh Fit continues exactly as if it
// had never stopped.
class Fit {
 public:
  Fit(const Model& model, const Data& data, FitOptions options = {});
  Fit(Fit&&) noexcept;
  Fit& operator=(Fit&&) noexcept;
  ~Fit();

  // The options in use: every option the caller left unset holds the
  // guide's default.
  const FitOptions& options() const;
  // The defaults of a guide (auto_normal, …, custom): the table above
  // FitOptions, every optional field set.
  static FitOptions defaults_for(Guide guide);
  // The guide in use ("auto_normal", "custom", …).
  std::string guide_name() const;

  // One SVI step; returns this step's ELBO estimate (for a refused step, the
  // estimate that refused it: NaN, or ±inf). A step whose loss or
  // gradient is not finite is not applied (counted in rejected_steps(), its
  // reason in last_rejection()) and changes nothing — parameters, optimizer
  // state, baselines, the schedule's and annealing's clock — but the random
  // stream: the next step draws anew. When the on_nonfinite policy says the
  // fit cannot go on, throws vireo::Error (kind Run) with the report; the
  // parameters are those of the last good step.
  double step();
  // `n` steps; `progress(step, n, running_elbo)` after each one (may be empty).
  // What a progress callback returns is ignored here: to stop, use run_while.
  void run(long n, const std::function<void(long, long, double)>& progress = {});
  // The same, stoppable: `keep_going(step, n, running_elbo)` after each
  // step; false ends the run cleanly after that step (the step is applied;
  // steps_taken() counts it). Returns the steps this call took (n unless
  // stopped). A run stopped before its averaging window (the last
  // average_last of the steps the fit would have taken) leaves the last
  // iterate; one stopped inside it ends on the mean of the window's steps
  // that ran, the last iterate kept for training to resume from. Either way
  // save_params then load_params into a fresh Fit and run the remaining
  // steps: stopped before the window, that gives the same bytes as one
  // uninterrupted run(n) (stopped inside it, the resumed run averages only
  // its own steps, as any run that starts inside its window does).
  //   fit.run_while(1000, [&](long, long, double) { return !cancelled; });
  //   fit.save_params("p.json");  // later: load_params, run_while(1000 - fit.steps_taken(), …)
  long run_while(long n, const std::function<bool(long, long, double)>& keep_going);
  long steps_taken() const;  // applied and refused, including steps before a load_params
  // The subsampled plates the model and guide open, by name: (N, B). Before
  // this Fit's first step, runs one execution that changes nothing; after
  // it, reports what the steps met.
  std::map<std::string, std::pair<long, long>> subsampled_plates();
  long rejected_steps() const;
  // Guide draws (particles) of this Fit's steps that the model ruled out:
  // log density −∞ for a value outside a likelihood's support (or a hard
  // `factor`) while the guide's own density was finite. Their steps are
  // refused, so a fit that drops many is biased towards the draws the model
  // accepts: reparameterise so that the support does not depend on a latent
  // (`vireo check` warns where it does).
  long refused_draws() const;
  const std::string& last_rejection() const;
  // ELBO estimates of the steps taken by this Fit, in order.
  const std::vector<double>& elbo_history() const;
  // The same steps with their learning rate, annealing weight and whether
  // the guard refused them (elbo_history()[i] is step_history()[i].elbo).
  // Built when called (the fit keeps its history compactly): O(steps).
  std::vector<StepRecord> step_history() const;
  // step_history() as CSV: `step,elbo,lr,latent_weight,rejected` (rejected 0/1;
  // NaN and ±inf written nan, inf, -inf; 17 significant digits).
  std::string step_history_csv() const;
  // Mean of the finite ELBOs over the last 10% (at least one) of all the
  // steps, those before a load_params too; NaN when there is none.
  double running_elbo() const;
  // Steps of this fit that ran as a replay of a recorded step rather than
  // through the interpreter (FitOptions::replay_steps), with the same
  // numbers; 0 when the model's structure depends on latent values.
  long replayed_steps() const;
  // Empty when the fit looks settled; otherwise why not: the mean ELBO of the
  // last tenth of this Fit's finite steps lies more than four standard
  // errors above the tenth before (each window's spread taken as if its
  // draws were independent; at least 20 steps per window), with both means.
  std::string still_rising() const;
  // Under a schedule that decides from the ELBO (plateau:N): the applied
  // step from which the rate decays (the ELBO stopped rising there), or −1
  // while it still rises; nullopt under any other schedule.
  std::optional<long> lr_decay_start() const;
  // Notes the estimator printed once (e.g. a baseline Trace_ELBO ignores).
  std::string notes() const;
  // Why the ELBO is the one it is when FitOptions::elbo was left empty
  // ("every discrete latent site (z) is summed out exactly"); empty otherwise.
  const std::string& elbo_reason() const;
  // Whether the posterior is computed exactly, with nothing to optimise: every
  // latent site is discrete and summed out, and there is no `param`. run()
  // then takes no step; draws, summaries and the evidence are exact.
  bool exact() const;

  // The variance of each parameter's gradient estimate over `draws`
  // evaluations at the current parameters (nothing is updated), summed over
  // the parameter's entries: what a baseline or more particles buy.
  std::map<std::string, double> gradient_variance(int draws);

  // The evidence log p(data) by importance sampling from the guide at the
  // current parameters (nothing is updated), with its diagnostics. Draw i
  // uses a generator derived from (seed, i): the first n draws of a larger
  // estimate are the same draws. Throws vireo::Error (kind Options) when
  // draws < 1.
  Evidence evidence(long draws);

  // The ELBO at the current parameters from `draws` fresh executions (draw
  // i from a generator derived from (seed, i); nothing is updated), with
  // its split into log-likelihood and KL and the active units of per-element
  // latent sites. full_data: subsampled plates take every element (scale
  // 1); else each draw takes a mini-batch as an evaluation does. KL
  // annealing does not apply: the weight is 1. Throws vireo::Error (kind
  // Options) when draws < 1.
  Evaluation evaluate(long draws = 20, bool full_data = true);

  // The ELBO per site, gradient norms and warnings from `draws` evaluations
  // at the current parameters (nothing is updated).
  Diagnosis diagnose(long draws = 100);

  // `n` posterior draws of the latent and deterministic sites (and, with
  // `predictive`, of the observed sites sampled from the model). Draw i uses
  // a generator derived from (seed, i): independent of how long the fit ran.
  DrawTable draws(long n, bool predictive = false);
  // Summaries of the same draws (n draws), and the running ELBO.
  Summary summarize(long n, bool predictive = false);
  // A table edited by the host must keep its shape (every row as long as
  // `columns`, each site's columns inside them); else vireo::Error (Usage).
  Summary summarize(const DrawTable& table) const;

  // One execution (guide draw + model replay) with every site.
  Execution trace();

  // Parameters, optimizer state, step count, what the running ELBO needs of
  // the steps so far and, when averaged, the last iterate, as JSON text.
  std::string params_json() const;
  // Writes params_json() atomically (temporary file, then rename).
  void save_params(const std::string& path) const;
  // Replaces the parameters, optimizer state and step count; throws
  // vireo::Error (kind Io) and changes nothing when the file is unreadable.
  void load_params(const std::string& path);
  // Parameter names and their values (unconstrained), for inspection.
  std::map<std::string, Array> parameters() const;
  // The values of the `param` statements of the model and guide at the
  // current parameters, on their constrained scale (softplus, simplex, …
  // applied), from an execution (seeded from (seed, "params", k); nothing
  // is updated). Empty when the program declares no param. summarize()
  // fills Summary::params with them.
  std::vector<LearnedParam> learned_params();


 private:
  friend struct detail::Access;
  using Impl = detail::FitImpl;
  std::unique_ptr<Impl> impl_;
};

// Forward sampling — the prior predictive, no guide and no fit: `n` runs of
// the model, each latent site drawn from its prior given the values drawn
// before it. An observe site whose data item was left out
// (DataOptions::allow_missing_observed) is drawn from its distribution like
// a latent site (kind "predicted" in the table); one whose data were given
// keeps them — it is not sampled, and the draws are not conditioned on it
// (this is not inference: fit for that). `factor` statements are not
// sampled either: forward draws ignore them. `param`s take their initial
// values. A subsampled plate draws its mini-batch as in a fit: its sites
// have the batch's B elements, in the order of the indices drawn. The table holds the latent, deterministic and drawn observed
// sites, as Fit::draws does (to_csv writes the same CSV). Draw i uses a
// generator derived from (seed, i): the first n draws of a larger call are
// the same draws. `max_depth` bounds nested fn calls as FitOptions::max_depth
// does (a prior wider than the posterior may recurse deeper). Throws
// vireo::Error (kind Options) for n < 1 or a max_depth outside 1 to 100000,
// (kind Data) when the data were loaded for another model, (kind Run) when a
// run fails.
DrawTable sample_prior(const Model& model, const Data& data, long n, std::uint64_t seed = 0, int max_depth = 200);
// The same under `limits` (time_limit: for the whole call); throws
// vireo::Error (kind Limit) when one is reached.
DrawTable sample_prior(const Model& model, const Data& data, long n, std::uint64_t seed, int max_depth,
                       const Limits& limits);

// The model's joint log density and its gradient at latent values the host
// chooses, for hosts that bring their own optimiser or sampler (what Stan's
// model_base offers: log_prob, its gradient, and the transforms between
// constrained and unconstrained values). Each latent site is a slice of one
// unconstrained vector, in program order (sites()), mapped onto its support
// by the transform automatic guides use (positive: exp, interval: scaled
// logistic, simplex: stick-breaking, …). log_density is the sum of every
// sample and observe site's log-density (scaled by plates and `scale`
// blocks, as in the ELBO; `factor`s included) at those values, plus with
// `jacobian` the log |det J| of the transforms — the density of the
// unconstrained vector, what a sampler needs; without it, the density of the
// constrained values, whose maximum is the MAP. The gradient comes from the
// reverse-mode AD, one backward pass. `param`s keep their initial values.
// Only for models whose latent sites are continuous and fixed in number,
// name and shape, with no subsampled plate: the constructor runs the model
// forward twice (seeds 0 and 1) and throws vireo::Error (kind Usage) naming
// the site that is discrete, or that differs between the runs (also, kind
// Run, when an evaluation meets other sites). Not thread-safe: one
// LogDensity per thread (each owns its tape).
//   vireo::LogDensity ld(model, data);
//   std::vector<double> x(ld.dimension(), 0.0), g;
//   double lp = ld.log_density(x, &g);             // g: ∂lp/∂x
//   auto values = ld.constrain(x);                 // {"mu": …, "tau": …}
class LogDensity {
 public:
  struct Site {
    std::string name;                                // `x`, `x[3]` inside loops
    std::vector<std::int64_t> shape;                 // on the constrained scale
    std::string constraint;                          // "real", "positive", "simplex", …
    std::vector<std::int64_t> unconstrained_shape;   // simplex of K: K − 1
    std::size_t offset = 0, size = 0;                // its slice of the unconstrained vector
  };
  LogDensity(const Model& model, const Data& data);
  // The same under `limits` (time_limit: for each evaluation).
  LogDensity(const Model& model, const Data& data, const Limits& limits);
  LogDensity(LogDensity&&) noexcept;
  LogDensity& operator=(LogDensity&&) noexcept;
  ~LogDensity();

  const std::vector<Site>& sites() const;
  std::size_t dimension() const;  // the length of the unconstrained vector
  // The log density at `unconstrained` (dimension() values; else Error of
  // kind Usage) and, when `gradient` is given, its gradient there.
  double log_density(const std::vector<double>& unconstrained, std::vector<double>* gradient = nullptr,
                     bool jacobian = true);
  // The sites' values on their constrained scale, by site name (row-major).
  std::map<std::string, Array> constrain(const std::vector<double>& unconstrained);
  // The inverse: every latent site's value (shape as sites() says, inside its
  // support; else Error of kind Usage naming the site) to the vector.
  std::vector<double> unconstrain(const std::map<std::string, Array>& constrained);


 private:
  friend struct detail::Access;
  using Impl = detail::LogDensityImpl;
  std::unique_ptr<Impl> impl_;
};

// Per-site summaries of any draw table (sample_prior's, or Fit::draws'
// without the fit's ELBO and learned parameters; Fit::summarize adds them).
Summary summarize(const DrawTable& table);

// ---- The report: one self-contained HTML page of a fit -------------------
// The model's source (site names linked to their panels), the plate diagram
// (`graph_dot` laid out by Graphviz's `dot` as inline SVG), the ELBO per step
// raw and smoothed with the guard's refused steps marked (and the learning
// rate, and the annealing weight under --kl-anneal or --elbo meanfield), one
// panel per latent site (histogram of the draws with the prior's density
// beside it when the prior's arguments are constants, small multiples for
// the first elements of a vector, a probability table for a discrete site,
// the summary numbers), the diagnostics computed (evidence with k̂ and its
// verdict, gradient variance, --diagnose) and the configuration. The plots
// are Vega specifications rendered by Vega (Debian's libjs-vega, compiled
// into the library), so the page needs no network and fetches nothing: a
// Content-Security-Policy of default-src 'none' says so to the browser.
struct ReportOptions {
  std::string title;         // default: the model's file name
  std::string command_line;  // the command that made the fit, shown verbatim so that the page reproduces it
  long num_draws = 1000;     // posterior draws behind the panels (report_html(Fit&) without draws)
  int max_elements = 12;     // small multiples (and table rows) per vector site; the rest are counted
  // The error that ended the fit, when it failed: the page says so at the
  // top and shows the fit up to there (the ELBO of every step taken).
  std::string failure;
  std::string diagnosis;     // text shown under the diagnostics (`--diagnose`'s report), may be empty
  std::string dot = "dot";   // Graphviz's dot; when it cannot be run the page says so in the diagram's place
};

// Saved outputs of a run (`vireo report`): each may be empty.
struct ReportInputs {
  std::string summary_json;      // Summary::to_json (`vireo run --summary`)
  std::string draws_csv;         // DrawTable::to_csv (`--draws`)
  std::string elbo_history_csv;  // Fit::step_history_csv (`--elbo-history`)
};

// The page of a fit at its current parameters, from `summary` and `draws`
// (which the host has, with the evidence and gradient variance it asked
// for), or from options.num_draws fresh draws. Throws vireo::Error (Usage)
// when the draws do not fit the model.
std::string report_html(Fit& fit, const Summary& summary, const DrawTable& draws, const ReportOptions& options = {});
std::string report_html(Fit& fit, const ReportOptions& options = {});
// The page from saved outputs; a malformed input throws vireo::Error (Io)
// naming it.
std::string report_html(const Model& model, const ReportInputs& inputs, const ReportOptions& options = {});
// report_html(fit, options) written atomically (write_files_atomically).
void write_report(Fit& fit, const std::string& path, const ReportOptions& options = {});

// Writes every (path, contents) pair or none: each goes to a temporary file
// in its target's folder first; only when all are written are they renamed
// over their targets, and when a rename fails the files already replaced get
// their previous contents back (or are removed if they did not exist) and no
// temporary is left. Throws vireo::Error (kind Io) naming the path.
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace vireo
