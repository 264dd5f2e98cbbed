// Deep recursion without overflowing the host's stack. A fn call of the
// interpreter nests a few C++ frames (eval → call_fn → exec_block → exec →
// …), so a recursive model of depth 3000 needs far more than the 8 MiB a
// thread usually has (and ASan frames are several times larger). The
// interpreter therefore runs every `calls_per_segment` nested calls on a
// fresh thread with a stack of its own (`segment_stack_bytes`) and waits for
// it: one thread runs at a time, so the tape and the handlers see the same
// sequential program. The host's stack holds at most the first segment.
#pragma once
#include <cstddef>
#include <functional>

namespace vireo::interp {

// Nested fn calls per stack segment (the first runs on the caller's stack).
// Measured (README, "Recursion"): one call takes about 1.3 KiB of stack in
// Release, so 100 calls leave nearly all of a host's 8 MiB to the host, and
// an ASan build's several-times-larger frames still fit.
inline constexpr int calls_per_segment = 100;
// Each later segment's stack: 160 KiB per call, over 100 times Release's.
inline constexpr std::size_t segment_stack_bytes = std::size_t{16} << 20;

// Runs fn on a new thread with a stack of `bytes` and waits for it; an
// exception fn throws is rethrown here.
void run_on_own_stack(std::size_t bytes, const std::function<void()>& fn);

}  // namespace vireo::interp
