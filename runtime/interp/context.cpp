#include "runtime/interp/context.hpp"

#include <fmt/format.h>

#include <numeric>
#include <stdexcept>

namespace vireo::interp {

RunError limit_error(lang::Span span, const std::string& what, const std::string& raise) {
  return RunError(span, what, raise + " if the model is meant to be this large").set_limit();
}

void rethrow_tape_limit(lang::Span span, const std::exception& e) {
  if (const auto* t = dynamic_cast<const ad::TapeLimitError*>(&e))
    throw limit_error(span,
                      fmt::format("the tape limit: this statement would take the tape to {:.0f} MB, past the "
                                  "limit of {} MB (Limits::max_tape_mb)",
                                  t->wanted() / (1 << 20), t->limit() >> 20),
                      "raise it with --max-tape-mb N (FitOptions::limits.max_tape_mb)");
}

void Context::check_deadline_now(lang::Span span) {
  if (limits_.deadline && std::chrono::steady_clock::now() > *limits_.deadline)
    throw limit_error(span,
                      fmt::format("the time limit: the run took longer than {:g} s (Limits::time_limit); it "
                                  "stopped here",
                                  limits_.time_limit_seconds),
                      "raise it with --time-limit SECONDS (FitOptions::limits.time_limit)");
}

void Context::settings_from(const Context& parent) {
  latent_weight_ = parent.latent_weight_;
  max_call_depth_ = parent.max_call_depth_;
  set_limits(parent.limits_);
  seed_ = parent.seed_;
  epoch_step_ = parent.epoch_step_;
  full_plates_ = parent.full_plates_;
  batch_loops_ = parent.batch_loops_;
  stepping_ = parent.stepping_;
}

void Context::begin_step() {
  tape_.clear();
  data_vars_.assign(data_.values.size(), ad::Var{});
  data_ready_.assign(data_.values.size(), false);
  num_leaves_ = 0;
  ++step_;
  open_plates_.clear();
  subsample_indices_.clear();
}

namespace {
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

// Permutation of epoch e of plate `name`: a Fisher-Yates shuffle of 0..N-1
// with a generator derived from (seed, purpose 9 "epochs", hash(name), e) by
// runtime/api/fit.cpp's splitmix64 chain.
const std::vector<std::int64_t>& Context::epoch_permutation(const std::string& name, std::int64_t size,
                                                            std::int64_t epoch) {
  EpochCache& c = epoch_cache_[name];
  if (c.epoch == epoch && c.size == size) return c.perm;
  std::uint64_t s = seed_;
  s = rng::splitmix64(s) ^ (9 * 0x9E3779B97F4A7C15ULL);
  s = rng::splitmix64(s) ^ fnv1a(name);
  s = rng::splitmix64(s) ^ static_cast<std::uint64_t>(epoch);
  rng::Generator g(rng::splitmix64(s));
  c.perm.resize(static_cast<std::size_t>(size));
  std::iota(c.perm.begin(), c.perm.end(), std::int64_t{0});
  for (std::int64_t i = size - 1; i > 0; --i)
    std::swap(c.perm[static_cast<std::size_t>(i)], c.perm[g.below(static_cast<std::uint64_t>(i + 1))]);
  c.epoch = epoch;
  c.size = size;
  return c.perm;
}

std::vector<double> Context::epoch_batch(const std::string& name, std::int64_t size, std::int64_t batch,
                                         std::uint64_t step) {
  std::vector<double> out(static_cast<std::size_t>(batch));
  const auto first = static_cast<std::int64_t>(step) * batch;  // position in the sequence of epochs
  for (std::int64_t i = 0; i < batch; ++i) {
    const std::int64_t j = first + i;
    out[static_cast<std::size_t>(i)] = static_cast<double>(epoch_permutation(name, size, j / size)[static_cast<std::size_t>(j % size)]);
  }
  return out;
}

Value Context::data_value(int index) {
  auto i = static_cast<std::size_t>(index);
  if (data_ready_.size() != data_.values.size()) begin_step();
  if (!data_ready_[i]) {
    data_vars_[i] = tape_.borrow(data_.values[i]);
    data_ready_[i] = true;
  }
  return Value{data_vars_[i], data_.kinds[i], {}};
}

const ad::Var& ParamLeaves::at(const std::string& name) const {
  for (const auto& [n, leaf] : *this)
    if (n == name) return leaf;
  throw std::out_of_range("no parameter leaf '" + name + "' in this step");
}

ad::Var Context::param_leaf(const std::string& name) {
  ad::Var leaf = find_param_leaf(name);
  if (!leaf.valid()) throw std::logic_error("no parameter '" + name + "' in the store");
  return leaf;
}

ad::Var Context::find_param_leaf(const std::string& name) {
  const params::Entry* e = store_.find(name);
  return e ? param_leaf_at(static_cast<std::size_t>(e - store_.entries().data())) : ad::Var{};
}

ad::Var Context::param_leaf_at(std::size_t i) {
  const params::Entry& e = store_.entries().at(i);
  // (A store cut back, refilled or replaced this step has another generation.)
  if (i < entry_leaves_.size() && entry_leaves_[i].step == step_ && entry_leaves_[i].generation == store_.generation())
    return leaves_[entry_leaves_[i].leaf].second;
  const ad::Shape shape = e.shape.empty() ? ad::Shape{} : ad::Shape(e.shape);
  if (shape.numel() != e.unconstrained.size())
    throw std::invalid_argument("Tensor: " + std::to_string(e.unconstrained.size()) + " values do not fill shape " +
                                ad::to_string(shape));
  // A frozen store (particles on several threads) does not change until the
  // particles' tapes are done: their leaves read it in place.
  ad::Var leaf = store_.frozen() ? tape_.leaf_borrowed(shape, e.unconstrained.data()) : tape_.leaf(shape, e.unconstrained.data());
  const std::size_t k = num_leaves_++;
  if (k < leaves_.size()) {
    // The slot holds this entry's name from an earlier step unless the store changed since.
    if (leaf_entries_[k].entry != i || leaf_entries_[k].generation != store_.generation()) leaves_[k].first = e.name;
    leaves_[k].second = leaf;
    leaf_entries_[k] = {i, store_.generation()};
  } else {
    leaves_.emplace_back(e.name, leaf);
    leaf_entries_.push_back({i, store_.generation()});
  }
  if (i >= entry_leaves_.size()) entry_leaves_.resize(i + 1);
  entry_leaves_[i] = {step_, store_.generation(), k};
  return leaf;
}

}  // namespace vireo::interp
