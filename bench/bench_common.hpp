// What the API benchmarks (bench_api.cpp, bench_flow.cpp) share: where the
// data live, M4's program, and how to read time and load on a shared machine.
#pragma once
#include <nlohmann/json.hpp>

#include <cmath>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>

namespace vireo::bench {

inline const std::string shared = VIREO_SHARED_DIR "/bench/data/";
inline const std::string examples = VIREO_SOURCE_DIR "/examples/";

// M4 (no example file holds it).
inline const char* const linreg_model = R"(
data { N: int D: int X: real[N, D] y: real[N] }
model {
  beta: real[D] ~ Normal(0, 1)
  plate data(N) { observe y ~ Normal(X @ beta, 1) }
}
)";

// This thread's CPU time in seconds: on a shared machine it leaves out the
// time other processes hold the core (wall-clock time does not).
inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline double load_average() {
  std::ifstream in("/proc/loadavg");
  double l = NAN;
  in >> l;
  return l;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(f);
}

}  // namespace vireo::bench
