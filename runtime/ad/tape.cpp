// The tape: node list, value arena, adjoint buffer and the backward sweep.
#include "runtime/ad/tape.hpp"
#include "runtime/par/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace vireo::ad {

TapeLimitError::TapeLimitError(std::size_t limit, double wanted)
    : std::runtime_error("the tape would grow to " + std::to_string(static_cast<long long>(wanted / (1 << 20))) +
                         " MB, past its limit of " + std::to_string(limit >> 20) + " MB"),
      limit_(limit),
      wanted_(wanted) {}

// Growth doubles, but never past the limit; a request that cannot fit under
// it throws before anything is allocated.
void Tape::grow_nodes() {
  constexpr std::size_t max_nodes = std::numeric_limits<std::int32_t>::max();  // Var indices are int32
  const double vals_bytes = static_cast<double>(num_vals_) * sizeof(double);
  const double wanted = vals_bytes + static_cast<double>(nodes_.size() + 1) * sizeof(Node);
  if (wanted > static_cast<double>(max_bytes_) || nodes_.size() >= max_nodes)
    throw TapeLimitError(max_bytes_, wanted);
  std::size_t n = std::max<std::size_t>(64, 2 * nodes_.size());
  const double room = (static_cast<double>(max_bytes_) - vals_bytes) / sizeof(Node);
  n = std::min({n, max_nodes, static_cast<std::size_t>(std::min(room, 1e18))});
  nodes_.resize(std::max(n, nodes_.size() + 1));
}

void Tape::grow_vals(std::int64_t needed) {
  const double nodes_bytes = static_cast<double>(nodes_.size()) * sizeof(Node);
  const double wanted = (static_cast<double>(num_vals_) + static_cast<double>(needed)) * sizeof(double) + nodes_bytes;
  if (needed < 0 || wanted > static_cast<double>(max_bytes_)) throw TapeLimitError(max_bytes_, wanted);
  const auto want = static_cast<std::size_t>(num_vals_ + needed);
  const double room = (static_cast<double>(max_bytes_) - nodes_bytes) / sizeof(double);
  std::size_t n = std::max<std::size_t>({1024, 2 * vals_.size()});
  n = std::min(n, static_cast<std::size_t>(std::min(room, 1e18)));
  vals_.resize(std::max(n, want));
}

Var Tape::push_after_growing(Shape shape, BackwardFn backward, std::int32_t in0,
                             std::int32_t in1, std::int32_t in2) {
  grow_nodes();
  return push(shape, backward, in0, in1, in2);
}

Var Tape::push_value_node(const Tensor& value, bool requires_grad) {
  Var v = push(value.shape(), nullptr);
  std::copy(value.data(), value.data() + value.numel(), val(v));
  Node& n = nodes_[num_nodes_ - 1];
  n.kind = requires_grad ? NodeKind::Leaf : NodeKind::Constant;
  if (requires_grad) {
    n.adj = adj_size_;
    adj_size_ += n.numel;
  }
  return v;
}

Var Tape::leaf(const Tensor& value) { return push_value_node(value, true); }
Var Tape::constant(const Tensor& value) { return push_value_node(value, false); }

Var Tape::leaf(const Shape& shape, const double* data) {
  Var v = push(shape, nullptr);
  Node& n = nodes_[num_nodes_ - 1];
  n.kind = NodeKind::Leaf;
  if (n.numel == 1)
    *val(n) = *data;  // a scalar parameter (one per loop iteration): no call to memmove
  else
    std::copy(data, data + n.numel, val(n));
  n.adj = adj_size_;
  adj_size_ += n.numel;
  return v;
}

Var Tape::leaf_borrowed(const Shape& shape, const double* data) {
  Var v = push(Shape{}, nullptr);  // no arena space: the value stays where it is
  Node& n = nodes_[num_nodes_ - 1];
  n.kind = NodeKind::Leaf;
  n.shape = shape;
  n.numel = shape.numel();
  n.ext = data;
  n.adj = adj_size_;
  adj_size_ += n.numel;
  return v;
}

Var Tape::leaf(double value) {
  Var v = push(Shape{}, nullptr);
  *val(v) = value;
  nodes_[num_nodes_ - 1].adj = adj_size_++;
  nodes_[num_nodes_ - 1].kind = NodeKind::Leaf;
  return v;
}

Var Tape::constant(double value) {
  Var v = push(Shape{}, nullptr);
  *val(v) = value;
  nodes_[num_nodes_ - 1].kind = NodeKind::Constant;
  return v;
}

Var Tape::borrow(const Tensor& value) {
  Var v = push(Shape{}, nullptr);  // no arena space: the value stays where it is
  Node& n = nodes_[num_nodes_ - 1];
  n.kind = NodeKind::Constant;
  n.shape = value.shape();
  n.numel = value.numel();
  n.ext = value.data();
  return v;
}

void Tape::fail_check(const char* op) {
  throw std::invalid_argument(std::string(op) +
                              ": a Var from another tape, or from before tape.clear()");
}

void Tape::zero_adjoints() {
  // Zeroed once, in chunks, which may run on threads (a large plate's
  // adjoints are tens of megabytes, on one thread a serial part of every
  // step). The buffer keeps its high-water size across clear(); only a step
  // larger than any before grows it, which zeroes it.
  const auto size = static_cast<std::size_t>(adj_size_);
  if (adjs_.size() < size) {
    adjs_.clear();
    adjs_.resize(size);
  } else {
    par::for_range(adj_size_, [&](std::int64_t b, std::int64_t e) { std::fill(adjs_.data() + b, adjs_.data() + e, 0.0); });
  }
  adj_ready_ = adj_size_;
}

void Tape::backward(Var root) { backward(root, nullptr); }

void Tape::backward(Var root, std::vector<std::int32_t>* ran) {
  check(root, "backward");
  const Node& r = node(root);
  if (r.numel != 1)
    throw std::invalid_argument("backward: the root must have one element, got shape " +
                                to_string(r.shape));
  if (ran) ran->clear();
  zero_adjoints();
  if (r.adj < 0) return;
  adjs_[static_cast<std::size_t>(r.adj)] = 1.0;
  // Nodes are in topological order, so a node is reached (some node the root
  // depends on reads it) before the sweep gets to it; an unreached node's
  // adjoint is zero and its backward would add only zeros.
  reached_.assign(static_cast<std::size_t>(root.index()) + 1, 0);
  reached_[static_cast<std::size_t>(root.index())] = 1;
  for (std::int32_t i = root.index(); i >= 0; --i) {
    const Node& n = nodes_[static_cast<std::size_t>(i)];
    if (!n.backward || !reached_[static_cast<std::size_t>(i)]) continue;
    for (std::int32_t in : n.in)
      if (in >= 0) reached_[static_cast<std::size_t>(in)] = 1;
    if (ran) ran->push_back(i);
    n.backward(*this, n);
  }
}

void Tape::backward_along(Var root, const std::vector<std::int32_t>& ran) {
  check(root, "backward");
  zero_adjoints();
  const Node& r = node(root);
  if (r.adj < 0) return;
  adjs_[static_cast<std::size_t>(r.adj)] = 1.0;
  // reach() from a backward (concat's) writes here: keep it in range.
  if (reached_.size() < num_nodes_) reached_.resize(num_nodes_);
  for (std::int32_t i : ran) {
    const Node& n = nodes_[static_cast<std::size_t>(i)];
    n.backward(*this, n);
  }
}

Tensor Tape::grad(Var v) const {
  check(v, "grad");
  const Node& n = node(v);
  Tensor g(n.shape, 0.0);
  if (n.adj >= 0 && n.adj + n.numel <= adj_ready_)
    std::copy(adjs_.data() + n.adj, adjs_.data() + n.adj + n.numel, g.data());
  return g;
}

const double* Tape::grad_data(Var v) const {
  check(v, "grad_data");
  const Node& n = node(v);
  if (n.adj < 0 || n.adj + n.numel > adj_ready_) return nullptr;
  return adjs_.data() + n.adj;
}

Tensor Tape::value(Var v) const {
  check(v, "value");
  return value(v.index());
}

Tensor Tape::value(std::int32_t i) const {
  const Node& n = node(i);
  Tensor t(n.shape);
  std::copy(val(n), val(n) + n.numel, t.data());
  return t;
}

Var Tape::push_custom(const Shape& shape, const std::vector<Var>& inputs, CustomBackward backward) {
  std::vector<std::int64_t> ids;
  bool needs_grad = false;
  for (const Var& v : inputs) {
    check(v, "push_custom");
    ids.push_back(v.index());
    needs_grad = needs_grad || node(v).adj >= 0;
  }
  Var r = push(shape, nullptr);
  if (!needs_grad) return r;
  const std::int64_t first = push_ints(ids.data(), static_cast<std::int64_t>(ids.size()));
  Node& n = nodes_[num_nodes_ - 1];
  n.adj = adj_size_;
  adj_size_ += n.numel;
  n.backward = &Tape::custom_backward;
  n.iaux[0] = static_cast<std::int64_t>(customs_.size());
  n.iaux[1] = first;
  n.iaux[2] = static_cast<std::int64_t>(ids.size());
  for (std::size_t k = 0; k < ids.size() && k < 3; ++k) n.in[k] = static_cast<std::int32_t>(ids[k]);
  customs_.push_back(std::move(backward));
  return r;
}

std::vector<std::int32_t> Tape::custom_inputs(const Node& n) const {
  std::vector<std::int32_t> out;
  for (std::int64_t k = 0; k < n.iaux[2]; ++k) out.push_back(static_cast<std::int32_t>(ints_[n.iaux[1] + k]));
  return out;
}

void Tape::custom_backward(Tape& tape, const Node& n) {
  for (std::int64_t k = 3; k < n.iaux[2]; ++k) tape.reach(static_cast<std::int32_t>(tape.ints_[n.iaux[1] + k]));
  tape.customs_[static_cast<std::size_t>(n.iaux[0])](tape, n);
}

void Tape::forward() {
  for (std::size_t i = 0; i < num_nodes_; ++i) {
    const Node& n = nodes_[i];
    if (n.kind == NodeKind::Op) n.forward(*this, n);
  }
}

std::int32_t Tape::first_opaque() const {
  for (std::size_t i = 0; i < num_nodes_; ++i)
    if (nodes_[i].kind == NodeKind::Opaque) return static_cast<std::int32_t>(i);
  return -1;
}

namespace {
// Whether ok(x[i]) for every i; stops at the first that fails. The arrays a
// guard reads are mostly of one to a few elements, where a vectorised
// form's set-up costs more than the test.
template <class Ok>
bool every(const double* x, std::int64_t n, Ok ok) {
  for (std::int64_t i = 0; i < n; ++i)
    if (!ok(x[i])) return false;
  return true;
}
}  // namespace

bool Tape::guards_hold() const {
  for (const GuardEntry& g : guards_) {
    if (g.node < 0) {
      if (!g.holds(*this)) return false;
      continue;
    }
    const Node& n = nodes_[static_cast<std::size_t>(g.node)];
    const double* x = val(n);
    bool ok = false;
    switch (g.test) {
      case ElementTest::Finite: ok = every(x, n.numel, [](double v) { return std::isfinite(v); }); break;
      case ElementTest::Positive: ok = every(x, n.numel, [](double v) { return v > 0; }); break;  // false for NaN
      case ElementTest::NonNegative: ok = every(x, n.numel, [](double v) { return v >= 0; }); break;
      case ElementTest::Probability: ok = every(x, n.numel, [](double v) { return v >= 0 && v <= 1; }); break;
      case ElementTest::NonNegativeInteger:
        ok = every(x, n.numel, [](double v) { return v >= 0 && std::isfinite(v) && std::floor(v) == v; });
        break;
    }
    if (!ok) return false;
  }
  return true;
}

void Tape::forward(const std::vector<std::int32_t>& ops) {
  for (std::int32_t i : ops) {
    const Node& n = nodes_[static_cast<std::size_t>(i)];
    n.forward(*this, n);
  }
}

void Tape::copy_from(const Tape& other) {
  if (&other == this) return;
  if (!other.customs_.empty()) throw std::invalid_argument("Tape::copy_from: a tape with custom backward nodes");
  clear();
  std::int64_t borrowed = 0;
  for (std::size_t i = 0; i < other.num_nodes_; ++i)
    if (other.nodes_[i].ext) borrowed += other.nodes_[i].numel;
  nodes_.assign(other.nodes_.begin(), other.nodes_.begin() + static_cast<std::ptrdiff_t>(other.num_nodes_));
  num_nodes_ = other.num_nodes_;
  vals_.assign(other.vals_.begin(), other.vals_.begin() + other.num_vals_);
  vals_.resize(static_cast<std::size_t>(other.num_vals_ + borrowed));
  num_vals_ = other.num_vals_;
  for (Node& n : nodes_) {
    if (!n.ext) continue;
    std::copy(n.ext, n.ext + n.numel, vals_.data() + num_vals_);
    n.val = num_vals_;
    n.ext = nullptr;
    num_vals_ += n.numel;
  }
  ints_ = other.ints_;
  summed_forms_ = other.summed_forms_;
  guards_ = other.guards_;
  adj_size_ = other.adj_size_;
  adj_ready_ = 0;
  max_bytes_ = other.max_bytes_;
}

void Tape::clear() {
  customs_.clear();
  guards_.clear();
  summed_forms_.clear();
  num_nodes_ = 0;
  num_vals_ = 0;
  adj_ready_ = 0;
  ints_.clear();
  adj_size_ = 0;
}

std::size_t Tape::arena_bytes() const {
  return nodes_.capacity() * sizeof(Node) + vals_.capacity() * sizeof(double) +
         adjs_.capacity() * sizeof(double) + ints_.capacity() * sizeof(std::int64_t);
}

std::int64_t Tape::push_ints(const std::int64_t* data, std::int64_t n) {
  const auto off = static_cast<std::int64_t>(ints_.size());
  ints_.insert(ints_.end(), data, data + n);
  return off;
}

Tensor Var::value() const { return tape_->value(*this); }
Tensor Var::grad() const { return tape_->grad(*this); }
double Var::item() const {
  const Node& n = tape_->node(*this);
  if (n.numel != 1)
    throw std::invalid_argument("item(): Var of shape " + to_string(n.shape) +
                                " has more than one element");
  return *tape_->val(n);
}

}  // namespace vireo::ad
