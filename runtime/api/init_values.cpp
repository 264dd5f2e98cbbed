#include "runtime/api/init_values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lang/diagnostic.hpp"
#include "lang/source.hpp"

namespace vireo::api {

namespace {

using Json = nlohmann::json;

[[noreturn]] void fail_at(const std::string& file, const std::string& text, std::size_t offset,
                          const std::string& message, const std::string& hint = {}) {
  Diagnostic d;
  d.file = file;
  d.message = message;
  d.hint = hint;
  if (!text.empty()) {
    lang::LineCol lc = lang::SourceFile(file, text).line_col(static_cast<std::uint32_t>(std::min(offset, text.size())));
    d.line = lc.line;
    d.column = lc.column;
  }
  std::string rendered = d.file + (d.line > 0 ? fmt::format(":{}:{}", d.line, d.column) : "") + ": error: " +
                         d.message + "\n" + (d.hint.empty() ? "" : "  hint: " + d.hint + "\n");
  throw Error(rendered, {d}, Error::Kind::Options);
}

// Where `"key"` is written as a key of the top-level object (for messages).
std::size_t key_offset(const std::string& text, const std::string& key) {
  std::string quoted = Json(key).dump();
  for (std::size_t at = text.find(quoted); at != std::string::npos; at = text.find(quoted, at + 1)) {
    std::size_t p = at + quoted.size();
    while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
    if (p < text.size() && text[p] == ':') return at;
  }
  return 0;
}

// A number or a rectangular nested array of numbers → shape and row-major values.
bool flatten(const Json& v, std::vector<std::int64_t>& shape, std::vector<double>& out, std::size_t depth) {
  if (v.is_number()) {
    if (depth != shape.size()) return false;
    out.push_back(v.get<double>());
    return true;
  }
  if (!v.is_array() || v.empty()) return false;
  if (depth == shape.size()) shape.push_back(static_cast<std::int64_t>(v.size()));
  if (shape[depth] != static_cast<std::int64_t>(v.size())) return false;
  for (const auto& e : v)
    if (!flatten(e, shape, out, depth + 1)) return false;
  return true;
}

// The site name without its loop index and repeat count: `x[3]#1` → `x`.
std::string base_name(const std::string& name) { return name.substr(0, name.find_first_of("[#")); }

}  // namespace

std::map<std::string, ad::Tensor> read_init_values(const ir::Graph& graph, const std::string& file,
                                                   const std::map<std::string, Array>& given) {
  std::vector<std::string> latent;
  for (ir::SiteId id : graph.model_sites)
    if (graph.site(id).kind == ir::SiteKind::Sample) latent.push_back(graph.site(id).name);
  auto check_name = [&](const std::string& name, const std::string& where, const std::string& text, std::size_t at) {
    if (std::find(latent.begin(), latent.end(), base_name(name)) != latent.end()) return;
    std::string near = lang::closest_name(base_name(name), latent);
    fail_at(where, text, at, fmt::format("--init-values: the model has no latent site '{}'", name),
            near.empty() ? "starting values are given for the model's latent (`~`) sites, by name"
                         : fmt::format("did you mean '{}'?", near));
  };

  std::map<std::string, ad::Tensor> out;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) fail_at(file, "", 0, "--init-values: cannot read the file");
    std::ostringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    Json j;
    try {
      j = Json::parse(text);
    } catch (const Json::exception& e) {
      std::size_t at = 0;
      if (const auto* pe = dynamic_cast<const Json::parse_error*>(&e)) at = pe->byte > 0 ? pe->byte - 1 : 0;
      std::string what = e.what();
      std::size_t colon = what.find(": ", what.find("column"));
      fail_at(file, text, at, "--init-values: malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    }
    if (!j.is_object())
      fail_at(file, text, 0, "--init-values: the file must be a JSON object keyed by site names",
              "e.g. {\"M\": 14, \"eta\": [0, 0, 0]}");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::size_t at = key_offset(text, it.key());
      check_name(it.key(), file, text, at);
      std::vector<std::int64_t> shape;
      std::vector<double> values;
      if (!flatten(it.value(), shape, values, 0))
        fail_at(file, text, at,
                fmt::format("--init-values: '{}' must be a number or a rectangular array of numbers", it.key()));
      out[it.key()] = ad::Tensor(ad::Shape(shape), std::move(values));
    }
  }
  for (const auto& [name, a] : given) {
    check_name(name, "init_values", "", 0);
    std::int64_t n = 1;
    for (auto d : a.shape) n *= d;
    if (n != static_cast<std::int64_t>(a.values.size()))
      fail_at("init_values", "", 0,
              fmt::format("init_values: '{}' has {} values for shape [{}]", name, a.values.size(), fmt::join(a.shape, ", ")));
    out[name] = ad::Tensor(ad::Shape(a.shape), a.values);
  }
  return out;
}

}  // namespace vireo::api
