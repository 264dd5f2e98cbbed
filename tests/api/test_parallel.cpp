// FitOptions::threads (issue 18, item 3): a fit gives the same numbers, bit
// for bit, on 1, 2 and 3 threads —
//   (a) particles run in parallel: eight schools with 4 particles under
//       auto_normal, auto_realnvp and TraceGraph with a leave-one-out baseline;
//   (b) a plate of 40000 elements (5 chunks of par::kChunk) with a
//       plate-local latent site, whose kernels and guide draws run in chunks;
//   (c) a logistic regression whose X @ w runs in chunks of rows.
// And the fits differ between seeds (the comparison is not between constants),
// and threads < 1 is refused.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

const std::string examples = VIREO_SOURCE_DIR "/examples/";

struct Result {
  std::vector<double> history;
  std::map<std::string, vireo::Array> params;
};

Result fit(const vireo::Model& model, const vireo::Data& data, vireo::FitOptions o, int threads, long steps) {
  o.threads = threads;
  vireo::Fit f(model, data, o);
  f.run(steps);
  return {f.elbo_history(), f.parameters()};
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

void check_same(const Result& a, const Result& b) {
  BOOST_TEST(same_bits(a.history, b.history));
  BOOST_REQUIRE(a.params.size() == b.params.size());
  for (const auto& [name, x] : a.params) {
    BOOST_REQUIRE(b.params.count(name) == 1u);
    BOOST_TEST(same_bits(x.values, b.params.at(name).values), name);
  }
}

// The fit on one thread, after checking that 2 and 3 threads give its bits.
Result same_on_threads(const vireo::Model& model, const vireo::Data& data, const vireo::FitOptions& o, long steps) {
  const Result one = fit(model, data, o, 1, steps);
  for (int t : {2, 3}) BOOST_TEST_CONTEXT("threads " << t) check_same(one, fit(model, data, o, t, steps));
  return one;
}

}  // namespace

BOOST_AUTO_TEST_CASE(particles_give_the_same_bits_on_any_number_of_threads) {
  const vireo::Model model = vireo::Model::from_file(examples + "eight_schools.vireo");
  const vireo::Data data = vireo::Data::from_json_file(model, examples + "eight_schools.json");
  std::vector<std::pair<std::string, vireo::FitOptions>> cases;
  vireo::FitOptions o;
  o.particles = 4;
  o.seed = 3;
  o.guide = vireo::Guide::AutoNormal;
  cases.emplace_back("auto_normal", o);
  o.guide = vireo::Guide::AutoRealnvp;
  cases.emplace_back("auto_realnvp", o);
  o.guide = vireo::Guide::AutoNormal;
  o.elbo = vireo::Elbo::TraceGraph;
  o.baseline = vireo::Baseline::parse("avg+loo");
  cases.emplace_back("tracegraph avg+loo", o);
  for (const auto& [name, options] : cases) {
    BOOST_TEST_CONTEXT(name) {
      const Result one = same_on_threads(model, data, options, 120);
      BOOST_TEST(one.history.size() == 120u);
      vireo::FitOptions other = options;
      other.seed = 4;
      BOOST_TEST(!same_bits(one.history, fit(model, data, other, 2, 120).history));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_large_plate_gives_the_same_bits_on_any_number_of_threads) {
  const vireo::Model model = vireo::Model::from_string(R"(
data { N: int  y: real[N] }
model {
  mu ~ Normal(0, 5)
  plate data(N) {
    z ~ Normal(mu, 1)
    observe y ~ Normal(z, 0.5)
  }
}
)", "big_plate.vireo");
  const std::int64_t n = 40000;
  vireo::Array y{{n}, std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n; ++i) y.values[static_cast<std::size_t>(i)] = 1.5 + std::sin(0.37 * static_cast<double>(i));
  const vireo::Data data = vireo::Data::from_arrays(model, {{"N", {{}, {static_cast<double>(n)}}}, {"y", y}});
  vireo::FitOptions o;
  o.seed = 5;
  o.guide = vireo::Guide::AutoNormal;
  same_on_threads(model, data, o, 15);
  o.particles = 2;
  const Result two = fit(model, data, o, 1, 8);
  BOOST_TEST_CONTEXT("2 particles, threads 2") check_same(two, fit(model, data, o, 2, 8));
  o.seed = 6;
  BOOST_TEST(!same_bits(two.history, fit(model, data, o, 2, 8).history));
}

// A matrix-vector product in chunks of rows (runtime/ad/linalg.cpp: about
// 65536 elements a chunk, the backward's A^T G summed chunk by chunk in
// chunk order): a logistic regression of N = 6000 rows and D = 40 columns,
// four chunks each way.
BOOST_AUTO_TEST_CASE(a_chunked_product_gives_the_same_bits_on_any_number_of_threads) {
  const vireo::Model model = vireo::Model::from_string(R"(
data { N: int  D: int  X: real[N, D]  y: int<lower=0, upper=1>[N] }
model {
  w: real[D] ~ Normal(0, 1)
  b ~ Normal(0, 5)
  plate data(N) { observe y ~ Bernoulli(logits = X @ w + b) }
}
)", "chunked_product.vireo");
  const std::int64_t n = 6000, d = 40;
  vireo::Array x{{n, d}, std::vector<double>(static_cast<std::size_t>(n * d))};
  vireo::Array y{{n}, std::vector<double>(static_cast<std::size_t>(n))};
  for (std::int64_t i = 0; i < n * d; ++i) x.values[static_cast<std::size_t>(i)] = std::sin(0.013 * static_cast<double>(i * i % 9973));
  for (std::int64_t i = 0; i < n; ++i) y.values[static_cast<std::size_t>(i)] = std::cos(0.7 * static_cast<double>(i)) > 0 ? 1 : 0;
  const vireo::Data data = vireo::Data::from_arrays(
      model, {{"N", {{}, {static_cast<double>(n)}}}, {"D", {{}, {static_cast<double>(d)}}}, {"X", x}, {"y", y}});
  vireo::FitOptions o;
  o.seed = 7;
  o.guide = vireo::Guide::AutoNormal;
  const Result one = same_on_threads(model, data, o, 10);
  o.seed = 8;
  BOOST_TEST(!same_bits(one.history, fit(model, data, o, 2, 10).history));
}

BOOST_AUTO_TEST_CASE(threads_below_one_are_refused) {
  const vireo::Model model = vireo::Model::from_file(examples + "eight_schools.vireo");
  const vireo::Data data = vireo::Data::from_json_file(model, examples + "eight_schools.json");
  for (int t : {0, -2}) {
    vireo::FitOptions o;
    o.threads = t;
    try {
      vireo::Fit f(model, data, o);
      BOOST_FAIL("threads " << t << " was accepted");
    } catch (const vireo::Error& e) {
      BOOST_TEST((e.kind() == vireo::Error::Kind::Options));
      BOOST_TEST(std::string(e.what()).find("--threads must be at least 1") != std::string::npos, e.what());
    }
  }
}
