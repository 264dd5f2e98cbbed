// vireo::Data: data loaded through runtime/data and checked against one
// model's data block.
#include "runtime/api/data_impl.hpp"
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

Data make(const Model& model, const std::string& name,
          const std::function<interp::DataSet(std::vector<data::DataIssue>*)>& load) {
  auto impl = std::make_unique<Data::Impl>();
  impl->model = model.shared_impl();
  impl->name = name;
  std::vector<data::DataIssue> warnings;
  api::translate_errors(model.impl().source, Error::Kind::Data, [&] { impl->set = load(&warnings); }, name);
  impl->warnings = convert(warnings, name, model.file_name(), impl->rendered_warnings);
  return Data(std::move(impl));
}

}  // namespace

Data::Data(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Data::Data(Data&&) noexcept = default;
Data& Data::operator=(Data&&) noexcept = default;
Data::~Data() = default;

Data Data::from_json_file(const Model& model, const std::string& path) {
  const Model::Impl& m = model.impl();
  return make(model, path, [&](auto* w) { return data::load_json_file(m.graph, path, m.source, w); });
}

Data Data::from_json_string(const Model& model, const std::string& json, const std::string& name) {
  const Model::Impl& m = model.impl();
  return make(model, name, [&](auto* w) { return data::load_json_text(m.graph, json, m.source, name, w); });
}

Data Data::from_arrays(const Model& model, const std::map<std::string, Array>& arrays) {
  const Model::Impl& m = model.impl();
  std::map<std::string, data::ArrayInput> in;
  for (const auto& [name, a] : arrays) in[name] = data::ArrayInput{a.shape, a.values};
  return make(model, "<arrays>", [&](auto* w) { return data::load_arrays(m.graph, in, m.source, w); });
}

const std::vector<Diagnostic>& Data::warnings() const { return impl_->warnings; }
std::string Data::rendered_warnings() const { return impl_->rendered_warnings; }

}  // namespace vireo
