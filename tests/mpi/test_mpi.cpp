// Data-parallel fits over MPI (include/vireo/distributed.hpp, vireo/mpi.hpp),
// run by ctest under `mpirun -np R` (tests/mpi/CMakeLists.txt). Every rank
// runs every test case; what one rank checks alone says so.
#define BOOST_TEST_MODULE mpi
#include <mpi.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "vireo/distributed.hpp"
#include "vireo/mpi.hpp"
#include "vireo/vireo.hpp"

namespace {

struct MpiSession {
  MpiSession() { MPI_Init(nullptr, nullptr); }
  ~MpiSession() { MPI_Finalize(); }
};
BOOST_TEST_GLOBAL_FIXTURE(MpiSession);

std::shared_ptr<vireo::Communicator> world() { return vireo::mpi::communicator(MPI_COMM_WORLD); }

const std::string shared_dir = VIREO_SHARED_DIR;
const std::string source_dir = VIREO_SOURCE_DIR;

// A folder every rank names alike (rank 0's process id), for files the test writes.
std::string scratch(const std::string& what) {
  long pid = static_cast<long>(::getpid());
  MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("vireo_mpi_" + std::to_string(pid) + "_" + what);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Issue 19's equivalence: with full-batch plates, M2 (logistic regression,
// N = 5000, D = 50) over R ranks gives the parameters of the plain
// single-process fit after 200 steps to 1e-10 relative: the global sites are
// drawn alike on every rank and only the order of the sums differs (about
// 1e-16 relative per step, measured 6e-16 after 200 steps at R = 2 and 4).
BOOST_AUTO_TEST_CASE(m2_equals_the_single_process_fit) {
  const std::string model_path = source_dir + "/examples/logistic_regression.vireo";
  const std::string data_path = shared_dir + "/bench/data/logistic_regression.json";
  vireo::Model model = vireo::Model::from_file(model_path);
  vireo::FitOptions o;
  o.seed = 3;
  vireo::Fit plain(model, vireo::Data::from_json_file(model, data_path), o);
  plain.run(200);
  vireo::Data shard = vireo::load_shard(model, data_path, world());
  const vireo::ShardInfo info = vireo::shard_info(shard);
  BOOST_TEST(info.plate == "data");
  BOOST_TEST(info.total == 5000);
  BOOST_TEST(info.rows == 5000 / info.ranks + (info.rank < 5000 % info.ranks ? 1 : 0));
  vireo::Fit parallel(model, shard, o);
  parallel.run(200);
  const auto want = plain.parameters(), got = parallel.parameters();
  BOOST_REQUIRE_EQUAL(want.size(), got.size());
  double worst = 0;
  for (const auto& [name, a] : want) {
    const vireo::Array& b = got.at(name);
    BOOST_REQUIRE_EQUAL(a.values.size(), b.values.size());
    for (std::size_t i = 0; i < a.values.size(); ++i)
      worst = std::max(worst, std::abs(a.values[i] - b.values[i]) / std::max(std::abs(a.values[i]), 1e-300));
  }
  BOOST_TEST(worst < 1e-10, "largest relative difference " << worst);
  // The ELBO of each step is the whole data's, as in the plain fit.
  const auto& h1 = plain.elbo_history();
  const auto& h2 = parallel.elbo_history();
  BOOST_REQUIRE_EQUAL(h1.size(), h2.size());
  double worst_elbo = 0;
  for (std::size_t i = 0; i < h1.size(); ++i) worst_elbo = std::max(worst_elbo, std::abs(h1[i] - h2[i]) / std::abs(h1[i]));
  BOOST_TEST(worst_elbo < 1e-10, "largest relative difference of a step's ELBO " << worst_elbo);
  // M2's plate holds observations only: every output is the whole fit's, nothing to say.
  BOOST_TEST(parallel.notes().find("data-parallel") == std::string::npos, parallel.notes());
}

// Mean and standard error of the last `w` step ELBOs, from 10 batch means
// (the steps are correlated through the parameters; batches of w/10 are not,
// nearly).
std::pair<double, double> tail_mean(const std::vector<double>& h, std::size_t w) {
  const std::size_t b = w / 10;
  std::vector<double> means;
  for (std::size_t k = 0; k < 10; ++k) {
    double s = 0;
    for (std::size_t i = h.size() - w + k * b; i < h.size() - w + (k + 1) * b; ++i) s += h[i];
    means.push_back(s / static_cast<double>(b));
  }
  const double m = std::accumulate(means.begin(), means.end(), 0.0) / 10;
  double v = 0;
  for (double x : means) v += (x - m) * (x - m) / 9;
  return {m, std::sqrt(v / 10)};
}

// Plate-local latents (issue 19): M3 (examples/gmm.vireo's model with its
// hand-written guide: phi[N, K] indexed by the plate lives on the rank that
// owns those rows) over the ranks reaches the ELBO of the one-process fit.
// The runs draw the assignments from different streams, so they agree only
// within Monte Carlo error: each side's mean over the last 1000 of 4000 steps
// has a standard error from its batch means (se1, se2); the two means are
// independent, so their difference has sd sqrt(se1² + se2²), and 4 of those
// leave a false alarm at 6e-5.
BOOST_AUTO_TEST_CASE(m3_plate_local_latents_reach_the_single_process_elbo) {
  if (world()->size() < 2) return;
  const std::string model_path = source_dir + "/examples/gmm.vireo";
  const std::string data_path = shared_dir + "/bench/data/gmm.json";
  vireo::Model model = vireo::Model::from_file(model_path);
  vireo::FitOptions o;
  o.seed = 7;
  o.lr = 0.05;  // MODELS.md's M3
  const long steps = 4000;
  vireo::Fit plain(model, vireo::Data::from_json_file(model, data_path), o);
  plain.run(steps);
  vireo::Data shard = vireo::load_shard(model, data_path, world());
  vireo::Fit parallel(model, shard, o);
  parallel.run(steps);
  // phi is this rank's rows only; m and s are global.
  BOOST_TEST(parallel.parameters().at("phi").shape[0] == vireo::shard_info(shard).rows);
  // The fit says that its outputs hold rank 0's rows of the plate's sites.
  BOOST_TEST(parallel.notes().find("for rank 0's rows 0-" + std::to_string(vireo::shard_info(shard).rows - 1)) !=
                 std::string::npos,
             parallel.notes());
  BOOST_TEST(plain.notes().find("data-parallel") == std::string::npos);
  const auto [m1, se1] = tail_mean(plain.elbo_history(), 1000);
  const auto [m2, se2] = tail_mean(parallel.elbo_history(), 1000);
  const double tol = 4 * std::sqrt(se1 * se1 + se2 * se2);
  BOOST_TEST_MESSAGE("one process " << m1 << " ± " << se1 << ", " << world()->size() << " ranks " << m2 << " ± " << se2);
  BOOST_TEST(std::abs(m1 - m2) <= tol, "ELBO " << m1 << " against " << m2 << ", tolerance " << tol);
  // Every rank holds the same global parameters.
  const double m0 = parallel.parameters().at("m").values[0];
  double lo = m0, hi = m0;
  MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  BOOST_TEST(lo == hi);
}

const char* indexed_model = R"(data {
  N: int
  K: int
  g: int[N]
  y: real[N]
}
model {
  loc: real[K] ~ Normal(0, 10)
  plate data(N) {
    observe y ~ Normal(loc[g], 1)
  }
}
)";

std::string indexed_data(int n, int k, int bad_from) {
  std::string g, y;
  for (int i = 0; i < n; ++i) {
    g += (i ? "," : "") + std::to_string(i >= bad_from ? k + 3 : i % k);
    y += (i ? "," : "") + std::to_string(0.5 * i);
  }
  return "{\"N\": " + std::to_string(n) + ", \"K\": " + std::to_string(k) + ", \"g\": [" + g + "], \"y\": [" + y + "]}";
}

// A rank that fails stops every rank with the same message, naming the rank
// and the site (file:line:col of the statement).
BOOST_AUTO_TEST_CASE(a_failing_rank_stops_every_rank) {
  auto comm = world();
  if (comm->size() < 2) return;
  const std::string dir = scratch("fail");
  const std::string model_path = dir + "/indexed.vireo";
  if (comm->rank() == 0) write(model_path, indexed_model);
  MPI_Barrier(MPI_COMM_WORLD);
  vireo::Model model = vireo::Model::from_file(model_path);
  // The last rank's rows index past loc's K = 2 elements: only it fails.
  const int n = 10 * comm->size();
  write(dir + "/whole-" + std::to_string(comm->rank()) + ".json", indexed_data(n, 2, n - 5));
  vireo::Data shard = vireo::load_shard(model, dir + "/whole-" + std::to_string(comm->rank()) + ".json", comm);
  vireo::Fit fit(model, shard, {});
  std::string message;
  try {
    fit.run(5);
  } catch (const vireo::Error& e) {
    message = e.what();
  }
  const std::string last = "rank " + std::to_string(comm->size() - 1) + " of " + std::to_string(comm->size());
  BOOST_TEST(message.find(last) != std::string::npos, message);
  BOOST_TEST(message.find("indexed.vireo:10:") != std::string::npos, message);
  BOOST_TEST(fit.steps_taken() == 0);
}

// Shards that disagree on the shared items, a shard that fails to load and
// one without rows are refused on every rank before the first step.
BOOST_AUTO_TEST_CASE(bad_shards_are_refused_on_every_rank) {
  auto comm = world();
  if (comm->size() < 2) return;
  const int rank = comm->rank(), last = comm->size() - 1;
  const std::string dir = scratch("shards");
  const std::string model_path = dir + "/indexed.vireo";
  if (rank == 0) write(model_path, indexed_model);
  MPI_Barrier(MPI_COMM_WORLD);
  vireo::Model model = vireo::Model::from_file(model_path);
  auto refusal = [&](const std::string& pattern) {
    try {
      vireo::load_shard(model, pattern, comm);
    } catch (const vireo::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string named = "rank " + std::to_string(last);
  // K differs on the last rank.
  write(dir + "/k-" + std::to_string(rank) + ".json", indexed_data(4, rank == last ? 3 : 2, 100));
  std::string m = refusal(dir + "/k-{rank}.json");
  BOOST_TEST(m.find("data item 'K' of " + named + " differs") != std::string::npos, m);
  // The last rank's file is not JSON.
  write(dir + "/j-" + std::to_string(rank) + ".json", rank == last ? "{\"N\": 4," : indexed_data(4, 2, 100));
  m = refusal(dir + "/j-{rank}.json");
  BOOST_TEST(m.find(named + " of " + std::to_string(comm->size()) + " could not load") != std::string::npos, m);
  // No rows on the last rank.
  write(dir + "/e-" + std::to_string(rank) + ".json", indexed_data(rank == last ? 0 : 4, 2, 100));
  m = refusal(dir + "/e-{rank}.json");
  BOOST_TEST(m.find(named + " of " + std::to_string(comm->size()) + " holds no rows") != std::string::npos, m);
  // Per-rank files that agree: the plate's size is the sum of their rows.
  write(dir + "/ok-" + std::to_string(rank) + ".json", indexed_data(3 + rank, 2, 100));
  vireo::Data ok = vireo::load_shard(model, dir + "/ok-{rank}.json", comm);
  const vireo::ShardInfo info = vireo::shard_info(ok);
  BOOST_TEST(info.rows == 3 + rank);
  BOOST_TEST(info.first == 3 * rank + rank * (rank - 1) / 2);
  BOOST_TEST(info.total == 3 * comm->size() + comm->size() * (comm->size() - 1) / 2);
}

}  // namespace
