// Block: hides sites from the handlers further out (a trace outside a block
// does not record them). `hide` chooses which; by default every site.
#pragma once
#include <functional>

#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class BlockHandler final : public Handler {
 public:
  using Predicate = std::function<bool(const Message&)>;
  BlockHandler() : hide_([](const Message&) { return true; }) {}
  explicit BlockHandler(Predicate hide) : hide_(std::move(hide)) {}
  void process(Message& msg) override {
    if (hide_(msg)) msg.stop = true;
  }

 private:
  Predicate hide_;
};

}  // namespace vireo::handlers
