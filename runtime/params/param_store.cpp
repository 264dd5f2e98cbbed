#include "runtime/params/param_store.hpp"

#include <cmath>
#include <stdexcept>

#include "runtime/io/atomic_file.hpp"

namespace vireo::params {

namespace {
std::int64_t element_count(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}
}  // namespace

std::uint64_t ParamStore::next_generation() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

Entry* ParamStore::find(const std::string& name) {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}
const Entry* ParamStore::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

Entry& ParamStore::add(Entry e) {
  if (frozen_) {
    add_refused_ = true;
    throw std::logic_error("parameter '" + e.name + "' would be created while the store is read-only");
  }
  if (index_.count(e.name)) throw std::invalid_argument("parameter '" + e.name + "' exists already");
  if (element_count(e.shape) != e.unconstrained.size())
    throw std::invalid_argument("parameter '" + e.name + "': value has " + std::to_string(e.unconstrained.size()) +
                                " elements, shape needs " + std::to_string(element_count(e.shape)));
  index_[e.name] = entries_.size();
  entries_.push_back(std::move(e));
  return entries_.back();
}

void ParamStore::truncate(std::size_t n) {
  if (entries_.size() > n) gen_.value = next_generation();
  while (entries_.size() > n) {
    index_.erase(entries_.back().name);
    entries_.pop_back();
  }
}

void ParamStore::clear() {
  gen_.value = next_generation();
  entries_.clear();
  index_.clear();
}

nlohmann::json ParamStore::to_json(const nlohmann::json& optimizer_state) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : entries_) {
    if (!e.unconstrained.allFinite())
      throw std::runtime_error("parameter '" + e.name + "' holds a non-finite value; refusing to save it");
    list.push_back({{"name", e.name},
                    {"shape", e.shape},
                    {"constraint", e.constraint},
                    {"unconstrained", std::vector<double>(e.unconstrained.begin(), e.unconstrained.end())}});
  }
  nlohmann::json j = {{"format", "vireo-params"}, {"version", 1}, {"params", list}};
  if (!optimizer_state.is_null()) j["optimizer"] = optimizer_state;
  return j;
}

nlohmann::json ParamStore::load_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("format", "") != "vireo-params")
    throw std::runtime_error("not a Vireo parameter file (expected \"format\": \"vireo-params\")");
  if (j.value("version", 0) != 1) throw std::runtime_error("unsupported parameter file version");
  ParamStore fresh;
  const auto& list = j.at("params");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& p = list[i];
    std::string where = "params[" + std::to_string(i) + "]";
    try {
      Entry e;
      e.name = p.at("name").get<std::string>();
      where += " ('" + e.name + "')";
      e.shape = p.at("shape").get<std::vector<std::int64_t>>();
      e.constraint = p.at("constraint").get<std::string>();
      auto v = p.at("unconstrained").get<std::vector<double>>();
      e.unconstrained = Eigen::Map<Eigen::ArrayXd>(v.data(), static_cast<Eigen::Index>(v.size()));
      if (!e.unconstrained.allFinite()) throw std::runtime_error("a value is not finite");
      fresh.add(std::move(e));
    } catch (const std::exception& ex) {
      throw std::runtime_error("parameter file, " + where + ": " + ex.what());
    }
  }
  *this = std::move(fresh);
  return j.contains("optimizer") ? j["optimizer"] : nlohmann::json();
}

void ParamStore::save(const std::filesystem::path& path, const nlohmann::json& optimizer_state) const {
  io::write_file_atomically(path, to_json(optimizer_state).dump(1) + "\n");
}

nlohmann::json ParamStore::load(const std::filesystem::path& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
  try {
    return load_json(j);
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

}  // namespace vireo::params
