// Threads (issue 17, item 5): one Model shared by several Fits on different
// threads, each Fit used by one thread, gives the same numbers bit for bit as
// the same fits run one after another. `make test-tsan` runs this test under
// ThreadSanitizer (build-tsan/, VIREO_TSAN=ON), which reports any data race
// between the fits: shared caches, registries, lazily built tables.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

const std::string examples = VIREO_SOURCE_DIR "/examples/";

// What a fit leaves: its ELBO history, its parameters, its summary, and a
// forward draw — all compared as bytes.
struct Result {
  std::vector<double> history;
  std::map<std::string, vireo::Array> params;
  std::string summary;
  std::string prior_csv;
};

// Fit k: its own seed and guide (auto_mvn for k = 1, auto_diagonal_normal
// for k = 2, auto_normal otherwise), 150 steps, 200 draws, 20 prior draws.
Result fit_one(const vireo::Model& model, const vireo::Data& data, int k) {
  vireo::FitOptions o;
  o.seed = static_cast<std::uint64_t>(10 + k);
  o.guide = k == 1 ? vireo::Guide::AutoMvn : k == 2 ? vireo::Guide::AutoDiagonalNormal : vireo::Guide::AutoNormal;
  vireo::Fit fit(model, data, o);
  fit.run(150);
  Result r;
  r.history = fit.elbo_history();
  r.params = fit.parameters();
  r.summary = fit.summarize(200).to_json();
  r.prior_csv = vireo::sample_prior(model, data, 20, o.seed).to_csv();
  return r;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(four_fits_on_four_threads_equal_the_same_fits_in_sequence) {
  const vireo::Model model = vireo::Model::from_file(examples + "eight_schools.vireo");
  const vireo::Data data = vireo::Data::from_json_file(model, examples + "eight_schools.json");
  constexpr int n = 4;
  std::vector<Result> sequential, threaded(n);
  for (int k = 0; k < n; ++k) sequential.push_back(fit_one(model, data, k));
  std::vector<std::thread> threads;
  std::vector<std::string> errors(n);
  for (int k = 0; k < n; ++k)
    threads.emplace_back([&, k] {
      try {
        threaded[static_cast<std::size_t>(k)] = fit_one(model, data, k);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(k)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < n; ++k) {
    const Result& s = sequential[static_cast<std::size_t>(k)];
    const Result& t = threaded[static_cast<std::size_t>(k)];
    BOOST_TEST_CONTEXT("fit " << k) {
      BOOST_TEST(errors[static_cast<std::size_t>(k)].empty(), errors[static_cast<std::size_t>(k)]);
      BOOST_TEST(s.history.size() == 150u);
      BOOST_TEST(same_bits(s.history, t.history));
      BOOST_TEST(s.params.size() == t.params.size());
      for (const auto& [name, a] : s.params) {
        BOOST_REQUIRE(t.params.count(name) == 1u);
        BOOST_TEST(same_bits(a.values, t.params.at(name).values), name);
      }
      BOOST_TEST(s.summary == t.summary);
      BOOST_TEST(s.prior_csv == t.prior_csv);
    }
  }
  // The fits differ from one another (the comparison is not between equal constants).
  BOOST_TEST(!same_bits(sequential[0].history, sequential[3].history));
}

// Issue 18, item 3: one Fit with threads = 2 runs its particles, and a plate
// of several chunks, on two threads (under ThreadSanitizer in make
// test-tsan): the same bits as threads = 1.
BOOST_AUTO_TEST_CASE(a_fit_on_two_threads_equals_the_same_fit_on_one) {
  const vireo::Model model = vireo::Model::from_string(R"(
data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 5)
  plate data(N) {
    z ~ Normal(mu, 1)
    observe y ~ Normal(z, 0.5)
  }
}
)", "threads2.vireo");
  const std::int64_t n = 20000;  // three chunks of 8192
  vireo::Array y{{n}, std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) y.values[static_cast<std::size_t>(i)] = 1.0 + 0.001 * static_cast<double>(i % 97);
  const vireo::Data data = vireo::Data::from_arrays(model, {{"N", {{}, {static_cast<double>(n)}}}, {"y", y}});
  auto run = [&](int threads) {
    vireo::FitOptions o;
    o.seed = 8;
    o.particles = 3;
    o.threads = threads;
    vireo::Fit fit(model, data, o);
    fit.run(4);
    Result r;
    r.history = fit.elbo_history();
    r.params = fit.parameters();
    return r;
  };
  const Result one = run(1), two = run(2);
  BOOST_TEST(same_bits(one.history, two.history));
  for (const auto& [name, a] : one.params) {
    BOOST_REQUIRE(two.params.count(name) == 1u);
    BOOST_TEST(same_bits(a.values, two.params.at(name).values), name);
  }
}
