// vireo::Data: data loaded through runtime/data and checked against one
// model's data block.
#include "runtime/api/data_impl.hpp"
#include "lang/diagnostic.hpp"
#include "runtime/api/errors.hpp"
#include "runtime/data/data_loader.hpp"

namespace vireo {
namespace {

std::vector<Diagnostic> convert(const std::vector<data::DataIssue>& issues, const std::string& data_name,
                                const std::string& model_name, std::string& rendered) {
  std::vector<Diagnostic> out;
  for (const auto& issue : issues) {
    Diagnostic d;
    d.severity = Diagnostic::Severity::Warning;
    d.file = data_name;
    d.line = issue.data_line;
    d.column = issue.data_column;
    d.message = issue.message;
    d.item = issue.item;
    d.index = issue.index;
    d.declaration_line = issue.decl_line;
    rendered += data::render(issue, data_name, model_name) + "\n";
    out.push_back(std::move(d));
  }
  return out;
}

// Items left out that the model needs (DataOptions::allow_missing_observed):
// rendered at their declarations in the model file.
[[noreturn]] void missing_items(const lang::SourceFile& source, const data::MissingItemsError& e) {
  std::string rendered;
  std::vector<Diagnostic> out;
  for (std::size_t i = 0; i < e.diagnostics().size(); ++i) {
    const lang::Diagnostic& ld = e.diagnostics()[i];
    const lang::LineCol lc = source.line_col(ld.span.begin);
    Diagnostic d;
    d.file = source.name();
    d.line = d.declaration_line = lc.line;
    d.column = lc.column;
    d.message = ld.message;
    d.hint = ld.hint;
    d.item = e.items()[i];
    rendered += lang::render(source, ld);
    out.push_back(std::move(d));
  }
  throw Error(rendered, std::move(out), Error::Kind::Data);
}

Data make(const Model& model, const std::string& name,
          const std::function<interp::DataSet(std::vector<data::DataIssue>*)>& load) {
  auto impl = std::make_unique<detail::DataImpl>();
  impl->model = detail::Access::shared(model);
  impl->name = name;
  std::vector<data::DataIssue> warnings;
  api::translate_errors(detail::Access::impl(model).source, Error::Kind::Data, [&] {
    try {
      impl->set = load(&warnings);
    } catch (const data::MissingItemsError& e) {
      missing_items(detail::Access::impl(model).source, e);
    }
  }, name);
  impl->warnings = convert(warnings, name, model.file_name(), impl->rendered_warnings);
  return detail::Access::make_data(std::move(impl));
}

}  // namespace

Data::Data(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Data detail::Access::make_data(std::unique_ptr<DataImpl> impl) { return Data(std::move(impl)); }
Data::Data(Data&&) noexcept = default;
Data& Data::operator=(Data&&) noexcept = default;
Data::~Data() = default;

Data Data::from_json_file(const Model& model, const std::string& path) { return from_json_file(model, path, {}); }

Data Data::from_json_string(const Model& model, const std::string& json, const std::string& name) {
  return from_json_string(model, json, name, {});
}

Data Data::from_arrays(const Model& model, const std::map<std::string, Array>& arrays) {
  return from_arrays(model, arrays, {});
}

Data Data::from_json_file(const Model& model, const std::string& path, const DataOptions& options) {
  const detail::ModelImpl& m = detail::Access::impl(model);
  const data::LoadOptions lo{options.allow_missing_observed};
  return make(model, path, [&](auto* w) { return data::load_json_file(m.graph, path, m.source, w, lo); });
}

Data Data::from_json_string(const Model& model, const std::string& json, const std::string& name,
                            const DataOptions& options) {
  const detail::ModelImpl& m = detail::Access::impl(model);
  const data::LoadOptions lo{options.allow_missing_observed};
  return make(model, name, [&](auto* w) { return data::load_json_text(m.graph, json, m.source, name, w, lo); });
}

Data Data::from_arrays(const Model& model, const std::map<std::string, Array>& arrays, const DataOptions& options) {
  const detail::ModelImpl& m = detail::Access::impl(model);
  const data::LoadOptions lo{options.allow_missing_observed};
  std::map<std::string, data::ArrayInput> in;
  for (const auto& [name, a] : arrays) in[name] = data::ArrayInput{a.shape, a.values};
  return make(model, "<arrays>", [&](auto* w) { return data::load_arrays(m.graph, in, m.source, w, lo); });
}

std::vector<std::string> Data::missing() const {
  std::vector<std::string> out;
  const auto& decls = impl_->model->graph.data;
  for (std::size_t i = 0; i < decls.size(); ++i)
    if (impl_->set.is_missing(static_cast<int>(i))) out.push_back(decls[i].name);
  return out;
}

const std::vector<Diagnostic>& Data::warnings() const { return impl_->warnings; }
std::string Data::rendered_warnings() const { return impl_->rendered_warnings; }

}  // namespace vireo
