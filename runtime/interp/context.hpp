// The state one SVI step (or one `vireo trace` execution) shares between the
// guide's run and the model's run: the tape, the handler stack, the random
// generator, the data as tape constants, the parameter leaves of this step,
// and the plates currently open. Owned by a session; nothing here is global.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>

#include "lang/ir/graph.hpp"
#include "runtime/ad/ad.hpp"
#include "runtime/handlers/handler.hpp"
#include "runtime/value/value.hpp"
#include "runtime/params/param_store.hpp"
#include "runtime/rng/generator.hpp"

namespace vireo::handlers {
class Trace;
}

namespace vireo::interp {

// The parameter leaves of one step, in the order they were made, as
// (store name, leaf) pairs.
class ParamLeaves {
 public:
  using value_type = std::pair<std::string, ad::Var>;
  ParamLeaves(const value_type* first, std::size_t n) : first_(first), n_(n) {}
  const value_type* begin() const { return first_; }
  const value_type* end() const { return first_ + n_; }
  std::size_t size() const { return n_; }
  // The leaf of `name`; throws std::out_of_range when it was not made this step.
  const ad::Var& at(const std::string& name) const;

 private:
  const value_type* first_;
  std::size_t n_;
};

// Validated data values, one per Graph::data entry (runtime/data loads them).
struct DataSet {
  std::vector<ad::Tensor> values;
  std::vector<Kind> kinds;
  // Per item (or empty: none): left out of the data, which only forward
  // sampling allows for items the model uses solely as observed values
  // (data::LoadOptions). Its value is a NaN placeholder of the declared
  // shape; the observe sites that target it are sampled, never scored.
  std::vector<bool> missing;
  bool is_missing(int item) const {
    return item >= 0 && static_cast<std::size_t>(item) < missing.size() && missing[static_cast<std::size_t>(item)];
  }
};

// An error while running a program, at a place in its source.
class RunError : public std::runtime_error {
 public:
  RunError(lang::Span span, const std::string& message, std::string hint = {})
      : std::runtime_error(message), span_(span), hint_(std::move(hint)) {}
  lang::Span span() const { return span_; }
  const std::string& hint() const { return hint_; }
  // A distribution refused the values of its parameters (a scale that
  // underflowed to 0, a NaN probability): numbers of this step, not a
  // mistake in the program, so SVI's guard may refuse the step and go on.
  bool numeric() const { return numeric_; }
  RunError& set_numeric(bool n = true) {
    numeric_ = n;
    return *this;
  }
  // A limit of untrusted models was reached (Limits below; vireo::Error::Kind::Limit).
  bool limit() const { return limit_; }
  RunError& set_limit(bool l = true) {
    limit_ = l;
    return *this;
  }

 private:
  lang::Span span_;
  std::string hint_;
  bool numeric_ = false;
  bool limit_ = false;
};

// What one execution may take, so that a model written by a host's users
// cannot take the host down (vireo::Limits; the recursion depth is
// Context::max_call_depth). Each ends the run with a RunError marked limit().
struct Limits {
  std::int64_t max_sites = 100000;                     // sites run by one execution of a body
  std::size_t max_tape_bytes = std::size_t{4096} << 20;  // the tape's values and nodes
  // When set: executions stop at the first site, loop iteration or call past it.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  double time_limit_seconds = 0;  // for messages: the limit the deadline came from
};

// The RunError for a limit reached at `span`: which limit, its value, how to raise it.
RunError limit_error(lang::Span span, const std::string& what, const std::string& raise);
// When `e` is the tape's TapeLimitError, throws it as a limit RunError at
// `span`; otherwise returns.
void rethrow_tape_limit(lang::Span span, const std::exception& e);

// What an Interpreter keeps from one run to the next, so that a step
// allocates nothing for it once the first has run (interpreter.cpp).
struct RunScratch {
  // Sites inside `for` loops, by id: the index tuples met so far while they
  // came in increasing order (a loop's iterations: counted without a lookup
  // and without building a key), then a map for those met after the order
  // broke (a fn with a loop called twice, a loop nested in a loop of the same
  // variable's statement).
  struct LoopOccurrences {
    std::vector<std::int64_t> seen;  // increasing tuples, flattened
    bool increasing = true;
  };
  std::vector<LoopOccurrences> loop_occurrences;
  std::map<std::vector<std::int64_t>, int> repeated;  // (site id, indices...) -> count since the order broke
  std::vector<std::int64_t> index;                    // the loop indices of the site being named
  std::vector<int> plain_occurrences;                 // the other sites, by id
};

class Context {
 public:
  Context(const ir::Graph& graph, const DataSet& data, params::ParamStore& store, rng::Generator& rng)
      : graph_(graph), data_(data), store_(store), rng_(&rng), order_{&graph} {}

  // A context for one particle of a step run beside the others (the ELBOs'
  // particle loop, infer/trace_elbo.hpp): the parent's graph, data, store
  // and settings (settings_from), a tape, handler stack and plates of its
  // own, and `rng` as its generator.
  Context(const Context& parent, rng::Generator& rng) : Context(parent.graph_, parent.data_, parent.store_, rng) {
    settings_from(parent);
  }
  // Copies what a step's executions read of the parent: the latent weight,
  // the recursion depth, the limits, the seed, the epoch step, full plates.
  void settings_from(const Context& parent);

  const ir::Graph& graph() const { return graph_; }
  const DataSet& data() const { return data_; }
  params::ParamStore& store() { return store_; }
  ad::Tape& tape() { return tape_; }
  handlers::HandlerStack& handlers() { return handlers_; }
  rng::Generator& rng() { return *rng_; }
  const PlateOrder& plate_order() const { return order_; }

  // An interpreter's scratch state: taken when it is made, given back when
  // it ends (nested interpreters each take their own).
  std::unique_ptr<RunScratch> take_scratch() {
    if (scratch_.empty()) return std::make_unique<RunScratch>();
    std::unique_ptr<RunScratch> s = std::move(scratch_.back());
    scratch_.pop_back();
    return s;
  }
  void give_back(std::unique_ptr<RunScratch> s) {
    if (s) scratch_.push_back(std::move(s));
  }

  // Starts a new step: clears the tape (keeping its memory) and the caches of
  // tape values.
  void begin_step();

  // Data item `index` as a constant on this step's tape (borrowed, not copied).
  Value data_value(int index);

  // The unconstrained leaf of store entry `name` on this step's tape, created
  // on first use in the step.
  ad::Var param_leaf(const std::string& name);
  // The same, or an invalid Var (nothing made) when the store has no `name`:
  // one lookup where asking the store first would take two.
  ad::Var find_param_leaf(const std::string& name);
  // The leaf of store().entries()[i], as find_param_leaf gives it, without
  // looking the name up (a guide that remembers where its entries are).
  ad::Var param_leaf_at(std::size_t i);
  // Every leaf made this step, by parameter name (for reading gradients).
  ParamLeaves param_leaves() const { return {leaves_.data(), num_leaves_}; }
  // The store entry (its index in store().entries()) of param_leaves()'s k-th leaf.
  std::size_t param_leaf_entry(std::size_t k) const { return leaf_entries_[k].entry; }

  // Plates open right now (outermost first), with their sizes; mirrors the
  // PlateHandlers the interpreter has pushed.
  std::vector<handlers::Frame>& open_plates() { return open_plates_; }
  // The indices a subsampled plate chose in this execution (set when the
  // plate opens), for guides whose parameters span the full plate.
  std::unordered_map<ir::PlateId, ad::IntTensor>& subsample_indices() { return subsample_indices_; }

  // KL annealing: the weight of every latent site's log-density, in the model
  // and in the guide alike (observed sites keep 1). The ELBO estimators apply
  // it to the traced sites' scales; SVI sets it before each step.
  double latent_weight() const { return latent_weight_; }
  void set_latent_weight(double w) { latent_weight_ = w; }

  // Recursion limit for fn calls (FitOptions::max_depth, `--max-depth`): it
  // stops a recursion that does not end. Deep calls run on stack segments of
  // their own (deep_stack.hpp), so the limit does not depend on the host's
  // stack; `max_call_depth_limit` bounds the threads and memory they take.
  static constexpr int default_max_call_depth = 200;
  static constexpr int max_call_depth_limit = 100000;
  int max_call_depth() const { return max_call_depth_; }
  void set_max_call_depth(int n) { max_call_depth_ = n; }

  // Limits of untrusted models; set_limits also sets the tape's byte limit.
  const Limits& limits() const { return limits_; }
  void set_limits(const Limits& l) {
    limits_ = l;
    tape_.set_max_bytes(l.max_tape_bytes);
  }
  // Throws a limit RunError at `span` once the deadline has passed; reads the
  // clock only every 64th call, so loops may call it every iteration.
  void check_deadline(lang::Span span) {
    if (limits_.deadline && (++deadline_checks_ & 63) == 0) check_deadline_now(span);
  }
  void check_deadline_now(lang::Span span);

  // The run's seed (FitOptions::seed, `--seed`), from which a param's random
  // initialiser draws in a stream of the param's name (site.cpp).
  std::uint64_t seed() const { return seed_; }
  void set_seed(std::uint64_t s) { seed_ = s; }

  // Mini-batches as shuffled epochs (FitOptions::subsample = "epochs"). Fit::
  // step sets the step number k for its executions and unsets it after; unset
  // (evaluations, draws, traces, and subsample = "independent"), a subsampled
  // plate draws B distinct indices independently. Set, plate `name` (size N,
  // batch B) takes positions [kB, (k+1)B) of the endless sequence of its
  // epochs' permutations: permutation e of epoch e is a function of (seed,
  // name, e) only, so the step number is the whole of the epoch state
  // (--save-params restores it) and evaluations cannot advance it. A batch
  // that reaches the end of an epoch continues in the next permutation (B
  // stays fixed, as tf.data's shuffle-repeat-batch does).
  std::optional<std::uint64_t> epoch_step() const { return epoch_step_; }
  void set_epoch_step(std::optional<std::uint64_t> k) { epoch_step_ = k; }
  std::vector<double> epoch_batch(const std::string& name, std::int64_t size, std::int64_t batch, std::uint64_t step);
  // Evaluations over the whole data (Fit::evaluate): set, a subsampled plate
  // takes every one of its N elements, in order, at scale 1, as if it were
  // not subsampled.
  bool full_plates() const { return full_plates_; }
  void set_full_plates(bool on) { full_plates_ = on; }
  // Set while an SVI step of an estimator that only sums the model's
  // log-densities runs (Elbo::batches_loops), and while LogDensity computes
  // a log density and its gradient: the model's loops marked
  // ir::Stmt::batchable run their iterations as one batch, one trace site per
  // statement (Interpreter::exec_batched_for). Unset, every execution runs
  // loops one iteration at a time: traces, samples, evaluations, diagnoses.
  bool batch_loops() const { return batch_loops_; }
  void set_batch_loops(bool on) { batch_loops_ = on; }
  // Set while an SVI step's executions run (Svi::step). A cache that
  // outlives the step and decides how the step computes — the automatic
  // guide's plan, and with it whether a loop's latent sites run as one batch
  // (which changes a step's sums in their last bits) — moves only then: an
  // evaluation, a diagnosis or a trace between steps leaves the next step's
  // numbers as they would have been.
  bool stepping() const { return stepping_; }
  void set_stepping(bool on) { stepping_ = on; }
  // The trace whose latent values the running execution replays (the
  // guide's, while an estimator scores the model at its draws), or nullptr.
  // A batchable loop with latent sites runs as one batch only when this
  // trace holds each of its sites as one batched draw (`x[0..T]`): their
  // values, and so the state they carry, are then known before it starts.
  const handlers::Trace* replayed() const { return replayed_; }
  void set_replayed(const handlers::Trace* t) { replayed_ = t; }
  // Every subsampled plate met by an execution so far: name -> (N, B).
  std::map<std::string, std::pair<std::int64_t, std::int64_t>>& subsampled_plates() { return subsampled_plates_; }

  // A data-parallel fit (runtime/api/distributed.cpp): plate `plate` holds
  // only this rank's rows of `total`. Its terms are scaled by total / rows
  // (a subsample of the whole), a subsample inside it takes its share of the
  // batch, and its draws come from a stream of their own keyed by `stream`
  // (the rank), so that the generator the global sites draw from moves on
  // alike on every rank.
  struct Shard {
    std::string plate;
    std::int64_t total = 0;
    std::uint64_t stream = 0;
  };
  const std::optional<Shard>& shard() const { return shard_; }
  void set_shard(std::optional<Shard> s) { shard_ = std::move(s); }
  // Points rng() at `g` (the sharded plate's own stream) until it is set back.
  void set_rng(rng::Generator& g) { rng_ = &g; }

 private:
  const ir::Graph& graph_;
  const DataSet& data_;
  params::ParamStore& store_;
  rng::Generator* rng_;
  PlateOrder order_;
  ad::Tape tape_;
  handlers::HandlerStack handlers_;
  std::vector<ad::Var> data_vars_;
  std::vector<bool> data_ready_;
  // This step's leaves are leaves_[0, num_leaves_); the vector and the index
  // outlive the step, so the names are not copied again every step.
  std::vector<std::pair<std::string, ad::Var>> leaves_;
  std::size_t num_leaves_ = 0;
  struct LeafEntry {
    std::size_t entry = 0;         // the leaf's store entry
    std::uint64_t generation = 0;  // the store's generation then
  };
  std::vector<LeafEntry> leaf_entries_;  // per leaf
  // Per store entry, its leaf this step: valid when stamped with step_.
  struct EntryLeaf {
    std::uint64_t step = 0, generation = 0;  // valid for this step and the store's generation
    std::size_t leaf = 0;
  };
  std::vector<EntryLeaf> entry_leaves_;
  std::uint64_t step_ = 1;
  std::vector<handlers::Frame> open_plates_;
  std::unordered_map<ir::PlateId, ad::IntTensor> subsample_indices_;
  double latent_weight_ = 1.0;
  int max_call_depth_ = default_max_call_depth;
  Limits limits_;
  std::uint32_t deadline_checks_ = 0;
  std::uint64_t seed_ = 0;
  std::optional<std::uint64_t> epoch_step_;
  bool full_plates_ = false;
  bool batch_loops_ = false;
  bool stepping_ = false;
  const handlers::Trace* replayed_ = nullptr;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> subsampled_plates_;
  std::optional<Shard> shard_;
  struct EpochCache {
    std::int64_t epoch = -1, size = -1;
    std::vector<std::int64_t> perm;
  };
  std::map<std::string, EpochCache> epoch_cache_;
  std::vector<std::unique_ptr<RunScratch>> scratch_;  // a cache of permutations, not state
  const std::vector<std::int64_t>& epoch_permutation(const std::string& name, std::int64_t size, std::int64_t epoch);
};

}  // namespace vireo::interp
