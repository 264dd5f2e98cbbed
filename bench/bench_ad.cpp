// vireo_bench_ad: the cost of the tape, printed as JSON.
//  (a) ns per node (forward + backward + clear) of a chain of elementwise
//      operations on arrays of 1 and 10^4 elements;
//  (b) one value-and-gradient of M2's log-likelihood (bench/MODELS.md)
//        sum_n y_n l_n - softplus(l_n),   l = X w + b,   X: 5000 × 50
//      w.r.t. w and b, on the tape and hand-written with Eigen (the floor), and their ratio.
// Each figure is the best and the median of several timed batches of thread
// CPU time (the machine is shared: the best batch is the least disturbed).
// Usage: vireo_bench_ad [path/to/logistic_regression.json]
#include "runtime/ad/ad.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace vireo::ad;

namespace {

struct Timing {
  double best_ns = 0, median_ns = 0;
};

// This thread's CPU time in ns: on a shared machine it leaves out the time
// other processes hold the core (wall-clock time does not).
double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e9 * static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec);
}

// Runs `f` `reps` times per batch over `batches` batches; returns ns per call.
template <class F>
Timing time_it(F&& f, int reps, int batches = 15) {
  std::vector<double> per;
  for (int b = 0; b < batches; ++b) {
    const double t0 = cpu_ns();
    for (int r = 0; r < reps; ++r) f();
    per.push_back((cpu_ns() - t0) / reps);
  }
  std::sort(per.begin(), per.end());
  return {per.front(), per[per.size() / 2]};
}

volatile double sink = 0;

// (a) A chain cycling through a Var-double op, a function and a binary op.
// "cheap" uses relu (bookkeeping dominates), "transcendental" uses sin
// (forward sin, backward cos: the arithmetic dominates on big arrays).
nlohmann::json chain_cost(std::int64_t size, int length, int reps, bool transcendental) {
  Tape tape;
  Tensor x0(Shape{size}, 0.5);
  if (size == 1) x0 = Tensor(0.5);
  auto run = [&] {
    tape.clear();
    Var x = tape.leaf(x0);
    Var y = x;
    for (int i = 0; i < length; i += 3) {
      y = y * 0.9;
      y = transcendental ? sin(y) : relu(y);
      y = y + x;
    }
    Var s = size == 1 ? y : sum(y);
    tape.backward(s);
    sink = sink + tape.adj(tape.node(x))[0];
  };
  run();
  const std::size_t nodes = tape.num_nodes();
  const std::size_t bytes = tape.arena_bytes();
  const Timing t = time_it(run, reps);
  return {{"size", size},
          {"ops", transcendental ? "x*c, sin, +" : "x*c, relu, +"},
          {"nodes", nodes},
          {"ns_per_node_best", t.best_ns / static_cast<double>(nodes)},
          {"ns_per_node_median", t.median_ns / static_cast<double>(nodes)},
          {"ns_per_element_best", t.best_ns / static_cast<double>(nodes) / static_cast<double>(size)},
          {"arena_bytes", bytes}};
}

struct Data {
  Tensor X, y;
};

Data load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  const nlohmann::json j = nlohmann::json::parse(in);
  const std::int64_t N = j.at("N"), D = j.at("D");
  Data d{Tensor(Shape{N, D}), Tensor(Shape{N})};
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t k = 0; k < D; ++k) d.X[n * D + k] = j["X"][n][k].get<double>();
    d.y[n] = j["y"][n].get<double>();
  }
  return d;
}

// The floor: one gemv forward, one exp and one log per datum (Eigen's
// vectorised ones; log1p(e) as the tape computes it, see elementwise.cpp),
// one gemv back.
struct HandWritten {
  const Data& d;
  Eigen::ArrayXd l, e, r;
  Eigen::VectorXd gw;
  double gb = 0;
  double operator()(const Eigen::VectorXd& w, double b) {
    const auto X = d.X.matrix();
    const auto y = d.y.map();
    l.matrix().noalias() = X * w;
    l += b;
    e = (-l.abs()).exp();
    const double lp =
        (y * l - (l.max(0.0) + ((1.0 + e).log() - (((1.0 + e) - 1.0) - e) / (1.0 + e)))).sum();
    // sigmoid(l) = 1 / (1 + e) for l > 0, e / (1 + e) below (as elementwise.cpp).
    r = y - (e + (1.0 - e) * (0.5 + 0.5 * l.sign())) / (1.0 + e);
    gw.noalias() = X.transpose() * r.matrix();
    gb = r.sum();
    return lp;
  }
};

nlohmann::json m2(const std::string& path) {
  const Data d = load(path);
  const std::int64_t D = d.X.shape()[1];
  Tensor w0(Shape{D});
  for (std::int64_t k = 0; k < D; ++k) w0[k] = 0.1 * std::sin(static_cast<double>(k));
  const double b0 = 0.2;

  Tape tape;
  Tensor gw_tape;
  double gb_tape = 0, lp_tape = 0;
  auto tape_step = [&] {
    tape.clear();
    Var w = tape.leaf(w0);
    Var b = tape.leaf(b0);
    Var logits = matmul(tape.borrow(d.X), w) + b;
    Var lp = sum(tape.borrow(d.y) * logits - softplus(logits));
    tape.backward(lp);
    lp_tape = lp.item();
    gw_tape = tape.grad(w);
    gb_tape = tape.grad(b).item();
  };

  HandWritten hand{d, {}, {}, {}, {}, 0};
  const Eigen::VectorXd w_eigen = w0.map().matrix();
  double lp_hand = 0;
  auto hand_step = [&] { lp_hand = hand(w_eigen, b0); };

  tape_step();
  hand_step();
  double max_grad_diff = std::abs(gb_tape - hand.gb);
  for (std::int64_t k = 0; k < D; ++k)
    max_grad_diff = std::max(max_grad_diff, std::abs(gw_tape[k] - hand.gw[k]));

  const int reps = 200;
  // Interleave the two so both see the same machine load.
  Timing t_tape{1e300, 0}, t_hand{1e300, 0};
  std::vector<double> med_tape, med_hand;
  for (int round = 0; round < 5; ++round) {
    const Timing a = time_it(tape_step, reps, 3), b = time_it(hand_step, reps, 3);
    t_tape.best_ns = std::min(t_tape.best_ns, a.best_ns);
    t_hand.best_ns = std::min(t_hand.best_ns, b.best_ns);
    med_tape.push_back(a.median_ns);
    med_hand.push_back(b.median_ns);
  }
  std::sort(med_tape.begin(), med_tape.end());
  std::sort(med_hand.begin(), med_hand.end());
  t_tape.median_ns = med_tape[med_tape.size() / 2];
  t_hand.median_ns = med_hand[med_hand.size() / 2];
  return {{"N", d.X.shape()[0]},
          {"D", D},
          {"log_lik", lp_tape},
          {"log_lik_hand", lp_hand},
          {"max_abs_grad_difference", max_grad_diff},
          {"tape_nodes", tape.num_nodes()},
          {"tape_us_best", t_tape.best_ns / 1e3},
          {"tape_us_median", t_tape.median_ns / 1e3},
          {"hand_us_best", t_hand.best_ns / 1e3},
          {"hand_us_median", t_hand.median_ns / 1e3},
          {"ratio_best", t_tape.best_ns / t_hand.best_ns},
          {"ratio_median", t_tape.median_ns / t_hand.median_ns}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1]
                                    : std::string(VIREO_SHARED_DIR) +
                                          "/bench/data/logistic_regression.json";
  try {
    nlohmann::json out;
    out["chain"] = {chain_cost(1, 150, 20000, false), chain_cost(10000, 30, 200, false),
                    chain_cost(1, 150, 20000, true), chain_cost(10000, 30, 100, true)};
    out["m2_loglik_gradient"] = m2(path);
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "vireo_bench_ad: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
