// Replay (Tape::forward after Tape::copy_from) of the ops of indexing.cpp and
// linalg.cpp: each must recompute from new leaf values the bits a fresh
// tape computes (replay_check.hpp).
#include "replay_check.hpp"

using namespace vireo::ad;
using namespace vireo::ad::test;

namespace {

// One input of `s`, drawn with seed `seed` for tape a and seed + 100 for b.
void check_unary(const Shape& s, unsigned seed, const std::function<Var(Var)>& f) {
  check_replay({uniform(s, -2, 2, seed)}, {uniform(s, -2, 2, seed + 100)},
               [&](Tape&, const std::vector<Var>& v) { return f(v[0]); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_indexing)

BOOST_AUTO_TEST_CASE(reshape_replays) {
  check_unary(Shape{4, 3, 2}, 1, [](Var x) { return reshape(x, Shape{6, 4}); });
  check_unary(Shape{4, 3, 2}, 2, [](Var x) { return reshape(x, std::vector<std::int64_t>{2, -1}); });
}

BOOST_AUTO_TEST_CASE(index_replays) {
  check_unary(Shape{4, 3, 2}, 3, [](Var x) { return x[2]; });
  check_unary(Shape{4, 3, 2}, 4, [](Var x) { return x[-1]; });
  check_unary(Shape{4, 3, 2}, 5, [](Var x) { return index(x, 1); });
  check_unary(Shape{4, 3, 2}, 6, [](Var x) { return index(x, {1, 2}); });
  check_unary(Shape{4, 3, 2}, 7, [](Var x) { return index(x, {3, -1, 1}); });
}

BOOST_AUTO_TEST_CASE(gather_replays) {
  check_unary(Shape{4, 3, 2}, 8, [](Var x) { return x[IntTensor::vector({3, 0, 3, -1})]; });
  check_unary(Shape{4, 3}, 9, [](Var x) { return gather(x, IntTensor(Shape{2, 2}, {1, 1, 0, 2})); });
  check_unary(Shape{5}, 10, [](Var x) { return x[IntTensor(Shape{2, 3}, {4, 0, 1, 1, 2, 3})]; });
}

BOOST_AUTO_TEST_CASE(take_along_last_replays) {
  check_unary(Shape{3, 4}, 11, [](Var x) { return take_along_last(x, IntTensor::vector({1, 0, 3})); });
  check_unary(Shape{4}, 12, [](Var x) { return take_along_last(x, IntTensor::vector({2, 2, 0, -1, 1})); });
  check_unary(Shape{2, 1, 3}, 13, [](Var x) { return take_along_last(x, IntTensor(Shape{2, 2}, {0, 2, 1, 1})); });
}

BOOST_AUTO_TEST_CASE(slice_replays) {
  check_unary(Shape{4, 3, 2}, 14, [](Var x) { return slice(x, 0, 1, 3); });
  check_unary(Shape{4, 3, 2}, 15, [](Var x) { return slice(x, 1, 0, 2); });
  check_unary(Shape{4, 3, 2}, 16, [](Var x) { return slice(x, -1, -1, 2); });
  check_unary(Shape{4, 3, 2}, 17, [](Var x) { return slice(x, 1, 2, 2); });  // empty
}

BOOST_AUTO_TEST_CASE(broadcast_to_replays) {
  check_unary(Shape{3}, 18, [](Var x) { return broadcast_to(x, Shape{2, 3}); });
  check_unary(Shape{2, 1}, 19, [](Var x) { return broadcast_to(x, Shape{4, 2, 3}); });
  // Past par::kChunk: from one element, from as many, and from neither.
  check_unary(Shape{}, 20, [](Var x) { return broadcast_to(x, Shape{3, 4000}); });
  check_unary(Shape{9000}, 21, [](Var x) { return broadcast_to(x, Shape{9000}); });
  check_unary(Shape{3}, 22, [](Var x) { return broadcast_to(x, Shape{4000, 3}); });
}

BOOST_AUTO_TEST_CASE(concat_replays) {
  check_replay({uniform(Shape{2, 3}, -2, 2, 23), uniform(Shape{4, 3}, -2, 2, 24)},
               {uniform(Shape{2, 3}, -2, 2, 123), uniform(Shape{4, 3}, -2, 2, 124)},
               [](Tape&, const std::vector<Var>& v) { return concat({v[0], v[1], v[0]}); });
  check_replay({uniform(Shape{2, 3}, -2, 2, 25), uniform(Shape{2, 1}, -2, 2, 26)},
               {uniform(Shape{2, 3}, -2, 2, 125), uniform(Shape{2, 1}, -2, 2, 126)},
               [](Tape&, const std::vector<Var>& v) { return concat({v[1], v[0]}, -1); });
  // With a constant among the inputs, and with no input needing a gradient.
  check_unary(Shape{2, 3}, 27, [](Var x) { return concat({x.tape()->constant(Tensor(Shape{1, 3}, 0.5)), x}); });
  check_unary(Shape{2, 3}, 28, [](Var x) { return concat({detach(x), detach(2.0 * x)}, 1); });
}

BOOST_AUTO_TEST_CASE(stack_replays) {
  check_replay({uniform(Shape{3}, -2, 2, 29), uniform(Shape{3}, -2, 2, 30)},
               {uniform(Shape{3}, -2, 2, 129), uniform(Shape{3}, -2, 2, 130)},
               [](Tape&, const std::vector<Var>& v) { return stack({v[0], v[1], v[0]}); });
  check_replay({uniform(Shape{2, 3}, -2, 2, 31), uniform(Shape{2, 3}, -2, 2, 32)},
               {uniform(Shape{2, 3}, -2, 2, 131), uniform(Shape{2, 3}, -2, 2, 132)},
               [](Tape&, const std::vector<Var>& v) { return stack({v[0], v[1]}, 1); });
  check_replay({uniform(Shape{2, 3}, -2, 2, 33), uniform(Shape{2, 3}, -2, 2, 34)},
               {uniform(Shape{2, 3}, -2, 2, 133), uniform(Shape{2, 3}, -2, 2, 134)},
               [](Tape&, const std::vector<Var>& v) { return stack({v[1], v[0], v[1]}, -1); });
  // Scalars on axis 0 (a guide's per-iteration leaves).
  check_unary(Shape{4}, 35, [](Var x) { return stack({x[0], x[3], x[1]}); });
}

namespace {

void check_binary(const Shape& sa, const Shape& sb, unsigned seed, const std::function<Var(Var, Var)>& f) {
  check_replay({uniform(sa, -2, 2, seed), uniform(sb, -2, 2, seed + 1)},
               {uniform(sa, -2, 2, seed + 100), uniform(sb, -2, 2, seed + 101)},
               [&](Tape&, const std::vector<Var>& v) { return f(v[0], v[1]); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(matmul_replays) {
  auto mm = [](Var a, Var b) { return matmul(a, b); };
  check_binary(Shape{4}, Shape{4}, 40, mm);
  check_binary(Shape{3, 4}, Shape{4}, 42, mm);
  check_binary(Shape{4}, Shape{4, 5}, 44, mm);
  check_binary(Shape{3, 4}, Shape{4, 5}, 46, mm);
  check_binary(Shape{2, 3, 4}, Shape{4, 5}, 48, mm);        // folded into one product
  check_binary(Shape{2, 3, 4}, Shape{2, 4, 5}, 50, mm);     // batched
  check_binary(Shape{3, 4}, Shape{2, 4, 5}, 52, mm);        // broadcast batch
  check_binary(Shape{2, 1, 3, 4}, Shape{3, 4, 2}, 54, mm);  // both broadcast
  // Rows past chunk_rows(k): the product in chunks.
  check_binary(Shape{9000, 8}, Shape{8}, 56, mm);
  check_binary(Shape{9000, 8}, Shape{8, 3}, 58, mm);
  check_binary(Shape{4}, Shape{4}, 60, [](Var a, Var b) { return dot(a, b); });
}

BOOST_AUTO_TEST_CASE(matmul_add_replays) {
  auto three = [](const Shape& sa, const Shape& sb, const Shape& sc, unsigned seed) {
    check_replay({uniform(sa, -2, 2, seed), uniform(sb, -2, 2, seed + 1), uniform(sc, -2, 2, seed + 2)},
                 {uniform(sa, -2, 2, seed + 100), uniform(sb, -2, 2, seed + 101), uniform(sc, -2, 2, seed + 102)},
                 [](Tape&, const std::vector<Var>& v) { return matmul_add(v[0], v[1], v[2]); });
  };
  three(Shape{5, 3}, Shape{3}, Shape{}, 61);             // one intercept
  three(Shape{5, 3}, Shape{3}, Shape{1}, 64);            // one value of rank 1
  three(Shape{5, 3}, Shape{3}, Shape{5}, 67);            // an offset per datum
  three(Shape{2, 5, 3}, Shape{3, 4}, Shape{2, 5, 4}, 70);
  three(Shape{2, 5, 3}, Shape{2, 3, 4}, Shape{}, 73);
  three(Shape{9000, 8}, Shape{8}, Shape{9000}, 76);      // in chunks
  three(Shape{9000, 8}, Shape{8}, Shape{}, 79);
  three(Shape{5, 3}, Shape{3, 4}, Shape{4}, 82);         // any other broadcast: the two ops
}

BOOST_AUTO_TEST_CASE(dense_replays) {
  auto layer = [](const Shape& sx, std::int64_t k, std::int64_t m, unsigned seed) {
    check_replay({uniform(sx, -2, 2, seed), uniform(Shape{k, m}, -2, 2, seed + 1), uniform(Shape{m}, -2, 2, seed + 2)},
                 {uniform(sx, -2, 2, seed + 100), uniform(Shape{k, m}, -2, 2, seed + 101),
                  uniform(Shape{m}, -2, 2, seed + 102)},
                 [](Tape&, const std::vector<Var>& v) { return dense(v[0], v[1], v[2]); });
  };
  layer(Shape{3}, 3, 4, 85);
  layer(Shape{5, 3}, 3, 4, 88);
  layer(Shape{2, 5, 3}, 3, 2, 91);
}

BOOST_AUTO_TEST_CASE(transpose_replays) {
  check_unary(Shape{3, 4}, 94, [](Var x) { return transpose(x); });
  check_unary(Shape{2, 3, 4}, 95, [](Var x) { return transpose(x); });
  check_unary(Shape{4}, 96, [](Var x) { return transpose(x) * 2.0; });  // rank 1: x itself
}

// Several of the ops on one tape, each reading the one before.
BOOST_AUTO_TEST_CASE(chain_replays) {
  check_binary(Shape{4, 3}, Shape{3, 2}, 97, [](Var a, Var b) {
    Var p = matmul(transpose(slice(a, 0, 1, 4)), broadcast_to(b[1], Shape{3, 2}));
    Var s = stack({p[0], p[2]}, 1);
    return concat({reshape(s, std::vector<std::int64_t>{-1}), a[IntTensor::vector({2, 0})][1]});
  });
}

BOOST_AUTO_TEST_SUITE_END()
