// matmul in every NumPy `@` form, dot, transpose: values against Eigen and gradients.
#include "helpers.hpp"

using namespace vireo::ad;
using namespace vireo::ad::test;

BOOST_AUTO_TEST_SUITE(linalg)

BOOST_AUTO_TEST_CASE(matmul_forms_gradients) {
  const std::vector<std::pair<Shape, Shape>> forms = {
      {Shape{4}, Shape{4}},             // vector · vector
      {Shape{3, 4}, Shape{4}},          // matrix · vector
      {Shape{4}, Shape{4, 2}},          // vector · matrix
      {Shape{3, 4}, Shape{4, 2}},       // matrix · matrix
      {Shape{2, 3, 4}, Shape{4, 2}},    // batch · matrix
      {Shape{2, 3, 4}, Shape{2, 4, 5}}, // batch · batch
      {Shape{2, 1, 3, 4}, Shape{3, 4, 2}},  // broadcast batch axes
      {Shape{2, 3, 4}, Shape{4}},       // batch · vector
      {Shape{4}, Shape{2, 4, 3}},       // vector · batch
      {Shape{1, 1}, Shape{1, 1}},
      // One matrix against a batch of rows (`z @ W` inside a plate): a single gemm.
      {Shape{5, 1, 4}, Shape{1, 4, 3}},
      {Shape{2, 3, 4}, Shape{1, 4, 2}},
      {Shape{2, 2, 1, 4}, Shape{1, 1, 4, 3}},
  };
  for (const auto& [sa, sb] : forms) {
    BOOST_TEST_CONTEXT(to_string(sa) << " @ " << to_string(sb)) {
      VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return matmul(v[0], v[1]); },
                       {uniform(sa, -1, 1, 21), uniform(sb, -1, 1, 22)});
    }
  }
}

// matmul_add(a, b, c) is matmul(a, b) + c to the bit, value and gradients,
// whether it is one node (c one value or the product's shape; a product
// long enough to run in chunks, each plus its share of the bias) or falls
// back to the two ops (a row bias, a c that widens the result); c may be
// one of the product's operands. And its gradient is the derivative.
BOOST_AUTO_TEST_CASE(matmul_add_is_matmul_plus_c_to_the_bit) {
  struct Form {
    Shape a, b, c;
  };
  const std::vector<Form> forms = {
      {Shape{3, 4}, Shape{4}, Shape{}},             // X @ w + b
      {Shape{3, 4}, Shape{4}, Shape{1}},            // a one-element vector broadcasts too
      {Shape{3, 4}, Shape{4}, Shape{3}},            // an offset per row
      {Shape{3, 4}, Shape{4, 2}, Shape{3, 2}},      // matrix · matrix, same shape
      {Shape{2, 3, 4}, Shape{2, 4, 5}, Shape{2, 3, 5}},  // batched, same shape
      {Shape{2, 1, 3, 4}, Shape{3, 4, 2}, Shape{}},      // broadcast batch axes
      {Shape{5, 1, 4}, Shape{1, 4, 3}, Shape{5, 1, 3}},  // rows folded into one product
      {Shape{4}, Shape{4}, Shape{}},                // dot + scalar
      {Shape{3, 4}, Shape{4, 2}, Shape{2}},         // a row bias: the two ops
      {Shape{3, 4}, Shape{4}, Shape{2, 3}},         // c widens the result: the two ops
      {Shape{3, 4}, Shape{4}, Shape{1, 1}},
      {Shape{3000, 40}, Shape{40}, Shape{}},        // two chunks of the product's rows
      {Shape{3000, 40}, Shape{40}, Shape{3000}},
  };
  for (const auto& f : forms) {
    BOOST_TEST_CONTEXT(to_string(f.a) << " @ " << to_string(f.b) << " + " << to_string(f.c)) {
      const Tensor ta = uniform(f.a, -1, 1, 31), tb = uniform(f.b, -1, 1, 32), tc = uniform(f.c, -1, 1, 33);
      Tape t1, t2;
      Var a1 = t1.leaf(ta), b1 = t1.leaf(tb), c1 = t1.leaf(tc);
      Var a2 = t2.leaf(ta), b2 = t2.leaf(tb), c2 = t2.leaf(tc);
      Var fused = matmul_add(a1, b1, c1), plain = matmul(a2, b2) + c2;
      BOOST_TEST((fused.shape() == plain.shape()));
      const Tensor w = uniform(fused.shape(), -1, 1, 34);  // a weighted sum: every element's gradient differs
      t1.backward(sum(fused * t1.constant(w)));
      t2.backward(sum(plain * t2.constant(w)));
      const Tensor v1 = fused.value(), v2 = plain.value();
      for (std::int64_t i = 0; i < v1.numel(); ++i) BOOST_TEST(v1[i] == v2[i], "element " << i);
      for (auto [x, y] : {std::pair{a1, a2}, std::pair{b1, b2}, std::pair{c1, c2}}) {
        const Tensor g1 = x.grad(), g2 = y.grad();
        for (std::int64_t i = 0; i < g1.numel(); ++i) BOOST_TEST(g1[i] == g2[i], "gradient element " << i);
      }
      if (ta.numel() < 100)
        VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return matmul_add(v[0], v[1], v[2]); }, {ta, tb, tc});
    }
  }
  // c the product's own operand: its gradient gets both terms, in the order
  // the two ops add them.
  const Tensor m = uniform(Shape{4, 4}, -1, 1, 35);
  Tape t1, t2;
  Var m1 = t1.leaf(m), m2 = t2.leaf(m);
  t1.backward(sum(matmul_add(m1, m1, m1) * m1));
  t2.backward(sum((matmul(m2, m2) + m2) * m2));
  const Tensor g1 = m1.grad(), g2 = m2.grad();
  for (std::int64_t i = 0; i < g1.numel(); ++i) BOOST_TEST(g1[i] == g2[i], "element " << i);
  BOOST_CHECK_THROW(matmul_add(t1.leaf(uniform(Shape{3, 4}, -1, 1)), t1.leaf(uniform(Shape{3}, -1, 1)), m1),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(matmul_values) {
  const Tensor a = uniform(Shape{3, 4}, -1, 1, 1), b = uniform(Shape{4, 2}, -1, 1, 2);
  const Tensor v = uniform(Shape{4}, -1, 1, 3);
  Tape tape;
  Var A = tape.constant(a), B = tape.constant(b), V = tape.constant(v);
  const Eigen::MatrixXd ab = a.matrix() * b.matrix();
  Tensor c = matmul(A, B).value();
  BOOST_TEST((c.shape() == Shape{3, 2}));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      BOOST_TEST(c.at({i, j}) == ab(i, j), boost::test_tools::tolerance(1e-14));
  Tensor av = matmul(A, V).value();
  BOOST_TEST((av.shape() == Shape{3}));
  const Eigen::VectorXd avr = a.matrix() * v.map().matrix();
  for (int i = 0; i < 3; ++i) BOOST_TEST(av[i] == avr(i), boost::test_tools::tolerance(1e-14));
  Tensor vb = matmul(V, B).value();
  BOOST_TEST((vb.shape() == Shape{2}));
  BOOST_TEST(dot(V, V).item() == v.map().square().sum(), boost::test_tools::tolerance(1e-14));
  BOOST_TEST((matmul(tape.constant(uniform(Shape{5, 3, 4}, -1, 1)), B).shape() == Shape{5, 3, 2}));
  // Batched with a broadcast batch axis: [2, 1, 3, 4] @ [5, 4, 2] → [2, 5, 3, 2].
  const Tensor ba = uniform(Shape{2, 1, 3, 4}, -1, 1, 8), bb = uniform(Shape{5, 4, 2}, -1, 1, 9);
  Tensor bc = matmul(tape.constant(ba), tape.constant(bb)).value();
  BOOST_TEST((bc.shape() == Shape{2, 5, 3, 2}));
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 5; ++q)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j) {
          double ref = 0;
          for (int k = 0; k < 4; ++k) ref += ba.at({p, 0, i, k}) * bb.at({q, k, j});
          BOOST_TEST(bc.at({p, q, i, j}) == ref, boost::test_tools::tolerance(1e-13));
        }
  // A batch of rows against one matrix whose batch axes are all 1 (the form
  // `z @ W` takes inside a plate), computed as one product: every row as
  // its own product.
  const Tensor rows = uniform(Shape{6, 1, 4}, -1, 1, 10), one = uniform(Shape{1, 4, 3}, -1, 1, 11);
  Tensor rc = matmul(tape.constant(rows), tape.constant(one)).value();
  BOOST_TEST((rc.shape() == Shape{6, 1, 3}));
  for (int p = 0; p < 6; ++p)
    for (int j = 0; j < 3; ++j) {
      double ref = 0;
      for (int k = 0; k < 4; ++k) ref += rows.at({p, 0, k}) * one.at({0, k, j});
      BOOST_TEST(rc.at({p, 0, j}) == ref, boost::test_tools::tolerance(1e-13));
    }
  BOOST_CHECK_THROW(matmul(A, A), std::invalid_argument);
  BOOST_CHECK_THROW(dot(A, V), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(transpose_values_and_gradients) {
  Tape tape;
  Var x = tape.constant(Tensor(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  Tensor t = transpose(x).value();
  BOOST_TEST((t.shape() == Shape{3, 2}));
  BOOST_TEST(t.values() == std::vector<double>({1, 4, 2, 5, 3, 6}));
  BOOST_TEST((transpose(tape.constant(Tensor::vector({1, 2}))).shape() == Shape{2}));
  VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return transpose(v[0]); },
                   {uniform(Shape{2, 3, 4}, -1, 1, 4)});
  VIREO_CHECK_GRAD([](Tape&, const std::vector<Var>& v) { return dot(v[0], v[1]); },
                   {uniform(Shape{6}, -1, 1, 5), uniform(Shape{6}, -1, 1, 6)});
}

BOOST_AUTO_TEST_SUITE_END()
