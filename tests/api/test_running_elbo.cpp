// The running ELBO (runtime/api/running_elbo): the mean of the finite step
// ELBOs over the last tenth of all steps, the same bits whether the record
// was saved and reloaded at any step or never.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "runtime/api/running_elbo.hpp"

using vireo::api::RunningElbo;

BOOST_AUTO_TEST_CASE(resumed_at_every_step_gives_the_same_bits) {
  std::vector<double> v;
  for (int i = 0; i < 700; ++i) v.push_back(i % 37 == 5 ? std::nan("") : -1000.0 / (1 + i) + 0.1 * std::sin(i));
  RunningElbo whole;
  std::vector<double> means;
  for (double x : v) {
    whole.add(x);
    means.push_back(whole.mean());
  }
  // Against the plain mean of the window's finite values (rounding only).
  for (std::size_t n = 1; n <= v.size(); n += 13) {
    const std::size_t w = std::max<std::size_t>(1, n / 10);
    double sum = 0;
    long count = 0;
    for (std::size_t i = n - w; i < n; ++i)
      if (std::isfinite(v[i])) sum += v[i], ++count;
    if (count) BOOST_TEST(means[n - 1] == sum / count, boost::test_tools::tolerance(1e-12));
  }
  for (std::size_t k = 1; k < v.size(); k += 7) {
    RunningElbo first;
    for (std::size_t i = 0; i < k; ++i) first.add(v[i]);
    RunningElbo resumed = RunningElbo::from_json(nlohmann::json::parse(first.to_json().dump()));
    BOOST_TEST(resumed.steps() == static_cast<long>(k));
    for (std::size_t i = k; i < v.size(); ++i) {
      resumed.add(v[i]);
      const double a = resumed.mean(), b = means[i];
      BOOST_TEST((a == b || (std::isnan(a) && std::isnan(b))), "saved at " << k << ", step " << i + 1);
    }
  }
}
