// Indexing, gathering, slicing, reshaping, broadcasting, concat/stack, creation.
#include "helpers.hpp"

using namespace vireo::ad;
using namespace vireo::ad::test;

BOOST_AUTO_TEST_SUITE(indexing)

BOOST_AUTO_TEST_CASE(values) {
  Tape tape;
  Var x = tape.constant(Tensor(Shape{3, 2}, {0, 1, 10, 11, 20, 21}));
  BOOST_TEST(x[1].value().values() == std::vector<double>({10, 11}));
  BOOST_TEST(x[-1].value().values() == std::vector<double>({20, 21}));
  BOOST_TEST(index(x, {2, 1}).item() == 21.0);
  BOOST_CHECK_THROW(x[3], std::out_of_range);
  Var g = x[IntTensor::vector({2, 0, 2})];
  BOOST_TEST((g.shape() == Shape{3, 2}));
  BOOST_TEST(g.value().values() == std::vector<double>({20, 21, 0, 1, 20, 21}));
  Var loc = tape.constant(Tensor::vector({-1.0, 0.0, 1.0}));
  BOOST_TEST(loc[IntTensor(Shape{2, 2}, {0, 2, 1, 1})].value().values() ==
             std::vector<double>({-1, 1, 0, 0}));
  BOOST_TEST(take_along_last(x, IntTensor::vector({1, 0, 1})).value().values() ==
             std::vector<double>({1, 10, 21}));
  // Categorical-style: one row of logits [K], a batch of values [N].
  Var logits = tape.constant(Tensor::vector({0.1, 0.2, 0.3}));
  BOOST_TEST(take_along_last(logits, IntTensor::vector({2, 2, 0})).value().values() ==
             std::vector<double>({0.3, 0.3, 0.1}));
  BOOST_CHECK_THROW(take_along_last(logits, IntTensor::vector({3})), std::out_of_range);
  BOOST_TEST(slice(x, 0, 1, 3).value().values() == std::vector<double>({10, 11, 20, 21}));
  BOOST_TEST(slice(x, 1, 0, 1).value().values() == std::vector<double>({0, 10, 20}));
  BOOST_TEST(slice(x, 0, -1, 3).value().values() == std::vector<double>({20, 21}));
  BOOST_TEST((reshape(x, Shape{2, 3}).shape() == Shape{2, 3}));
  BOOST_TEST((reshape(x, std::vector<std::int64_t>{-1}).shape() == Shape{6}));
  BOOST_CHECK_THROW(reshape(x, Shape{4}), std::invalid_argument);
  Var b = broadcast_to(loc, Shape{2, 3});
  BOOST_TEST(b.value().values() == std::vector<double>({-1, 0, 1, -1, 0, 1}));
  BOOST_CHECK_THROW(broadcast_to(loc, Shape{2}), std::invalid_argument);
  BOOST_TEST(concat({x, x}, 1).value().values() ==
             std::vector<double>({0, 1, 0, 1, 10, 11, 10, 11, 20, 21, 20, 21}));
  // No rows before the axis: nothing to copy, and no division by the zero rows.
  BOOST_TEST((concat({tape.constant(Tensor(Shape{0, 2})), tape.constant(Tensor(Shape{0, 3}))}, 1).shape() == Shape{0, 5}));
  BOOST_TEST((stack({loc, loc}).shape() == Shape{2, 3}));
  BOOST_TEST(stack({loc, loc}, 1).value().values() == std::vector<double>({-1, -1, 0, 0, 1, 1}));
  BOOST_TEST(stack({loc, 2.0 * loc}).value().values() == std::vector<double>({-1, 0, 1, -2, 0, 2}));
  BOOST_CHECK_THROW(stack({loc, x}), std::invalid_argument);
  BOOST_TEST(size(x) == 6);
  BOOST_TEST(size(x, -1) == 2);
}

BOOST_AUTO_TEST_CASE(gradients) {
  const Tensor x = uniform(Shape{4, 3, 2}, -1, 1, 31);
  auto check = [&](const char* what, std::function<Var(Var)> f) {
    BOOST_TEST_CONTEXT(what) {
      VIREO_CHECK_GRAD([&](Tape&, const std::vector<Var>& v) { return f(v[0]); }, {x});
    }
  };
  check("index", [](Var v) { return v[2]; });
  check("index2", [](Var v) { return index(v, {1, 2}); });
  check("gather repeated", [](Var v) { return v[IntTensor::vector({3, 0, 3, 3})]; });
  check("gather 2d", [](Var v) { return v[IntTensor(Shape{2, 2}, {1, 1, 0, 2})]; });
  check("take_along_last", [](Var v) { return take_along_last(v, IntTensor(Shape{3}, {1, 0, 1})); });
  check("take_along_last, one row for many indices",
        [](Var v) { return take_along_last(index(v, {1, 2}), IntTensor::vector({0, 1, 1, 0, 1})); });
  check("take_along_last, broadcast batch",
        [](Var v) { return take_along_last(v, IntTensor(Shape{4, 1}, {1, 0, 1, 1})); });
  check("slice0", [](Var v) { return slice(v, 0, 1, 3); });
  check("slice1", [](Var v) { return slice(v, 1, 0, 2); });
  check("slice2", [](Var v) { return slice(v, -1, 1, 2); });
  check("reshape", [](Var v) { return reshape(v, Shape{6, 4}); });
  check("broadcast_to", [](Var v) { return broadcast_to(v, Shape{2, 4, 3, 2}); });
  check("broadcast_to inner", [](Var v) { return broadcast_to(slice(v, 2, 0, 1), Shape{4, 3, 5}); });
  check("concat0", [](Var v) { return concat({v, exp(v), v}, 0); });
  check("concat1", [](Var v) { return concat({v, slice(v, 1, 0, 1)}, 1); });
  check("stack", [](Var v) { return stack({v, 2.0 * v}, 2); });
  // On axis 0 stack is one node: inputs repeated, scalars.
  check("stack0", [](Var v) { return stack({v, exp(v), v}, 0); });
  check("stack0 scalars", [](Var v) {
    std::vector<Var> xs;
    for (std::int64_t i = 0; i < 5; ++i) xs.push_back(index(v, {i % 4, i % 3, 1}));
    xs.push_back(xs[1] * xs[2]);
    return stack(xs);
  });
  // `loc[z]` with a scalar-per-row parameter, as in a mixture likelihood.
  VIREO_CHECK_GRAD([](Tape& t, const std::vector<Var>& v) {
    const IntTensor z = IntTensor::vector({0, 2, 1, 2, 2});
    Var xs = t.constant(Tensor::vector({-1.0, 0.5, 0.1, 1.2, 0.9}));
    return sum(square(xs - v[0][z]));
  }, {Tensor::vector({-1.0, 0.0, 1.0})});
}

BOOST_AUTO_TEST_CASE(creation) {
  Tape tape;
  BOOST_TEST(zeros(tape, Shape{2}).value().values() == std::vector<double>({0, 0}));
  BOOST_TEST(ones(tape, Shape{2, 2}).value().values() == std::vector<double>({1, 1, 1, 1}));
  BOOST_TEST(fill(tape, Shape{}, 3.0).item() == 3.0);
  BOOST_TEST(arange(tape, 4).value().values() == std::vector<double>({0, 1, 2, 3}));
  BOOST_TEST(arange(tape, 1, 2, 0.25).value().values() == std::vector<double>({1, 1.25, 1.5, 1.75}));
  Var oh = one_hot(tape, IntTensor::vector({2, 0}), 3);
  BOOST_TEST((oh.shape() == Shape{2, 3}));
  BOOST_TEST(oh.value().values() == std::vector<double>({0, 0, 1, 1, 0, 0}));
  BOOST_CHECK_THROW(one_hot(tape, IntTensor::vector({3}), 3), std::out_of_range);
  BOOST_TEST(!zeros(tape, Shape{2}).requires_grad());
}

BOOST_AUTO_TEST_SUITE_END()
