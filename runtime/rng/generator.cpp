// generator.cpp — xoshiro256** and splitmix64, following the reference C code
// at https://prng.di.unimi.it/ (xoshiro256starstar.c, splitmix64.c).
#include "runtime/rng/generator.hpp"

namespace vireo::rng {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

constexpr std::array<std::uint64_t, 4> jump_polynomial = {
    0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL, 0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
constexpr std::array<std::uint64_t, 4> long_jump_polynomial = {
    0x76e15d3efefdcbbfULL, 0xc5004e441c522fb3ULL, 0x77710069854ee241ULL, 0x39109bb02acbe635ULL};

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Generator::Generator(std::uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

std::uint64_t Generator::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::uniform_open() {
  return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
}

std::uint64_t Generator::below(std::uint64_t n) {
  // Lemire (2019), "Fast random integer generation in an interval", Alg. 5.
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

void Generator::apply_jump(const std::array<std::uint64_t, 4>& polynomial) {
  std::array<std::uint64_t, 4> t{};
  for (std::uint64_t word : polynomial) {
    for (int b = 0; b < 64; ++b) {
      if (word & (std::uint64_t{1} << b))
        for (int i = 0; i < 4; ++i) t[i] ^= s_[i];
      next_u64();
    }
  }
  s_ = t;
}

void Generator::jump() { apply_jump(jump_polynomial); }
void Generator::long_jump() { apply_jump(long_jump_polynomial); }

Generator Generator::stream(std::uint64_t seed, std::uint64_t stream) {
  Generator g(seed);
  for (std::uint64_t i = 0; i < stream; ++i) g.jump();
  return g;
}

Generator Generator::split() { return Generator(next_u64()); }

Generator Generator::keyed(std::uint64_t key, std::uint64_t index) {
  std::uint64_t s = key;
  s = splitmix64(s) ^ index;
  return Generator(splitmix64(s));
}

}  // namespace vireo::rng
