// vireo::Limits (limits for untrusted models) turned into the interpreter's:
// validated, the time limit made a deadline from now; and the check a Fit
// makes between steps.
#pragma once
#include <string>

#include "runtime/interp/context.hpp"
#include "vireo/vireo.hpp"

namespace vireo::api {

// The interpreter's limits for `limits`, the deadline `time_limit` seconds
// from now. Throws vireo::Error (kind Options) naming a limit out of range.
interp::Limits interp_limits(const Limits& limits);

// Between steps: throws vireo::Error (kind Limit) when ctx's deadline has
// passed, saying after how many steps; `file` names the model.
void check_deadline(const interp::Context& ctx, const std::string& file, long steps);

}  // namespace vireo::api
