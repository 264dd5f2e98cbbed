#include "runtime/api/limits.hpp"

#include <fmt/format.h>

#include <cmath>

#include "runtime/api/errors.hpp"

namespace vireo::api {

interp::Limits interp_limits(const Limits& limits) {
  auto refuse = [](const char* flag, const char* range, const std::string& got) {
    fail(Error::Kind::Options, fmt::format("{} must be {}; got {}", flag, range, got));
  };
  if (limits.max_sites < 1 || limits.max_sites > 1'000'000'000'000LL)
    refuse("--max-sites", "between 1 and 10^12", std::to_string(limits.max_sites));
  if (limits.max_tape_mb < 1 || limits.max_tape_mb > 1'000'000'000LL)
    refuse("--max-tape-mb", "between 1 and 10^9", std::to_string(limits.max_tape_mb));
  if (!(limits.time_limit >= 0) || !std::isfinite(limits.time_limit))
    refuse("--time-limit", "a finite number of seconds, 0 for none", fmt::format("{}", limits.time_limit));
  interp::Limits l;
  l.max_sites = limits.max_sites;
  l.max_tape_bytes = static_cast<std::size_t>(limits.max_tape_mb) << 20;
  l.time_limit_seconds = limits.time_limit;
  if (limits.time_limit > 0)
    l.deadline = std::chrono::steady_clock::now() +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(std::min(limits.time_limit, 1e9)));
  return l;
}

void check_deadline(const interp::Context& ctx, const std::string& file, long steps) {
  const interp::Limits& l = ctx.limits();
  if (l.deadline && std::chrono::steady_clock::now() > *l.deadline)
    fail(Error::Kind::Limit,
         fmt::format("the time limit: the fit took longer than {:g} s (Limits::time_limit); it stopped after {} steps",
                     l.time_limit_seconds, steps),
         "raise it with --time-limit SECONDS (FitOptions::limits.time_limit); the parameters are those of the last "
         "step, and save_params keeps them",
         file);
}

}  // namespace vireo::api
