// Replaying a tape (Tape::forward after copy_from and new leaf values) gives
// the bits a fresh build gives, op by op: elementwise, arithmetic,
// comparisons, where/clamp, reductions and the summed form. What cannot be
// replayed says so (first_opaque).
#include "replay_check.hpp"

using namespace vireo::ad;
using namespace vireo::ad::test;

namespace {

const Shape vec{7};
const Shape mat{3, 5};

std::vector<Tensor> two(const Shape& a, const Shape& b, unsigned seed, double lo = -2, double hi = 2) {
  return {uniform(a, lo, hi, seed), uniform(b, lo, hi, seed + 1)};
}

// The summed form of square(x): d sum(x^2) / dx = 2x, from the one adjoint.
void summed_square_backward(Tape& t, const Node& n) {
  const Node& nx = t.node(n.in[0]);
  const double g = t.adj(n)[0];
  for (std::int64_t i = 0; i < nx.numel; ++i) t.adj(nx)[i] += g * 2.0 * t.val(nx)[i];
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replay)

BOOST_AUTO_TEST_CASE(elementwise_functions) {
  auto f = [](Tape&, const std::vector<Var>& x) {
    const Var& v = x[0];
    const Var p = exp(v) + 0.5;  // positive for log, sqrt, lgamma
    return exp(v) + log(p) + log1p(p) + expm1(v) + sqrt(p) + square(v) + abs(v) + sin(v) + cos(v) + tanh(v) +
           sigmoid(v) + logit(sigmoid(v)) + softplus(v) + log_sigmoid(v) + log1m_exp(-p) + relu(v) + lgamma(p) +
           digamma(p) + detach(v) * v;
  };
  check_replay({uniform(vec, -3, 3, 1)}, {uniform(vec, -3, 3, 2)}, f);
  // The array forms of softplus and relu (at least kVectorMin elements; softplus keeps scratch).
  check_replay({uniform(Shape{40}, -30, 30, 3)}, {uniform(Shape{40}, -30, 30, 4)},
               [](Tape&, const std::vector<Var>& x) { return softplus(x[0]) * relu(x[0]); });
}

BOOST_AUTO_TEST_CASE(arithmetic_with_broadcasting) {
  auto f = [](Tape&, const std::vector<Var>& x) {
    const Var& a = x[0];
    const Var& b = x[1];
    return a + b - a * b + a / (exp(b) + 1.0) + pow(exp(a), b) + minimum(a, b) + maximum(a, b) - a + 2.0 * a -
           a / 3.0 + 1.0 / (exp(a) + 1.0) + pow(exp(a), 0.5) + pow(2.0, b) + (1.0 - b);
  };
  check_replay(two(mat, Shape{5}, 10), two(mat, Shape{5}, 20), f);  // row broadcast
  check_replay(two(Shape{}, mat, 30), two(Shape{}, mat, 40), f);    // a scalar against an array
  check_replay(two(mat, mat, 50), two(mat, mat, 60), f);            // same shapes
}

BOOST_AUTO_TEST_CASE(comparisons_where_and_clamp) {
  auto f = [](Tape&, const std::vector<Var>& x) {
    const Var& a = x[0];
    const Var& b = x[1];
    const Var m = (a < b) + (a <= b) + (a > b) + (a >= b) + (a == b) + (a != b) + (a < 0.1) + (a <= 0.1) +
                  (a > 0.1) + (a >= 0.1) + (a == 0.1) + (a != 0.1);
    return m * where(a > b, a, b) + where(a < 0.0, a, 1.5) + where(b < 0.0, -1.0, b) + clamp(a, -0.5, 0.5);
  };
  check_replay(two(mat, Shape{5}, 70), two(mat, Shape{5}, 80), f);
}

BOOST_AUTO_TEST_CASE(reductions_and_the_summed_form) {
  auto g = [](Tape&, const std::vector<Var>& x) {
    const Var& a = x[0];
    return sum(sum(a, 0)) + sum(mean(a, 1, true)) + mean(a) + max(a) + min(a) + sum(max(a, 1)) + sum(min(a, 0, true)) +
           logsumexp(a) + sum(logsumexp(a, 1)) + sum(softmax(a, 1) * a) + sum(log_softmax(a, 0));
  };
  check_replay({uniform(mat, -3, 3, 90)}, {uniform(mat, -3, 3, 91)}, g);
  // A log density with a summed form (Tape::set_summed_form): ad::sum of it
  // pushes the summed node, whose forward reads the density's node.
  auto h = [](Tape& t, const std::vector<Var>& x) {
    Var d = square(x[0]);
    t.set_summed_form(d, &summed_square_backward);
    return sum(d) * 2.0;
  };
  check_replay({uniform(vec, -3, 3, 92)}, {uniform(vec, -3, 3, 93)}, h);
}

BOOST_AUTO_TEST_CASE(constants_stay_and_opaque_nodes_are_found) {
  Tape t;
  Var w = t.leaf(Tensor::vector({1.0, 2.0}));
  Var c = t.constant(Tensor::vector({3.0, 4.0}));
  Var z = zeros(t, Shape{2}) + arange(t, 2.0);
  Var s = sum(w * c + z);
  BOOST_TEST(t.first_opaque() == -1);
  Tape copy;
  copy.copy_from(t);
  copy.val(Var(&copy, w.index()))[1] = 5.0;
  copy.forward();
  BOOST_TEST(Var(&copy, s.index()).item() == 3.0 + 5.0 * 4.0 + 0.0 + 1.0);
  // A node computed outside any ForwardFn cannot be replayed.
  Var raw = t.push(Shape{2}, nullptr);
  BOOST_TEST(t.first_opaque() == raw.index());
  // A borrowed constant is copied: the copy outlives the borrowed storage.
  Tape u;
  {
    Tensor data = Tensor::vector({7.0, 8.0});
    Var b = u.borrow(data);
    (void)(b * u.leaf(2.0));
    copy.copy_from(u);
  }
  BOOST_TEST(copy.val(copy.node(0))[1] == 8.0);
}

// An elementwise op, broadcast, sum or copy of constants is a constant
// (Tape::compute_pure): a replay keeps its value, and it needs no guard. A
// guard on a copy (detach) is the guard on what it copies.
BOOST_AUTO_TEST_CASE(ops_of_constants_fold) {
  Tape t;
  const Var w = t.leaf(Tensor::vector({1.0, 2.0}));
  const Var c = t.constant(Tensor::vector({3.0, 4.0}));
  const Var folded = sum(broadcast_to(log(c), Shape{3, 2}) * 2.0 - detach(c) + c / c);
  BOOST_TEST((t.node(folded).kind == NodeKind::Constant));
  BOOST_TEST(folded.item() == 3 * (2.0 * std::log(3.0) - 3.0 + 1.0 + 2.0 * std::log(4.0) - 4.0 + 1.0), boost::test_tools::tolerance(1e-14));
  const Var mixed = c * w;
  BOOST_TEST((t.node(mixed).kind == NodeKind::Op));
  BOOST_TEST((t.node(detach(w)).kind == NodeKind::Op));
  t.want_guards(true);
  t.add_guard(w, Tape::ElementTest::Finite);
  t.add_guard(detach(detach(w)), Tape::ElementTest::Finite);
  t.add_guard(folded, Tape::ElementTest::Positive);
  BOOST_TEST(t.num_guards() == 1u);
  t.add_guard(detach(w), Tape::ElementTest::Positive);
  t.add_guard(detach(mixed), Tape::ElementTest::Finite);
  BOOST_TEST(t.num_guards() == 3u);
  // Replayed: the folded values stay, the ops that read them run again.
  check_replay({uniform(vec, -2, 2, 70)}, {uniform(vec, -2, 2, 71)}, [](Tape& tape, const std::vector<Var>& x) {
    const Var k = exp(tape.constant(uniform(vec, -1, 1, 72)));
    return x[0] * k + sum(k * 2.0) - detach(k);
  });
}

BOOST_AUTO_TEST_SUITE_END()
