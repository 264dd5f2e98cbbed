// Replay: a latent sample site takes its value from a recorded trace (the
// guide's), so that the model is scored at the guide's draws. Observed sites
// and sites missing from the trace are left alone.
#pragma once
#include "runtime/handlers/trace.hpp"

namespace vireo::handlers {

class ReplayHandler final : public Handler {
 public:
  explicit ReplayHandler(const Trace& trace) : trace_(trace) {}
  void process(Message& msg) override {
    if ((msg.type != MsgType::Sample && msg.type != MsgType::Subsample) || msg.is_observed) return;
    const TraceSite* s = trace_.find(msg.name);
    if (!s) return;
    msg.value = s->msg.value;
    msg.has_value = true;
    msg.reparameterized = s->msg.reparameterized;
    msg.done = true;
  }

 private:
  const Trace& trace_;
};

}  // namespace vireo::handlers
