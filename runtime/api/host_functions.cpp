// vireo::HostFunctions (include/vireo/vireo.hpp): the host's C++ functions,
// validated and turned into rows of the signature table's kind
// (stdlib/signatures/host_table.hpp) that a Model is compiled with.
#include <cctype>

#include "runtime/api/errors.hpp"
#include "runtime/api/model_impl.hpp"

namespace vireo {

namespace {

bool identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

sig::HostValue to_host(const Array& a) { return {a.shape, a.values}; }
Array from_host(const sig::HostValue& v) { return {v.shape, v.values}; }
std::vector<Array> from_host(const std::vector<sig::HostValue>& vs) {
  std::vector<Array> out;
  out.reserve(vs.size());
  for (const auto& v : vs) out.push_back(from_host(v));
  return out;
}

void check_shape(const std::string& fn, const std::string& what, const std::vector<std::int64_t>& shape,
                 bool result) {
  int free = 0;
  for (std::int64_t d : shape) {
    if (d < -1)
      api::fail(Error::Kind::Usage, "host function '" + fn + "': " + what + " has the extent " + std::to_string(d),
                "give extents >= 0, or -1 for any size");
    free += d == -1 ? 1 : 0;
  }
  if (result && free > 1)
    api::fail(Error::Kind::Usage, "host function '" + fn + "': its result has more than one extent -1",
              "at most one extent of the result can be taken from the number of values returned");
}

}  // namespace

HostFunctions::HostFunctions() : table_(std::make_shared<detail::HostTable>()) {}
HostFunctions::HostFunctions(const HostFunctions&) = default;
HostFunctions& HostFunctions::operator=(const HostFunctions&) = default;
HostFunctions::~HostFunctions() = default;

HostFunctions& HostFunctions::add(HostFunction f) {
  if (!identifier(f.name))
    api::fail(Error::Kind::Usage, "host function name '" + f.name + "' is not an identifier",
              "use letters, digits and '_', starting with a letter or '_'");
  if (sig::find(f.name))
    api::fail(Error::Kind::Usage, "'" + f.name + "' is a builtin; a host function cannot take its name",
              "rename the host function");
  if (table_->rows.find(f.name) >= 0)
    api::fail(Error::Kind::Usage, "host function '" + f.name + "' is added twice", "add each name once");
  if (!f.value) api::fail(Error::Kind::Usage, "host function '" + f.name + "' has no value function");
  sig::HostRow row;
  row.name = f.name;
  row.summary = f.summary;
  for (std::size_t i = 0; i < f.params.size(); ++i) {
    const HostFunction::Parameter& p = f.params[i];
    if (!identifier(p.name))
      api::fail(Error::Kind::Usage,
                "host function '" + f.name + "': parameter " + std::to_string(i + 1) + "'s name '" + p.name +
                    "' is not an identifier");
    for (const auto& q : row.param_names)
      if (q == p.name)
        api::fail(Error::Kind::Usage, "host function '" + f.name + "': parameter '" + p.name + "' is named twice");
    check_shape(f.name, "parameter '" + p.name + "'", p.shape, false);
    row.param_names.push_back(p.name);
    row.arg_shapes.push_back(p.shape);
  }
  check_shape(f.name, "its result", f.result, true);
  row.result_shape = f.result;
  row.value = [value = std::move(f.value)](const std::vector<sig::HostValue>& args) {
    return to_host(value(from_host(args)));
  };
  if (f.gradient)
    row.vjp = [gradient = std::move(f.gradient)](const std::vector<sig::HostValue>& args, const sig::HostValue& result,
                                                 const sig::HostValue& adjoint) {
      std::vector<Array> grads = gradient(from_host(args), from_host(result), from_host(adjoint));
      std::vector<sig::HostValue> out;
      out.reserve(grads.size());
      for (const auto& g : grads) out.push_back(to_host(g));
      return out;
    };
  // Copy on write: models compiled before keep the table they were given.
  auto next = std::make_shared<detail::HostTable>(*table_);
  next->rows.add(sig::make_host_row(std::move(row)));
  table_ = std::move(next);
  return *this;
}

std::vector<std::string> HostFunctions::names() const { return table_->rows.names(); }

}  // namespace vireo
