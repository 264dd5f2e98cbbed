// Creation of constant Vars: zeros ones fill arange one_hot.
#include "runtime/ad/ad.hpp"

#include <cmath>
#include <string>

namespace vireo::ad {

Var fill(Tape& tape, const Shape& shape, double value) {
  Var r = tape.push(shape, nullptr);
  tape.mark_constant(r);
  double* o = tape.val(r);
  std::fill(o, o + shape.numel(), value);
  return r;
}
Var zeros(Tape& tape, const Shape& shape) { return fill(tape, shape, 0.0); }
Var ones(Tape& tape, const Shape& shape) { return fill(tape, shape, 1.0); }

Var arange(Tape& tape, double stop) { return arange(tape, 0.0, stop, 1.0); }

Var arange(Tape& tape, double start, double stop, double step) {
  if (step == 0.0 || !std::isfinite(step)) throw std::invalid_argument("arange: step must be finite and nonzero");
  const double count = std::ceil((stop - start) / step);
  const std::int64_t n = count > 0 ? static_cast<std::int64_t>(count) : 0;
  Var r = tape.push(Shape{n}, nullptr);
  tape.mark_constant(r);
  double* o = tape.val(r);
  for (std::int64_t i = 0; i < n; ++i) o[i] = start + static_cast<double>(i) * step;
  return r;
}

Var one_hot(Tape& tape, const IntTensor& idx, std::int64_t num_classes) {
  Shape out = idx.shape();
  out.push_back(num_classes);
  Var r = fill(tape, out, 0.0);
  double* o = tape.val(r);
  for (std::int64_t i = 0; i < idx.numel(); ++i) {
    if (idx[i] < 0 || idx[i] >= num_classes)
      throw std::out_of_range("one_hot: class " + std::to_string(idx[i]) + " outside [0, " +
                              std::to_string(num_classes) + ")");
    o[i * num_classes + idx[i]] = 1.0;
  }
  return r;
}

}  // namespace vireo::ad
