#include "runtime/guide/guide.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo::guide {

void CustomGuide::run(interp::Context& ctx) {
  interp::Interpreter interpreter(ctx);
  interpreter.set_detached_log_q(stl_);
  interpreter.run(graph_.guide);
}

}  // namespace vireo::guide
