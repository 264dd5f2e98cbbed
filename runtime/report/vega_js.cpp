#include "runtime/report/vega_js.hpp"

namespace vireo::report {

std::string vega_js() {
  std::string out;
  for (const char* const* p = vega_js_parts; *p; ++p) out += *p;
  return out;
}

}  // namespace vireo::report
