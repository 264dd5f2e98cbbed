// Limits for untrusted models from the command line (issue 17, item 3):
// --max-sites, --max-tape-mb, --time-limit and --max-recursion end the run
// with exit status 1 and an error at the place in the model, naming the
// option that raises the limit.
#include <boost/test/unit_test.hpp>

#include <string>

#include "cli/vireo_process.hpp"

using namespace vireo_test;

BOOST_AUTO_TEST_CASE(limits_end_a_hostile_run_with_the_option_to_raise_them) {
  fs::path loop = write_temp("loop.vireo", R"(model {
  mu ~ Normal(0, 1)
  for i in 0..1000000000 {
    x ~ Normal(mu, 1)
  }
}
)");
  Run r = vireo("run '" + loop.string() + "' --steps 5 --max-sites 200");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "loop.vireo:4:5: error: the sites limit: this execution ran more than 200 sites"), r.err);
  BOOST_TEST(has(r.err, "--max-sites N"), r.err);
  r = vireo("sample '" + loop.string() + "' --num-draws 2 --max-sites 50");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "more than 50 sites"), r.err);
  r = vireo("trace '" + loop.string() + "' --max-sites 1000000 --max-tape-mb 1000 --time-limit 0.2");
  BOOST_TEST(r.status == 1);
  BOOST_TEST((has(r.err, "the time limit") || has(r.err, "the tape limit")), r.err);

  fs::path big = write_temp("big.vireo", R"(data { n: int  y: real }
model {
  mu ~ Normal(0, 1)
  let z = zeros(n)
  observe y ~ Normal(mu + sum(z), 1)
}
)");
  fs::path data = write_temp("big.json", R"({"n": 1000000000000, "y": 0.5})");
  r = vireo("run '" + big.string() + "' --data '" + data.string() + "' --steps 5");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "big.vireo:4:"), r.err);
  BOOST_TEST(has(r.err, "past the limit of 4096 MB"), r.err);
  BOOST_TEST(has(r.err, "--max-tape-mb N"), r.err);

  fs::path deep = write_temp("deep.vireo", R"(fn f(n) { return f(n + 1) }
model {
  mu ~ Normal(0, 1)
  deterministic d = f(0)
}
)");
  r = vireo("evidence '" + deep.string() + "' --draws 2 --max-recursion 50");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(has(r.err, "recursion deeper than 50 calls of 'f'"), r.err);

  r = vireo("run --help");
  BOOST_TEST(has(r.out, "--max-sites"), r.out);
  BOOST_TEST(has(r.out, "--max-tape-mb"), r.out);
  BOOST_TEST(has(r.out, "--time-limit"), r.out);
  r = vireo("run '" + big.string() + "' --data '" + data.string() + "' --max-tape-mb 0");
  BOOST_TEST(r.status != 0);
  BOOST_TEST(has(r.err, "--max-tape-mb must be between 1 and 10^9; got 0"), r.err);
  for (const auto& p : {loop, big, data, deep}) fs::remove(p);
}
