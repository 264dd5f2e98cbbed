// check ≡ run, walked in process (issue 13): every program of the walk
// (tests/cli/walk_programs.hpp) that Model::from_file accepts — what `vireo
// check` runs — is fitted for three steps, drawn from and summarised, as
// `vireo run --steps 3 --num-draws 5` does, and nothing may throw. The same
// walk through the command (tests/cli/walk_test.cpp) spawns two processes a
// program, too slow under the sanitizers; this one is what build-san runs.
#include <boost/test/unit_test.hpp>
#include <vireo/vireo.hpp>

#include "cli/walk_programs.hpp"

namespace walk = vireo_test::walk;

BOOST_AUTO_TEST_CASE(every_program_check_accepts_runs_in_process) {
  int accepted = 0, ran = 0;
  for (const auto& [file, example] : walk::programs()) {
    const std::string name = file.filename().string();
    std::optional<vireo::Model> model;
    try {
      model.emplace(vireo::Model::from_file(file.string()));
    } catch (const vireo::Error&) {
      BOOST_TEST(!(example && walk::meant_to_fail(file)), name << ": meant to fail at run time, not at check");
      continue;
    }
    if (example && walk::meant_to_fail(file)) continue;
    ++accepted;
    try {
      vireo::Data data = vireo::Data::from_json_file(*model, walk::data_for(file, example).string());
      vireo::FitOptions options;
      options.seed = 1;
      vireo::Fit fit(*model, data, options);
      fit.run(3);
      BOOST_TEST((fit.exact() || std::isfinite(fit.running_elbo())), name << ": no step gave a finite ELBO");
      vireo::DrawTable draws = fit.draws(5);
      (void)fit.summarize(draws);
      BOOST_TEST(!draws.to_csv().empty());
      ++ran;
    } catch (const vireo::Error& e) {
      BOOST_TEST(false, name << ": check accepted it, run refused it:\n" << e.what());
    }
  }
  BOOST_TEST_MESSAGE(accepted << " programs accepted by check, " << ran << " ran");
  BOOST_TEST(accepted >= 15);  // 7 examples and the test cases written to check clean
}
