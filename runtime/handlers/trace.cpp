#include "runtime/handlers/trace.hpp"

#include <stdexcept>

namespace vireo::handlers {

void Trace::add(const Message& msg) {
  if (!index_.insert(msg.name, size_))
    throw std::runtime_error("two statements produce the site name '" + msg.name +
                             "' in one execution; rename one of them");
  if (size_ < sites_.size()) {
    TraceSite& s = sites_[size_];
    s.msg = msg;
    s.log_prob = {};
    s.has_log_prob = false;
  } else {
    sites_.push_back({msg, {}, false});
  }
  ++size_;
}

const TraceSite* Trace::find(const std::string& name) const {
  const std::size_t* k = index_.find(name);
  return k ? &sites_[*k] : nullptr;
}
TraceSite* Trace::find(const std::string& name) {
  const std::size_t* k = index_.find(name);
  return k ? &sites_[*k] : nullptr;
}

void Trace::clear() {
  size_ = 0;
  index_.clear();
}

void Trace::compute_log_probs() {
  for (auto& s : sites()) {
    if (s.msg.type != MsgType::Sample || s.has_log_prob) continue;
    ad::Var lp;
    try {
      lp = s.msg.log_prob ? *s.msg.log_prob : s.msg.fn->log_prob(s.msg.value.var);
    } catch (const ad::TapeLimitError&) {
      throw;  // a limit, not a failure of the site's density
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
