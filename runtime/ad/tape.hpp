// Tape and Var: reverse-mode automatic differentiation over vectorised nodes.
// One node per array operation. Node values live in a bump-allocated arena
// of doubles, adjoints in one buffer sized at backward(); clear() rewinds
// both without freeing, so a repeated step allocates nothing after the first.
// A tape belongs to its owner (no global tape); a Var is (tape*, node index)
// and is valid until the tape is cleared or destroyed.
#pragma once

#include "runtime/ad/tensor.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace vireo::ad {

class Tape;
struct Node;

// Thrown when a node would take the tape past its byte limit
// (Tape::set_max_bytes): the interpreter reports it at the statement that
// asked, as a limit of untrusted models (vireo::Limits::max_tape_mb).
class TapeLimitError : public std::runtime_error {
 public:
  TapeLimitError(std::size_t limit, double wanted);
  std::size_t limit() const { return limit_; }
  double wanted() const { return wanted_; }  // bytes the tape would have held (double: may overflow size_t)

 private:
  std::size_t limit_;
  double wanted_;
};

// Accumulates the node's adjoint into its inputs' adjoints.
using BackwardFn = void (*)(Tape& tape, const Node& node);
// Computes the node's value (and any scratch its backward reads) from its
// inputs' values, its aux fields and the integer arena, and nothing else: a
// replay of the tape (Tape::forward) calls it again after refilling leaves.
using ForwardFn = void (*)(Tape& tape, const Node& node);

namespace detail {
// The ForwardFn of detach (a copy of in[0]'s value): a guard on a copy is a
// guard on the node it copies (Tape::add_guard).
void copy_forward(Tape& tape, const Node& node);
}  // namespace detail

// Where a node's value comes from, as far as a replay is concerned.
enum class NodeKind : std::uint8_t {
  Opaque,    // computed outside any ForwardFn: a tape holding one cannot be replayed
  Constant,  // depends on no node (data, literals); a replay keeps it
  Leaf,      // a parameter's value; a replay refills it from the parameter
  Noise,     // standard normal draws (Tape::mark_noise); a replay draws them again
  Op,        // recomputed by its ForwardFn
};

// One array operation. Kept trivially copyable; per-op extras go in the aux
// fields (ints and doubles) or in the integer arena (index arrays).
struct Node {
  Shape shape;
  std::int64_t numel = 0;
  std::int64_t val = 0;       // offset of the value in the value arena
  std::int64_t adj = -1;      // offset of the adjoint in the adjoint buffer; -1: no gradient
  std::int32_t in[3] = {-1, -1, -1};  // input node indices
  BackwardFn backward = nullptr;      // nullptr for leaves and constants
  std::int64_t iaux[3] = {0, 0, 0};   // op-specific integers (axis, sizes, arena offsets)
  double daux = 0.0;                  // op-specific number
  const double* ext = nullptr;        // borrowed value (Tape::borrow) instead of the arena
  ForwardFn forward = nullptr;        // set for NodeKind::Op
  NodeKind kind = NodeKind::Opaque;
};

class Var {
 public:
  Var() = default;
  Var(Tape* tape, std::int32_t index) : tape_(tape), index_(index) {}

  Tape* tape() const { return tape_; }
  std::int32_t index() const { return index_; }
  bool valid() const { return tape_ != nullptr; }

  const Shape& shape() const;
  int rank() const { return shape().rank(); }
  std::int64_t numel() const;
  bool requires_grad() const;
  // Read-only view of the value; invalidated by the next operation on the tape.
  const double* data() const;
  Tensor value() const;
  double item() const;  // the value of a one-element Var
  Tensor grad() const;  // after tape.backward(): d root / d this (zeros if no gradient)

  Var operator[](std::int64_t i) const;         // x[i] on the leading axis
  Var operator[](const IntTensor& idx) const;   // x[z]: gather rows by an int tensor

 private:
  Tape* tape_ = nullptr;
  std::int32_t index_ = -1;
};

class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  // Vars point at their tape, so a tape never moves.
  Tape(Tape&&) = delete;
  Tape& operator=(Tape&&) = delete;

  // Parameters: gradients flow to these.
  Var leaf(const Tensor& value);
  Var leaf(double value);
  // A leaf of `shape` holding a copy of shape.numel() doubles at `data`.
  Var leaf(const Shape& shape, const double* data);
  // A leaf whose value is shape.numel() doubles at `data`, not copied: they
  // must stay alive and unchanged until clear() (a parameter store that is
  // read-only while particles run on several threads).
  Var leaf_borrowed(const Shape& shape, const double* data);
  // Data: no gradient.
  Var constant(const Tensor& value);
  Var constant(double value);
  // A constant of `shape` whose elements, in order, are next() — random
  // noise drawn straight into the tape, without a temporary tensor.
  template <class F>
  Var constant_from(const Shape& shape, F next) {
    Var v = push(shape, nullptr);
    mark_constant(v);
    double* d = val(v);
    const std::int64_t n = shape.numel();
    for (std::int64_t i = 0; i < n; ++i) d[i] = next();
    return v;
  }
  // Data without a copy: a constant whose value is `value`'s storage. `value`
  // must stay alive and unchanged until clear() — for data reused every step.
  Var borrow(const Tensor& value);

  // Fills the adjoints of every node that requires a gradient with
  // d root / d node; `root` must have one element. May be called again
  // (adjoints are reset each time). Only nodes the root depends on run their
  // backward: the sweep marks a node's in[0..2] as reached when it runs it.
  void backward(Var root);
  // The same, recording in `ran` the nodes whose backward ran, in order.
  // Which nodes run depends only on the tape's structure, so a replay of
  // the tape (forward()) may then call backward_along(root, ran), which
  // runs exactly those, without finding them again.
  void backward(Var root, std::vector<std::int32_t>* ran);
  void backward_along(Var root, const std::vector<std::int32_t>& ran);
  Tensor grad(Var v) const;
  Tensor value(Var v) const;
  Tensor value(std::int32_t node) const;  // node `node`'s value (a guard's, which holds indices)
  // The gradient without a copy (numel(v) doubles, valid until the next
  // backward() or clear()); nullptr if v has none. For optimizers that must
  // not allocate per step.
  const double* grad_data(Var v) const;

  // A node whose backward is a callable rather than an op of runtime/ad (a
  // host function's vector-Jacobian product), with any number of inputs. Its
  // value buffer is uninitialised; it requires a gradient iff some input
  // does, and only then is `backward` kept (until clear()). `backward(tape,
  // node)` adds into the adjoints of custom_inputs(node) that have one.
  using CustomBackward = std::function<void(Tape&, const Node&)>;
  Var push_custom(const Shape& shape, const std::vector<Var>& inputs, CustomBackward backward);
  std::vector<std::int32_t> custom_inputs(const Node& n) const;

  // Rewinds: drops every node, keeps the memory. Vars of this tape become invalid.
  void clear();

  // ---- replay: the same computation again on new leaf and noise values ----
  // A tape whose nodes are all Constant, Leaf, Noise or Op can be run again:
  // refill its leaves and noise (val()), then forward() recomputes every Op
  // node in order, with the same kernels and so the same bits as recording
  // them did. infer/compiled_step.hpp decides when that is the same
  // computation as running the program again.
  void forward();
  // forward() of the listed nodes only (a replay's Op nodes, found once).
  void forward(const std::vector<std::int32_t>& ops);
  // The first node whose kind is Opaque, or -1.
  std::int32_t first_opaque() const;
  // Makes this tape a copy of `other` (nodes, values, integers; borrowed
  // values are copied into this tape's arena, so the copy depends on no
  // outside storage). Refuses a tape with push_custom nodes.
  void copy_from(const Tape& other);
  // Marks `v` as standard normal draws, made by rng::fill_standard_normal
  // for all of v's elements at once, in node order with the other noise.
  void mark_noise(Var v) { mutable_node(v).kind = NodeKind::Noise; }
  // Marks `v` as depending on no node (ops that create constants).
  void mark_constant(Var v) { mutable_node(v).kind = NodeKind::Constant; }
  // Marks `v` as not replayable: its value came from a decision on values
  // that a replay would not make again (a support mask of latent values).
  void mark_opaque(Var v) { mutable_node(v).kind = NodeKind::Opaque; }
  // A decision made on values while recording (a value lies in a
  // distribution's support, so no mask was pushed; a parameter passed its
  // check, so nothing was thrown), which a replay must find still true:
  // guards_hold() asks every guard again of the values a replay computed.
  // Guards are kept only while guards are wanted (the steps a replay is
  // recorded from); add_guard does nothing otherwise.
  using Guard = std::function<bool(const Tape&)>;
  // The common guards, without a callable: every element of a node passes
  // a test (a distribution's parameter check).
  enum class ElementTest : std::uint8_t { Finite, Positive, NonNegative, Probability, NonNegativeInteger };
  void want_guards(bool on) { want_guards_ = on; }
  bool guards_wanted() const { return want_guards_; }
  void add_guard(Guard holds) {
    if (want_guards_) guards_.push_back({-1, ElementTest::Finite, std::move(holds)});
  }
  // A constant needs no guard (its values cannot change); a copy (detach)
  // is guarded as the node it copies; a node checked again right after (a
  // parameter read by several distributions, and by the detached
  // distribution a sticking-the-landing guide scores with) is guarded once.
  void add_guard(Var v, ElementTest test) {
    if (!want_guards_) return;
    while (node(v).kind == NodeKind::Op && node(v).forward == &detail::copy_forward) v = Var(this, node(v).in[0]);
    if (node(v).kind == NodeKind::Constant) return;
    const std::size_t n = guards_.size();
    for (std::size_t k = n > 8 ? n - 8 : 0; k < n; ++k)
      if (guards_[k].node == v.index() && guards_[k].test == test) return;
    guards_.push_back({v.index(), test, nullptr});
  }
  bool guards_hold() const;
  std::size_t num_guards() const { return guards_.size(); }
  // For ops: sets v's ForwardFn and runs it, which computes v's value.
  void compute(Var v, ForwardFn forward) {
    Node& n = nodes_[static_cast<std::size_t>(v.index())];
    n.forward = forward;
    n.kind = NodeKind::Op;
    forward(*this, n);
  }
  // compute() for an op whose value depends on the nodes in its in[] and
  // on no other node (none named in its aux fields or the integer arena):
  // when every input is a constant, so is the op's value (constant
  // folding). A replay then keeps it rather than computing it again, no
  // guard asks about it, and a distribution whose parameter it is knows
  // its support is fixed.
  void compute_pure(Var v, ForwardFn forward) {
    compute(v, forward);
    Node& n = nodes_[static_cast<std::size_t>(v.index())];
    bool any = false;
    for (std::int32_t i : n.in) {
      if (i < 0) continue;
      if (nodes_[static_cast<std::size_t>(i)].kind != NodeKind::Constant) return;
      any = true;
    }
    if (any) n.kind = NodeKind::Constant;
  }

  std::size_t num_nodes() const { return num_nodes_; }
  std::int64_t num_vals() const { return num_vals_; }   // doubles in use in the value arena
  std::size_t num_ints() const { return ints_.size(); }  // integers in use in the integer arena
  // The most bytes the values and nodes may take (a limit of untrusted
  // models; the adjoints can add as much again as the values). Growing past
  // it throws TapeLimitError before anything is allocated. Default: no limit.
  void set_max_bytes(std::size_t bytes) { max_bytes_ = bytes; }
  std::size_t max_bytes() const { return max_bytes_; }
  // Bytes reserved by the arenas and the node list (capacity, not use):
  // constant across clear() + an identical step.
  std::size_t arena_bytes() const;

  // ---- for operation implementations (runtime/ad/*.cpp) ----
  const Node& node(std::int32_t i) const { return nodes_[static_cast<std::size_t>(i)]; }
  const Node& node(Var v) const { return nodes_[static_cast<std::size_t>(v.index())]; }
  // Value of a node; ops never write through it except into the node they push.
  double* val(const Node& n) { return n.ext ? const_cast<double*>(n.ext) : vals_.data() + n.val; }
  const double* val(const Node& n) const { return n.ext ? n.ext : vals_.data() + n.val; }
  double* val(Var v) { return val(node(v)); }
  // Adjoint of a node; only for nodes with adj >= 0, during backward().
  double* adj(const Node& n) { return adjs_.data() + n.adj; }
  // Appends a node of `shape` whose value buffer is uninitialised; the node
  // requires a gradient iff `backward` is set and some input requires one.
  // It is Opaque until the op gives it a ForwardFn (compute()) or marks it
  // a constant or noise: a new op that fills its value inline works, but a
  // tape holding it is never replayed.
  Var push(const Shape& shape, BackwardFn backward, std::int32_t in0 = -1, std::int32_t in1 = -1,
           std::int32_t in2 = -1);
  Node& mutable_node(Var v) { return nodes_[static_cast<std::size_t>(v.index())]; }
  // Extra doubles for an op's own use (intermediates its backward reuses),
  // bump-allocated in the value arena until clear(); returns an offset.
  std::int64_t push_scratch(std::int64_t n) {
    if (num_vals_ + n > static_cast<std::int64_t>(vals_.size())) grow_vals(n);
    const std::int64_t off = num_vals_;
    num_vals_ += n;
    return off;
  }
  double* scratch(std::int64_t offset) { return vals_.data() + offset; }
  // Integer scratch kept alive with the tape (index arrays); returns an offset.
  std::int64_t push_ints(const std::int64_t* data, std::int64_t n);
  const std::int64_t* ints(std::int64_t offset) const { return ints_.data() + offset; }
  // Warning: a backward that adds into the adjoint of a node other than its
  // in[0..2] (concat's inputs in the ints arena) must reach() that node, or
  // the sweep skips the node's own backward.
  void reach(std::int32_t i) { reached_[static_cast<std::size_t>(i)] = 1; }
  // A summed form of node `v`: the backward of a scalar node standing for
  // sum(v), which adds v's gradient into v's inputs from the one adjoint,
  // with no per-element adjoint array in between (the sum of an observed
  // plate's log density, whose every element's adjoint would be the same
  // number). ad::sum(v) over all of v's elements then pushes that node, with
  // v's inputs as its own and v's index in iaux[0]; its value is the sum
  // exactly as ad::sum computes it. Until clear(). Kept in node order, so
  // that a model with many such nodes (a loop's sites) pays a binary search
  // per sum, not a scan.
  void set_summed_form(Var v, BackwardFn summed) {
    const std::pair<std::int32_t, BackwardFn> entry{v.index(), summed};
    auto at = std::upper_bound(summed_forms_.begin(), summed_forms_.end(), entry,
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    summed_forms_.insert(at, entry);
  }
  BackwardFn summed_form(Var v) const {
    auto at = std::lower_bound(summed_forms_.begin(), summed_forms_.end(), v.index(),
                               [](const auto& a, std::int32_t i) { return a.first < i; });
    return at != summed_forms_.end() && at->first == v.index() ? at->second : nullptr;
  }
  // Throws unless v is a Var of this tape recorded since the last clear().
  void check(Var v, const char* op) const {
    if (v.tape() != this || v.index() < 0 || static_cast<std::size_t>(v.index()) >= num_nodes_)
      fail_check(op);
  }

 private:
  Var push_value_node(const Tensor& value, bool requires_grad);
  void zero_adjoints();
  [[noreturn]] static void fail_check(const char* op);
  void grow_nodes();
  void grow_vals(std::int64_t needed);
  Var push_after_growing(Shape shape, BackwardFn backward, std::int32_t in0, std::int32_t in1,
                         std::int32_t in2);
  // Nodes and values are kept at their high-water size; the counters below
  // say how much is in use, so pushing a node writes it without
  // value-initialising anything (and clear() is two stores).
  std::vector<Node> nodes_;
  std::size_t num_nodes_ = 0;
  std::vector<std::pair<std::int32_t, BackwardFn>> summed_forms_;  // (node, its summed form's backward)
  // Aligned as Eigen's packets want it, so that a tape and its copy
  // (copy_from) split each kernel into packet and scalar parts alike, and
  // compute the same bits.
  std::vector<double, Eigen::aligned_allocator<double>> vals_;
  std::int64_t num_vals_ = 0;
  std::vector<double> adjs_;  // at its high-water size; adj_ready_ of it hold this tape's adjoints
  std::vector<std::int64_t> ints_;
  std::int64_t adj_size_ = 0;
  std::int64_t adj_ready_ = 0;  // adjoints filled by the last backward() since clear()
  std::vector<std::uint8_t> reached_;  // per node, during backward(): its adjoint may be nonzero
  std::vector<CustomBackward> customs_;  // push_custom's callables, by Node::iaux[0]
  struct GuardEntry {
    std::int32_t node;  // >= 0: every element of it passes `test`; else `holds`
    ElementTest test;
    Guard holds;
  };
  std::vector<GuardEntry> guards_;
  bool want_guards_ = false;
  static void custom_backward(Tape& tape, const Node& node);
  std::size_t max_bytes_ = std::numeric_limits<std::size_t>::max();
};

// Inline: this is the whole per-node bookkeeping of the scalar path.
inline Var Tape::push(const Shape& shape, BackwardFn backward, std::int32_t in0, std::int32_t in1,
                      std::int32_t in2) {
  // `shape` may refer into nodes_; the slow path copies it before growing.
  if (num_nodes_ == nodes_.size()) return push_after_growing(shape, backward, in0, in1, in2);
  const std::int64_t numel = shape.numel();
  // Written so that a huge numel (a saturated Shape::numel) cannot overflow.
  if (numel > static_cast<std::int64_t>(vals_.size()) - num_vals_) grow_vals(numel);
  Node& n = nodes_[num_nodes_];
  n.shape = shape;
  n.numel = numel;
  n.val = num_vals_;
  num_vals_ += numel;
  n.adj = -1;
  n.in[0] = in0;
  n.in[1] = in1;
  n.in[2] = in2;
  n.backward = nullptr;
  n.iaux[0] = n.iaux[1] = n.iaux[2] = 0;
  n.daux = 0.0;
  n.ext = nullptr;
  n.forward = nullptr;
  n.kind = NodeKind::Opaque;
  if (backward && ((in0 >= 0 && nodes_[in0].adj >= 0) || (in1 >= 0 && nodes_[in1].adj >= 0) ||
                   (in2 >= 0 && nodes_[in2].adj >= 0))) {
    n.backward = backward;
    n.adj = adj_size_;
    adj_size_ += numel;
  }
  return Var(this, static_cast<std::int32_t>(num_nodes_++));
}

inline const Shape& Var::shape() const { return tape_->node(*this).shape; }
inline std::int64_t Var::numel() const { return tape_->node(*this).numel; }
inline bool Var::requires_grad() const { return tape_->node(*this).adj >= 0; }
inline const double* Var::data() const {
  const Tape& t = *tape_;
  return t.val(t.node(*this));
}

}  // namespace vireo::ad
