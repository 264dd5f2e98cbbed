// The parameter store: JSON round trip, atomic saves, refusal of NaN and of
// malformed files with the item named.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <limits>

#include "runtime/io/atomic_file.hpp"
#include "runtime/params/param_store.hpp"

namespace fs = std::filesystem;
using vireo::params::Entry;
using vireo::params::ParamStore;

namespace {
fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("vireo_params_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
Entry entry(const std::string& name, std::vector<std::int64_t> shape, std::vector<double> v, std::string c = "real") {
  Entry e{name, std::move(shape), std::move(c), Eigen::Map<Eigen::ArrayXd>(v.data(), static_cast<Eigen::Index>(v.size()))};
  return e;
}
}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_keeps_order_shapes_values_and_optimizer_state) {
  ParamStore s;
  s.add(entry("m", {3}, {-1, 0, 1}));
  s.add(entry("phi", {2, 2}, {0.1, 0.2, 0.3, 0.4}, "positive"));
  fs::path p = temp_dir() / "params.json";
  s.save(p, nlohmann::json{{"lr", 0.01}});
  ParamStore t;
  auto opt = t.load(p);
  BOOST_TEST(opt["lr"].get<double>() == 0.01);
  BOOST_REQUIRE(t.size() == 2);
  BOOST_TEST(t.entries()[0].name == "m");
  BOOST_TEST(t.entries()[1].constraint == "positive");
  BOOST_TEST((t.find("phi")->shape == std::vector<std::int64_t>{2, 2}));
  BOOST_TEST((t.find("phi")->unconstrained == s.find("phi")->unconstrained).all());
}

BOOST_AUTO_TEST_CASE(nan_is_never_written_and_the_old_file_survives) {
  fs::path p = temp_dir() / "keep.json";
  ParamStore good;
  good.add(entry("a", {}, {1.5}));
  good.save(p);
  std::string before = vireo::io::read_file(p);
  ParamStore bad;
  bad.add(entry("a", {}, {std::numeric_limits<double>::quiet_NaN()}));
  BOOST_CHECK_THROW(bad.save(p), std::runtime_error);
  BOOST_TEST(vireo::io::read_file(p) == before);
  for (const auto& f : fs::directory_iterator(p.parent_path()))  // no temporary left behind
    BOOST_TEST(f.path().filename().string().find(".tmp-") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_files_name_the_item) {
  ParamStore s;
  s.add(entry("keep", {}, {2.0}));
  auto j = nlohmann::json::parse(R"({"format":"vireo-params","version":1,"params":[
      {"name":"a","shape":[2],"constraint":"real","unconstrained":[1,2]},
      {"name":"b","shape":[3],"constraint":"real","unconstrained":[1,2]}]})");
  try {
    s.load_json(j);
    BOOST_FAIL("accepted a shape mismatch");
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    BOOST_TEST(msg.find("params[1]") != std::string::npos);
    BOOST_TEST(msg.find("'b'") != std::string::npos);
  }
  BOOST_TEST(s.find("keep") != nullptr);  // unchanged after a failed load
  BOOST_CHECK_THROW(s.load_json(nlohmann::json::parse(R"({"format":"other"})")), std::runtime_error);
  fs::path p = temp_dir() / "truncated.json";
  vireo::io::write_file_atomically(p, R"({"format":"vireo-params","vers)");
  BOOST_CHECK_THROW(s.load(p), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(duplicate_names_and_size_mismatch_are_refused) {
  ParamStore s;
  s.add(entry("a", {2}, {1, 2}));
  BOOST_CHECK_THROW(s.add(entry("a", {2}, {1, 2})), std::invalid_argument);
  BOOST_CHECK_THROW(s.add(entry("b", {3}, {1, 2})), std::invalid_argument);
}

// The generation says when an entry's index may name another entry: not
// after an add, but after a truncate that removes, a clear, a load and an
// assignment of another store; every store's is its own.
BOOST_AUTO_TEST_CASE(the_generation_changes_when_entries_may_move) {
  ParamStore s, t;
  BOOST_TEST(s.generation() != t.generation());
  const auto g0 = s.generation();
  s.add(entry("a", {}, {1.0}));
  s.add(entry("b", {2}, {1.0, 2.0}));
  BOOST_TEST(s.generation() == g0);
  s.truncate(2);  // removes nothing
  BOOST_TEST(s.generation() == g0);
  s.truncate(1);
  const auto g1 = s.generation();
  BOOST_TEST(g1 != g0);
  s.load_json(s.to_json());
  const auto g2 = s.generation();
  BOOST_TEST(g2 != g1);
  s = ParamStore{};
  BOOST_TEST(s.generation() != g2);
  t.add(entry("c", {}, {3.0}));
  s = t;  // the same entries: the same generation
  BOOST_TEST(s.generation() == t.generation());
  const auto g3 = s.generation();
  s.clear();
  BOOST_TEST(s.generation() != g3);
}
