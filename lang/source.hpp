// A source file: its name, its bytes, and a table of line starts.
// Everything in the front end refers to text by byte offset (Span); this file
// turns offsets into line:col and recovers the line to print under a caret.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vireo::lang {

// A half-open byte range [begin, end) into one SourceFile's text.
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  friend bool operator==(const Span&, const Span&) = default;
};

inline Span join(Span a, Span b) { return {a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end}; }

struct LineCol {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, counted in bytes
};

class SourceFile {
 public:
  SourceFile(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  LineCol line_col(std::uint32_t offset) const;
  // The text of 1-based line `line`, without its newline.
  std::string_view line_text(int line) const;
  int line_count() const { return static_cast<int>(line_starts_.size()); }

 private:
  std::string name_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
};

}  // namespace vireo::lang
