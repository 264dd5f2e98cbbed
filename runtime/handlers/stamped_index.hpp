// A name -> position index for containers refilled every execution: clear()
// moves a stamp on instead of freeing the entries, so refilling it with the
// same names allocates nothing (Trace's sites, a step's parameter leaves).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

namespace vireo::handlers {

class StampedIndex {
 public:
  // The position of `name` in this execution; nullptr when it has none.
  const std::size_t* find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() || it->second.first != stamp_ ? nullptr : &it->second.second;
  }
  // Gives `name` its position in this execution; false (changing nothing)
  // when it already has one.
  bool insert(const std::string& name, std::size_t pos) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      index_.emplace(name, std::pair{stamp_, pos});
      return true;
    }
    if (it->second.first == stamp_) return false;
    it->second = {stamp_, pos};
    return true;
  }
  // Find-or-insert in one lookup: `name`'s position in this execution when
  // it has one (fresh = false), else gives it `pos` (fresh = true). The
  // returned entry may be given back with unclaim() if what it was claimed
  // for fails.
  using Claim = std::pair<std::uint64_t, std::size_t>;
  Claim& claim(const std::string& name, std::size_t pos, bool& fresh) {
    Claim& c = index_.try_emplace(name).first->second;
    fresh = c.first != stamp_;
    if (fresh) c = {stamp_, pos};
    return c;
  }
  static void unclaim(Claim& c) { c.first = 0; }  // stamps start at 1
  void clear() { ++stamp_; }

 private:
  std::unordered_map<std::string, std::pair<std::uint64_t, std::size_t>> index_;
  std::uint64_t stamp_ = 1;
};

}  // namespace vireo::handlers
