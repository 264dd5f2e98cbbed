// Issue 16, item 2: a subsampled plate draws its mini-batches as shuffled
// epochs by default — every element once per epoch, reshuffled each epoch —
// and independently with FitOptions::subsample = "independent". The batches
// are read off the parameters: with one param per element, plain SGD and a
// constant-step guide, a step changes exactly the elements of its batch.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "vireo/vireo.hpp"

namespace {

const char* const program = R"(data { N: int  y: real[N] }
model {
  param m: real[N] = 0
  plate data(N, subsample = 4) as idx {
    observe y[idx] ~ Normal(m[idx], 1)
  }
}
)";

// The elements each of `steps` steps changed.
std::vector<std::set<int>> batches(const std::string& subsample, int steps, std::uint64_t seed = 1) {
  vireo::Model model = vireo::Model::from_string(program, "epochs.vireo");
  vireo::Data data = vireo::Data::from_arrays(model, {{"N", {{}, {12}}}, {"y", {{12}, std::vector<double>(12, 1.0)}}});
  vireo::FitOptions o;
  o.optim = vireo::Optimizer::Sgd;
  o.lr = 0.01;
  o.seed = seed;
  o.subsample = vireo::parse_subsample(subsample);
  o.average_last = 0;
  vireo::Fit fit(model, data, o);
  std::vector<double> before(12, 0.0);
  std::vector<std::set<int>> out;
  for (int s = 0; s < steps; ++s) {
    fit.step();
    std::vector<double> now = fit.learned_params().at(0).value;
    std::set<int> changed;
    for (int i = 0; i < 12; ++i)
      if (now[static_cast<std::size_t>(i)] != before[static_cast<std::size_t>(i)]) changed.insert(i);
    out.push_back(changed);
    before = now;
  }
  return out;
}

}  // namespace

// N = 12, B = 4: three steps make an epoch, and their batches are disjoint
// and cover 0..11; the next epochs are other permutations.
BOOST_AUTO_TEST_CASE(every_element_once_per_epoch) {
  std::vector<std::set<int>> b = batches("epochs", 12);
  std::set<std::vector<int>> orders;
  for (int e = 0; e < 4; ++e) {
    std::set<int> all;
    std::vector<int> order;
    for (int s = 3 * e; s < 3 * e + 3; ++s) {
      BOOST_TEST(b[static_cast<std::size_t>(s)].size() == 4u, "step " << s);
      for (int i : b[static_cast<std::size_t>(s)]) {
        BOOST_TEST(all.insert(i).second, "element " << i << " twice in epoch " << e);
        order.push_back(i);
      }
    }
    BOOST_TEST(all.size() == 12u, "epoch " << e);
    orders.insert(order);
  }
  BOOST_TEST(orders.size() == 4u);  // reshuffled: four epochs, four batchings (fixed seed)
  BOOST_TEST((batches("epochs", 3) == std::vector<std::set<int>>(b.begin(), b.begin() + 3)));  // reproducible
  BOOST_TEST((batches("epochs", 3, 2) != std::vector<std::set<int>>(b.begin(), b.begin() + 3)));
}

// Independent draws: the first three batches of this seed overlap (12 draws
// of 4 from 12 are disjoint with probability 1/5775 per seed).
BOOST_AUTO_TEST_CASE(independent_draws_stay_an_option) {
  std::vector<std::set<int>> b = batches("independent", 3);
  std::set<int> all;
  for (const auto& s : b) {
    BOOST_TEST(s.size() == 4u);
    all.insert(s.begin(), s.end());
  }
  BOOST_TEST(all.size() < 12u);
  vireo::Model model = vireo::Model::from_string(program, "epochs.vireo");
  vireo::Data data = vireo::Data::from_arrays(model, {{"N", {{}, {12}}}, {"y", {{12}, std::vector<double>(12, 1.0)}}});
  vireo::FitOptions o;
  BOOST_CHECK_THROW(vireo::parse_subsample("shuffled"), vireo::Error);
  vireo::Fit fit(model, data, {});
  auto plates = fit.subsampled_plates();
  BOOST_TEST_REQUIRE(plates.size() == 1u);
  BOOST_TEST(plates.at("data").first == 12);
  BOOST_TEST(plates.at("data").second == 4);
  BOOST_TEST(fit.steps_taken() == 0);
}
