// Limits for untrusted models (issue 17, item 3): hostile programs — a
// recursion that never ends, a loop of 10^9 sites, a plate of 10^12
// elements, an allocation sized by the data — each end quickly with a
// vireo::Error of kind Limit that names the limit, its value, how to raise
// it and the place in the program; never std::bad_alloc or a crash. The wall
// time limit ends a fit between steps and inside a long execution.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <string>

#include "vireo/vireo.hpp"

namespace {

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Builds a Fit of `text` with `data` (JSON) and runs `steps`; returns the
// vireo::Error it ends with (the test fails when it ends without one, or
// with anything else).
vireo::Error fit_error(const std::string& text, const std::string& data, vireo::FitOptions options = {}, long steps = 1) {
  vireo::Model m = vireo::Model::from_string(text, "hostile.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, data);
  try {
    vireo::Fit fit(m, d, options);
    fit.run(steps);
  } catch (const vireo::Error& e) {
    return e;
  }
  BOOST_FAIL("the hostile program ran to the end");
  throw;  // unreachable
}

void check_limit(const vireo::Error& e, int line, const std::string& what, const std::string& raise) {
  BOOST_TEST((e.kind() == vireo::Error::Kind::Limit), e.what());
  BOOST_TEST(has(e.what(), what), e.what());
  BOOST_TEST(has(e.what(), raise), e.what());
  BOOST_REQUIRE(!e.diagnostics().empty());
  BOOST_TEST(e.diagnostics()[0].line == line, e.what());
  BOOST_TEST(has(e.what(), "hostile.vireo:" + std::to_string(line) + ":"), e.what());
  BOOST_TEST(has(e.what(), "^"), e.what());  // the caret under the place
}

}  // namespace

BOOST_AUTO_TEST_CASE(unbounded_recursion_stops_at_the_depth_limit) {
  const auto t0 = std::chrono::steady_clock::now();
  vireo::Error e = fit_error(R"(fn forever(n) {
  return forever(n + 1)
}
model {
  mu ~ Normal(0, 1)
  deterministic d = forever(0)
})",
                             "{}");
  check_limit(e, 2, "recursion deeper than 200 calls of 'forever'", "--max-depth N");
  BOOST_TEST(seconds_since(t0) < 10.0);
}

// 10^9 sites in a loop: refused at the 1000th (a lower limit than the
// default 10^6, to keep the test quick under sanitizers), at the site.
BOOST_AUTO_TEST_CASE(a_loop_of_a_billion_sites_stops_at_the_sites_limit) {
  const std::string text = R"(model {
  mu ~ Normal(0, 1)
  for i in 0..1000000000 {
    x ~ Normal(mu, 1)
  }
})";
  vireo::FitOptions o;
  o.limits.max_sites = 1000;
  const auto t0 = std::chrono::steady_clock::now();
  vireo::Error e = fit_error(text, "{}", o);
  check_limit(e, 4, "the sites limit: this execution ran more than 1000 sites", "--max-sites N");
  BOOST_TEST(seconds_since(t0) < 10.0);
  // The same under the defaults: stopped by the sites limit (10^6) or, first,
  // by the tape's (4096 MB) — either way a Limit error at the loop's site.
  vireo::Model m = vireo::Model::from_string(text, "hostile.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, "{}");
  BOOST_CHECK_THROW(vireo::sample_prior(m, d, 1, 0, 200, vireo::Limits{.max_sites = 500}), vireo::Error);
  try {
    vireo::sample_prior(m, d, 1, 0, 200, vireo::Limits{.max_sites = 500});
  } catch (const vireo::Error& err) {
    check_limit(err, 4, "more than 500 sites", "--max-sites N");
  }
}

// A plate of 10^12 elements (the size from the data): refused by the tape
// limit before anything of that size is allocated; so is a plate of 10^12 by
// 10^12, whose element count overflows 64 bits.
BOOST_AUTO_TEST_CASE(a_plate_of_a_trillion_elements_is_refused_before_it_allocates) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string text = R"(data { N: int }
model {
  mu ~ Normal(0, 1)
  plate items(N) {
    x ~ Normal(mu, 1)
  }
})";
  vireo::Error e = fit_error(text, R"({"N": 1000000000000})");
  BOOST_TEST((e.kind() == vireo::Error::Kind::Limit), e.what());
  BOOST_TEST(has(e.what(), "past the limit of 4096 MB (Limits::max_tape_mb)"), e.what());
  BOOST_TEST(has(e.what(), "--max-tape-mb N"), e.what());
  BOOST_TEST(has(e.what(), "hostile.vireo:"), e.what());
  vireo::Error e2 = fit_error(R"(data { N: int }
model {
  mu ~ Normal(0, 1)
  plate rows(N) {
    plate cols(N) {
      x ~ Normal(mu, 1)
    }
  }
})",
                              R"({"N": 1000000000000})");
  BOOST_TEST((e2.kind() == vireo::Error::Kind::Limit), e2.what());
  BOOST_TEST(has(e2.what(), "Limits::max_tape_mb"), e2.what());
  BOOST_TEST(seconds_since(t0) < 10.0);
}

// zeros(n) and fill(v, n) with n = 10^12 from the data file: refused at
// the statement, before allocating 8 TB.
BOOST_AUTO_TEST_CASE(a_huge_allocation_from_the_data_is_refused_at_its_statement) {
  for (const std::string expr : {"zeros(n)", "fill(1.5, n)", "ones(n)"}) {
    vireo::Error e = fit_error(R"(data { n: int  y: real }
model {
  mu ~ Normal(0, 1)
  let big = )" + expr + R"(
  observe y ~ Normal(mu + sum(big), 1)
})",
                               R"({"n": 1000000000000, "y": 0.5})");
    check_limit(e, 4, "this statement would take the tape to", "--max-tape-mb N");
  }
  // A lower tape limit refuses a moderate array too (10^7 doubles, 80 MB, against 16 MB).
  vireo::FitOptions o;
  o.limits.max_tape_mb = 16;
  vireo::Error e = fit_error(R"(data { n: int  y: real }
model {
  mu ~ Normal(0, 1)
  let big = zeros(n)
  observe y ~ Normal(mu + sum(big), 1)
})",
                             R"({"n": 10000000, "y": 0.5})", o);
  check_limit(e, 4, "past the limit of 16 MB", "--max-tape-mb N");
}

// A wall-time limit ends a fit between steps (each step quick) and inside
// one long execution (a loop that would run for minutes).
BOOST_AUTO_TEST_CASE(the_time_limit_ends_a_fit_between_steps_and_inside_an_execution) {
  vireo::FitOptions o;
  o.limits.time_limit = 0.3;
  auto t0 = std::chrono::steady_clock::now();
  vireo::Model m = vireo::Model::from_string("model { mu ~ Normal(0, 1) }", "hostile.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, "{}");
  vireo::Fit fit(m, d, o);
  try {
    fit.run(1000000000L);
    BOOST_FAIL("a billion steps ran within 0.3 s");
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == vireo::Error::Kind::Limit), e.what());
    // Between steps ("the fit took longer") or, when the clock runs out
    // just after that check, at the start of the step's execution ("the run").
    BOOST_TEST(has(e.what(), "the time limit: the"), e.what());
    BOOST_TEST(has(e.what(), "took longer than 0.3 s"), e.what());
    BOOST_TEST(has(e.what(), "--time-limit SECONDS"), e.what());
  }
  BOOST_TEST(seconds_since(t0) < 5.0);
  BOOST_TEST(fit.steps_taken() > 0);
  for (const auto& [name, a] : fit.parameters())
    for (double v : a.values) BOOST_TEST(std::isfinite(v));  // the last step's parameters, usable

  t0 = std::chrono::steady_clock::now();
  o.limits.max_sites = 1000000000000LL;
  o.limits.max_tape_mb = 1000000;
  vireo::Error e = fit_error(R"(model {
  mu ~ Normal(0, 1)
  for i in 0..1000000000000 {
    deterministic x = mu
  }
})",
                             "{}", o);
  check_limit(e, 3, "the time limit: the run took longer than 0.3 s", "--time-limit SECONDS");  // at the loop
  BOOST_TEST(seconds_since(t0) < 5.0);
}

BOOST_AUTO_TEST_CASE(limits_out_of_range_are_refused_as_options) {
  vireo::Model m = vireo::Model::from_string("model { mu ~ Normal(0, 1) }", "m.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, "{}");
  for (auto [limits, message] : {std::pair{vireo::Limits{.max_sites = 0}, "--max-sites must be between 1 and 10^12"},
                                 std::pair{vireo::Limits{.max_tape_mb = -1}, "--max-tape-mb must be between 1 and 10^9"},
                                 std::pair{vireo::Limits{.time_limit = -2}, "--time-limit must be a finite number"}}) {
    vireo::FitOptions o;
    o.limits = limits;
    try {
      vireo::Fit fit(m, d, o);
      BOOST_FAIL("accepted");
    } catch (const vireo::Error& e) {
      BOOST_TEST((e.kind() == vireo::Error::Kind::Options), e.what());
      BOOST_TEST(has(e.what(), message), e.what());
    }
  }
  // The defaults do not stand in a model's way.
  vireo::Fit fit(m, d);
  fit.run(5);
  BOOST_TEST(fit.steps_taken() == 5);
}

// LogDensity takes the limits too.
BOOST_AUTO_TEST_CASE(log_density_honours_the_limits) {
  vireo::Model m = vireo::Model::from_string(R"(data { n: int  y: real }
model {
  mu ~ Normal(0, 1)
  let big = zeros(n)
  observe y ~ Normal(mu + sum(big), 1)
})",
                                             "hostile.vireo");
  vireo::Data d = vireo::Data::from_json_string(m, R"({"n": 1000000, "y": 0.5})");
  vireo::LogDensity fine(m, d);  // 8 MB under the default 4096 MB
  BOOST_TEST(fine.dimension() == 1u);
  try {
    vireo::LogDensity ld(m, d, vireo::Limits{.max_tape_mb = 4});
    BOOST_FAIL("a tape of 8 MB ran under a 4 MB limit");
  } catch (const vireo::Error& e) {
    check_limit(e, 4, "past the limit of 4 MB", "--max-tape-mb N");
  }
}

// Sizes in a data file are untrusted: an item left out for forward sampling
// (a placeholder of its declared shape) with n = 10^12, or a matrix of
// 10^6 by 10^6, is refused when the data are loaded, before any allocation.
BOOST_AUTO_TEST_CASE(huge_sizes_in_the_data_are_refused_when_loaded) {
  vireo::Model coin = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/coin.vireo");
  const vireo::DataOptions missing{.allow_missing_observed = true};
  for (const std::string json : {R"({"n": 1000000000000})", R"({"n": 1000000000000, "flips": [1, 0]})"}) {
    try {
      vireo::Data::from_json_string(coin, json, "huge.json", missing);
      BOOST_FAIL("accepted " + json);
    } catch (const vireo::Error& e) {
      BOOST_TEST((e.kind() == vireo::Error::Kind::Data), e.what());
      BOOST_TEST(has(e.what(), "'flips' would have more than 134217728 elements"), e.what());
    }
  }
  vireo::Model logistic = vireo::Model::from_file(VIREO_SOURCE_DIR "/examples/logistic_regression.vireo");
  try {
    vireo::Data::from_json_string(logistic, R"({"N": 1000000, "D": 1000000, "X": [], "y": []})", "huge.json", missing);
    BOOST_FAIL("accepted");
  } catch (const vireo::Error& e) {
    BOOST_TEST((e.kind() == vireo::Error::Kind::Data), e.what());
    BOOST_TEST(has(e.what(), "'X' would have more than"), e.what());
  }
}
