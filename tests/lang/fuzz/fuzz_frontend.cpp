// libFuzzer target for the front end: arbitrary bytes through parse, check,
// lowering and both printers. It must never crash, hang or leak, whatever
// the input; the checker also runs on the partial trees of broken text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lang/check/check.hpp"
#include "lang/ir/lower.hpp"
#include "lang/ir/print.hpp"
#include "lang/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  vireo::lang::SourceFile file("fuzz.vireo", std::move(text));
  vireo::lang::Diagnostics diags;
  vireo::lang::ast::Program program = vireo::lang::parse(file, diags);
  bool parsed = !diags.has_errors();
  bool checked = vireo::lang::check(program, diags);
  if (parsed && checked) {
    vireo::ir::Graph graph = vireo::ir::lower(program, "fuzz");
    (void)vireo::ir::to_text(graph);
    (void)vireo::ir::to_dot(graph, {true});
  }
  (void)diags.render(file);
  return 0;
}
