#include "runtime/par/parallel.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// Debian's libtbb is not built with ThreadSanitizer, so the hand-overs it
// makes inside the library — the caller's writes before a parallel loop to
// the pieces, the pieces' writes to the caller after it — are invisible to
// TSan. They are declared here (fork: release before, acquire in each piece;
// join: release at the end of each piece, acquire after), which is what
// oneTBB guarantees; tests/tsan.supp hides races inside oneTBB's own code.
#define VIREO_TSAN_RELEASE(p) __tsan_release(p)
#define VIREO_TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define VIREO_TSAN_RELEASE(p) ((void)(p))
#define VIREO_TSAN_ACQUIRE(p) ((void)(p))
#endif

namespace vireo::par {
namespace {
// The pool lent to this thread by a Scope; nullptr outside one and inside a
// piece of parallel work (so pieces never fan out again).
thread_local Pool* current = nullptr;
}  // namespace

struct Pool::Arena {
  explicit Arena(int n) : arena(n) {}
  tbb::task_arena arena;
};

Pool::Pool(int threads) : threads_(threads) {
  if (threads < 1) throw std::invalid_argument("the number of threads must be at least 1");
  if (threads > 1) arena_ = std::make_unique<Arena>(threads);
}

Pool::~Pool() = default;

Scope::Scope(Pool* pool) : previous_(current) { current = pool; }
Scope::~Scope() { current = previous_; }

int threads() { return current ? current->threads() : 1; }

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void for_each_impl(std::int64_t n, void* body, void (*call)(void*, std::int64_t)) {
  Pool* pool = current;
  // The first exception in index order, so that what a failing step reports
  // does not depend on which thread got there first.
  std::mutex m;
  std::int64_t failed_at = n;
  std::exception_ptr error;
  int fork = 0, join = 0;
  VIREO_TSAN_RELEASE(&fork);
  pool->arena_->arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n, 1), [&](const tbb::blocked_range<std::int64_t>& r) {
      VIREO_TSAN_ACQUIRE(&fork);
      Pool* outer = current;
      current = nullptr;
      for (std::int64_t i = r.begin(); i < r.end(); ++i) {
        try {
          call(body, i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(m);
          if (i < failed_at) {
            failed_at = i;
            error = std::current_exception();
          }
        }
      }
      current = outer;
      VIREO_TSAN_RELEASE(&join);
    }, tbb::simple_partitioner());
  });
  VIREO_TSAN_ACQUIRE(&join);
  if (error) std::rethrow_exception(error);
}

}  // namespace vireo::par
