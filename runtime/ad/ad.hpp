// vireo::ad — the public API of tensors and reverse-mode autodiff.
// Every operation takes Vars of one tape, records one node on it and returns
// its result. Binary elementwise operations broadcast like NumPy; gradients
// are summed back to each input's shape. Mixed Var/double overloads keep
// the number in the node (one node, no constant). Implementations by family:
//   arithmetic.cpp, elementwise.cpp (functions), compare.cpp (masks, where,
//   clamp), reductions.cpp, linalg.cpp, indexing.cpp (index, gather, slice,
//   reshape, broadcast_to, concat, stack), creation.cpp.
// Usage:
//   Tape tape;
//   Var w = tape.leaf(Tensor::vector({0.1, 0.2}));
//   Var x = tape.borrow(X);                         // data [N, 2], not copied
//   Var logits = matmul(x, w);                      // x @ w
//   Var lp = sum(tape.constant(y) * logits - softplus(logits));
//   tape.backward(lp);  Tensor g = tape.grad(w);
//   tape.clear();                                   // next step reuses the memory
#pragma once

#include "runtime/ad/tape.hpp"
#include "runtime/ad/tensor.hpp"

#include <cstdint>
#include <vector>

namespace vireo::ad {

// ---- arithmetic (broadcasting) ----
Var operator+(Var a, Var b);
Var operator-(Var a, Var b);
Var operator*(Var a, Var b);
Var operator/(Var a, Var b);
Var operator-(Var a);
Var operator+(Var a, double b);
Var operator+(double a, Var b);
Var operator-(Var a, double b);
Var operator-(double a, Var b);
Var operator*(Var a, double b);
Var operator*(double a, Var b);
Var operator/(Var a, double b);
Var operator/(double a, Var b);
Var pow(Var base, Var exponent);  // gradient w.r.t. the exponent uses log(base); base > 0 there
Var pow(Var base, double exponent);
Var pow(double base, Var exponent);
Var minimum(Var a, Var b);  // elementwise; the gradient goes to the selected argument
Var maximum(Var a, Var b);

// ---- elementwise functions ----
Var exp(Var x);
Var log(Var x);
Var log1p(Var x);
Var expm1(Var x);
Var sqrt(Var x);
Var square(Var x);
Var abs(Var x);      // d/dx at 0 is 0
Var sin(Var x);
Var cos(Var x);
Var tanh(Var x);
Var sigmoid(Var x);
Var logit(Var x);
Var softplus(Var x);     // log(1 + exp(x)), finite for |x| up to 1e308
Var log_sigmoid(Var x);  // -softplus(-x), stable
Var log1m_exp(Var x);    // log(1 - exp(x)) for x < 0, stable (Mächler 2012)
Var relu(Var x);         // d/dx at 0 is 0
Var lgamma(Var x);
Var digamma(Var x);      // gradient: trigamma
Var clamp(Var x, double lo, double hi);  // gradient 1 inside [lo, hi], 0 outside
Var detach(Var x);       // the same value, no gradient

// ---- comparisons and selection (masks hold 0.0 / 1.0 and carry no gradient) ----
Var operator<(Var a, Var b);
Var operator<=(Var a, Var b);
Var operator>(Var a, Var b);
Var operator>=(Var a, Var b);
Var operator==(Var a, Var b);
Var operator!=(Var a, Var b);
Var operator<(Var a, double b);
Var operator<=(Var a, double b);
Var operator>(Var a, double b);
Var operator>=(Var a, double b);
Var operator==(Var a, double b);
Var operator!=(Var a, double b);
// mask != 0 ? a : b, broadcasting all three; gradient to the selected side.
Var where(Var mask, Var a, Var b);
Var where(Var mask, Var a, double b);
Var where(Var mask, double a, Var b);

// ---- reductions (axis may be negative; keepdims keeps the reduced axis as 1) ----
Var sum(Var x);                                  // scalar
Var sum(Var x, int axis, bool keepdims = false);
Var mean(Var x);
Var mean(Var x, int axis, bool keepdims = false);
Var max(Var x);                                  // gradient to the first maximiser
Var max(Var x, int axis, bool keepdims = false);
Var min(Var x);
Var min(Var x, int axis, bool keepdims = false);
Var logsumexp(Var x);                            // stable at ±1000
Var logsumexp(Var x, int axis, bool keepdims = false);
Var softmax(Var x, int axis = -1);
Var log_softmax(Var x, int axis = -1);

// ---- linear algebra ----
// NumPy `@`: vector·vector → scalar, matrix·vector → vector, vector·matrix →
// vector, matrix·matrix → matrix, and batched [..., n, k] @ [..., k, m] with
// broadcasting of the batch axes.
Var matmul(Var a, Var b);
// matmul(a, b) + c with the same values and gradients, as one node when c is
// one value or has the product's shape (the intercept of `X @ w + b`): the
// bias is added to each chunk of the product as it comes out, and backward
// the product reads the node's gradient directly, with no sum node's array
// in between. Any other broadcast of c is the two ops.
Var matmul_add(Var a, Var b, Var c);
// A dense layer x @ w + b as one node: x [..., k] (every leading axis a row:
// a batch, plate elements), w [k, m], b [m] → [..., m]. Forward one gemm and
// the bias; backward two gemms and a column sum — no per-row work.
Var dense(Var x, Var w, Var b);
Var dot(Var a, Var b);     // rank-1 · rank-1 → scalar
Var transpose(Var x);      // swaps the last two axes (rank ≥ 2); rank ≤ 1 unchanged

// ---- indexing and shape ----
Var index(Var x, std::int64_t i);                          // x[i]; negative counts from the end
Var index(Var x, const std::vector<std::int64_t>& idx);    // x[i, j, ...] on leading axes
Var gather(Var x, const IntTensor& idx);                   // x[z]: out shape idx.shape + x.shape[1:]
// out[...] = x[..., idx[...]]: picks along the last axis (Categorical log_prob);
// idx broadcasts against x.shape[:-1].
Var take_along_last(Var x, const IntTensor& idx);
Var slice(Var x, int axis, std::int64_t begin, std::int64_t end);  // x[..., begin:end, ...]
Var reshape(Var x, const Shape& shape);
Var reshape(Var x, const std::vector<std::int64_t>& dims);  // one dim may be -1 (inferred)
Var broadcast_to(Var x, const Shape& shape);
Var concat(const std::vector<Var>& xs, int axis = 0);
Var stack(const std::vector<Var>& xs, int axis = 0);
std::int64_t size(Var x);                  // number of elements
std::int64_t size(Var x, int axis);

// ---- creation (constants) ----
Var zeros(Tape& tape, const Shape& shape);
Var ones(Tape& tape, const Shape& shape);
Var fill(Tape& tape, const Shape& shape, double value);
Var arange(Tape& tape, double stop);                         // 0, 1, ..., < stop
Var arange(Tape& tape, double start, double stop, double step = 1.0);
Var one_hot(Tape& tape, const IntTensor& idx, std::int64_t num_classes);  // idx.shape + [K]

// `@` is spelled matmul in C++; operator% is not provided on purpose.

}  // namespace vireo::ad
