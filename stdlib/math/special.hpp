// special.hpp — special functions via the standard library and Boost.Math
// (never hand-rolled approximations). Errors become NaN or ±∞, never throws:
// callers check parameters themselves and name them in their messages.
#pragma once

namespace vireo::math {

double lgamma(double x);    // log|Γ(x)|, reentrant (no signgam)
double digamma(double x);   // ψ(x)
double trigamma(double x);  // ψ'(x)
double lbeta(double a, double b);  // log B(a, b)
// Regularised lower incomplete gamma P(a, x) and its inverse in x.
double gamma_p(double a, double x);
double gamma_p_inv(double a, double p);
// Regularised incomplete beta I_x(a, b) and its inverse in x.
double ibeta(double a, double b, double x);
double ibeta_inv(double a, double b, double p);

// Implicit reparameterisation of z ~ Gamma(a, 1) (Figurnov et al. 2018,
// "Implicit reparameterization gradients", eq. 3): holding u = P(a, z) fixed,
//   dz/da = −(∂P(a, z)/∂a) / p(z; a).
// For z ≤ a, ∂P/∂a comes from the series P(a, z) = Σ_n z^(a+n) e^(−z) /
// Γ(a + n + 1), differentiated termwise and divided by p(z; a), so the
// common factor z^a e^(−z) cancels:
//   dz/da = −z Σ_n z^n Γ(a)/Γ(a+n+1) · (log z − ψ(a + n + 1));
// for z > a, from the upper tail Q = 1 − P by quadrature (see special.cpp).
double gamma_sample_grad(double a, double z);

}  // namespace vireo::math
