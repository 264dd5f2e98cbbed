// The replay oracle for ops (Tape::forward, Tape::copy_from): an op's
// ForwardFn must compute, from new leaf values, the same bits as building
// the op afresh on them.
//   check_replay(inputs_a, inputs_b, f)
// builds f (leaves made from inputs_a, then sum(f(...)) as the root) on one
// tape, copies it, refills the copy's leaves with inputs_b and runs
// forward(); a third tape builds f on inputs_b. Every node's value and every
// leaf's gradient of the copy must equal the fresh tape's, bit for bit
// (NaN matching NaN), and no node may be Opaque.
#pragma once

#include "helpers.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace vireo::ad::test {

inline bool same_bits(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

inline void check_replay(const std::vector<Tensor>& a, const std::vector<Tensor>& b,
                         const std::function<Var(Tape&, const std::vector<Var>&)>& f) {
  auto build = [&](Tape& t, const std::vector<Tensor>& in) {
    std::vector<Var> leaves;
    for (const Tensor& x : in) leaves.push_back(t.leaf(x));
    Var out = f(t, leaves);
    return std::make_pair(leaves, ad::sum(out));
  };
  Tape recorded, fresh;
  auto [leaves_a, root_a] = build(recorded, a);
  BOOST_TEST_REQUIRE(recorded.first_opaque() == -1, "node " << recorded.first_opaque() << " has no ForwardFn");
  Tape replayed;
  replayed.copy_from(recorded);
  recorded.clear();  // the copy depends on nothing of the original
  for (std::size_t k = 0; k < b.size(); ++k) {
    const Var leaf(&replayed, leaves_a[k].index());
    BOOST_TEST_REQUIRE(leaf.numel() == b[k].numel());
    std::copy(b[k].data(), b[k].data() + b[k].numel(), replayed.val(leaf));
  }
  replayed.forward();
  auto [leaves_b, root_b] = build(fresh, b);
  BOOST_TEST_REQUIRE(replayed.num_nodes() == fresh.num_nodes());
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(fresh.num_nodes()); ++i) {
    const Node& r = replayed.node(i);
    const Node& n = fresh.node(i);
    BOOST_TEST_REQUIRE(r.numel == n.numel);
    for (std::int64_t j = 0; j < n.numel; ++j)
      BOOST_TEST(same_bits(replayed.val(r)[j], fresh.val(n)[j]),
                 "node " << i << " element " << j << ": replayed " << replayed.val(r)[j] << ", fresh " << fresh.val(n)[j]);
  }
  const Var root_r(&replayed, root_a.index());
  replayed.backward(root_r);
  fresh.backward(root_b);
  for (std::size_t k = 0; k < b.size(); ++k) {
    const Tensor gr = Var(&replayed, leaves_a[k].index()).grad();
    const Tensor gf = leaves_b[k].grad();
    for (std::int64_t j = 0; j < gf.numel(); ++j)
      BOOST_TEST(same_bits(gr[j], gf[j]), "leaf " << k << " gradient " << j << ": replayed " << gr[j] << ", fresh " << gf[j]);
  }
}

}  // namespace vireo::ad::test
