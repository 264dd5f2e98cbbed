// Arithmetic: + - * / pow minimum maximum and unary minus, with broadcasting.
// A Var-double operation is a unary node holding the number (no constant node),
// which keeps scalar models at one node per operation.
#include "runtime/ad/ad.hpp"
#include "runtime/ad/kernels.hpp"

#include <cmath>

namespace vireo::ad {
namespace {

struct Add {
  static double f(double a, double b) { return a + b; }
  static double da(double, double, double) { return 1.0; }
  static double db(double, double, double) { return 1.0; }
};
struct Sub {
  static double f(double a, double b) { return a - b; }
  static double da(double, double, double) { return 1.0; }
  static double db(double, double, double) { return -1.0; }
};
struct Mul {
  static double f(double a, double b) { return a * b; }
  static double da(double, double b, double) { return b; }
  static double db(double a, double, double) { return a; }
};
struct Div {
  static double f(double a, double b) { return a / b; }
  static double da(double, double b, double) { return 1.0 / b; }
  static double db(double, double b, double out) { return -out / b; }
};
// d/db a^b = a^b log a; taken as 0 where a^b = 0 (a = 0, b > 0) so 0^b stays usable.
struct Pow {
  static double f(double a, double b) { return std::pow(a, b); }
  static double da(double a, double b, double) { return b == 0.0 ? 0.0 : b * std::pow(a, b - 1.0); }
  static double db(double a, double, double out) { return out == 0.0 ? 0.0 : out * std::log(a); }
};
// Ties send the gradient to the first argument.
struct Minimum {
  static double f(double a, double b) { return b < a ? b : a; }
  static double da(double a, double b, double) { return b < a ? 0.0 : 1.0; }
  static double db(double a, double b, double) { return b < a ? 1.0 : 0.0; }
};
struct Maximum {
  static double f(double a, double b) { return b > a ? b : a; }
  static double da(double a, double b, double) { return b > a ? 0.0 : 1.0; }
  static double db(double a, double b, double) { return b > a ? 1.0 : 0.0; }
};

// Unary forms with the number c in the node.
struct AddC {
  static double f(double x, double c) { return x + c; }
  static double d(double, double, double) { return 1.0; }
};
struct RSubC {  // c - x
  static double f(double x, double c) { return c - x; }
  static double d(double, double, double) { return -1.0; }
};
struct MulC {
  static double f(double x, double c) { return x * c; }
  static double d(double, double, double c) { return c; }
};
struct DivC {  // x / c
  static double f(double x, double c) { return x / c; }
  static double d(double, double, double c) { return 1.0 / c; }
};
struct RDivC {  // c / x
  static double f(double x, double c) { return c / x; }
  static double d(double x, double out, double) { return -out / x; }
};
struct PowC {  // x^c
  static double f(double x, double c) { return std::pow(x, c); }
  static double d(double x, double, double c) { return c == 0.0 ? 0.0 : c * std::pow(x, c - 1.0); }
};
struct RPowC {  // c^x
  static double f(double x, double c) { return std::pow(c, x); }
  static double d(double, double out, double c) { return out == 0.0 ? 0.0 : out * std::log(c); }
};

}  // namespace

Var operator+(Var a, Var b) { return detail::binary<Add>(a, b, "+"); }
Var operator-(Var a, Var b) { return detail::binary<Sub>(a, b, "-"); }
Var operator*(Var a, Var b) { return detail::binary<Mul>(a, b, "*"); }
Var operator/(Var a, Var b) { return detail::binary<Div>(a, b, "/"); }
Var pow(Var a, Var b) { return detail::binary<Pow>(a, b, "pow"); }
Var minimum(Var a, Var b) { return detail::binary<Minimum>(a, b, "minimum"); }
Var maximum(Var a, Var b) { return detail::binary<Maximum>(a, b, "maximum"); }

Var operator-(Var a) { return detail::unary<MulC>(a, -1.0); }
Var operator+(Var a, double b) { return detail::unary<AddC>(a, b); }
Var operator+(double a, Var b) { return detail::unary<AddC>(b, a); }
Var operator-(Var a, double b) { return detail::unary<AddC>(a, -b); }
Var operator-(double a, Var b) { return detail::unary<RSubC>(b, a); }
Var operator*(Var a, double b) { return detail::unary<MulC>(a, b); }
Var operator*(double a, Var b) { return detail::unary<MulC>(b, a); }
Var operator/(Var a, double b) { return detail::unary<DivC>(a, b); }
Var operator/(double a, Var b) { return detail::unary<RDivC>(b, a); }
Var pow(Var base, double exponent) { return detail::unary<PowC>(base, exponent); }
Var pow(double base, Var exponent) { return detail::unary<RPowC>(exponent, base); }

}  // namespace vireo::ad
