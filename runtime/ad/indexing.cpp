// Indexing and shape: x[i], x[i, j], x[z] (gather), take_along_last, slices,
// reshape, broadcast_to, concat, stack, size. Each forward copies into the
// arena; each backward adds the adjoint back at the positions read.
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <algorithm>
#include <string>

namespace vireo::ad {
namespace {

std::int64_t wrap_index(std::int64_t i, std::int64_t dim, const char* op) {
  const std::int64_t w = i < 0 ? i + dim : i;
  if (w < 0 || w >= dim)
    throw std::out_of_range(std::string(op) + ": index " + std::to_string(i) +
                            " out of range for an axis of size " + std::to_string(dim));
  return w;
}

// ---- contiguous block: out = x[off : off + numel] (index on leading axes, reshape) ----
void block_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx) + nd.iaux[0];
  for (std::int64_t i = 0; i < nd.numel; ++i) gx[i] += g[i];
}

void block_forward(Tape& t, const Node& nd) {
  const double* xv = t.val(t.node(nd.in[0])) + nd.iaux[0];
  std::copy(xv, xv + nd.numel, t.val(nd));
}

Var block(Var x, const Shape& out, std::int64_t offset) {
  Tape& t = *x.tape();
  Var r = t.push(out, &block_backward, x.index());
  t.mutable_node(r).iaux[0] = offset;
  t.compute(r, &block_forward);
  return r;
}

// ---- gather by a table of flat source offsets (ints arena at iaux[0]) ----
void gather_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t* src = t.ints(nd.iaux[0]);
  const std::int64_t row = nd.iaux[1];
  const std::int64_t rows = row == 0 ? 0 : nd.numel / row;
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < row; ++j) gx[src[i] + j] += g[i * row + j];
}

// out row i (of `row` elements) = x[src[i] : src[i] + row]. A zero row
// copies nothing, however many offsets there are.
void gather_forward(Tape& t, const Node& nd) {
  const std::int64_t* src = t.ints(nd.iaux[0]);
  const std::int64_t row = nd.iaux[1];
  const std::int64_t rows = row == 0 ? 0 : nd.numel / row;
  const double* xv = t.val(t.node(nd.in[0]));
  double* o = t.val(nd);
  for (std::int64_t i = 0; i < rows; ++i) std::copy(xv + src[i], xv + src[i] + row, o + i * row);
}

Var gather_rows(Var x, const Shape& out, const std::vector<std::int64_t>& src, std::int64_t row) {
  Tape& t = *x.tape();
  Var r = t.push(out, &gather_backward, x.index());
  Node& nr = t.mutable_node(r);
  nr.iaux[0] = t.push_ints(src.data(), static_cast<std::int64_t>(src.size()));
  nr.iaux[1] = row;
  t.compute(r, &gather_forward);
  return r;
}

// ---- slice along an axis: x as [outer, n, inner] → [outer, e - b, inner] ----
void slice_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const std::int64_t outer = nd.iaux[0], n = nd.iaux[1], begin = nd.iaux[2];
  const std::int64_t chunk = outer == 0 ? 0 : nd.numel / outer;  // (e - b) * inner
  const std::int64_t inner = nd.daux > 0 ? static_cast<std::int64_t>(nd.daux) : 0;
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  for (std::int64_t o = 0; o < outer; ++o) {
    double* dst = gx + (o * n + begin) * inner;
    for (std::int64_t j = 0; j < chunk; ++j) dst[j] += g[o * chunk + j];
  }
}

// iaux as slice_backward reads them.
void slice_forward(Tape& t, const Node& nd) {
  const std::int64_t outer = nd.iaux[0], n = nd.iaux[1], begin = nd.iaux[2];
  const std::int64_t chunk = outer == 0 ? 0 : nd.numel / outer;  // (e - b) * inner
  const std::int64_t inner = nd.daux > 0 ? static_cast<std::int64_t>(nd.daux) : 0;
  const double* xv = t.val(t.node(nd.in[0]));
  double* o = t.val(nd);
  for (std::int64_t q = 0; q < outer; ++q)
    std::copy(xv + (q * n + begin) * inner, xv + (q * n + begin) * inner + chunk, o + q * chunk);
}

// ---- broadcast_to: backward sums over the broadcast axes ----
void broadcast_backward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const double* g = t.adj(nd);
  double* gx = t.adj(nx);
  const std::int64_t n = nd.numel;
  // From one element or from as many: up to a chunk inline (a scalar's
  // gradient summed in broadcast_loop's order), beyond it in chunks, which
  // may run on threads (the scalar's gradient summed per chunk, in chunk order).
  if (nx.numel == 1) {
    if (n <= par::kChunk) {
      double s = gx[0];
      for (std::int64_t i = 0; i < n; ++i) s += g[i];
      gx[0] = s;
    } else {
      gx[0] += detail::sum_of(n, [&](std::int64_t i) { return g[i]; });
    }
    return;
  }
  if (nx.numel == n) {
    if (n <= par::kChunk)
      for (std::int64_t i = 0; i < n; ++i) gx[i] += g[i];
    else
      par::for_range(n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) gx[i] += g[i];
      });
    return;
  }
  detail::broadcast_loop<1>(nd.shape, {&nx.shape},
                            [&](std::int64_t o, const auto& off) { gx[off[0]] += g[o]; });
}

void broadcast_forward(Tape& t, const Node& nd) {
  const Node& nx = t.node(nd.in[0]);
  const double* xv = t.val(nx);
  double* o = t.val(nd);
  const std::int64_t n = nd.numel;
  if (nx.numel == 1 || nx.numel == n) {  // up to a chunk inline, beyond it in chunks, which may run on threads
    const bool one = nx.numel == 1;
    if (n <= par::kChunk) {
      if (one)
        std::fill(o, o + n, xv[0]);
      else
        std::copy(xv, xv + n, o);
      return;
    }
    par::for_range(n, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) o[i] = xv[one ? 0 : i];
    });
    return;
  }
  detail::broadcast_loop<1>(nd.shape, {&nx.shape},
                            [&](std::int64_t i, const auto& off) { o[i] = xv[off[0]]; });
}

// ---- concat: inputs listed in the ints arena (iaux[0] offset, iaux[1] count), axis in iaux[2] ----
// A concat node's blocks: `outer` blocks before its axis, each out_chunk long.
struct ConcatBlocks {
  std::int64_t outer = 1, out_chunk = 1;
  explicit ConcatBlocks(const Node& nd) {
    const int axis = static_cast<int>(nd.iaux[2]);
    std::int64_t inner = 1;
    for (int d = 0; d < axis; ++d) outer *= nd.shape[d];
    for (int d = axis + 1; d < nd.shape.rank(); ++d) inner *= nd.shape[d];
    out_chunk = nd.shape[axis] * inner;
  }
};

void concat_backward(Tape& t, const Node& nd) {
  const std::int64_t* ins = t.ints(nd.iaux[0]);
  const std::int64_t count = nd.iaux[1];
  const auto [outer, out_chunk] = ConcatBlocks(nd);
  const double* g = t.adj(nd);
  std::int64_t start = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    const Node& nx = t.node(static_cast<std::int32_t>(ins[k]));
    const std::int64_t chunk = outer > 0 ? nx.numel / outer : 0;  // its stretch of each outer block (stack's inputs lack the axis)
    if (nx.adj >= 0) {
      t.reach(static_cast<std::int32_t>(ins[k]));
      double* gx = t.adj(nx);
      if (outer == 1)  // a stack of scalars (a loop's parameters) or a concat on the first axis
        for (std::int64_t j = 0; j < chunk; ++j) gx[j] += g[start + j];
      else
        for (std::int64_t o = 0; o < outer; ++o)
          for (std::int64_t j = 0; j < chunk; ++j) gx[o * chunk + j] += g[o * out_chunk + start + j];
    }
    start += chunk;
  }
}

// Each input one stretch of every outer block, numel / outer long.
void concat_forward(Tape& t, const Node& nd) {
  const std::int64_t* ins = t.ints(nd.iaux[0]);
  const std::int64_t count = nd.iaux[1];
  const auto [outer, out_chunk] = ConcatBlocks(nd);
  double* o = t.val(nd);
  std::int64_t start = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    const Node& nx = t.node(static_cast<std::int32_t>(ins[k]));
    const double* xv = t.val(nx);
    if (outer == 1 && nx.numel == 1) {  // a stack of scalars (a loop's parameters): no copy call
      o[start++] = *xv;
      continue;
    }
    const std::int64_t chunk = outer > 0 ? nx.numel / outer : 0;
    for (std::int64_t q = 0; q < outer; ++q)
      std::copy(xv + q * chunk, xv + (q + 1) * chunk, o + q * out_chunk + start);
    start += chunk;
  }
}

}  // namespace

Var index(Var x, std::int64_t i) {  // index(x, {i}) without the vector (x[t] in a loop body)
  Tape& t = detail::tape_of(x, "index");
  const Shape& s = t.node(x).shape;
  if (s.rank() < 1) throw std::out_of_range("index: 1 indices into a Var of shape " + to_string(s));
  const std::int64_t at = wrap_index(i, s[0], "index");
  Shape out;
  for (int d = 1; d < s.rank(); ++d) out.push_back(s[d]);
  return block(x, out, at * out.numel());
}

Var index(Var x, const std::vector<std::int64_t>& idx) {
  Tape& t = detail::tape_of(x, "index");
  const Shape s = t.node(x).shape;
  if (static_cast<int>(idx.size()) > s.rank())
    throw std::out_of_range("index: " + std::to_string(idx.size()) + " indices into a Var of shape " +
                            to_string(s));
  std::int64_t offset = 0;
  for (std::size_t a = 0; a < idx.size(); ++a)
    offset = offset * s[static_cast<int>(a)] + wrap_index(idx[a], s[static_cast<int>(a)], "index");
  Shape out;
  for (int d = static_cast<int>(idx.size()); d < s.rank(); ++d) out.push_back(s[d]);
  offset *= out.numel();
  return block(x, out, offset);
}

Var gather(Var x, const IntTensor& idx) {
  Tape& t = detail::tape_of(x, "gather");
  const Shape s = t.node(x).shape;
  if (s.rank() == 0) throw std::invalid_argument("gather: cannot index a scalar");
  Shape out = idx.shape();
  for (int d = 1; d < s.rank(); ++d) out.push_back(s[d]);
  const std::int64_t row = s[0] == 0 ? 0 : s.numel() / s[0];
  std::vector<std::int64_t> src(static_cast<std::size_t>(idx.numel()));
  for (std::int64_t i = 0; i < idx.numel(); ++i) src[i] = wrap_index(idx[i], s[0], "gather") * row;
  return gather_rows(x, out, src, row);
}

Var take_along_last(Var x, const IntTensor& idx) {
  Tape& t = detail::tape_of(x, "take_along_last");
  const Shape s = t.node(x).shape;
  if (s.rank() == 0) throw std::invalid_argument("take_along_last: cannot index a scalar");
  const std::int64_t K = s[s.rank() - 1];
  Shape batch;
  for (int d = 0; d + 1 < s.rank(); ++d) batch.push_back(s[d]);
  const Shape out = detail::broadcast_for(batch, idx.shape(), "take_along_last");
  std::vector<std::int64_t> src(static_cast<std::size_t>(out.numel()));
  const Shape& ishape = idx.shape();
  detail::broadcast_loop<2>(out, {&batch, &ishape}, [&](std::int64_t o, const auto& off) {
    src[o] = off[0] * K + wrap_index(idx[off[1]], K, "take_along_last");
  });
  return gather_rows(x, out, src, 1);
}

Var slice(Var x, int axis, std::int64_t begin, std::int64_t end) {
  Tape& t = detail::tape_of(x, "slice");
  const Shape s = t.node(x).shape;
  const int a = normalize_axis(axis, s.rank());
  const std::int64_t n = s[a];
  if (begin < 0) begin += n;
  if (end < 0) end += n;
  begin = std::clamp<std::int64_t>(begin, 0, n);
  end = std::clamp<std::int64_t>(end, begin, n);
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < a; ++d) outer *= s[d];
  for (int d = a + 1; d < s.rank(); ++d) inner *= s[d];
  Shape out = s;
  out[a] = end - begin;
  Var r = t.push(out, &slice_backward, x.index());
  Node& nr = t.mutable_node(r);
  nr.iaux[0] = outer;
  nr.iaux[1] = n;
  nr.iaux[2] = begin;
  nr.daux = static_cast<double>(inner);  // exact below 2^53
  t.compute(r, &slice_forward);
  return r;
}

Var reshape(Var x, const Shape& shape) {
  Tape& t = detail::tape_of(x, "reshape");
  const std::int64_t total = t.node(x).numel;
  if (shape.numel() != total)
    throw std::invalid_argument("reshape: cannot view " + to_string(t.node(x).shape) + " as " +
                                to_string(shape));
  return block(x, shape, 0);
}

Var reshape(Var x, const std::vector<std::int64_t>& dims) {
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: more than one -1 dimension");
      infer = static_cast<int>(d);
    } else {
      known *= dims[d];
    }
  }
  std::vector<std::int64_t> full = dims;
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      throw std::invalid_argument("reshape: cannot infer the -1 dimension for " +
                                  std::to_string(x.numel()) + " elements");
    full[static_cast<std::size_t>(infer)] = x.numel() / known;
  }
  return reshape(x, Shape(full));
}

Var broadcast_to(Var x, const Shape& shape) {
  Tape& t = detail::tape_of(x, "broadcast_to");
  const Shape s = t.node(x).shape;
  if (!(detail::broadcast_for(s, shape, "broadcast_to") == shape))
    throw std::invalid_argument("broadcast_to: cannot broadcast " + to_string(s) + " to " +
                                to_string(shape));
  Var r = t.push(shape, &broadcast_backward, x.index());
  t.compute_pure(r, &broadcast_forward);
  return r;
}

namespace {

// The node of concat (and of stack on axis 0): xs, whose shapes the caller
// checked, one after another along `axis` of `out` — each input one stretch
// of every outer block, numel / outer long.
Var join(Tape& t, const std::vector<Var>& xs, const Shape& out, int axis) {
  std::int32_t grad_input = -1;
  std::vector<std::int64_t> ins;
  ins.reserve(xs.size());
  for (Var x : xs) {
    ins.push_back(x.index());
    if (t.node(x).adj >= 0) grad_input = x.index();
  }
  // The node's in[0] is any input that needs a gradient (it decides whether
  // the node needs one), else the first (the node still reads it); the full
  // list is in the ints arena.
  Var r = t.push(out, &concat_backward, grad_input >= 0 ? grad_input : xs[0].index());
  Node& nr = t.mutable_node(r);
  nr.iaux[0] = t.push_ints(ins.data(), static_cast<std::int64_t>(ins.size()));
  nr.iaux[1] = static_cast<std::int64_t>(ins.size());
  nr.iaux[2] = axis;
  t.compute(r, &concat_forward);
  return r;
}

}  // namespace

Var concat(const std::vector<Var>& xs, int axis) {
  if (xs.empty()) throw std::invalid_argument("concat: no inputs");
  Tape& t = detail::tape_of(xs[0], "concat");
  const Shape first = t.node(xs[0]).shape;
  if (first.rank() == 0) throw std::invalid_argument("concat: cannot concatenate scalars; use stack");
  const int a = normalize_axis(axis, first.rank());
  Shape out = first;
  out[a] = 0;
  for (Var x : xs) {
    t.check(x, "concat");
    const Shape& s = t.node(x).shape;
    bool ok = s.rank() == first.rank();
    for (int d = 0; ok && d < s.rank(); ++d) ok = d == a || s[d] == first[d];
    if (!ok)
      throw std::invalid_argument("concat: shapes " + to_string(first) + " and " + to_string(s) +
                                  " differ off axis " + std::to_string(a));
    out[a] += s[a];
  }
  return join(t, xs, out, a);
}

Var stack(const std::vector<Var>& xs, int axis) {
  if (xs.empty()) throw std::invalid_argument("stack: no inputs");
  Tape& t = detail::tape_of(xs[0], "stack");
  const Shape s = t.node(xs[0]).shape;
  const int a = normalize_axis(axis, s.rank() + 1);
  if (a == 0) {  // one node, whatever the number of inputs (a guide's per-iteration leaves)
    Shape out{static_cast<std::int64_t>(xs.size())};
    for (auto d : s) out.push_back(d);
    for (Var x : xs) {
      t.check(x, "stack");
      if (!(t.node(x).shape == s))
        throw std::invalid_argument("stack: shapes " + to_string(s) + " and " + to_string(t.node(x).shape) + " differ");
    }
    return join(t, xs, out, 0);
  }
  Shape expanded;
  for (int d = 0; d <= s.rank(); ++d) {
    if (d == a) expanded.push_back(1);
    if (d < s.rank()) expanded.push_back(s[d]);
  }
  std::vector<Var> parts;
  parts.reserve(xs.size());
  for (Var x : xs) {
    if (!(x.shape() == s))
      throw std::invalid_argument("stack: shapes " + to_string(s) + " and " + to_string(x.shape()) +
                                  " differ");
    parts.push_back(reshape(x, expanded));
  }
  return concat(parts, a);
}

std::int64_t size(Var x) { return x.numel(); }
std::int64_t size(Var x, int axis) {
  const Shape& s = x.shape();
  return s[normalize_axis(axis, s.rank())];
}

Var Var::operator[](std::int64_t i) const { return ad::index(*this, i); }
Var Var::operator[](const IntTensor& idx) const { return ad::gather(*this, idx); }

}  // namespace vireo::ad
