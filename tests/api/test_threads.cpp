// Threads (issue 17, item 5): one Model shared by several Fits on different
// threads, each Fit used by one thread, gives the same numbers bit for bit as
// the same fits run one after another. `make test-tsan` runs this test under
// ThreadSanitizer (build-tsan/, VIREO_TSAN=ON), which reports any data race
// between the fits: shared caches, registries, lazily built tables.
#define BOOST_TEST_MODULE vireo_threads
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
