// CustomGuide: runs the file's guide block; under sticking the landing, twice
// (the second run evaluates log q with the parameters held fixed).
#include <stdexcept>

#include "runtime/guide/guide.hpp"
#include "runtime/handlers/block.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo::guide {

namespace {

// The second run of sticking the landing: every latent value and subsample
// is the first run's, every `param` read is detached. A site's distribution
// is then q_i(· ; φ_i(θ̄, z_<i)) — the parameters θ constant, the upstream
// draws z_<i live — and the log q of the replayed draw, taken from it, moves
// only through the draws. The trace keeps the first run's distribution (a
// closed-form KL, and the score term of a site that is not reparameterised,
// need ∇θ of the live one) and the parameters' live values.
class HeldParameters final : public handlers::Handler {
 public:
  explicit HeldParameters(const handlers::Trace& first) : first_(first) {}
  void process(handlers::Message& msg) override {
    using handlers::MsgType;
    if ((msg.type != MsgType::Sample && msg.type != MsgType::Subsample) || msg.is_observed) return;
    const handlers::TraceSite* s = first_.find(msg.name);
    // The same program with the same parameters and draws takes the same path.
    if (!s) throw std::logic_error("sticking the landing: site '" + msg.name + "' was not in the guide's first run");
    msg.value = s->msg.value;
    msg.has_value = true;
    msg.done = true;
    if (msg.type == MsgType::Subsample) return;
    msg.reparameterized = s->msg.reparameterized;
    if (msg.reparameterized) msg.log_prob = msg.fn->log_prob(msg.value.var);
    msg.fn = s->msg.fn;
  }
  // After the handlers further out (the ELBO's trace) have seen the live value.
  void postprocess(handlers::Message& msg) override {
    if (msg.type == handlers::MsgType::Param) msg.value.var = ad::detach(msg.value.var);
  }

 private:
  const handlers::Trace& first_;
};

}  // namespace

void CustomGuide::run(interp::Context& ctx) {
  if (!stl_) {
    interp::Interpreter(ctx).run(graph_.guide);
    return;
  }
  // Sticking the landing (Roeder, Wu & Duvenaud 2017) stops the gradient
  // through the parameters θ in log q, not through the draws: z2 ~ Normal(a ·
  // z1, t) must keep the path from z1 into z2's log q. Detaching a site's
  // parameter values whole would cut it (gradient variance ~1 at the exact
  // posterior instead of 0). So:
  // 1. the guide runs hidden from the handlers further out, recorded in
  //    first_: the draws, with their pathwise derivatives;
  // 2. it runs again for them under HeldParameters.
  first_.clear();
  {
    handlers::BlockHandler block;
    handlers::TraceHandler record(first_);
    handlers::HandlerStack::Scoped s1(ctx.handlers(), block);
    handlers::HandlerStack::Scoped s2(ctx.handlers(), record);
    interp::Interpreter(ctx).run(graph_.guide);
  }
  HeldParameters held(first_);
  handlers::HandlerStack::Scoped s(ctx.handlers(), held);
  interp::Interpreter(ctx).run(graph_.guide);
}

}  // namespace vireo::guide
