// The syntax-error case files (tests/lang/cases/syntax/*.vireo): each states
// the errors it must produce with `# expect error L:C: …` comments.
#include <boost/test/unit_test.hpp>

#include "lang/expectations.hpp"
#include "lang/parse.hpp"

BOOST_AUTO_TEST_CASE(syntax_case_files) {
  vireo::test::check_expectation_files(
      std::filesystem::path(VIREO_SOURCE_DIR) / "tests/lang/cases/syntax",
      [](const vireo::lang::SourceFile& file, vireo::lang::Diagnostics& diags) { vireo::lang::parse(file, diags); });
}
