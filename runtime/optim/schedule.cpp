#include "runtime/optim/schedule.hpp"

#include <algorithm>
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
  const std::string forms =
      "; the forms are exp:GAMMA, step:EVERY:GAMMA, inv_sqrt:STEPS, warmup:STEPS, plateau:STEPS, joined by '+'";
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
    } else if (f[0] == "plateau" && f.size() == 2) {
      p.kind = Part::Plateau;
      p.every = static_cast<long>(number(f[1], part));
      if (p.every < 1) throw std::invalid_argument("learning-rate schedule '" + part + "': STEPS must be at least 1");
      if (sch.plateau_) throw std::invalid_argument("learning-rate schedule '" + text + "': one plateau part at most");
      sch.plateau_ = Plateau{};
      sch.plateau_->every = p.every;
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
      case Part::Plateau:
        if (plateau_->start >= 0 && step > plateau_->start)
          f /= std::sqrt(1.0 + static_cast<double>(step - plateau_->start) / static_cast<double>(p.every));
        break;
    }
  return f;
}

void Schedule::end_step(long step, double elbo) {
  if (!plateau_ || plateau_->start >= 0 || !std::isfinite(elbo)) return;
  Plateau& p = *plateau_;
  p.sum += elbo;
  if (++p.count < p.every) return;
  const double mean = p.sum / static_cast<double>(p.count);
  p.flat = p.has_previous && mean <= p.previous_mean ? p.flat + 1 : 0;
  if (p.flat >= Plateau::flat_blocks) p.start = step + 1;
  p.has_previous = true;
  p.previous_mean = mean;
  p.count = 0;
  p.sum = 0;
}

nlohmann::json Schedule::state() const {
  if (!plateau_) return nlohmann::json::object();
  const Plateau& p = *plateau_;
  return {{"decay_start", p.start},         {"block_steps", p.count},       {"block_sum", p.sum},
          {"has_previous", p.has_previous}, {"previous_mean", p.previous_mean}, {"flat_blocks", p.flat}};
}

void Schedule::load_state(const nlohmann::json& j) {
  if (!plateau_) return;
  Plateau p = *plateau_;
  try {
    p.start = j.at("decay_start").get<long>();
    p.count = j.at("block_steps").get<long>();
    p.sum = j.at("block_sum").get<double>();
    p.has_previous = j.at("has_previous").get<bool>();
    p.previous_mean = j.at("previous_mean").get<double>();
    p.flat = j.at("flat_blocks").get<int>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("the learning-rate schedule's state is malformed: ") + e.what());
  }
  if (p.count < 0 || p.count >= p.every || p.flat < 0 || p.flat > Plateau::flat_blocks)
    throw std::runtime_error("the learning-rate schedule's state does not belong to " + text_);
  *plateau_ = p;
}

}  // namespace vireo::optim
