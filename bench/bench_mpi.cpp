// vireo_bench_mpi [--rows N] [--steps S] [--warmup W], run by mpirun with R
// ranks (bench/bench_mpi.sh runs R = 1 and 2 and prints their ratio).
// M2, logistic regression, with N = 10^6 rows and D = 5 features generated
// here: each rank generates only its own rows (row i from a stream keyed by
// i, so the data do not depend on R) and hands them to
// vireo::shard_from_arrays, so no process holds all rows. Prints one JSON
// object (rank 0): wall-clock ms per step (the ranks meet every step, so it
// is the slowest rank's), each rank's CPU ms per step and peak resident
// memory (CPU time includes MPI's busy waiting for the other rank), the
// median and fastest step, and the load average — the machine may be shared, and the figure
// means little unless it is near 0 before the run.
#include <mpi.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "vireo/distributed.hpp"
#include "vireo/mpi.hpp"
#include "vireo/vireo.hpp"

namespace {

constexpr int D = 5;

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
double uniform(std::uint64_t key) { return (static_cast<double>(mix(key) >> 11) + 0.5) * 0x1.0p-53; }

// Peak resident memory of this process, in MB.
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  long rows = 1000000, steps = 50, warmup = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rows") rows = std::stol(argv[i + 1]);
    if (a == "--steps") steps = std::stol(argv[i + 1]);
    if (a == "--warmup") warmup = std::stol(argv[i + 1]);
  }
  int code = 0;
  {
    auto comm = vireo::mpi::communicator(MPI_COMM_WORLD);
    const int rank = comm->rank(), ranks = comm->size();
    const double load_before = vireo::bench::load_average();
    try {
      vireo::Model model = vireo::Model::from_file(vireo::bench::examples + "logistic_regression.vireo");
      const long mine = rows / ranks + (rank < rows % ranks ? 1 : 0);
      const long first = rank * (rows / ranks) + std::min<long>(rank, rows % ranks);
      const double w_true[D] = {1.0, -1.0, 0.5, -0.5, 0.25};
      vireo::Data data = [&] {
        vireo::Array x{{mine, D}, std::vector<double>(static_cast<std::size_t>(mine * D))};
        vireo::Array y{{mine}, std::vector<double>(static_cast<std::size_t>(mine))};
        for (long i = 0; i < mine; ++i) {
          const std::uint64_t row = static_cast<std::uint64_t>(first + i);
          double eta = 0.3;
          for (int j = 0; j < D; ++j) {
            const std::uint64_t k = (row * (D + 1) + static_cast<std::uint64_t>(j)) * 2;
            const double z = std::sqrt(-2 * std::log(uniform(k))) * std::cos(2 * M_PI * uniform(k + 1));
            x.values[static_cast<std::size_t>(i * D + j)] = z;
            eta += w_true[j] * z;
          }
          y.values[static_cast<std::size_t>(i)] = uniform(row * (D + 1) * 2 + 2 * D) < 1 / (1 + std::exp(-eta)) ? 1 : 0;
        }
        std::map<std::string, vireo::Array> arrays{{"N", {{}, {static_cast<double>(mine)}}},
                                                   {"D", {{}, {static_cast<double>(D)}}},
                                                   {"X", std::move(x)},
                                                   {"y", std::move(y)}};
        return vireo::shard_from_arrays(model, arrays, comm);
      }();
      vireo::FitOptions o;
      o.seed = 1;
      o.lr = 0.01;  // MODELS.md's M2
      o.threads = 1;  // the measure: ranks, not threads, share the cores
      vireo::Fit fit(model, data, o);
      for (long s = 0; s < warmup; ++s) fit.step();
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime(), c0 = vireo::bench::cpu_seconds();
      std::vector<double> each;  // every step's wall-clock ms: the least disturbed is the fastest
      for (long s = 0; s < steps; ++s) {
        const double ts = MPI_Wtime();
        fit.step();
        each.push_back((MPI_Wtime() - ts) * 1e3);
      }
      const double wall = (MPI_Wtime() - t0) / static_cast<double>(steps) * 1e3;
      std::sort(each.begin(), each.end());
      const double cpu = (vireo::bench::cpu_seconds() - c0) / static_cast<double>(steps) * 1e3;
      double mine_figures[2] = {cpu, peak_rss_mb()};
      std::vector<double> all(2 * static_cast<std::size_t>(ranks));
      MPI_Gather(mine_figures, 2, MPI_DOUBLE, all.data(), 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
      double wall_max = wall;
      MPI_Reduce(&wall, &wall_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
      if (rank == 0) {
        nlohmann::json j;
        j["benchmark"] = "M2 logistic regression, data-parallel";
        j["rows"] = rows;
        j["D"] = D;
        j["ranks"] = ranks;
        j["steps_timed"] = steps;
        j["ms_per_step"] = wall_max;
        j["ms_per_step_median"] = each[each.size() / 2];
        j["ms_per_step_fastest"] = each.front();
        for (int r = 0; r < ranks; ++r) {
          j["cpu_ms_per_step_per_rank"].push_back(all[2 * static_cast<std::size_t>(r)]);
          j["peak_rss_mb_per_rank"].push_back(all[2 * static_cast<std::size_t>(r) + 1]);
        }
        j["elbo_last_step"] = fit.elbo_history().back();
        j["load_average_before"] = load_before;
        j["load_average_after"] = vireo::bench::load_average();
        j["threads_per_rank"] = 1;
        std::cout << j.dump() << std::endl;
      }
    } catch (const vireo::Error& e) {
      std::cerr << e.what();
      code = 1;
    }
  }
  MPI_Finalize();
  return code;
}
