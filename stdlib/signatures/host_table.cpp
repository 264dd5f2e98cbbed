// Host functions' rows (host_table.hpp).
#include "stdlib/signatures/host_table.hpp"

namespace vireo::sig {

std::string HostRow::shape_text(const std::vector<std::int64_t>& shape) {
  if (shape.empty()) return "scalar";
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return out + "]";
}

std::shared_ptr<const HostRow> make_host_row(HostRow row) {
  auto out = std::make_shared<HostRow>(std::move(row));
  Signature& s = out->signature;
  s.name = out->name;
  s.callable = Callable::Host;
  s.kind = ValueKind::Real;
  s.shape = ShapeRule::Declared;
  s.mixing = Mixing::Always;  // the host's code may read any element: never Rao-Blackwellised through
  s.summary = out->summary;
  s.params.clear();
  for (const auto& p : out->param_names) s.params.push_back(Parameter{p, true, {}, -1, Domain::Any, {}});
  return out;
}

int HostTable::find(std::string_view name) const {
  for (std::size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i]->name == name) return static_cast<int>(i);
  return -1;
}

std::vector<std::string> HostTable::names() const {
  std::vector<std::string> out;
  for (const auto& r : rows_) out.push_back(r->name);
  return out;
}

}  // namespace vireo::sig
