#include "runtime/infer/baseline.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace vireo::infer {

std::string BaselineSpec::describe() const {
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : "+") + part; };
  if (average) add(fmt::format("avg(beta={})", beta));
  if (value) add("value");
  if (net) add(fmt::format("net(hidden={})", hidden));
  if (leave_one_out) add("loo");
  return s.empty() ? "none" : s;
}

BaselineSpec BaselineSpec::parse(const std::string& text) {
  BaselineSpec b;
  if (text == "none" || text.empty()) return b;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t plus = text.find('+', start);
    std::string part = text.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    std::string head = part.substr(0, part.find(':'));
    std::string arg = part.find(':') == std::string::npos ? "" : part.substr(part.find(':') + 1);
    try {
      if (head == "avg" || head == "average") {
        b.average = true;
        if (!arg.empty()) b.beta = std::stod(arg);
        if (!(b.beta >= 0 && b.beta < 1)) throw std::invalid_argument("beta must be in [0, 1)");
      } else if (head == "value") {
        b.value = true;
        b.fixed = std::stod(arg);
      } else if (head == "loo") {
        b.leave_one_out = true;
      } else {
        throw std::invalid_argument("unknown kind '" + head + "'");
      }
    } catch (const std::exception& e) {
      throw std::invalid_argument(fmt::format(
          "--baseline {}: {}; write none, avg, avg:BETA, value:X, loo or a sum such as avg+loo (a learned baseline "
          "needs its input: write `with baseline(net = e)` on the site)",
          text, e.what()));
    }
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return b;
}

BaselineSpec BaselineSpec::from_site(const ir::Baseline& o) {
  BaselineSpec b;
  if (!o.given || o.none) return b;
  if (o.beta) {
    b.average = true;
    b.beta = *o.beta;
  }
  if (o.value != ir::no_expr) b.value = true;
  if (o.net != ir::no_expr) {
    b.net = true;
    if (o.hidden > 0) b.hidden = o.hidden;
  }
  if (!b.any()) b.average = true;  // `with baseline()` alone: the default decaying average
  return b;
}

}  // namespace vireo::infer
