#include "runtime/handlers/trace.hpp"

#include <stdexcept>

namespace vireo::handlers {

void Trace::add(const Message& msg) {
  auto [it, fresh] = index_.emplace(msg.name, sites_.size());
  if (!fresh)
    throw std::runtime_error("two statements produce the site name '" + msg.name +
                             "' in one execution; rename one of them");
  sites_.push_back({msg, {}, false});
}

const TraceSite* Trace::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &sites_[it->second];
}
TraceSite* Trace::find(const std::string& name) {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &sites_[it->second];
}

void Trace::clear() {
  sites_.clear();
  index_.clear();
}

void Trace::compute_log_probs() {
  for (auto& s : sites_) {
    if (s.msg.type != MsgType::Sample || s.has_log_prob) continue;
    ad::Var lp;
    try {
      lp = s.msg.log_prob ? *s.msg.log_prob : s.msg.fn->log_prob(s.msg.value.var);
    } catch (const std::exception& e) {
      throw std::runtime_error("while computing log_prob at site '" + s.msg.name + "': " + e.what());
    }
    // Sum the dimensions past the plates: one number per plate element.
    int keep = static_cast<int>(s.msg.frames.size());
    while (lp.rank() > keep) lp = ad::sum(lp, -1);
    s.log_prob = lp;
    s.has_log_prob = true;
  }
}

}  // namespace vireo::handlers
