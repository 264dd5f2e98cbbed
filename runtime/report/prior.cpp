#include "runtime/report/prior.hpp"

#include <cmath>
#include <functional>
#include <map>

namespace vireo::report {
namespace {

constexpr double pi = 3.14159265358979323846;

struct Row {
  std::vector<std::string> params;  // the arguments the density needs, by name
  std::function<double(const std::vector<double>&, double)> f;
};

double arg(const Prior& p, const std::string& name, bool* ok) {
  for (const auto& [n, v] : p.args)
    if (n == name) return v;
  *ok = false;
  return 0;
}

// Densities of the continuous families and probabilities of the discrete
// ones, by family name (stdlib/signatures' names and parameter names).
const std::map<std::string, Row>& table() {
  static const std::map<std::string, Row> rows = {
      {"Normal", {{"loc", "scale"}, [](const auto& a, double x) {
         const double z = (x - a[0]) / a[1];
         return std::exp(-0.5 * z * z) / (a[1] * std::sqrt(2 * pi));
       }}},
      {"HalfNormal", {{"scale"}, [](const auto& a, double x) {
         const double z = x / a[0];
         return x < 0 ? 0.0 : 2 * std::exp(-0.5 * z * z) / (a[0] * std::sqrt(2 * pi));
       }}},
      {"LogNormal", {{"loc", "scale"}, [](const auto& a, double x) {
         if (x <= 0) return 0.0;
         const double z = (std::log(x) - a[0]) / a[1];
         return std::exp(-0.5 * z * z) / (x * a[1] * std::sqrt(2 * pi));
       }}},
      {"Cauchy", {{"loc", "scale"}, [](const auto& a, double x) {
         const double z = (x - a[0]) / a[1];
         return 1 / (pi * a[1] * (1 + z * z));
       }}},
      {"HalfCauchy", {{"scale"}, [](const auto& a, double x) {
         const double z = x / a[0];
         return x < 0 ? 0.0 : 2 / (pi * a[0] * (1 + z * z));
       }}},
      {"StudentT", {{"df", "loc", "scale"}, [](const auto& a, double x) {
         const double nu = a[0], z = (x - a[1]) / a[2];
         return std::exp(std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2) - 0.5 * std::log(nu * pi) -
                         (nu + 1) / 2 * std::log1p(z * z / nu)) / a[2];
       }}},
      {"Laplace", {{"loc", "scale"}, [](const auto& a, double x) {
         return std::exp(-std::abs(x - a[0]) / a[1]) / (2 * a[1]);
       }}},
      {"Exponential", {{"rate"}, [](const auto& a, double x) { return x < 0 ? 0.0 : a[0] * std::exp(-a[0] * x); }}},
      {"Gamma", {{"concentration", "rate"}, [](const auto& a, double x) {
         if (x <= 0) return 0.0;
         return std::exp(a[0] * std::log(a[1]) + (a[0] - 1) * std::log(x) - a[1] * x - std::lgamma(a[0]));
       }}},
      {"InverseGamma", {{"concentration", "rate"}, [](const auto& a, double x) {
         if (x <= 0) return 0.0;
         return std::exp(a[0] * std::log(a[1]) - (a[0] + 1) * std::log(x) - a[1] / x - std::lgamma(a[0]));
       }}},
      {"Beta", {{"concentration1", "concentration0"}, [](const auto& a, double x) {
         if (x <= 0 || x >= 1) return 0.0;
         return std::exp((a[0] - 1) * std::log(x) + (a[1] - 1) * std::log1p(-x) + std::lgamma(a[0] + a[1]) -
                         std::lgamma(a[0]) - std::lgamma(a[1]));
       }}},
      {"Uniform", {{"low", "high"}, [](const auto& a, double x) {
         return x < a[0] || x > a[1] ? 0.0 : 1 / (a[1] - a[0]);
       }}},
      {"Bernoulli", {{"probs"}, [](const auto& a, double x) { return x == 1 ? a[0] : x == 0 ? 1 - a[0] : 0.0; }}},
      {"Poisson", {{"rate"}, [](const auto& a, double x) {
         if (x < 0 || x != std::floor(x)) return 0.0;
         return std::exp(x * std::log(a[0]) - a[0] - std::lgamma(x + 1));
       }}},
      {"Geometric", {{"probs"}, [](const auto& a, double x) {
         if (x < 0 || x != std::floor(x)) return 0.0;
         return a[0] * std::pow(1 - a[0], x);
       }}},
      {"Binomial", {{"total_count", "probs"}, [](const auto& a, double x) {
         if (x < 0 || x > a[0] || x != std::floor(x)) return 0.0;
         return std::exp(std::lgamma(a[0] + 1) - std::lgamma(x + 1) - std::lgamma(a[0] - x + 1) + x * std::log(a[1]) +
                         (a[0] - x) * std::log1p(-a[1]));
       }}},
  };
  return rows;
}

}  // namespace

bool has_density(const Prior& prior) {
  if (prior.family == "Categorical") return !prior.category_probs.empty();
  auto it = table().find(prior.family);
  if (it == table().end()) return false;
  bool ok = true;
  for (const auto& name : it->second.params) arg(prior, name, &ok);
  return ok;
}

double density(const Prior& prior, double x) {
  if (prior.family == "Categorical") {
    double total = 0;
    for (double p : prior.category_probs) total += p;
    const auto k = static_cast<long>(x);
    if (x != std::floor(x) || k < 0 || k >= static_cast<long>(prior.category_probs.size()) || total <= 0) return 0;
    return prior.category_probs[static_cast<std::size_t>(k)] / total;
  }
  auto it = table().find(prior.family);
  if (it == table().end()) return 0;
  bool ok = true;
  std::vector<double> a;
  for (const auto& name : it->second.params) a.push_back(arg(prior, name, &ok));
  return ok ? it->second.f(a, x) : 0;
}

}  // namespace vireo::report
