// Shape and Tensor: the value types of vireo::ad.
// A Tensor is a row-major dense array (rank 0..kMaxRank) of double or int64
// with NumPy broadcasting rules; map()/matrix() give Eigen views over it.
// Tensors know nothing of the tape: a Var's value is copied out as a Tensor.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vireo::ad {

// Six axes cover batch × plate × event shapes of every model in bench/MODELS.md;
// the fixed capacity keeps Shape trivially copyable (a tape node embeds one).
inline constexpr int kMaxRank = 6;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims);

  int rank() const { return rank_; }
  std::int64_t operator[](int axis) const { return dims_[axis]; }
  std::int64_t& operator[](int axis) { return dims_[axis]; }
  // Saturates at the largest int64 instead of overflowing, so that a shape
  // from hostile sizes (a plate of 10^12 by 10^12) is refused as too large.
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i)
      if (__builtin_mul_overflow(n, dims_[i], &n)) return std::numeric_limits<std::int64_t>::max();
    return n;
  }
  void push_back(std::int64_t d);
  const std::int64_t* begin() const { return dims_.data(); }
  const std::int64_t* end() const { return dims_.data() + rank_; }
  std::vector<std::int64_t> to_vector() const { return {begin(), end()}; }
  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.dims_[i] != b.dims_[i]) return false;
    return true;
  }

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// "[3, 4]"; "[]" for a scalar.
std::string to_string(const Shape& s);
// NumPy broadcasting of two shapes; throws std::invalid_argument naming both.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Normalises a possibly negative axis against `rank`; throws std::out_of_range.
int normalize_axis(int axis, int rank);

template <class T>
class BasicTensor {
 public:
  using Scalar = T;
  using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  using MatrixMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  using ConstMatrixMap =
      Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

  BasicTensor() = default;  // a rank-0 tensor holding 0
  BasicTensor(T scalar) : data_{scalar} {}  // NOLINT: a number is a rank-0 tensor
  explicit BasicTensor(Shape shape, T fill = T{})
      : shape_(shape), data_(static_cast<std::size_t>(shape.numel()), fill) {}
  BasicTensor(Shape shape, std::vector<T> data) : shape_(shape), data_(std::move(data)) {
    if (static_cast<std::int64_t>(data_.size()) != shape_.numel())
      throw std::invalid_argument("Tensor: " + std::to_string(data_.size()) +
                                  " values do not fill shape " + to_string(shape_));
  }
  // A rank-1 tensor from a list: Tensor::vector({1, 2, 3}).
  static BasicTensor vector(std::vector<T> values) {
    Shape s{static_cast<std::int64_t>(values.size())};
    return BasicTensor(s, std::move(values));
  }

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t numel() const { return static_cast<std::int64_t>(data_.size()); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  const std::vector<T>& values() const { return data_; }
  T& operator[](std::int64_t flat) { return data_[static_cast<std::size_t>(flat)]; }
  T operator[](std::int64_t flat) const { return data_[static_cast<std::size_t>(flat)]; }
  // Element at a full multi-index (row-major).
  T at(std::initializer_list<std::int64_t> index) const {
    std::int64_t flat = 0;
    int axis = 0;
    for (std::int64_t i : index) flat = flat * shape_[axis++] + i;
    return data_[static_cast<std::size_t>(flat)];
  }
  // The single value of a one-element tensor.
  T item() const {
    if (data_.size() != 1)
      throw std::invalid_argument("item(): tensor of shape " + to_string(shape_) +
                                  " has more than one element");
    return data_[0];
  }
  BasicTensor reshaped(Shape s) const {
    if (s.numel() != shape_.numel())
      throw std::invalid_argument("reshape: cannot view " + to_string(shape_) + " as " +
                                  to_string(s));
    return BasicTensor(s, data_);
  }

  ArrayMap map() { return ArrayMap(data_.data(), numel()); }
  ConstArrayMap map() const { return ConstArrayMap(data_.data(), numel()); }
  // Rank-2 view (rank 1 is a row; rank 0 a 1×1).
  MatrixMap matrix() { return MatrixMap(data_.data(), rows(), cols()); }
  ConstMatrixMap matrix() const { return ConstMatrixMap(data_.data(), rows(), cols()); }

 private:
  std::int64_t rows() const { return shape_.rank() >= 2 ? shape_.numel() / shape_[shape_.rank() - 1] : 1; }
  std::int64_t cols() const { return shape_.rank() >= 1 ? shape_[shape_.rank() - 1] : 1; }

  Shape shape_;
  std::vector<T> data_{T{}};
};

using Tensor = BasicTensor<double>;
using IntTensor = BasicTensor<std::int64_t>;  // discrete values: indices, counts

Tensor to_double(const IntTensor& t);

}  // namespace vireo::ad
