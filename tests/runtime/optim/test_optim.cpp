// Optimizers against their update rules written out by hand (PyTorch's and
// Pyro's formulas), one or two steps at a time.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <cmath>
#include <vector>

#include "runtime/optim/optimizer.hpp"
#include "runtime/optim/schedule.hpp"

using vireo::optim::make_optimizer;
using vireo::optim::OptimOptions;

namespace {
Eigen::ArrayXd arr(std::initializer_list<double> v) {
  Eigen::ArrayXd a(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) a[i++] = x;
  return a;
}
OptimOptions opts(const std::string& name, double lr) {
  OptimOptions o;
  o.name = name;
  o.lr = lr;
  return o;
}
}  // namespace

BOOST_AUTO_TEST_CASE(adam_first_two_steps) {
  auto opt = make_optimizer(opts("adam", 0.1));
  Eigen::ArrayXd x = arr({1.0, -2.0});
  Eigen::ArrayXd g1 = arr({0.5, -3.0}), g2 = arr({0.25, 1.0});
  opt->update("x", x, g1);
  // Step 1: m = 0.1 g, v = 0.001 g², bias-corrected m̂ = g, v̂ = g², step = lr·sign(g) (up to eps).
  BOOST_TEST(x[0] == 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(x[1] == -2.0 + 0.1 * 3.0 / (3.0 + 1e-8), boost::test_tools::tolerance(1e-12));
  Eigen::ArrayXd before = x;
  opt->update("x", x, g2);
  for (int i = 0; i < 2; ++i) {
    double m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
    double v = 0.999 * (0.001 * g1[i] * g1[i]) + 0.001 * g2[i] * g2[i];
    double bc1 = 1 - 0.81, bc2 = 1 - 0.999 * 0.999;
    double expected = before[i] - 0.1 / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + 1e-8);
    BOOST_TEST(x[i] == expected, boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(clipped_adam_clamps_elements_and_decays_lr_before_each_step) {
  OptimOptions o = opts("clipped_adam", 0.1);
  o.clip_norm = 1.0;
  o.lrd = 0.5;
  auto opt = make_optimizer(o);
  Eigen::ArrayXd x = arr({0.0, 0.0}), next;
  opt->begin_step();
  BOOST_TEST(opt->step_lr() == 0.05);  // decayed before the first step, as Pyro does
  BOOST_TEST(opt->lr() == 0.1);        // but only a committed step keeps the decay
  opt->propose("x", x, arr({100.0, 0.5}), next);
  opt->commit();
  BOOST_TEST(opt->lr() == 0.05);
  // Element 0 is clamped to 1: m = 0.1, v = 0.001; step = lr·sqrt(bc2)/bc1 · m/(sqrt(v)+eps).
  double step_size = 0.05 * std::sqrt(0.001) / 0.1;
  BOOST_TEST(next[0] == -step_size * 0.1 / (std::sqrt(0.001) + 1e-8), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(next[1] == -step_size * 0.05 / (std::sqrt(0.001 * 0.25) + 1e-8), boost::test_tools::tolerance(1e-12));
  opt->begin_step();
  BOOST_TEST(opt->step_lr() == 0.025);
}

// A step proposed but not committed (SVI refused it) leaves every optimizer's
// state — moments, step counts, the decayed learning rate, which parameters
// it has seen — exactly as it was, and the next committed step is the one
// that would have come without it.
BOOST_AUTO_TEST_CASE(an_uncommitted_step_changes_nothing) {
  std::vector<OptimOptions> all = {opts("adam", 0.1), opts("clipped_adam", 0.1), opts("sgd", 0.1), opts("adagrad", 0.1),
                                   opts("rmsprop", 0.1)};
  all[1].lrd = 0.9;
  all[2].momentum = 0.9;
  OptimOptions rms_momentum = opts("rmsprop", 0.1);
  rms_momentum.momentum = 0.5;
  all.push_back(rms_momentum);
  for (const OptimOptions& o : all) {
    BOOST_TEST_CONTEXT(o.name << " momentum " << o.momentum) {
      auto run = [&](bool refused_step) {
        auto opt = make_optimizer(o);
        Eigen::ArrayXd x = arr({1.0, -2.0}), next;
        for (int t = 0; t < 3; ++t) {
          if (refused_step && t == 1) {
            const std::string before = opt->state().dump();
            opt->begin_step();
            opt->propose("x", x, arr({1e3, -7.0}), next);
            opt->propose("new", arr({0.5}), arr({2.0}), next);  // first seen in the refused step
            BOOST_TEST(opt->state().dump() == before);
            BOOST_TEST(opt->lr() == 0.1 * (o.name == "clipped_adam" ? 0.9 : 1.0));
          }
          opt->begin_step();
          opt->propose("x", x, x * x - 1.0, next);
          opt->commit();
          x = next;
        }
        return std::make_pair(x, opt->state().dump());
      };
      const auto plain = run(false), refused = run(true);
      BOOST_TEST((plain.first == refused.first).all());
      BOOST_TEST(plain.second == refused.second);  // bit for bit, and no slot for "new"
    }
  }
}

BOOST_AUTO_TEST_CASE(sgd_momentum_follows_pytorch) {
  OptimOptions o = opts("sgd", 0.1);
  o.momentum = 0.9;
  auto opt = make_optimizer(o);
  Eigen::ArrayXd x = arr({1.0});
  opt->update("x", x, arr({2.0}));  // buf = 2
  BOOST_TEST(x[0] == 1.0 - 0.2, boost::test_tools::tolerance(1e-14));
  opt->update("x", x, arr({1.0}));  // buf = 0.9·2 + 1 = 2.8
  BOOST_TEST(x[0] == 0.8 - 0.28, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(adagrad_and_rmsprop_steps) {
  auto ada = make_optimizer(opts("adagrad", 0.5));
  Eigen::ArrayXd x = arr({0.0});
  ada->update("x", x, arr({2.0}));
  ada->update("x", x, arr({1.0}));
  BOOST_TEST(x[0] == -0.5 * 2.0 / (2.0 + 1e-10) - 0.5 * 1.0 / (std::sqrt(5.0) + 1e-10), boost::test_tools::tolerance(1e-12));

  auto rms = make_optimizer(opts("rmsprop", 0.01));
  Eigen::ArrayXd y = arr({0.0});
  rms->update("y", y, arr({3.0}));
  BOOST_TEST(y[0] == -0.01 * 3.0 / (std::sqrt(0.01 * 9.0) + 1e-8), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(parameters_appearing_later_get_fresh_state) {
  auto opt = make_optimizer(opts("adam", 0.1));
  Eigen::ArrayXd a = arr({0.0}), b = arr({0.0});
  opt->update("a", a, arr({1.0}));
  opt->update("a", a, arr({1.0}));
  opt->update("b", b, arr({1.0}));  // first step of b: step ≈ lr
  BOOST_TEST(b[0] == -0.1 / (1.0 + 1e-8), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(saved_state_resumes_bit_for_bit) {
  auto run = [](bool save_midway) {
    auto opt = make_optimizer(opts("adam", 0.05));
    Eigen::ArrayXd x = arr({1.0, 2.0});
    for (int t = 0; t < 5; ++t) {
      if (save_midway && t == 3) {
        auto saved = opt->state();
        opt = make_optimizer(opts("adam", 0.05));
        opt->load_state(saved);
      }
      opt->begin_step();
      opt->update("x", x, x * x - 1.0);
    }
    return x;
  };
  Eigen::ArrayXd a = run(false), b = run(true);
  BOOST_TEST((a == b).all());
}

BOOST_AUTO_TEST_CASE(lbfgs_is_refused_with_the_reason) {
  try {
    make_optimizer(opts("lbfgs", 0.1));
    BOOST_FAIL("lbfgs was accepted");
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    BOOST_TEST(msg.find("refused for SVI") != std::string::npos);
    BOOST_TEST(msg.find("stochastic") != std::string::npos);
  }
  BOOST_CHECK_THROW(make_optimizer(opts("adamw", 0.1)), std::invalid_argument);
  BOOST_CHECK_THROW(make_optimizer(opts("adam", -1)), std::invalid_argument);
}

// Learning-rate schedules: each form's factor at chosen steps, and a product.
BOOST_AUTO_TEST_CASE(schedules) {
  using vireo::optim::Schedule;
  BOOST_TEST(Schedule::parse("").constant());
  BOOST_TEST(Schedule::parse("none").factor(1000) == 1.0);
  Schedule e = Schedule::parse("exp:0.5");
  BOOST_TEST(e.factor(0) == 1.0);
  BOOST_TEST(e.factor(3) == 0.125);
  Schedule st = Schedule::parse("step:10:0.1");
  BOOST_TEST(st.factor(9) == 1.0);
  BOOST_TEST(st.factor(10) == 0.1, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(st.factor(25) == 0.01, boost::test_tools::tolerance(1e-15));
  Schedule w = Schedule::parse("warmup:4");
  BOOST_TEST(w.factor(0) == 0.25);
  BOOST_TEST(w.factor(3) == 1.0);
  BOOST_TEST(w.factor(100) == 1.0);
  Schedule both = Schedule::parse("warmup:4+exp:0.5");
  BOOST_TEST(both.factor(1) == 0.5 * 0.5);
  for (const char* bad : {"exp", "exp:0", "exp:x", "step:0:0.5", "warmup:0", "cosine:3", "exp:0.5+", "plateau:0",
                          "plateau:5+plateau:5"})
    BOOST_CHECK_THROW(Schedule::parse(bad), std::invalid_argument);
}

// plateau:N: constant while block means of N ELBOs rise; the decay starts
// after the third block in a row that averages no higher than the one before,
// as inv_sqrt:N counted from there. Its record survives state()/load_state(),
// so a schedule restored mid-block decides as the one that never stopped.
BOOST_AUTO_TEST_CASE(plateau_schedule_decays_once_the_elbo_stops_rising) {
  using vireo::optim::Schedule;
  Schedule s = Schedule::parse("plateau:4");
  BOOST_TEST(s.adaptive());
  BOOST_TEST(!Schedule::parse("inv_sqrt:4").adaptive());
  // Blocks of 4 ELBOs with means 1, 2, 3 (rising), then 3, 2.5, 2.5 (not
  // above the block before, three times): the decay starts at step 24.
  const std::vector<double> means = {1, 2, 3, 3, 2.5, 2.5, 7};
  std::vector<double> elbos;
  for (double m : means)
    for (double d : {-1.0, 1.0, 0.5, -0.5}) elbos.push_back(m + d);  // noise within the block averages out
  Schedule restored = Schedule::parse("plateau:4");
  for (long t = 0; t < 24; ++t) {
    BOOST_TEST(s.factor(t) == 1.0);
    s.end_step(t, elbos[static_cast<std::size_t>(t)]);
    if (t == 14) restored.load_state(nlohmann::json::parse(s.state().dump()));  // mid-block
    if (t > 14) restored.end_step(t, elbos[static_cast<std::size_t>(t)]);
    BOOST_TEST(s.decay_start() == (t == 23 ? 24 : -1), "step " << t);
    s.end_step(t, std::nan(""));  // not counted
  }
  BOOST_TEST(restored.decay_start() == 24);
  BOOST_TEST(s.factor(24) == 1.0);
  BOOST_TEST(s.factor(32) == 1 / std::sqrt(3.0), boost::test_tools::tolerance(1e-15));
  for (long t = 24; t < 28; ++t) s.end_step(t, elbos[static_cast<std::size_t>(t)]);  // a later rise changes nothing
  BOOST_TEST(s.decay_start() == 24);
  // A single block that does not rise is not enough.
  Schedule once = Schedule::parse("plateau:1");
  for (double x : {1.0, 2.0, 1.5, 3.0, 2.0, 4.0}) once.end_step(0, x);
  BOOST_TEST(once.decay_start() == -1);
  // A malformed or foreign state is refused and changes nothing.
  BOOST_CHECK_THROW(restored.load_state(nlohmann::json{{"decay_start", 3}}), std::runtime_error);
  nlohmann::json foreign = Schedule::parse("plateau:100").state();
  foreign["block_steps"] = 50;
  BOOST_CHECK_THROW(restored.load_state(foreign), std::runtime_error);
  BOOST_TEST(restored.decay_start() == 24);
}

// A scalar parameter takes Adam's element-by-element path, and a caller that
// numbers its parameters finds their slots by key: both must give the bits
// of the array path found by name (here element 0 of a two-element
// parameter with the same values), step after step, across a save and load
// (which forgets the keys) and a key reused for another name.
BOOST_AUTO_TEST_CASE(scalar_and_keyed_updates_are_the_array_path_to_the_bit) {
  for (const char* name : {"adam", "clipped_adam"}) {
    BOOST_TEST_CONTEXT(name) {
      auto keyed = make_optimizer(opts(name, 0.05)), named = make_optimizer(opts(name, 0.05));
      Eigen::ArrayXd a = arr({0.7}), b = arr({-0.2}), pair = arr({0.7, 3.0});
      for (int t = 0; t < 12; ++t) {
        const double g = std::sin(1.3 * t) * (t % 5 == 0 ? 40.0 : 1.0);
        Eigen::ArrayXd next_a, next_b, next_pair;
        keyed->begin_step();
        named->begin_step();
        // Keys 0 and 1; at step 6 the two names swap keys.
        keyed->propose(t < 6 ? 0 : 1, "a", a, arr({g}), next_a);
        keyed->propose(t < 6 ? 1 : 0, "b", b, arr({-g}), next_b);
        named->propose("pair", pair, arr({g, 0.5}), next_pair);
        keyed->commit();
        named->commit();
        a = next_a;
        b = next_b;
        pair = next_pair;
        BOOST_TEST(a[0] == pair[0]);  // exactly
        if (t == 8) {  // save and load: slots rebuilt, keys forgotten
          const nlohmann::json state = keyed->state();
          keyed->load_state(state);
        }
      }
      BOOST_TEST(b[0] != -0.2);
    }
  }
}
