#include "lang/diagnostic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace vireo::lang {

void Diagnostics::error(Span span, std::string message, std::string hint) {
  if (errors_ > max_errors) return;
  ++errors_;
  if (errors_ > max_errors) {
    items_.push_back({Severity::Note, span, fmt::format("too many errors; stopping after {}", max_errors), {}});
    return;
  }
  items_.push_back({Severity::Error, span, std::move(message), std::move(hint)});
}
void Diagnostics::warning(Span span, std::string message, std::string hint) {
  items_.push_back({Severity::Warning, span, std::move(message), std::move(hint)});
}
void Diagnostics::note(Span span, std::string message, std::string hint) {
  items_.push_back({Severity::Note, span, std::move(message), std::move(hint)});
}

static const char* severity_word(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

// Replaces bytes that would garble a terminal (control characters, invalid
// UTF-8 is left alone) so that binary junk still renders on one line.
static std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += (c < 0x20 && c != '\t') || c == 0x7f ? '?' : static_cast<char>(c);
  return out;
}

std::string render(const SourceFile& file, const Diagnostic& d) {
  LineCol lc = file.line_col(d.span.begin);
  std::string out = fmt::format("{}:{}:{}: {}: {}\n", file.name(), lc.line, lc.column, severity_word(d.severity), d.message);
  std::string_view line = file.line_text(lc.line);
  const std::size_t max_shown = 200;  // long lines (minified junk) are cut, caret kept in view
  std::size_t col0 = static_cast<std::size_t>(lc.column - 1);
  std::size_t from = col0 > max_shown / 2 && line.size() > max_shown ? col0 - max_shown / 2 : 0;
  std::string shown = printable(line.substr(std::min(from, line.size()), max_shown));
  std::string gutter = fmt::format("{:>5}", lc.line);
  out += fmt::format("{} | {}\n", gutter, shown);
  std::string pad;
  for (std::size_t i = from; i < col0 && i < line.size(); ++i) pad += line[i] == '\t' ? '\t' : ' ';
  std::size_t len = d.span.end > d.span.begin ? d.span.end - d.span.begin : 1;
  len = std::max<std::size_t>(1, std::min(len, line.size() > col0 ? line.size() - col0 : 1));
  len = std::min<std::size_t>(len, max_shown);
  out += fmt::format("{} | {}^{}\n", std::string(gutter.size(), ' '), pad, std::string(len - 1, '~'));
  if (!d.hint.empty()) out += fmt::format("  hint: {}\n", d.hint);
  return out;
}

std::string Diagnostics::render(const SourceFile& file) const {
  std::string out;
  for (const auto& d : items_) out += lang::render(file, d);
  return out;
}

// Edit distance counting a swap of two neighbouring letters as one edit
// (optimal string alignment), so that `sigam` is one typo away from `sigma`.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  auto same = [](char x, char y) { return std::tolower(x) == std::tolower(y); };
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best_d) best_d = d, best = c;
  }
  // A plausible typo: at most a third of the name differs (and at least one edit allowed).
  std::size_t limit = std::max<std::size_t>(1, name.size() / 3);
  return best_d <= limit ? best : std::string{};
}

}  // namespace vireo::lang
