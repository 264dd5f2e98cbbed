// Language tests as files with inline expectations (Wren's test runner).
// A case file states what the front end must report, in comments:
//   # expect error L:C: SUBSTRING   an Error at 1-based line L, column C whose
//                                   message (or message + " " + hint) contains SUBSTRING
//   # expect no errors              the file must come through clean
// check_expectation_files runs a pipeline (parse, or parse + check) over
// every *.vireo file of a folder and asserts, with the file name in every
// message, that each expectation is met and that no other error is reported.
// Header-only; include it from a Boost.Test translation unit.
#pragma once
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "lang/diagnostic.hpp"
#include "lang/source.hpp"

namespace vireo::test {

struct ErrorExpectation {
  int line = 0;
  int column = 0;
  std::string substring;
  int written_at = 0;  // the line of the comment itself, for messages
};

struct FileExpectations {
  std::vector<ErrorExpectation> errors;
  bool no_errors = false;  // `# expect no errors` was written
};

// Reads every `# expect error L:C: SUBSTRING` and `# expect no errors` comment.
inline FileExpectations read_expectations(const std::string& text) {
  FileExpectations out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  const std::string error_tag = "# expect error ";
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find("# expect no errors") != std::string::npos) out.no_errors = true;
    for (std::size_t at = line.find(error_tag); at != std::string::npos; at = line.find(error_tag, at + 1)) {
      // L:C: SUBSTRING
      std::size_t p = at + error_tag.size();
      ErrorExpectation e;
      e.written_at = number;
      std::size_t colon1 = line.find(':', p);
      std::size_t colon2 = colon1 == std::string::npos ? colon1 : line.find(':', colon1 + 1);
      if (colon2 == std::string::npos) {
        BOOST_ERROR("malformed expectation at line " << number << ": " << line);
        continue;
      }
      try {
        e.line = std::stoi(line.substr(p, colon1 - p));
        e.column = std::stoi(line.substr(colon1 + 1, colon2 - colon1 - 1));
      } catch (const std::exception&) {
        BOOST_ERROR("malformed expectation at line " << number << ": " << line);
        continue;
      }
      std::size_t s = colon2 + 1;
      while (s < line.size() && line[s] == ' ') ++s;
      e.substring = line.substr(s);
      out.errors.push_back(std::move(e));
    }
  }
  return out;
}

inline bool matches(const lang::SourceFile& file, const lang::Diagnostic& d, const ErrorExpectation& e) {
  if (d.severity != lang::Severity::Error) return false;
  lang::LineCol lc = file.line_col(d.span.begin);
  if (lc.line != e.line || lc.column != e.column) return false;
  return (d.message + " " + d.hint).find(e.substring) != std::string::npos;
}

// Runs `pipeline` over one case file and checks its expectations.
inline void check_expectation_file(const std::filesystem::path& path,
                                   const std::function<void(const lang::SourceFile&, lang::Diagnostics&)>& pipeline) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string name = path.filename().string();
  FileExpectations want = read_expectations(text);
  BOOST_TEST(!(want.no_errors && !want.errors.empty()),
             name << ": says both '# expect no errors' and '# expect error'");
  BOOST_TEST((want.no_errors || !want.errors.empty()),
             name << ": states no expectation (write '# expect no errors' or '# expect error L:C: ...')");

  lang::SourceFile file(name, std::move(text));
  lang::Diagnostics diags;
  pipeline(file, diags);
  const std::string rendered = diags.render(file);

  for (const auto& e : want.errors) {
    bool found = std::any_of(diags.all().begin(), diags.all().end(),
                             [&](const lang::Diagnostic& d) { return matches(file, d, e); });
    BOOST_TEST(found, name << ": expected an error at " << e.line << ":" << e.column << " containing '" << e.substring
                           << "' (expectation written at line " << e.written_at << "); got:\n"
                           << (rendered.empty() ? std::string("(no diagnostics)\n") : rendered));
  }
  for (const auto& d : diags.all()) {
    if (d.severity != lang::Severity::Error) continue;
    bool wanted = std::any_of(want.errors.begin(), want.errors.end(),
                              [&](const ErrorExpectation& e) { return matches(file, d, e); });
    BOOST_TEST(wanted, name << ": unexpected error:\n" << lang::render(file, d));
  }
}

// Runs check_expectation_file on every *.vireo file of `dir`, in name order.
inline void check_expectation_files(const std::filesystem::path& dir,
                                    const std::function<void(const lang::SourceFile&, lang::Diagnostics&)>& pipeline) {
  BOOST_TEST_REQUIRE(std::filesystem::is_directory(dir), "no case folder " << dir);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".vireo") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  BOOST_TEST(!files.empty(), "no *.vireo case files in " << dir);
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT("case file " << f.filename().string()) { check_expectation_file(f, pipeline); }
  }
}

}  // namespace vireo::test
