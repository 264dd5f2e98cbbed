// Condition: fixes named sample sites to given values and marks them
// observed, turning latent sites into evidence (`condition(model, data)`).
#pragma once
#include <map>
#include <string>

#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class ConditionHandler final : public Handler {
 public:
  ConditionHandler(ad::Tape& tape, std::map<std::string, ad::Tensor> values) : tape_(tape), values_(std::move(values)) {}
  void process(Message& msg) override {
    if (msg.type != MsgType::Sample) return;
    auto it = values_.find(msg.name);
    if (it == values_.end()) return;
    msg.value.var = tape_.constant(it->second);
    msg.value.plates.clear();
    for (const auto& f : msg.frames) msg.value.plates.push_back(f.plate);
    if (msg.value.var.rank() < static_cast<int>(msg.value.plates.size())) msg.value.plates.clear();
    msg.has_value = true;
    msg.is_observed = true;
    msg.done = true;
  }

 private:
  ad::Tape& tape_;
  std::map<std::string, ad::Tensor> values_;
};

}  // namespace vireo::handlers
