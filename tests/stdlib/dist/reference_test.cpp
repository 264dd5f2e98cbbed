// reference_test.cpp — every case of ../shared/reference/distributions.json
// (SciPy values): log_prob at each x, mean, variance, entropy and the KL
// pairs, to |a − b| ≤ 1e-9·max(1, |b|). Quirks live in the table below, not
// in the test body; the test counts what it checked against the file.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "stdlib/dist/kl.hpp"
#include "dist_test_util.hpp"

using namespace vireo;
using namespace vireo::dist;
using nlohmann::json;

namespace {

// Fields the file gives but our family leaves undefined, and why. Asking for
// one of these must throw NotDefined (that counts as checking the field).
struct Undefined {
  const char* dist;
  const char* field;
  const char* why;
};
const Undefined undefined_fields[] = {
    {"Categorical", "mean", "categories are labels (PyTorch returns NaN); SciPy's rv_discrete treats them as numbers"},
    {"Categorical", "variance", "as for the mean"},
};

bool is_undefined(const std::string& dist, const std::string& field) {
  for (const auto& u : undefined_fields)
    if (dist == u.dist && field == u.field) return true;
  return false;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

json load() {
  std::ifstream in(std::string(VIREO_SHARED_DIR) + "/reference/distributions.json");
  BOOST_TEST_REQUIRE(in.good(), "cannot open the reference file under " VIREO_SHARED_DIR);
  return json::parse(in);
}

ad::Tensor to_tensor(const json& j) {
  if (j.is_number()) return j.get<double>();
  if (j[0].is_number()) return testing::vec(j.get<std::vector<double>>());
  return testing::mat(j.get<std::vector<std::vector<double>>>());
}

DistributionPtr build(const json& spec, ad::Tape& tape) {
  testing::NamedTensors params;
  for (const auto& [k, v] : spec["params"].items()) params.emplace_back(k, to_tensor(v));
  return testing::make_with_leaves(spec["dist"].get<std::string>(), tape, params);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_reference_case) {
  const json ref = load();
  int cases = 0, points = 0, moments = 0;
  int expected_points = 0, expected_moments = 0;
  for (const json& c : ref["distributions"]) {
    const std::string name = c["dist"];
    BOOST_TEST_CONTEXT("case " << cases << ": " << name << " " << c["params"].dump()) {
      ad::Tape tape;
      const DistributionPtr d = build(c, tape);
      const Tensor lp = d->log_prob(tape.constant(to_tensor(c["x"]))).value();
      const auto& want = c["log_prob"];
      expected_points += static_cast<int>(want.size());
      BOOST_TEST_REQUIRE(lp.numel() == static_cast<std::int64_t>(want.size()));
      for (std::size_t i = 0; i < want.size(); ++i) {
        BOOST_TEST_CONTEXT("log_prob at x[" << i << "] = " << c["x"][i].dump()) {
          BOOST_TEST(close(lp[i], want[i].get<double>()), lp[i] << " vs " << want[i].get<double>());
        }
        ++points;
      }
      for (const char* field : {"mean", "variance", "entropy"}) {
        if (!c.contains(field)) continue;
        ++expected_moments;
        BOOST_TEST_CONTEXT(field) {
          const auto get = [&]() -> Var {
            const std::string f = field;
            return f == "mean" ? d->mean() : f == "variance" ? d->variance() : d->entropy();
          };
          if (is_undefined(name, field)) {
            BOOST_CHECK_THROW(get(), NotDefined);
          } else {
            const double got = get().item();
            BOOST_TEST(close(got, c[field].get<double>()), got << " vs " << c[field].get<double>());
          }
        }
        ++moments;
      }
    }
    ++cases;
  }
  int kls = 0;
  for (const json& k : ref["kl"]) {
    BOOST_TEST_CONTEXT("KL " << k["p"].dump() << " || " << k["q"].dump()) {
      ad::Tape tape;
      const double got = kl_divergence(*build(k["p"], tape), *build(k["q"], tape)).item();
      BOOST_TEST(close(got, k["kl"].get<double>()), got << " vs " << k["kl"].get<double>());
    }
    ++kls;
  }
  // Everything in the file was looked at: 28 cases, 4 KL pairs at the time of writing.
  BOOST_TEST(cases == static_cast<int>(ref["distributions"].size()));
  BOOST_TEST(points == expected_points);
  BOOST_TEST(moments == expected_moments);
  BOOST_TEST(kls == static_cast<int>(ref["kl"].size()));
  BOOST_TEST(cases >= 28);
  BOOST_TEST(kls >= 4);
  BOOST_TEST_MESSAGE("reference: " << cases << " cases, " << points << " log_prob points, " << moments
                                   << " moments, " << kls << " KL pairs");
}
