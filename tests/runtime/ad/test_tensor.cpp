// Shape, broadcasting rules and Tensor value semantics.
#include "helpers.hpp"

using namespace vireo::ad;

BOOST_AUTO_TEST_SUITE(tensor)

BOOST_AUTO_TEST_CASE(broadcast_rules) {
  BOOST_TEST((broadcast_shapes(Shape{3, 1}, Shape{4}) == Shape{3, 4}));
  BOOST_TEST((broadcast_shapes(Shape{}, Shape{2, 5}) == Shape{2, 5}));
  BOOST_TEST((broadcast_shapes(Shape{2, 1, 3}, Shape{4, 1}) == Shape{2, 4, 3}));
  BOOST_CHECK_THROW(broadcast_shapes(Shape{3}, Shape{4}), std::invalid_argument);
  BOOST_TEST(to_string(Shape{2, 3}) == "[2, 3]");
  BOOST_TEST(to_string(Shape{}) == "[]");
}

BOOST_AUTO_TEST_CASE(tensor_values) {
  Tensor t(Shape{2, 3}, std::vector<double>{1, 2, 3, 4, 5, 6});
  BOOST_TEST(t.at({1, 2}) == 6.0);
  BOOST_TEST(t.matrix()(1, 0) == 4.0);
  BOOST_TEST(t.map().sum() == 21.0);
  Tensor s = 2.5;
  BOOST_TEST(s.rank() == 0);
  BOOST_TEST(s.item() == 2.5);
  BOOST_CHECK_THROW(t.item(), std::invalid_argument);
  BOOST_CHECK_THROW(Tensor(Shape{2}, std::vector<double>{1, 2, 3}), std::invalid_argument);
  BOOST_TEST((t.reshaped(Shape{3, 2}).shape() == Shape{3, 2}));
  IntTensor z = IntTensor::vector({0, 2, 1});
  BOOST_TEST(to_double(z)[1] == 2.0);
  BOOST_CHECK_THROW(Shape({1, 2, 3, 4, 5, 6, 7}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
