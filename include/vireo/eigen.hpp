// Optional convenience for hosts that use Eigen: vireo::Array from Eigen
// vectors and matrices (copied row-major, whatever the storage order), and
// a column of a DrawTable as an Eigen vector. Include it only if you use
// Eigen; vireo.hpp itself needs nothing but the standard library.
#pragma once
#include <Eigen/Core>
#include <string>

#include "vireo/vireo.hpp"

namespace vireo {

// A vector (one column or one row at compile time) becomes shape [n]; any
// other matrix becomes [rows, cols], row-major.
template <class Derived>
Array to_array(const Eigen::DenseBase<Derived>& m) {
  Array a;
  const auto rows = static_cast<std::int64_t>(m.rows()), cols = static_cast<std::int64_t>(m.cols());
  if (Derived::IsVectorAtCompileTime) {
    a.shape = {rows * cols};
  } else {
    a.shape = {rows, cols};
  }
  a.values.reserve(static_cast<std::size_t>(rows * cols));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) a.values.push_back(static_cast<double>(m(i, j)));
  return a;
}

// A scalar data item (an int or a real).
inline Array scalar(double x) { return Array{{}, {x}}; }

// The column called `name` of a draw table (NaN where the site was absent);
// vireo::Error (Usage) when there is none.
inline Eigen::VectorXd column(const DrawTable& t, const std::string& name) {
  for (std::size_t c = 0; c < t.columns.size(); ++c)
    if (t.columns[c] == name) {
      Eigen::VectorXd v(static_cast<Eigen::Index>(t.rows.size()));
      for (std::size_t r = 0; r < t.rows.size(); ++r) v[static_cast<Eigen::Index>(r)] = t.rows[r][c];
      return v;
    }
  throw Error("error: no column '" + name + "' in the draw table\n",
              {Diagnostic{Diagnostic::Severity::Error, "", 0, 0, "no column '" + name + "' in the draw table",
                          "the columns are named CmdStan's way: `mu`, `eta.3`", "", "", 0}},
              Error::Kind::Usage);
}

}  // namespace vireo
