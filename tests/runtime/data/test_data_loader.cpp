// The data loader: the example data sets load with the right values, shapes
// and kinds; every kind of bad data is refused with a message naming the
// item, the index and the declaration's line (and, for text, the position in
// the data file); all problems come out together.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "lang/ir/compile.hpp"
#include "runtime/data/data_loader.hpp"

namespace data = vireo::data;
namespace ir = vireo::ir;
namespace lang = vireo::lang;
using vireo::interp::DataSet;
using vireo::interp::Kind;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Model {
  lang::SourceFile source;
  ir::Graph graph;
};

Model compile(const std::string& name, const std::string& text) {
  lang::SourceFile src(name, text);
  lang::Diagnostics diags;
  std::optional<ir::Graph> g = ir::compile(src, diags);
  BOOST_REQUIRE_MESSAGE(g, diags.render(src));
  return {src, std::move(*g)};
}

Model example(const std::string& stem) {
  return compile(stem + ".vireo", read_text(std::string(VIREO_SOURCE_DIR) + "/examples/" + stem + ".vireo"));
}

// The DataError that loading `json` must throw.
data::DataError refusal(const Model& m, const std::string& json, const std::string& file = "bad.json") {
  try {
    data::load_json_text(m.graph, json, m.source, file);
  } catch (const data::DataError& e) {
    BOOST_TEST_MESSAGE(e.what());
    return e;
  }
  BOOST_FAIL("expected a DataError for " << json);
  throw std::logic_error("unreachable");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The error mentions `item`, its index and the declaration line; the what()
// report contains `part`.
void expect_issue(const data::DataError& e, const std::string& item, const std::string& index, int decl_line,
                  const std::string& part) {
  bool found = false;
  for (const auto& d : e.issues())
    if (d.item == item && d.index == index && d.decl_line == decl_line &&
        d.severity == data::DataIssue::Severity::Error)
      found = true;
  BOOST_TEST(found, "no issue for '" << item << index << "' declared at line " << decl_line << " in\n" << e.what());
  BOOST_TEST(contains(e.what(), part), "'" << part << "' not in\n" << e.what());
}

const char* const eight_schools_ok = R"({"J":8,"y":[28,8,-3,7,-1,1,18,12],"sigma":[15,10,16,11,9,11,10,18]})";

// A model with one declaration of each kind the checks distinguish.
const char* const kinds_model = R"(data {
  n: int<lower=0>
  flips: int<lower=0, upper=1>[n]
  X: real[n, 3]
  b: bool
  mask: bool[2]
  K: int
  theta: simplex[K]
  z: int<lower=0, upper=(K - 1)>[2]
}
model {
  p ~ Beta(2, 2)
  for i in 0..n {
    observe flips[i] ~ Bernoulli(probs = p)
  }
}
)";

const char* const kinds_ok = R"({
  "n": 2,
  "flips": [0, 1],
  "X": [[1, 2, 3], [4, 5.5, 6]],
  "b": true,
  "mask": [1, false],
  "K": 3,
  "theta": [0.2, 0.3, 0.5],
  "z": [0, 2]
})";

// kinds_ok with the value of `key` replaced by `value` (keys are unique and
// each on its own line).
std::string kinds_with(const std::string& key, const std::string& value) {
  std::string s = kinds_ok;
  std::size_t at = s.find("\"" + key + "\": ");
  BOOST_REQUIRE(at != std::string::npos);
  std::size_t begin = at + key.size() + 4;
  std::size_t end = s.find('\n', begin);
  bool comma = s[end - 1] == ',';
  s.replace(begin, end - begin - (comma ? 1 : 0), value);
  return s;
}

}  // namespace

// ---- good data --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(eight_schools_example_loads) {
  Model m = example("eight_schools");
  DataSet ds = data::load_json_file(m.graph, std::string(VIREO_SOURCE_DIR) + "/examples/eight_schools.json", m.source);
  BOOST_REQUIRE(ds.values.size() == 3);
  BOOST_TEST((ds.kinds == std::vector<Kind>{Kind::Int, Kind::Real, Kind::Real}));
  BOOST_TEST(ds.values[0].rank() == 0);
  BOOST_TEST(ds.values[0].item() == 8);
  BOOST_TEST(ds.values[1].shape().to_vector() == std::vector<std::int64_t>{8});
  BOOST_TEST(ds.values[1].values() == (std::vector<double>{28, 8, -3, 7, -1, 1, 18, 12}),
             boost::test_tools::per_element());
  BOOST_TEST(ds.values[2].values() == (std::vector<double>{15, 10, 16, 11, 9, 11, 10, 18}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gmm_example_loads) {
  Model m = example("gmm");
  DataSet ds = data::load_json_file(m.graph, std::string(VIREO_SOURCE_DIR) + "/examples/gmm.json", m.source);
  BOOST_REQUIRE(ds.values.size() == 3);
  BOOST_TEST((ds.kinds == std::vector<Kind>{Kind::Int, Kind::Int, Kind::Real}));
  BOOST_TEST(ds.values[0].item() == 500);
  BOOST_TEST(ds.values[1].item() == 3);
  BOOST_TEST(ds.values[2].shape().to_vector() == std::vector<std::int64_t>{500});
  BOOST_TEST(ds.values[2][0] == -5.211403);
  BOOST_TEST(ds.values[2][499] == 5.315395);
}

BOOST_AUTO_TEST_CASE(logistic_regression_bench_data_loads) {
  Model m = example("logistic_regression");
  std::string path = std::string(VIREO_SHARED_DIR) + "/bench/data/logistic_regression.json";
  DataSet ds = data::load_json_file(m.graph, path, m.source);
  BOOST_REQUIRE(ds.values.size() == 4);
  BOOST_TEST((ds.kinds == std::vector<Kind>{Kind::Int, Kind::Int, Kind::Real, Kind::Int}));
  BOOST_TEST(ds.values[0].item() == 5000);
  BOOST_TEST(ds.values[1].item() == 50);
  BOOST_TEST((ds.values[2].shape().to_vector() == std::vector<std::int64_t>{5000, 50}));
  BOOST_TEST(ds.values[2].at({0, 0}) == -0.114821);  // the file's first number
  BOOST_TEST(ds.values[2].at({0, 1}) == 1.549325);
  BOOST_TEST(ds.values[3].shape().to_vector() == std::vector<std::int64_t>{5000});
  for (double v : ds.values[3].values()) BOOST_REQUIRE(v == 0 || v == 1);
  // Row-major: the last row of the file is the last 50 values.
  auto j = nlohmann::json::parse(read_text(path));
  BOOST_TEST(ds.values[2].at({4999, 49}) == j["X"][4999][49].get<double>());
  BOOST_TEST(ds.values[3][1234] == j["y"][1234].get<double>());
}

BOOST_AUTO_TEST_CASE(every_kind_loads_and_bounds_are_inclusive) {
  Model m = compile("kinds.vireo", kinds_model);
  DataSet ds = data::load_json_text(m.graph, kinds_ok, m.source, "kinds.json");
  BOOST_TEST((ds.kinds == std::vector<Kind>{Kind::Int, Kind::Int, Kind::Real, Kind::Bool, Kind::Bool, Kind::Int,
                                            Kind::Real, Kind::Int}));
  BOOST_TEST((ds.values[2].shape().to_vector() == std::vector<std::int64_t>{2, 3}));
  BOOST_TEST(ds.values[2].at({1, 1}) == 5.5);
  BOOST_TEST(ds.values[3].item() == 1);
  BOOST_TEST(ds.values[4].values() == (std::vector<double>{1, 0}), boost::test_tools::per_element());
  // z = [0, 2] touches both bounds of int<lower=0, upper=(K - 1)>.
  BOOST_TEST(ds.values[7].values() == (std::vector<double>{0, 2}), boost::test_tools::per_element());
  // A real at its lower bound is accepted too.
  Model es = example("eight_schools");
  DataSet e = data::load_json_text(es.graph, R"({"J":2,"y":[1,2],"sigma":[0,1]})", es.source, "x.json");
  BOOST_TEST(e.values[2][0] == 0);
  // Zero-length arrays.
  DataSet z = data::load_json_text(
      m.graph, R"({"n": 0, "flips": [], "X": [], "b": 0, "mask": [1, 1], "K": 1, "theta": [1], "z": [0, 0]})", m.source,
      "kinds.json");
  BOOST_TEST(z.values[1].numel() == 0);
  BOOST_TEST((z.values[2].shape().to_vector() == std::vector<std::int64_t>{0, 3}));
}

// ---- each kind of bad data ----------------------------------------------------

BOOST_AUTO_TEST_CASE(missing_item) {
  Model m = example("eight_schools");
  auto e = refusal(m, R"({"J":8,"sigma":[15,10,16,11,9,11,10,18]})", "eight_schools.json");
  expect_issue(e, "y", "", 4, "eight_schools.json: 'y' is missing (declared at eight_schools.vireo:4: `y: real[J]`)");
  BOOST_TEST(e.issues().size() == 1);
}

BOOST_AUTO_TEST_CASE(unknown_key_is_a_warning_not_an_error) {
  Model m = example("eight_schools");
  std::vector<data::DataIssue> warnings;
  std::string json = R"({"J":8,"y":[28,8,-3,7,-1,1,18,12],"sigma":[15,10,16,11,9,11,10,18],"sigmas":1})";
  DataSet ds = data::load_json_text(m.graph, json, m.source, "eight_schools.json", &warnings);
  BOOST_TEST(ds.values.size() == 3);
  BOOST_REQUIRE(warnings.size() == 1);
  BOOST_TEST(warnings[0].item == "sigmas");
  BOOST_TEST((warnings[0].severity == data::DataIssue::Severity::Warning));
  BOOST_TEST(contains(warnings[0].message, "not declared"));
  BOOST_TEST(contains(warnings[0].message, "did you mean 'sigma'?"));
  BOOST_TEST(warnings[0].data_line == 1);
  // Alongside an error it is listed in the report, after the errors.
  auto e = refusal(m, R"({"J":8,"sigma":[15,10,16,11,9,11,10,18],"why":[1]})");
  BOOST_TEST(contains(e.what(), "warning: 'why' is not declared"));
  BOOST_TEST(e.issues().back().item == "why");
}

BOOST_AUTO_TEST_CASE(array_of_the_wrong_length) {
  Model m = example("eight_schools");
  auto e = refusal(m, R"({"J":8,"y":[28,8,-3,7,-1,1,18],"sigma":[15,10,16,11,9,11,10,18]})");
  expect_issue(e, "y", "", 4,
               "bad.json:1:12: 'y' has 7 elements but its declared size is J = 8 (declared at eight_schools.vireo:4");
}

BOOST_AUTO_TEST_CASE(ragged_array) {
  Model m = compile("kinds.vireo", kinds_model);
  auto e = refusal(m, kinds_with("X", "[[1, 2, 3], [4, 5]]"));
  expect_issue(e, "X", "[1]", 4,
               "'X[1]' has 2 elements but its declared size is 3 (declared at kinds.vireo:4: `X: real[n, 3]`)");
}

BOOST_AUTO_TEST_CASE(scalar_where_an_array_belongs) {
  Model m = compile("kinds.vireo", kinds_model);
  auto e = refusal(m, kinds_with("flips", "1"));
  expect_issue(e, "flips", "", 3, "'flips' should be an array of n = 2 ints but is the number 1");
  auto nested = refusal(m, kinds_with("X", "[[1, 2, 3], 4]"));
  expect_issue(nested, "X", "[1]", 4, "'X[1]' should be an array of 3 reals but is the number 4");
  auto outer = refusal(m, kinds_with("X", "[1, 2, 3]"));
  expect_issue(outer, "X", "[0]", 4, "'X[0]' should be an array of 3 reals");
}

BOOST_AUTO_TEST_CASE(array_where_a_scalar_belongs) {
  Model m = example("eight_schools");
  auto e = refusal(m, R"({"J":[8],"y":[28,8,-3,7,-1,1,18,12],"sigma":[15,10,16,11,9,11,10,18]})");
  expect_issue(e, "J", "", 3, "'J' should be a single int but is an array of 1 (write 8, not [8])");
  // y and sigma have their sizes from J: they are not checked, and say why.
  BOOST_TEST(contains(e.what(), "warning: 'y' was not checked: its type uses 'J', which has a problem"));
  Model k = compile("kinds.vireo", kinds_model);
  auto deep = refusal(k, kinds_with("X", "[[1, 2, [3]], [4, 5, 6]]"));
  expect_issue(deep, "X", "[0, 2]", 4, "'X[0, 2]' should be a single real but is an array of 1");
}

BOOST_AUTO_TEST_CASE(value_below_its_lower_bound) {
  Model m = example("eight_schools");
  auto e = refusal(m, R"({"J":8,"y":[28,8,-3,7,-1,1,18,12],"sigma":[15,10,16,-2,9,11,10,18]})", "eight_schools.json");
  expect_issue(e, "sigma", "[3]", 5,
               "eight_schools.json:1:53: 'sigma[3]' = -2 is below its lower bound 0 "
               "(declared at eight_schools.vireo:5: `sigma: real<lower=0>[J]`)");
  auto j = refusal(m, R"({"J":0,"y":[],"sigma":[]})");
  expect_issue(j, "J", "", 3, "'J' = 0 is below its lower bound 1");
}

BOOST_AUTO_TEST_CASE(value_above_its_upper_bound) {
  Model m = compile("kinds.vireo", kinds_model);
  auto e = refusal(m, kinds_with("flips", "[0, 2]"));
  expect_issue(e, "flips", "[1]", 3, "'flips[1]' = 2 is above its upper bound 1");
  // A bound that is an expression of earlier data is shown with its value.
  auto z = refusal(m, kinds_with("z", "[3, -1]"));
  expect_issue(z, "z", "[0]", 9, "'z[0]' = 3 is above its upper bound (K - 1) = 2");
  expect_issue(z, "z", "[1]", 9, "'z[1]' = -1 is below its lower bound 0");
}

BOOST_AUTO_TEST_CASE(int_must_be_a_json_integer) {
  Model m = compile("kinds.vireo", kinds_model);
  auto frac = refusal(m, kinds_with("flips", "[0, 0.5]"));
  expect_issue(frac, "flips", "[1]", 3, "'flips[1]' = 0.5 is not an integer");
  auto real = refusal(m, kinds_with("K", "3.0"));
  expect_issue(real, "K", "", 7, "'K' = 3.0 is written as a real; an int must be a JSON integer (3)");
  auto boolean = refusal(m, kinds_with("n", "true"));
  expect_issue(boolean, "n", "", 2, "'n' is true; it should be an int");
}

BOOST_AUTO_TEST_CASE(bool_accepts_true_false_one_zero_only) {
  Model m = compile("kinds.vireo", kinds_model);
  auto two = refusal(m, kinds_with("mask", "[true, 2]"));
  expect_issue(two, "mask", "[1]", 6, "'mask[1]' is the number 2; a bool must be true or false (or 1 or 0)");
  auto str = refusal(m, kinds_with("b", "\"true\""));
  expect_issue(str, "b", "", 5, "'b' is a string (\"true\"); a bool must be true or false");
}

BOOST_AUTO_TEST_CASE(string_null_or_object_where_a_number_belongs) {
  Model m = example("eight_schools");
  auto e = refusal(m, R"({"J":8,"y":[{},null,"NaN",7,-1,1,18,12],
"sigma":[15,10,16,11,9,11,10,"Infinity"]})");
  expect_issue(e, "y", "[0]", 4, "bad.json:1:13: 'y[0]' is an object; it should be a real number");
  expect_issue(e, "y", "[1]", 4, "'y[1]' is null; it should be a real number; missing values are not supported");
  expect_issue(e, "y", "[2]", 4,
               "bad.json:1:21: 'y[2]' is a string (\"NaN\"); it should be a real number; NaN and infinite values are "
               "not allowed in data");
  expect_issue(e, "sigma", "[7]", 5, "bad.json:2:30: 'sigma[7]' is a string (\"Infinity\")");
}

BOOST_AUTO_TEST_CASE(nan_and_infinity_tokens_are_malformed_json_at_their_position) {
  Model m = example("eight_schools");
  auto e = refusal(m, "{\"J\": 8,\n \"y\": [28, NaN, -3, 7, -1, 1, 18, 12],\n \"sigma\": [15,10,16,11,9,11,10,18]}");
  BOOST_REQUIRE(e.issues().size() == 1);
  BOOST_TEST(e.issues()[0].data_line == 2);
  BOOST_TEST(contains(e.what(), "bad.json:2:"));
  BOOST_TEST(contains(e.what(), "NaN and infinite values are not allowed"));
  // A number too large for a double, at its position.
  auto big = refusal(m, R"({"J":8,"y":[28,8,-3,7,-1,1,18,1e999],"sigma":[15,10,16,11,9,11,10,18]})");
  BOOST_TEST(contains(big.what(), "bad.json:1:31: malformed JSON: the number 1e999 is too large for a double"));
  // Parsed JSON built by a host can hold non-finite doubles: refused per element.
  auto j = nlohmann::json::parse(eight_schools_ok);
  j["y"][7] = -std::numeric_limits<double>::infinity();
  j["sigma"][0] = std::nan("");
  try {
    data::load_json(m.graph, j, m.source, "host");
    BOOST_FAIL("expected a DataError");
  } catch (const data::DataError& e) {
    expect_issue(e, "y", "[7]", 4, "host: 'y[7]' = -Infinity is not a finite number");
    expect_issue(e, "sigma", "[0]", 5, "host: 'sigma[0]' = NaN is not a finite number");
  }
}

BOOST_AUTO_TEST_CASE(simplex_must_be_non_negative_and_sum_to_one) {
  Model m = compile("kinds.vireo", kinds_model);
  auto neg = refusal(m, kinds_with("theta", "[0.6, 0.5, -0.1]"));
  expect_issue(neg, "theta", "[2]", 8, "'theta[2]' = -0.1 is negative; a simplex has non-negative entries");
  auto sum = refusal(m, kinds_with("theta", "[0.2, 0.3, 0.4]"));
  expect_issue(sum, "theta", "", 8, "'theta' sums to 0.9; a simplex must sum to 1 (within 1e-08)");
  // Within the tolerance is fine.
  data::load_json_text(m.graph, kinds_with("theta", "[0.2, 0.3, 0.5000000001]"), m.source, "kinds.json");
}

BOOST_AUTO_TEST_CASE(size_must_be_a_non_negative_integer) {
  Model m = compile("sizes.vireo", R"(data {
  n: int
  y: real[n]
  h: real[(n / 2)]
}
model {
  mu ~ Normal(0, 1)
}
)");
  auto neg = refusal(m, R"({"n": -2, "y": [], "h": []})");
  expect_issue(neg, "y", "", 3,
               "'y' cannot be checked: its size n = -2 is negative (declared at sizes.vireo:3: `y: real[n]`)");
  auto frac = refusal(m, R"({"n": 3, "y": [1, 2, 3], "h": [1]})");
  expect_issue(frac, "h", "", 4, "'h' cannot be checked: its size (n / 2) = 1.5 is not an integer");
  // An even n gives a whole size.
  DataSet ok = data::load_json_text(m.graph, R"({"n": 2, "y": [1, 2], "h": [1]})", m.source, "sizes.json");
  BOOST_TEST(ok.values[2].numel() == 1);
}

BOOST_AUTO_TEST_CASE(truncated_json_is_reported_at_its_position) {
  Model m = example("eight_schools");
  auto e = refusal(m, "{\"J\": 8,\n \"y\": [28, 8, -3,", "eight_schools.json");
  BOOST_REQUIRE(e.issues().size() == 1);
  BOOST_TEST(e.issues()[0].data_line == 2);
  BOOST_TEST(contains(e.what(), "eight_schools.json:2:"));
  BOOST_TEST(contains(e.what(), "malformed JSON"));
  BOOST_TEST(contains(e.what(), "unexpected end of input"));
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  Model m = compile("kinds.vireo", kinds_model);
  std::string json = R"({
  "n": 2,
  "flips": [0, 7],
  "X": [[1, 2, 3], [4, "x", 6]],
  "b": 3,
  "K": 3,
  "theta": [0.2, 0.3, 0.4],
  "z": [0, 2],
  "extra": 1
})";
  auto e = refusal(m, json, "kinds.json");
  expect_issue(e, "flips", "[1]", 3, "kinds.json:3:16: 'flips[1]' = 7 is above its upper bound 1");
  expect_issue(e, "X", "[1, 1]", 4, "kinds.json:4:24: 'X[1, 1]' is a string");
  expect_issue(e, "b", "", 5, "kinds.json:5:8: 'b' is the number 3");
  expect_issue(e, "mask", "", 6, "'mask' is missing");
  expect_issue(e, "theta", "", 8, "'theta' sums to 0.9");
  BOOST_TEST(contains(e.what(), "kinds.json:9:12: warning: 'extra' is not declared"));
  BOOST_TEST(contains(e.what(), "(5 errors)"));
}

BOOST_AUTO_TEST_CASE(long_lists_of_problems_are_capped_per_item) {
  Model m = compile("kinds.vireo", kinds_model);
  // 30 rows of 3 strings: 90 problems in X, the first 10 listed.
  std::string flips = "[", x = "[";
  for (int i = 0; i < 30; ++i) {
    flips += i ? ", 0" : "0";
    x += std::string(i ? ", " : "") + R"(["a", "b", "c"])";
  }
  std::string json = kinds_with("flips", flips + "]");
  json.replace(json.find("\"n\": 2"), 6, "\"n\": 30");
  json.replace(json.find("[[1, 2, 3], [4, 5.5, 6]]"), 24, x + "]");
  auto e = refusal(m, json);
  BOOST_TEST(contains(e.what(), "and 80 more problems with 'X'"));
  int listed = 0;
  for (const auto& d : e.issues()) listed += d.item == "X" ? 1 : 0;
  BOOST_TEST(listed == 11);
  BOOST_TEST(contains(e.what(), "(90 errors)"));
}

BOOST_AUTO_TEST_CASE(top_level_must_be_an_object) {
  Model m = example("eight_schools");
  auto e = refusal(m, "[1, 2, 3]");
  BOOST_TEST(contains(e.what(), "must be a JSON object keyed by data names, but it is an array of 3"));
}

BOOST_AUTO_TEST_CASE(unreadable_file) {
  Model m = example("eight_schools");
  BOOST_CHECK_EXCEPTION(
      data::load_json_file(m.graph, "/nonexistent/x.json", m.source), data::DataError,
      [](const data::DataError& e) { return contains(e.what(), "/nonexistent/x.json: cannot read"); });
}

// ---- arrays from a host ---------------------------------------------------

BOOST_AUTO_TEST_CASE(host_arrays_load_and_are_validated_the_same_way) {
  Model m = example("eight_schools");
  std::map<std::string, data::ArrayInput> a;
  a["J"] = {{}, {3}};
  a["y"] = {{3}, {1, 2, 3}};
  a["sigma"] = {{3}, {1, 0.5, 2}};
  DataSet ds = data::load_arrays(m.graph, a, m.source);
  BOOST_TEST((ds.kinds == std::vector<Kind>{Kind::Int, Kind::Real, Kind::Real}));
  BOOST_TEST(ds.values[2][1] == 0.5);

  auto refuse = [&](std::map<std::string, data::ArrayInput> bad) {
    try {
      data::load_arrays(m.graph, bad, m.source);
    } catch (const data::DataError& e) {
      BOOST_TEST_MESSAGE(e.what());
      return e;
    }
    BOOST_FAIL("expected a DataError");
    throw std::logic_error("unreachable");
  };
  auto shape = a;
  shape["y"] = {{2}, {1, 2}};
  expect_issue(refuse(shape), "y", "", 4, "data: 'y' has shape [2] but is declared with shape [J = 3]");
  auto count = a;
  count["y"] = {{3}, {1, 2}};
  expect_issue(refuse(count), "y", "", 4, "'y' has 2 values, but its shape [3] holds 3");
  auto frac = a;
  frac["J"] = {{}, {2.5}};
  expect_issue(refuse(frac), "J", "", 3, "'J' = 2.5 is not an integer");
  auto nan = a;
  nan["y"] = {{3}, {1, std::nan(""), 3}};
  expect_issue(refuse(nan), "y", "[1]", 4, "'y[1]' = NaN is not a finite number");
  auto below = a;
  below["sigma"] = {{3}, {1, -0.5, 2}};
  expect_issue(refuse(below), "sigma", "[1]", 5, "'sigma[1]' = -0.5 is below its lower bound 0");
  auto missing = a;
  missing.erase("sigma");
  expect_issue(refuse(missing), "sigma", "", 5, "'sigma' is missing");
}

BOOST_AUTO_TEST_CASE(host_arrays_index_matrices_row_major) {
  Model m = compile("kinds.vireo", kinds_model);
  std::map<std::string, data::ArrayInput> a;
  a["n"] = {{}, {2}};
  a["flips"] = {{2}, {0, 1}};
  a["X"] = {{2, 3}, {1, 2, 3, 4, 5, 6}};
  a["b"] = {{}, {1}};
  a["mask"] = {{2}, {0, 3}};
  a["K"] = {{}, {2}};
  a["theta"] = {{2}, {0.5, 0.5}};
  a["z"] = {{2}, {1, 1}};
  try {
    data::load_arrays(m.graph, a, m.source);
    BOOST_FAIL("expected a DataError");
  } catch (const data::DataError& e) {
    expect_issue(e, "mask", "[1]", 6, "'mask[1]' = 3 is not a bool");
  }
  a["mask"] = {{2}, {0, 1}};
  a["X"] = {{2, 3}, {1, 2, 3, 4, std::numeric_limits<double>::infinity(), 6}};
  try {
    data::load_arrays(m.graph, a, m.source);
    BOOST_FAIL("expected a DataError");
  } catch (const data::DataError& e) {
    expect_issue(e, "X", "[1, 1]", 4, "'X[1, 1]' = Infinity is not a finite number");
  }
}

BOOST_AUTO_TEST_CASE(model_without_data_block) {
  Model m = compile("prior.vireo", "model {\n  mu ~ Normal(0, 1)\n}\n");
  std::vector<data::DataIssue> warnings;
  DataSet ds = data::load_json_text(m.graph, R"({"mu": 1})", m.source, "prior.json", &warnings);
  BOOST_TEST(ds.values.empty());
  BOOST_REQUIRE(warnings.size() == 1);
  BOOST_TEST(warnings[0].item == "mu");
  BOOST_TEST(data::load_arrays(m.graph, {}, m.source).values.empty());
}

// nlohmann keeps the last of two equal keys without a word; the loader
// refuses the file, naming the key and the line of its second occurrence
// (and of the first). Keys inside nested objects and strings that merely
// look like keys do not count.
BOOST_AUTO_TEST_CASE(duplicate_key_is_refused_with_its_line) {
  Model m = example("eight_schools");
  auto e = refusal(m, "{\"J\": 8,\n \"y\": [28, 8, -3, 7, -1, 1, 18, 12],\n \"sigma\": [15, 10, 16, 11, 9, 11, 10, 18],\n"
                      " \"y\": [0, 0, 0, 0, 0, 0, 0, 0]}",
                   "eight_schools.json");
  BOOST_REQUIRE(e.issues().size() == 1);
  BOOST_TEST(e.issues()[0].data_line == 4);
  BOOST_TEST(contains(e.what(), "eight_schools.json:4:2"));
  BOOST_TEST(contains(e.what(), "\"y\" is given twice"));
  BOOST_TEST(contains(e.what(), "first at line 2"));
  std::vector<data::DataIssue> warnings;
  DataSet ok = data::load_json_text(
      m.graph, R"({"J": 8, "note": {"a": "y", "b": [{"a": 1}, {"a": 2}]}, "y": [28, 8, -3, 7, -1, 1, 18, 12],
                  "sigma": [15, 10, 16, 11, 9, 11, 10, 18]})",
      m.source, "eight_schools.json", &warnings);
  BOOST_TEST(ok.values.size() == 3u);
}

// LoadOptions::allow_missing_observed (forward sampling): an item read only
// as an observed value may be left out and becomes a NaN placeholder of its
// declared shape, marked missing; a size left out is reported at its
// declaration; without the option nothing changes.
BOOST_AUTO_TEST_CASE(observed_only_items_may_be_left_out_on_request) {
  Model m = example("eight_schools");
  const data::LoadOptions leave_out{.allow_missing_observed = true};
  DataSet ds = data::load_json_text(m.graph, R"({"J": 2, "sigma": [1, 2]})", m.source, "x.json", nullptr, leave_out);
  BOOST_REQUIRE(ds.values.size() == 3u);
  BOOST_TEST(ds.is_missing(1));  // y
  BOOST_TEST(!ds.is_missing(0));
  BOOST_TEST(!ds.is_missing(2));
  BOOST_TEST(ds.values[1].shape().to_vector() == std::vector<std::int64_t>{2});
  BOOST_TEST(std::isnan(ds.values[1][0]));
  BOOST_TEST(data::observed_item(m.graph, m.graph.site(m.graph.find_sites(ir::BodyKind::Model, "y").front())) == 1);
  auto uses = data::uses_beyond_observation(m.graph);
  BOOST_TEST(uses[0].has_value());   // J: y's and sigma's size, the plate's
  BOOST_TEST(!uses[1].has_value());  // y: observed only
  BOOST_TEST(uses[2].has_value());   // sigma: a scale
  try {
    data::load_json_text(m.graph, R"({"J": 2})", m.source, "x.json", nullptr, leave_out);
    BOOST_FAIL("no error");
  } catch (const data::MissingItemsError& e) {
    BOOST_REQUIRE(e.items().size() == 1u);
    BOOST_TEST(e.items()[0] == "sigma");
    BOOST_TEST(m.source.line_col(e.diagnostics()[0].span.begin).line == 5);
  }
  refusal(m, R"({"J": 2, "sigma": [1, 2]})");  // the default: every item is needed
}
