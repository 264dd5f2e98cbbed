// Shape helpers: printing, broadcasting, axis normalisation.
#include "runtime/ad/tensor.hpp"

namespace vireo::ad {

Shape::Shape(std::initializer_list<std::int64_t> dims) {
  for (std::int64_t d : dims) push_back(d);
}

Shape::Shape(const std::vector<std::int64_t>& dims) {
  for (std::int64_t d : dims) push_back(d);
}

void Shape::push_back(std::int64_t d) {
  if (rank_ >= kMaxRank)
    throw std::invalid_argument("Shape: rank above the maximum of " + std::to_string(kMaxRank));
  if (d < 0) throw std::invalid_argument("Shape: negative dimension " + std::to_string(d));
  dims_[rank_++] = d;
}

std::string to_string(const Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  if (a == b) return a;
  const int r = a.rank() > b.rank() ? a.rank() : b.rank();
  Shape out;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank()), ib = i - (r - b.rank());
    const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument("cannot broadcast shapes " + to_string(a) + " and " +
                                  to_string(b));
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

int normalize_axis(int axis, int rank) {
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw std::out_of_range("axis " + std::to_string(axis) + " out of range for rank " +
                            std::to_string(rank));
  return a;
}

Tensor to_double(const IntTensor& t) {
  Tensor out(t.shape());
  for (std::int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<double>(t[i]);
  return out;
}

}  // namespace vireo::ad
