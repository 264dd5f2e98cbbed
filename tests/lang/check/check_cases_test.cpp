// Malformed (and a few well-formed) programs in tests/lang/cases/check, each
// stating its expected errors inline (`# expect error L:C: …`), compiled as
// `vireo check` compiles them.
#include <boost/test/unit_test.hpp>

#include "lang/expectations.hpp"
#include "lang/ir/compile.hpp"

BOOST_AUTO_TEST_CASE(check_case_files) {
  vireo::test::check_expectation_files(VIREO_SOURCE_DIR "/tests/lang/cases/check",
                                       [](const vireo::lang::SourceFile& file, vireo::lang::Diagnostics& diags) {
                                         // As `vireo check` does: parse, check, lower, and the
                                         // refusals only the site graph shows (`with enumerate`).
                                         (void)vireo::ir::compile(file, diags);
                                       });
}
