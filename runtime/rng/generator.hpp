// generator.hpp — Vireo's one seeded source of random bits.
// xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64: the same
// 64-bit words, and the same doubles, on every platform and compiler. Owned by
// a session or an execution, never global. Samplers live in samplers.hpp.
#pragma once

#include <array>
#include <cstdint>

namespace vireo::rng {

class Generator {
public:
  // Seeds the 256-bit state with four outputs of splitmix64(seed), as the
  // xoshiro authors recommend (a state of all zeros is then impossible).
  explicit Generator(std::uint64_t seed = 0);

  std::uint64_t next_u64();
  // Uniform on [0, 1): the top 53 bits of one word, times 2^-53.
  double uniform();
  // Uniform on (0, 1): (top 53 bits + 1/2) · 2^-53, never 0 or 1; for logs.
  double uniform_open();
  // Uniform integer in [0, n) without modulo bias (Lemire's method); n > 0.
  std::uint64_t below(std::uint64_t n);

  // Advances the state by 2^128 (jump) or 2^192 (long_jump) draws: calling
  // jump() k times gives the k-th of 2^128 non-overlapping streams.
  void jump();
  void long_jump();
  // The stream-th of 2^128 non-overlapping streams of `seed`.
  static Generator stream(std::uint64_t seed, std::uint64_t stream);
  // A child generator seeded from this one's next output (hash splitting):
  // statistically independent of the parent, which advances by one word.
  Generator split();
  // The generator of piece `index` of the work keyed by `key` (a particle
  // of a step, a chunk of a site's draws): splitmix64 chained over the two
  // words, so that a piece's draws depend on (key, index) alone — not on
  // which thread draws them, nor on what the other pieces drew.
  static Generator keyed(std::uint64_t key, std::uint64_t index);

  const std::array<std::uint64_t, 4>& state() const { return s_; }

private:
  void apply_jump(const std::array<std::uint64_t, 4>& polynomial);
  std::array<std::uint64_t, 4> s_{};
};

// splitmix64 (Steele, Lea & Flood 2014): advances `state`, returns one word.
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace vireo::rng
