// check ≡ run, walked over every program we have (issue 13): every
// examples/*.vireo and every .vireo test case that `vireo check` accepts is
// run for a few steps, and the run must not refuse it. A refusal is always a
// failure here: each program below is run with data that satisfies its
// declarations, so a refusal is a reason visible in the program text that
// the checker missed (or a runtime bug). The programs and their data:
// walk_programs.hpp.
#include <boost/test/unit_test.hpp>

#include "cli/vireo_process.hpp"
#include "cli/walk_programs.hpp"

using namespace vireo_test;

// Label slow: a process per program is most of the sanitizer tree's time;
// there tests/api/test_walk.cpp walks the same programs in process.
BOOST_AUTO_TEST_CASE(every_program_check_accepts_runs, *boost::unit_test::label("slow")) {
  int accepted = 0, ran = 0;
  for (const auto& [file, example] : walk::programs()) {
    Run c = vireo_test::vireo("check '" + file.string() + "'");
    if (example && walk::meant_to_fail(file)) {
      BOOST_TEST(c.status == 0, file.filename().string() << ": " << c.err);
      continue;
    }
    if (c.status != 0) continue;
    ++accepted;
    fs::path data = walk::data_for(file, example);
    Run r = vireo_test::vireo("run '" + file.string() + "' --data '" + data.string() + "' --steps 3 --seed 1 --num-draws 5");
    BOOST_TEST(r.status == 0, file.filename().string() << ": check accepted it, run refused it:\n" << r.err);
    ran += r.status == 0;
  }
  BOOST_TEST_MESSAGE(accepted << " programs accepted by check, " << ran << " ran");
  BOOST_TEST(accepted >= 15);  // 7 examples and the test cases written to check clean
}
