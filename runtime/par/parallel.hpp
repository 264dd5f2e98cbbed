// parallel.hpp — the one place Vireo runs work on several threads (oneTBB).
//
// Results never depend on the number of threads: work is cut into pieces
// that depend only on its size (chunks of kChunk elements, particles), each
// piece computes the same numbers whichever thread runs it, and whatever is
// summed across pieces is summed in piece order afterwards. Running on one
// thread takes the same pieces in order.
//
// A Pool (a oneTBB task arena of N threads) belongs to its owner (a Fit);
// Scope lends it to the calling thread for a while (one SVI step). Code
// outside a Scope, and code already running inside a parallel piece, runs
// its pieces in order on the calling thread: no nesting, no global pool.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

namespace vireo::par {

// Elements per chunk of a large array operation: a fixed number, never a
// function of the thread count. Arrays of at most this many elements are one
// piece, computed as before chunking existed.
inline constexpr std::int64_t kChunk = 8192;

inline std::int64_t num_chunks(std::int64_t n) { return n <= kChunk ? 1 : (n + kChunk - 1) / kChunk; }

class Pool {
 public:
  // threads >= 1; throws std::invalid_argument otherwise.
  explicit Pool(int threads);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  int threads() const { return threads_; }

 private:
  friend void for_each_impl(std::int64_t, void*, void (*)(void*, std::int64_t));
  struct Arena;
  int threads_;
  std::unique_ptr<Arena> arena_;
};

// Lends `pool` to the calling thread until destroyed (nullptr: none).
class Scope {
 public:
  explicit Scope(Pool* pool);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Pool* previous_;
};

// The threads the calling thread may use now: its Scope's pool's, 1 outside
// a Scope and inside a piece of parallel work.
int threads();

// The cores of this machine (at least 1).
int hardware_threads();

void for_each_impl(std::int64_t n, void* body, void (*call)(void*, std::int64_t));

// Runs body(i) for i in [0, n): on the pool's threads when there is one,
// else in order. Exceptions: the first piece's (in index order) that threw
// is rethrown after every piece has finished or been cancelled.
template <class F>
void for_each(std::int64_t n, F&& body) {
  if (n <= 1 || threads() <= 1) {
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  for_each_impl(n, &body, [](void* b, std::int64_t i) { (*static_cast<std::remove_reference_t<F>*>(b))(i); });
}

// Elementwise work over [0, n): body(begin, end) on disjoint ranges covering
// it. Each element's result must not depend on the range it is in.
template <class F>
void for_range(std::int64_t n, F&& body) {
  if (n <= kChunk || threads() <= 1) {
    body(std::int64_t{0}, n);
    return;
  }
  for_each(num_chunks(n), [&](std::int64_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

// Work whose result may depend on where [0, n) is cut (a vectorised kernel's
// tail, a blocked product): body(begin, end) on the fixed chunks, always.
template <class F>
void for_chunks(std::int64_t n, F&& body) {
  if (n <= kChunk) {
    body(std::int64_t{0}, n);
    return;
  }
  for_each(num_chunks(n), [&](std::int64_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

// Σ of partial(begin, end) over the fixed chunks of [0, n), added in chunk
// order: the same number on any number of threads.
template <class F>
double sum_chunks(std::int64_t n, F&& partial) {
  if (n <= kChunk) return partial(std::int64_t{0}, n);
  const std::int64_t c = num_chunks(n);
  std::vector<double> parts(static_cast<std::size_t>(c));
  for_each(c, [&](std::int64_t i) { parts[static_cast<std::size_t>(i)] = partial(i * kChunk, std::min(n, (i + 1) * kChunk)); });
  double s = 0;
  for (double p : parts) s += p;
  return s;
}

}  // namespace vireo::par
