// Any bytes at all: parse returns diagnostics and never crashes, overflows
// the stack, hangs or throws. Binary junk, NUL bytes, invalid UTF-8, every
// prefix of every example, and nesting 10^5 levels deep.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace vireo;

namespace {

struct Result {
  lang::Diagnostics diags;
  std::string rendered;
};

Result parse_text(const std::string& text) {
  lang::SourceFile file("junk.vireo", text);
  Result r;
  BOOST_CHECK_NO_THROW(lang::parse(file, r.diags));
  BOOST_CHECK_NO_THROW(r.rendered = r.diags.render(file));
  return r;
}

bool has_error(const Result& r, const std::string& part) {
  return std::any_of(r.diags.all().begin(), r.diags.all().end(), [&](const lang::Diagnostic& d) {
    return d.severity == lang::Severity::Error && (d.message + " " + d.hint).find(part) != std::string::npos;
  });
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

constexpr std::size_t deep = 100000;

}  // namespace

BOOST_AUTO_TEST_CASE(binary_junk) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    std::string text(static_cast<std::size_t>(rng() % 2000), '\0');
    for (auto& c : text) c = static_cast<char>(rng() & 0xff);
    Result r = parse_text(text);
    BOOST_TEST(r.diags.error_count() <= lang::Diagnostics::max_errors + 1);
  }
}

BOOST_AUTO_TEST_CASE(token_soup) {
  // Random sequences of real tokens reach deeper into the grammar than random bytes.
  const char* pieces[] = {"model", "data", "guide", "fn", "{", "}", "(", ")", "[", "]", "~", "=", "==", ":", ",",
                          ";", "..", "x", "Normal", "plate", "for", "in", "if", "else", "let", "observe", "param",
                          "scale", "with", "return", "1", "2.5", "-", "+", "^", "<", ">", "not", "and", "\n", "real",
                          "int", "<lower=0>", "as", "subsample"};
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    std::size_t n = rng() % 60;
    for (std::size_t i = 0; i < n; ++i) text += std::string(pieces[rng() % std::size(pieces)]) + " ";
    parse_text(text);
  }
}

BOOST_AUTO_TEST_CASE(nul_bytes_and_control_characters) {
  Result r = parse_text(std::string("model {\n  mu ~ Normal(0,\0 1)\n}\n", 31));
  BOOST_TEST(has_error(r, "unexpected character '\\x00'"), r.rendered);
  Result r2 = parse_text("model { \x01 }");
  BOOST_TEST(has_error(r2, "unexpected character '\\x01'"), r2.rendered);
  BOOST_TEST(r2.diags.error_count() == 1, r2.rendered);
  parse_text(std::string(5000, '\0'));
}

BOOST_AUTO_TEST_CASE(invalid_and_valid_utf8) {
  Result r = parse_text("model { \xff\xfe x ~ Normal(0, 1) }");
  BOOST_TEST(has_error(r, "unexpected character '\\xff'"), r.rendered);
  BOOST_TEST(r.diags.error_count() == 1, r.rendered);  // one report per run of bad bytes
  Result r2 = parse_text("model { \xcf\x83 ~ Normal(0, 1) }");  // σ
  BOOST_TEST(has_error(r2, "unexpected character '\xcf\x83'"), r2.rendered);
  parse_text("\xc3");        // truncated sequence at the end
  parse_text("\xf4\x8f\xbf");  // truncated 4-byte sequence
}

BOOST_AUTO_TEST_CASE(every_prefix_of_every_example) {
  for (const auto& entry : fs::directory_iterator(fs::path(VIREO_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".vireo") continue;
    const std::string text = test::read_file(entry.path());
    for (std::size_t n = 0; n <= text.size(); ++n) {
      lang::SourceFile file(entry.path().filename().string(), text.substr(0, n));
      lang::Diagnostics diags;
      BOOST_CHECK_NO_THROW(lang::parse(file, diags));
      BOOST_CHECK_NO_THROW(diags.render(file));
    }
  }
}

BOOST_AUTO_TEST_CASE(deep_parentheses) {
  Result r = parse_text("model { x ~ Normal(" + repeat("(", deep) + "1" + repeat(")", deep) + ", 1) }");
  BOOST_TEST(has_error(r, "nesting deeper than 256 levels"), r.rendered);
  BOOST_TEST(r.diags.error_count() == 1, r.rendered);
  // Unclosed, and as a bare expression.
  parse_text(repeat("(", deep));
  lang::SourceFile file("e.vireo", repeat("(", deep) + "1" + repeat(")", deep));
  lang::Diagnostics diags;
  BOOST_CHECK_NO_THROW(lang::parse_expression(file, diags));
  BOOST_TEST(diags.has_errors());
}

BOOST_AUTO_TEST_CASE(deep_brackets_calls_and_operators) {
  BOOST_TEST(has_error(parse_text("model { let x = " + repeat("[", deep) + repeat("]", deep) + " }"), "nesting deeper"));
  BOOST_TEST(has_error(parse_text("model { let x = " + repeat("f(", deep) + repeat(")", deep) + " }"), "nesting deeper"));
  BOOST_TEST(has_error(parse_text("model { let x = y" + repeat("[i", deep) + repeat("]", deep) + " }"), "nesting deeper"));
  BOOST_TEST(has_error(parse_text("model { let x = " + repeat("-", deep) + "1 }"), "nesting deeper"));
  BOOST_TEST(has_error(parse_text("model { let x = " + repeat("not ", deep) + "a }"), "nesting deeper"));
  BOOST_TEST(has_error(parse_text("model { let x = 2" + repeat("^2", deep) + " }"), "nesting deeper"));
  // 200 levels is fine.
  Result ok = parse_text("model { let x = " + repeat("(", 200) + "1" + repeat(")", 200) + " }");
  BOOST_TEST(!ok.diags.has_errors(), ok.rendered);
}

BOOST_AUTO_TEST_CASE(deep_blocks) {
  Result r = parse_text("model {" + repeat(" if a {", deep) + repeat("}", deep) + "}");
  BOOST_TEST(has_error(r, "nesting deeper than 256 levels"), r.rendered);
  BOOST_TEST(has_error(parse_text("model {" + repeat(" plate p(N) {", deep) + "}"), "nesting deeper"));
  BOOST_TEST(has_error(parse_text("model { if a {} " + repeat("else if a {} ", deep) + "}"), "nesting deeper"));
  // Bare braces are not blocks: reported, then skipped without recursion.
  Result b = parse_text(repeat("{", deep) + repeat("}", deep));
  BOOST_TEST(b.diags.has_errors());
  Result m = parse_text("model " + repeat("{", deep));
  BOOST_TEST(m.diags.has_errors());
}

BOOST_AUTO_TEST_CASE(error_count_is_capped) {
  Result r = parse_text("model {\n" + repeat("  x ~ \n", 10000) + "}\n");
  BOOST_TEST(r.diags.error_count() <= lang::Diagnostics::max_errors + 1);
  BOOST_TEST(r.diags.all().size() <= static_cast<std::size_t>(lang::Diagnostics::max_errors) + 1);
}

BOOST_AUTO_TEST_CASE(large_clean_input_is_linear) {
  // 2*10^4 statements parse (a hang or quadratic recovery would time out the suite).
  Result r = parse_text("model {\n" + repeat("  x ~ Normal(0, 1); observe y[i] ~ Normal(x, 1)\n", 10000) + "}\n");
  BOOST_TEST(!r.diags.has_errors());
}

BOOST_AUTO_TEST_CASE(long_operator_chains) {
  // `1+1+…+1` nests nothing in the text but deepens a left-leaning tree by one
  // per operator; 10^5 of them must end in a diagnostic, not a stack overflow
  // in a later recursive walk or in the tree's destructor.
  for (const char* op : {"+", "*", " and ", " or ", "-", "/", "@"}) {
    Result r = parse_text("model { x ~ Normal(" + repeat(std::string("1") + op, deep) + "1, 1) }");
    BOOST_TEST(has_error(r, "more than 1000 operators deep"), op << ": " << r.rendered.substr(0, 300));
  }
  // A long but reasonable chain still parses.
  Result ok = parse_text("model { x ~ Normal(" + repeat("1+", 900) + "1, 1) }");
  BOOST_TEST(ok.diags.error_count() == 0, ok.rendered.substr(0, 300));
}
