// Vega (Debian's libjs-vega) as one script, compiled in: the report inlines
// it into every page. Generated at build time by embed_vega.cmake.
#pragma once
#include <string>

namespace vireo::report {

// The script's text in pieces, ending with nullptr (compilers cap a literal's length).
extern const char* const vega_js_parts[];

// The whole script: defines `vega` (parse, View, expressionInterpreter, …).
std::string vega_js();

}  // namespace vireo::report
