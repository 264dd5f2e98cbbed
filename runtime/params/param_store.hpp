// The parameter store: every learnable parameter of a fit (the model's and
// guide's `param` statements, and the automatic guides' parameters), kept in
// the unconstrained space where the optimizer works, with the constraint that
// maps it to its constrained value. One store belongs to one fit; there is no
// global store (Pyro's global store let two models share parameters by accident).
// It is saved to and loaded from JSON atomically, together with the optimizer
// state, so that training resumes where it stopped.
#pragma once
#include <Eigen/Core>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace vireo::params {

struct Entry {
  std::string name;
  std::vector<std::int64_t> shape;  // row-major; empty = scalar
  std::string constraint;           // e.g. "real", "positive", "interval(0, 1)"; read by the transform table
  Eigen::ArrayXd unconstrained;     // flat, row-major, size = product of shape
};

// Particles' tapes may read an entry's values in place (Context::param_leaf
// while the store is frozen): adding an entry moves the others without
// moving their values.
static_assert(std::is_nothrow_move_constructible_v<Entry>);

class ParamStore {
 public:
  // The entry called `name`, or nullptr.
  Entry* find(const std::string& name);
  const Entry* find(const std::string& name) const;
  // Adds a new entry; throws std::invalid_argument when the name exists or the
  // value's size does not match the shape, std::logic_error while frozen.
  Entry& add(Entry e);
  // Frozen, the store is read-only (particles running on several threads
  // read it): add() refuses, and records that it was asked (add_refused()),
  // so that the caller can run the particles again one after another.
  void set_frozen(bool on) {
    frozen_ = on;
    if (on) add_refused_ = false;
  }
  bool add_refused() const { return add_refused_; }
  bool frozen() const { return frozen_; }
  // Changes when an entry may have left or moved (truncate, clear, load, an
  // assignment), never when one is added: an entry's index, remembered with
  // the generation, still names the same entry while the generation is the
  // same. Unique across stores, so a store assigned over another differs.
  std::uint64_t generation() const { return gen_.value; }
  // Entries in the order they were first added (stable across save/load).
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  std::size_t size() const { return entries_.size(); }
  void clear();
  // Removes the entries added after the first n: what an evaluation that
  // created parameters (a refused step, a diagnostic before the first step)
  // undoes, so that it leaves the store as it found it.
  void truncate(std::size_t n);

  // JSON form: {"format": "vireo-params", "version": 1, "params": [{"name", "shape",
  // "constraint", "unconstrained"}...], "optimizer": {...}}. Non-finite values are
  // refused (no output file ever holds a NaN parameter).
  nlohmann::json to_json(const nlohmann::json& optimizer_state = nullptr) const;
  // Replaces the contents from JSON; returns the optimizer state saved with it (or null).
  // Throws std::runtime_error naming the item that is malformed; the store is unchanged then.
  nlohmann::json load_json(const nlohmann::json& j);

  void save(const std::filesystem::path& path, const nlohmann::json& optimizer_state = nullptr) const;
  nlohmann::json load(const std::filesystem::path& path);

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
  bool frozen_ = false;
  static std::uint64_t next_generation();
  // Copied and moved with the entries it describes; a store that gives its
  // entries away (moved from) takes a new one.
  struct Generation {
    std::uint64_t value = next_generation();
    Generation() = default;
    Generation(const Generation&) = default;
    Generation(Generation&& o) noexcept : value(o.value) { o.value = next_generation(); }
    Generation& operator=(const Generation&) = default;
    Generation& operator=(Generation&& o) noexcept {
      value = o.value;
      o.value = next_generation();
      return *this;
    }
  } gen_;
  // Set by add() on several threads at once: atomic, and copied by value.
  struct Flag {
    std::atomic<bool> on{false};
    Flag() = default;
    Flag(const Flag& o) : on(o.on.load()) {}
    Flag& operator=(const Flag& o) {
      on = o.on.load();
      return *this;
    }
    Flag& operator=(bool b) {
      on = b;
      return *this;
    }
    operator bool() const { return on.load(); }
  };
  Flag add_refused_;
};

}  // namespace vireo::params
