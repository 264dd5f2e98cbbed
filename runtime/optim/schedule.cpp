#include "runtime/optim/schedule.hpp"

#include <cmath>
#include <stdexcept>

namespace vireo::optim {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

double number(const std::string& s, const std::string& part) {
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty() || !std::isfinite(x))
    throw std::invalid_argument("learning-rate schedule '" + part + "': '" + s + "' is not a number");
  return x;
}

}  // namespace

Schedule Schedule::parse(const std::string& text) {
  Schedule sch;
  sch.text_ = text;
  if (text.empty() || text == "none") return sch;
  const std::string forms = "; the forms are exp:GAMMA, step:EVERY:GAMMA, inv_sqrt:STEPS, warmup:STEPS, joined by '+'";
  for (const std::string& part : split(text, '+')) {
    std::vector<std::string> f = split(part, ':');
    Part p{Part::Exp};
    if (f[0] == "exp" && f.size() == 2) {
      p.kind = Part::Exp;
      p.gamma = number(f[1], part);
    } else if (f[0] == "step" && f.size() == 3) {
      p.kind = Part::Step;
      p.every = static_cast<long>(number(f[1], part));
      p.gamma = number(f[2], part);
      if (p.every < 1) throw std::invalid_argument("learning-rate schedule '" + part + "': EVERY must be at least 1");
    } else if (f[0] == "inv_sqrt" && f.size() == 2) {
      p.kind = Part::InvSqrt;
      p.every = static_cast<long>(number(f[1], part));
      if (p.every < 1) throw std::invalid_argument("learning-rate schedule '" + part + "': STEPS must be at least 1");
    } else if (f[0] == "warmup" && f.size() == 2) {
      p.kind = Part::Warmup;
      p.every = static_cast<long>(number(f[1], part));
      if (p.every < 1) throw std::invalid_argument("learning-rate schedule '" + part + "': STEPS must be at least 1");
    } else {
      throw std::invalid_argument("unknown learning-rate schedule '" + part + "'" + forms);
    }
    if ((p.kind == Part::Exp || p.kind == Part::Step) && !(p.gamma > 0 && p.gamma <= 1))
      throw std::invalid_argument("learning-rate schedule '" + part + "': GAMMA must be in (0, 1]");
    sch.parts_.push_back(p);
  }
  return sch;
}

double Schedule::factor(long step) const {
  double f = 1;
  for (const Part& p : parts_) switch (p.kind) {
      case Part::Exp: f *= std::pow(p.gamma, static_cast<double>(step)); break;
      case Part::Step: f *= std::pow(p.gamma, static_cast<double>(step / p.every)); break;
      case Part::InvSqrt: f /= std::sqrt(1.0 + static_cast<double>(step) / static_cast<double>(p.every)); break;
      case Part::Warmup: f *= std::min(1.0, static_cast<double>(step + 1) / static_cast<double>(p.every)); break;
    }
  return f;
}

}  // namespace vireo::optim
