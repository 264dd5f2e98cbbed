// The interpreter: executes a Body of the site graph (model, guide, or a fn
// called from them) on the Context's tape, sending every site through the
// Context's handler stack. Plates run once, vectorised; `for` loops run
// sequentially and suffix site names with the loop index; a statement run
// again in one execution gets `#k`; fn calls recurse up to a depth limit.
// Errors are RunError with the Span of the statement or expression.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/interp/context.hpp"

namespace vireo::interp {

// The plate id of a loop run as one batch (exec_batched_for): no plate of
// the graph has it. Plain arrays never line up with it: against a batch of
// iterations they are each iteration's own values, whatever their rank.
inline constexpr ir::PlateId loop_batch_plate = 0x7fffffff;

class Interpreter {
 public:
  // latent_only: for guides that run the model's own body and keep only its
  // latent sites (the automatic guides). Observe statements are skipped
  // whole: they bind no variable, and their distribution (often the largest
  // computation of the model) would be built only to be thrown away.
  explicit Interpreter(Context& ctx, bool latent_only = false)
      : ctx_(ctx), scratch_(ctx.take_scratch()), latent_only_(latent_only) {}
  ~Interpreter() { ctx_.give_back(std::move(scratch_)); }
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;
  // Runs the model (or guide) body once. Site occurrence counts start afresh.
  void run(ir::BodyId body);

  // Evaluates an expression of the data body (sizes and bounds of data
  // declarations), for the data loader.
  Value eval_data_expr(ir::ExprId e);

  // One call of a standard-library function, as its implementation sees it
  // (builtins.cpp: one implementation per row of the signature table).
  struct BuiltinCall;

 private:
  struct Frame {
    const ir::Body* body = nullptr;
    std::vector<Value> slots;
    std::vector<bool> bound;
    Value ret;
  };
  enum class Flow { Next, Return };

  Flow exec_block(Frame& f, const std::vector<ir::Stmt>& stmts);
  Flow exec(Frame& f, const ir::Stmt& s);
  void exec_site(Frame& f, const ir::Stmt& s);
  void exec_param(Frame& f, const ir::Stmt& s);
  Flow exec_plate(Frame& f, const ir::Stmt& s);
  // A loop marked ir::Stmt::batchable, in an SVI step (Context::batch_loops):
  // its iterations lo … hi - 1 at once, the loop variable a vector of them
  // laid out as a plate of their own (loop_batch_plate), each site one trace
  // entry standing for every iteration (Message::batch_first). Nothing (and
  // nothing run) when the loop's latent sites have no batched draws to
  // replay (Context::replayed).
  std::optional<Flow> exec_batched_for(Frame& f, const ir::Stmt& s, std::int64_t lo, std::int64_t hi);
  // After a plate (or a batch) closes: the frame's values no longer count
  // `plate` among their plates (its dimension stays, now a plain one).
  void forget_plate(Frame& f, ir::PlateId plate);

  Value eval(Frame& f, ir::ExprId id);
  Value eval_binary(Frame& f, const ir::Expr& e);
  // e's operator (a binary one) on its operands' values.
  Value apply_binary(const ir::Expr& e, const Value& x, const Value& y);
  // Integer arithmetic of subscripts and bounds (`y[t - 1]`, `0..T`) on
  // plain numbers without a gradient, computed here rather than on the tape:
  // the same doubles, no nodes. False (nothing evaluated) for anything else.
  bool fold_scalar(Frame& f, ir::ExprId id, double& out, int depth = 0);
  // The plates and event rank two operands of an elementwise operation are
  // laid out on (value.hpp); a plain array reaching into the plate dims lines
  // the plate-indexed operand up with every open plate.
  PlateList operand_plates(const Value& x, const Value& y, lang::Span span, int& event_rank);
  Value eval_matmul(const Value& x, const Value& y, lang::Span span);
  Value eval_index(Frame& f, const ir::Expr& e);
  Value eval_vector(Frame& f, const ir::Expr& e);
  Value call_fn(Frame& f, const ir::Expr& e);
  Value call_builtin(Frame& f, const ir::Expr& e);
  Value call_host(Frame& f, const ir::Expr& e);  // host_call.cpp

  // The site's run-time name: base, `[i]` per enclosing loop, `#k` on repeats.
  std::string site_name(Frame& f, const ir::Site& site, std::vector<std::int64_t>* loop_index = nullptr);
  // The distribution of a sample/observe site, its parameters broadcast to
  // the open plates (and the declared shape).
  // The site's distribution; `observed`: an observe site's value, whose
  // dims beyond the plates are its event.
  dist::DistributionPtr site_distribution(Frame& f, const ir::Site& site, const Value* observed = nullptr);
  // The term of a `factor` site, broadcast to the open plates: one number per
  // plate element (a scalar counts for every element, like any site in a plate).
  ad::Var factor_term(Frame& f, const ir::Site& site);
  std::vector<std::int64_t> eval_dims(Frame& f, const std::vector<ir::ExprId>& dims);
  std::int64_t eval_int(Frame& f, ir::ExprId e, const char* what);
  double eval_number(Frame& f, ir::ExprId e, const char* what);

  Context& ctx_;
  // How often the site has run with these loop indices before in this
  // execution (the `#k` of its name).
  int loop_occurrence(const ir::Site& site, const std::int64_t* index);
  // The occurrence counts and buffers, borrowed from the Context for the
  // life of this interpreter (RunScratch).
  std::unique_ptr<RunScratch> scratch_;
  int depth_ = 0;
  std::int64_t sites_ = 0;  // sites run by this execution (Limits::max_sites)
  // The loop being run as one batch: its first iteration and how many.
  struct Batch {
    bool on = false;
    std::int64_t first = 0, count = 0;
  } batch_;
  bool latent_only_ = false;
};

// `y[1..T]`: the name of one site standing for a batched loop's iterations
// first … end - 1 (Message::batch_first).
std::string batch_site_name(const std::string& base, std::int64_t first, std::int64_t end);

// Integer view of a Var holding whole numbers; throws RunError at `span` otherwise.
ad::IntTensor to_ints(const ad::Var& v, lang::Span span, const char* what);
// One whole number; throws RunError at `span` otherwise.
std::int64_t to_int(double x, lang::Span span, const char* what);

// The error for a site whose handling failed with `e`: at the site's place,
// numeric when a distribution refused its parameters (numbers of this step,
// which SVI may refuse as a step) — for the interpreter and for guides that
// send sites without it.
RunError site_error(const ir::Site* site, const std::string& name, const std::exception& e);

// A param's random initialiser (site.cpp, where the definitions are): the
// values `initializer` (init_normal, init_uniform, glorot_uniform, he_normal;
// `args` its constant arguments) draws for `shape` from the stream of (seed,
// name). fan_in and fan_out are the shape's last two dims; a vector's length
// is both; a scalar's are 1.
std::pair<double, double> param_fans(const ad::Shape& shape);
ad::Tensor draw_param_init(std::string_view initializer, const std::vector<double>& args, const ad::Shape& shape,
                           std::uint64_t seed, std::string_view name);

}  // namespace vireo::interp
