// The plate diagram laid out by Graphviz: `dot -Tsvg` run as a child process
// (no shell), its SVG returned for inlining. Running the program rather than
// linking libgvc keeps libvireo free of a Graphviz dependency for hosts that
// never write a report; a missing `dot` becomes a sentence on the page.
#pragma once
#include <string>

namespace vireo::report {

struct Svg {
  std::string svg;    // the <svg> element (the XML prolog and doctype removed); empty on failure
  std::string error;  // why there is none: dot not found, dot failed (its stderr)
};

Svg dot_to_svg(const std::string& dot_text, const std::string& dot_program = "dot");

}  // namespace vireo::report
