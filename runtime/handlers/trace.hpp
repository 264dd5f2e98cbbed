// A Trace: the record of one execution, site by site in program order —
// name, kind, distribution, value, log-density, plate frames, whether the
// value is reparameterised, and its scale. Filled by TraceHandler.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "runtime/handlers/handler.hpp"
#include "runtime/handlers/stamped_index.hpp"

namespace vireo::handlers {

struct TraceSite {
  Message msg;
  // Per element of the site's plates (shape = the frames' inner sizes),
  // unscaled and unmasked; valid after Trace::compute_log_probs() for
  // Sample sites.
  ad::Var log_prob;
  bool has_log_prob = false;
};

class Trace {
 public:
  // Appends a site; throws std::runtime_error when the name is taken (two
  // statements produced the same site name in one execution).
  void add(const Message& msg);
  const TraceSite* find(const std::string& name) const;
  TraceSite* find(const std::string& name);
  std::span<const TraceSite> sites() const { return {sites_.data(), size_}; }
  std::span<TraceSite> sites() { return {sites_.data(), size_}; }
  std::size_t size() const { return size_; }
  // Empties the trace. Its storage stays: the next execution's sites are
  // copied into the same strings and vectors, so a trace refilled every step
  // allocates nothing once it has seen the sites.
  void clear();

  // Computes every Sample site's log_prob: msg.log_prob when the value came
  // with one, else fn->log_prob(value), summed over the dimensions past the
  // site's plates. Throws std::runtime_error naming the site if it fails.
  void compute_log_probs();
  // Σ over Sample sites of scale · mask · Σ log_prob (a scalar Var); sites
  // where `include` returns false are left out.
  template <class Pred>
  ad::Var log_prob_sum(ad::Tape& tape, Pred include) const;
  ad::Var log_prob_sum(ad::Tape& tape) const {
    return log_prob_sum(tape, [](const TraceSite&) { return true; });
  }

 private:
  std::vector<TraceSite> sites_;  // [0, size_) in use; the rest kept for reuse
  std::size_t size_ = 0;
  StampedIndex index_;  // site name -> position in sites_
};

template <class Pred>
ad::Var Trace::log_prob_sum(ad::Tape& tape, Pred include) const {
  // The terms as they come (no 0 to start from, no × 1): the same numbers
  // with fewer nodes on the tape.
  ad::Var total;
  for (const auto& s : sites()) {
    if (s.msg.type != MsgType::Sample || !s.has_log_prob || !s.msg.mask || !include(s)) continue;
    // A scalar is its own sum: no node (the loop bodies' sites).
    ad::Var term = s.log_prob.rank() == 0 ? s.log_prob : ad::sum(s.log_prob);
    if (s.msg.scale != 1.0) term = term * s.msg.scale;
    total = total.valid() ? total + term : term;
  }
  return total.valid() ? total : tape.constant(0.0);
}

// Records every message that reaches it.
class TraceHandler final : public Handler {
 public:
  explicit TraceHandler(Trace& trace) : trace_(trace) {}
  void postprocess(Message& msg) override { trace_.add(msg); }

 private:
  Trace& trace_;
};

}  // namespace vireo::handlers
