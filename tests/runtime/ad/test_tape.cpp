// The tape itself: leaves vs constants, borrow, backward twice, reuse after
// clear() without growing the arena, misuse errors.
#include "helpers.hpp"

using namespace vireo::ad;
using namespace vireo::ad::test;

namespace {

// A small model-shaped computation: a logistic-regression log-likelihood.
double step(Tape& tape, const Tensor& X, const Tensor& y, const Tensor& w0, Tensor* gw) {
  tape.clear();
  Var w = tape.leaf(w0);
  Var b = tape.leaf(0.3);
  Var logits = matmul(tape.borrow(X), w) + b;
  Var lp = sum(tape.borrow(y) * logits - softplus(logits)) + sum(-0.5 * square(w));
  tape.backward(lp);
  *gw = tape.grad(w);
  return lp.item();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tape)

BOOST_AUTO_TEST_CASE(reuse_after_clear_allocates_nothing) {
  const Tensor X = uniform(Shape{40, 5}, -1, 1, 1);
  Tensor y = uniform(Shape{40}, 0, 1, 2);
  for (auto& v : y.map()) v = v > 0.5 ? 1.0 : 0.0;
  const Tensor w0 = uniform(Shape{5}, -1, 1, 3);
  Tape tape;
  Tensor g1, g2, g3;
  const double v1 = step(tape, X, y, w0, &g1);
  const double v2 = step(tape, X, y, w0, &g2);
  const std::size_t bytes = tape.arena_bytes();
  const std::size_t nodes = tape.num_nodes();
  BOOST_TEST(bytes > 0u);
  for (int i = 0; i < 5; ++i) {
    const double v3 = step(tape, X, y, w0, &g3);
    BOOST_TEST(v3 == v1);
    BOOST_TEST(g3.values() == g1.values());
    BOOST_TEST(tape.arena_bytes() == bytes);
    BOOST_TEST(tape.num_nodes() == nodes);
  }
  BOOST_TEST(v2 == v1);
  BOOST_TEST(g2.values() == g1.values());
  // And the gradient is right.
  VIREO_CHECK_GRAD([&](Tape& t, const std::vector<Var>& v) {
    Var logits = matmul(t.constant(X), v[0]) + v[1];
    return sum(t.constant(y) * logits - softplus(logits));
  }, {w0, Tensor(0.3)});
}

BOOST_AUTO_TEST_CASE(leaves_constants_and_backward_twice) {
  Tape tape;
  Var a = tape.leaf(2.0);
  Var c = tape.constant(3.0);
  Var y = a * a * c;
  BOOST_TEST(y.requires_grad());
  BOOST_TEST(!(c * c).requires_grad());
  tape.backward(y);
  BOOST_TEST(tape.grad(a).item() == 12.0);
  BOOST_TEST(tape.grad(c).item() == 0.0);  // constants report zeros
  tape.backward(y);                         // adjoints reset, not accumulated
  BOOST_TEST(a.grad().item() == 12.0);
  Var z = exp(a);
  tape.backward(z);  // an intermediate root: only its ancestors count
  BOOST_TEST(a.grad().item() == std::exp(2.0), boost::test_tools::tolerance(1e-15));
}

// The oracle must fail a wrong gradient: an op whose backward is off by 10%.
void wrong_backward(Tape& t, const Node& n) {
  const Node& x = t.node(n.in[0]);
  t.adj(x)[0] += 1.1 * t.adj(n)[0] * 2.0 * t.val(x)[0];
}

BOOST_AUTO_TEST_CASE(gradcheck_catches_a_wrong_gradient) {
  auto bad_square = [](Tape& t, const std::vector<Var>& v) {
    Var r = t.push(Shape{}, &wrong_backward, v[0].index());
    *t.val(r) = v[0].item() * v[0].item();
    return r;
  };
  const auto r = vireo::testing::gradcheck(bad_square, {Tensor(1.5)});
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.analytic == 1.1 * 3.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.numeric == 3.0, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(grad_data_is_a_view) {
  Tape tape;
  Var x = tape.leaf(Tensor::vector({1.0, 2.0}));
  Var c = tape.constant(1.0);
  tape.backward(sum(square(x)) + c);
  const double* g = tape.grad_data(x);
  BOOST_REQUIRE(g != nullptr);
  BOOST_TEST(g[0] == 2.0);
  BOOST_TEST(g[1] == 4.0);
  BOOST_TEST(tape.grad_data(c) == nullptr);
}

BOOST_AUTO_TEST_CASE(misuse_is_reported) {
  Tape t1, t2;
  Var a = t1.leaf(1.0), b = t2.leaf(2.0);
  BOOST_CHECK_THROW(a + b, std::invalid_argument);
  BOOST_CHECK_THROW(t1.backward(t1.leaf(Tensor::vector({1, 2}))), std::invalid_argument);
  BOOST_CHECK_THROW(t2.grad(a), std::invalid_argument);
  BOOST_CHECK_THROW(exp(Var()), std::invalid_argument);
  BOOST_CHECK_THROW(sum(Var()), std::invalid_argument);
  BOOST_CHECK_THROW(Var() * a, std::invalid_argument);
  t1.clear();
  BOOST_CHECK_THROW(t1.grad(a), std::invalid_argument);  // a predates clear()
  BOOST_CHECK_THROW(exp(a), std::invalid_argument);
  BOOST_CHECK_THROW(sum(a), std::invalid_argument);
  BOOST_CHECK_THROW(index(a, 0), std::invalid_argument);
}

// A summed form (Tape::set_summed_form), whichever order nodes name theirs
// in: ad::sum over all of that node's elements pushes a node with the form's
// backward, the node's inputs and the node's index, and the same value as a
// plain sum; sums of other nodes, by an axis, or after clear() are plain.
namespace {
void twice_backward(Tape& t, const Node& n) {
  double* g = t.adj(t.node(n.in[0]));
  for (std::int64_t i = 0; i < n.numel; ++i) g[i] += 2 * t.adj(n)[i];
}
void twice_summed(Tape& t, const Node& s) {
  const Node& n = t.node(static_cast<std::int32_t>(s.iaux[0]));
  double* g = t.adj(t.node(n.in[0]));
  for (std::int64_t i = 0; i < n.numel; ++i) g[i] += 2 * t.adj(s)[0];
}
Var twice(Tape& t, Var x) {
  Var r = t.push(x.shape(), &twice_backward, x.index());
  for (std::int64_t i = 0; i < x.numel(); ++i) t.val(r)[i] = 2 * x.data()[i];
  return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(summed_forms_are_found_for_their_nodes_only) {
  Tape t;
  Var x = t.leaf(Tensor(Shape{3}, std::vector<double>{1, 2, 4}));
  Var a = twice(t, x), b = twice(t, x), c = twice(t, x);
  t.set_summed_form(c, &twice_summed);  // out of node order
  t.set_summed_form(a, &twice_summed);
  for (Var v : {a, c}) {
    Var s = sum(v);
    BOOST_TEST(t.node(s).backward == &twice_summed);
    BOOST_TEST(t.node(s).in[0] == x.index());
    BOOST_TEST(t.node(s).iaux[0] == v.index());
    BOOST_TEST(s.item() == 14.0);
  }
  BOOST_TEST(t.node(sum(b)).backward != &twice_summed);
  BOOST_TEST(t.node(sum(a, 0)).backward != &twice_summed);
  t.backward(sum(a) + sum(b));
  const Tensor g = x.grad();
  for (std::int64_t i = 0; i < 3; ++i) BOOST_TEST(g[i] == 4.0);
  BOOST_TEST(a.grad()[0] == 0.0);  // the summed form left a's own adjoint alone
  t.clear();
  Var y = t.leaf(Tensor(Shape{3}, std::vector<double>{1, 2, 4}));
  Var d = twice(t, y);
  BOOST_TEST(d.index() == a.index());
  BOOST_TEST(t.node(sum(d)).backward != &twice_summed);
}

BOOST_AUTO_TEST_SUITE_END()
