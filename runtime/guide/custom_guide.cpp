#include "runtime/guide/guide.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo::guide {

void CustomGuide::run(interp::Context& ctx) {
  interp::Interpreter(ctx).run(graph_.guide);
}

}  // namespace vireo::guide
