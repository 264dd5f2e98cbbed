// The one main() of the Boost.Test executables (vireo_test in
// tests/CMakeLists.txt): test files define no BOOST_TEST_MODULE, so that
// every test compiles against one precompiled header (tests/support/pch.hpp)
// that already holds Boost.Test. The master suite takes the executable's
// name, as BOOST_TEST_MODULE gave it before: "test_cli", "test_parse", ….
#include <boost/test/unit_test.hpp>

#include <string_view>

namespace {

bool init_unit_test() {
  auto& master = boost::unit_test::framework::master_test_suite();
  if (master.argc > 0 && master.argv[0]) {
    std::string_view path(master.argv[0]);
    if (auto slash = path.find_last_of('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
    master.p_name.value = std::string(path);
  }
  return true;
}

}  // namespace

int main(int argc, char* argv[]) { return boost::unit_test::unit_test_main(&init_unit_test, argc, argv); }
