// Malformed (and a few well-formed) programs in tests/lang/cases/check, each
// stating its expected errors inline (`# expect error L:C: …`).
#include <boost/test/unit_test.hpp>

#include "lang/check/check.hpp"
#include "lang/parse.hpp"
#include "lang/expectations.hpp"

BOOST_AUTO_TEST_CASE(check_case_files) {
  vireo::test::check_expectation_files(VIREO_SOURCE_DIR "/tests/lang/cases/check",
                                       [](const vireo::lang::SourceFile& file, vireo::lang::Diagnostics& diags) {
                                         auto program = vireo::lang::parse(file, diags);
                                         if (!diags.has_errors()) vireo::lang::check(program, diags);
                                       });
}
