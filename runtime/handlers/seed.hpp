// Seed: the sites inside draw from this handler's own generator, so one part
// of a program can be made reproducible independently of the rest.
#pragma once
#include <cstdint>

#include "runtime/handlers/handler.hpp"

namespace vireo::handlers {

class SeedHandler final : public Handler {
 public:
  explicit SeedHandler(std::uint64_t seed) : rng_(seed) {}
  void process(Message& msg) override { msg.rng = &rng_; }

 private:
  rng::Generator rng_;
};

}  // namespace vireo::handlers
