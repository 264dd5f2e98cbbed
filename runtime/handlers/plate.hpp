// Plate: the conditionally independent batch a site sits in. Appends the
// plate's frame to every message inside and scales log-densities by
// size / subsample when the plate is subsampled.
#pragma once
#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class PlateHandler final : public Handler {
 public:
  explicit PlateHandler(Frame frame) : frame_(std::move(frame)) {}
  // Frames are kept outermost first, and inner plates are pushed later
  // (processed first), so each plate inserts itself before the inner ones.
  void process(Message& msg) override {
    msg.frames.insert(msg.frames.begin(), frame_);
    if (msg.type != MsgType::Subsample) msg.scale *= frame_.scale();
  }
  const Frame& frame() const { return frame_; }

 private:
  Frame frame_;
};

}  // namespace vireo::handlers
