#include "runtime/handlers/handler.hpp"

#include <numeric>
#include <stdexcept>

namespace vireo::handlers {

void HandlerStack::apply(Message& msg) const {
  // 1. process(), innermost first, until a handler stops the message.
  std::size_t visited = 0;
  for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
    ++visited;
    (*it)->process(msg);
    if (msg.stop) break;
  }
  // 2. the default behaviour.
  default_process(msg);
  // 3. postprocess(), from the outermost visited handler inwards.
  for (std::size_t i = stack_.size() - visited; i < stack_.size(); ++i) stack_[i]->postprocess(msg);
}

void default_process(Message& msg) {
  if (msg.done || msg.has_value) return;
  if (!msg.rng || !msg.tape) throw std::logic_error("site '" + msg.name + "' has no generator or tape");
  if (msg.type == MsgType::Sample) {
    if (!msg.fn) throw std::logic_error("sample site '" + msg.name + "' has no distribution");
    if (msg.fn->has_rsample()) {
      msg.value.var = msg.fn->rsample(*msg.rng);
      msg.reparameterized = true;
    } else {
      msg.value.var = msg.tape->constant(msg.fn->sample(*msg.rng));
      msg.reparameterized = false;
    }
    msg.has_value = true;
  } else if (msg.type == MsgType::Subsample) {
    const Frame& f = msg.frames.back();
    msg.has_value = true;
    msg.value.kind = interp::Kind::Int;
    msg.value.plates = {f.plate};
    if (!msg.indices.empty()) {  // this step's batch of an epoch (Context::epoch_batch)
      msg.value.var = msg.tape->constant(ad::Tensor(ad::Shape{f.subsample}, msg.indices));
      return;
    }
    // B distinct indices of [0, size), uniformly: a partial Fisher-Yates shuffle.
    std::vector<std::int64_t> all(static_cast<std::size_t>(f.size));
    std::iota(all.begin(), all.end(), 0);
    std::vector<double> chosen(static_cast<std::size_t>(f.subsample));
    for (std::int64_t i = 0; i < f.subsample; ++i) {
      auto j = i + static_cast<std::int64_t>(msg.rng->below(static_cast<std::uint64_t>(f.size - i)));
      std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(j)]);
      chosen[static_cast<std::size_t>(i)] = static_cast<double>(all[static_cast<std::size_t>(i)]);
    }
    msg.has_value = true;
    msg.value.var = msg.tape->constant(ad::Tensor(ad::Shape{f.subsample}, std::move(chosen)));
    msg.value.kind = interp::Kind::Int;
    msg.value.plates = {f.plate};
  }
}

}  // namespace vireo::handlers
