// Mask: when false, the sites inside contribute no log-density (their values
// are still drawn, so the program runs the same).
#pragma once
#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class MaskHandler final : public Handler {
 public:
  explicit MaskHandler(bool keep) : keep_(keep) {}
  void process(Message& msg) override { msg.mask = msg.mask && keep_; }

 private:
  bool keep_;
};

}  // namespace vireo::handlers
