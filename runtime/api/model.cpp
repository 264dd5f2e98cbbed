// vireo::Model and vireo::Error (include/vireo/vireo.hpp): loading runs the
// front end (lang/ir/compile.hpp) and turns its diagnostics into the API's.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "lang/diagnostic.hpp"
#include "lang/ir/compile.hpp"
#include "lang/ir/print.hpp"
#include "runtime/api/model_impl.hpp"
#include "stdlib/signatures/host_table.hpp"

namespace vireo {
namespace {

Diagnostic convert(const lang::SourceFile& file, const lang::Diagnostic& d) {
  Diagnostic out;
  switch (d.severity) {
    case lang::Severity::Error: out.severity = Diagnostic::Severity::Error; break;
    case lang::Severity::Warning: out.severity = Diagnostic::Severity::Warning; break;
    case lang::Severity::Note: out.severity = Diagnostic::Severity::Note; break;
  }
  lang::LineCol lc = file.line_col(d.span.begin);
  out.file = file.name();
  out.line = lc.line;
  out.column = lc.column;
  out.message = d.message;
  out.hint = d.hint;
  return out;
}

}  // namespace

Error::Error(const std::string& rendered, std::vector<Diagnostic> diagnostics, Kind kind)
    : std::runtime_error(rendered), diagnostics_(std::move(diagnostics)), kind_(kind) {}

Model::Model(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::from_file(const std::string& path) { return from_file(path, HostFunctions()); }

Model Model::from_string(const std::string& text, const std::string& name) {
  return from_string(text, name, HostFunctions());
}

Model Model::from_file(const std::string& path, const HostFunctions& hosts) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string why = errno ? std::strerror(errno) : "cannot be read";
    Diagnostic d;
    d.file = path;
    d.message = "cannot open '" + path + "': " + why;
    d.hint = "check the path; model files usually end in .vireo";
    throw Error(path + ": error: " + d.message + "\n  hint: " + d.hint + "\n", {d});
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return from_string(text, path, hosts);
}

Model Model::from_string(const std::string& text, const std::string& name, const HostFunctions& hosts) {
  lang::SourceFile file(name, text);
  lang::Diagnostics diags;
  // The model keeps the table it was compiled with (shared, immutable).
  std::shared_ptr<const sig::HostTable> table;
  if (auto h = detail::Access::shared(hosts); h->rows.size() > 0)
    table = std::shared_ptr<const sig::HostTable>(h, &h->rows);
  std::optional<ir::Graph> graph = ir::compile(file, diags, std::move(table));
  std::vector<Diagnostic> all;
  for (const auto& d : diags.all()) all.push_back(convert(file, d));
  if (!graph) throw Error(diags.render(file), std::move(all));
  auto impl = std::make_shared<Impl>(Impl{std::move(file), std::move(*graph), {}, {}});
  for (const auto& d : diags.all())
    if (d.severity != lang::Severity::Error) {
      impl->warnings.push_back(convert(impl->source, d));
      impl->rendered_warnings += lang::render(impl->source, d);
    }
  return Model(std::move(impl));
}

const std::string& Model::file_name() const { return impl_->source.name(); }
bool Model::has_guide() const { return impl_->graph.guide != ir::none; }
const std::vector<Diagnostic>& Model::warnings() const { return impl_->warnings; }
std::string Model::rendered_warnings() const { return impl_->rendered_warnings; }

std::string Model::graph_dot(bool include_guide) const {
  ir::DotOptions options;
  options.include_guide = include_guide;
  return ir::to_dot(impl_->graph, options);
}

std::string Model::graph_text() const { return ir::to_text(impl_->graph); }

std::vector<std::string> Model::latent_sites() const {
  std::vector<std::string> out;
  for (ir::SiteId id : impl_->graph.model_sites) {
    const ir::Site& s = impl_->graph.site(id);
    if (s.kind == ir::SiteKind::Sample && std::find(out.begin(), out.end(), s.name) == out.end()) out.push_back(s.name);
  }
  return out;
}

std::vector<std::string> Model::data_names() const {
  std::vector<std::string> out;
  for (const auto& d : impl_->graph.data) out.push_back(d.name);
  return out;
}

}  // namespace vireo
