// Substitute: gives named param (or sample) sites fixed values, for
// evaluating a model at chosen parameters. Unlike condition, a substituted
// sample site stays latent.
#pragma once
#include <map>
#include <string>

#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class SubstituteHandler final : public Handler {
 public:
  SubstituteHandler(ad::Tape& tape, std::map<std::string, ad::Tensor> values) : tape_(tape), values_(std::move(values)) {}
  void process(Message& msg) override {
    if (msg.type != MsgType::Param && msg.type != MsgType::Sample) return;
    if (msg.is_observed) return;
    auto it = values_.find(msg.name);
    if (it == values_.end()) return;
    msg.value.var = tape_.constant(it->second);
    msg.has_value = true;
    msg.done = true;
  }

 private:
  ad::Tape& tape_;
  std::map<std::string, ad::Tensor> values_;
};

}  // namespace vireo::handlers
