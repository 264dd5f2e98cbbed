// vireo_bench_vae: M6 (../shared/bench/MODELS.md), the variational
// autoencoder on 1797 binarised 8×8 digits, through the embedding API as a
// host would run it (examples/vae.vireo, ../shared/bench/data/digits.json):
// Adam lr 1e-3, batches of 128 as shuffled epochs, 50 epochs (702 steps),
// under Trace_ELBO and TraceMeanField_ELBO, each with and without linear KL
// annealing over the first 10 epochs (141 steps). Per run: the full-data
// ELBO per digit (Fit::evaluate, 20 draws over all 1797 digits after
// training), the KL per digit, the active latent units (variance over the
// digits of E_q[z] > 0.01), the non-finite steps, µs per step (this
// thread's CPU time) and the resident memory after 100 steps and after the
// last (a step's allocations must not grow with the number of steps).
// Beside them: the same step written by hand in Eigen (encoder, reparameterised
// draw, decoder, the ELBO's gradient by hand, Adam) — the limit — and
// Pyro 1.8.6's figures from ../shared/bench/ANCHORS.md.
//   vireo_bench_vae [--quick] [--seeds K]
// --quick: 5 epochs, one seed (smoke run).
#include "vireo/vireo.hpp"

#include "bench_common.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace vireo::bench;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Resident memory in kB (VmRSS of /proc/self/status).
long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Config {
  std::string name;
  vireo::Elbo elbo;
  long anneal;
  double pyro;  // ANCHORS.md: Pyro's full-data ELBO per digit after 50 epochs
};

nlohmann::json run_vireo(const vireo::Model& model, const vireo::Data& data, const Config& c, long steps,
                         std::uint64_t seed, double n) {
  vireo::FitOptions o;
  o.elbo = c.elbo;
  o.lr = 1e-3;
  o.kl_anneal = c.anneal;
  o.seed = seed;
  vireo::Fit fit(model, data, o);
  long rss_early = 0, rss_late = 0;
  const double t0 = cpu_seconds();
  // run_while ends on the mean of the last 10% of iterates (the default
  // averaging), as `vireo run` does.
  fit.run_while(steps, [&](long k, long, double) {
    if (k == 100) rss_early = rss_kb();
    if (k == steps) rss_late = rss_kb();
    return true;
  });
  const double us = 1e6 * (cpu_seconds() - t0) / static_cast<double>(steps);
  vireo::Evaluation e = fit.evaluate(20);
  long active = 0, units = 0;
  for (const auto& u : e.units) {
    active += u.active;
    units += static_cast<long>(u.variance.size());
  }
  return {{"config", c.name},
          {"seed", seed},
          {"steps", steps},
          {"elbo_per_digit", e.elbo / n},
          {"elbo_per_digit_se", e.elbo_se / n},
          {"kl_per_digit", e.kl / n},
          {"log_likelihood_per_digit", e.log_likelihood / n},
          {"active_units", active},
          {"latent_units", units},
          {"nonfinite_steps", fit.rejected_steps()},
          {"us_per_step", us},
          {"rss_kb_after_100_steps", rss_early},
          {"rss_kb_at_last_step", rss_late},
          {"pyro_elbo_per_digit", c.pyro}};
}

// The same step by hand: the limit an interpreter with a tape can approach.
// One shuffled-epoch batch of B digits, ε ~ N(0, I), z = μ + exp(ls) ε,
// the ELBO (N/B)·Σ [log p(x|z) + log p(z) − log q(z)] and its gradient by the
// chain rule, then Adam on the eight arrays.
struct HandVae {
  static constexpr int P = 64, H = 64, L = 8;
  const RowMat& X;
  int N, B;
  std::mt19937_64 rng;
  std::vector<int> perm;
  long step_no = 0;
  // ew1 [P,H] eb1 [H] ew2 [H,2L] eb2 [2L] dw1 [L,H] db1 [H] dw2 [H,P] db2 [P]
  std::vector<RowMat> w, g, m, v;
  RowMat x, h1, o, eps, z, a2, h2, logits, dl, dh2, dz, dout, dh1;

  HandVae(const RowMat& data, int batch, std::uint64_t seed) : X(data), N(static_cast<int>(data.rows())), B(batch), rng(seed) {
    std::normal_distribution<double> nd;
    auto init = [&](int r, int c, double sd) {
      RowMat a(r, c);
      for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = sd * nd(rng);
      return a;
    };
    w = {init(P, H, std::sqrt(2.0 / P)), RowMat::Zero(1, H), init(H, 2 * L, 0.01), RowMat::Zero(1, 2 * L),
         init(L, H, std::sqrt(2.0 / L)),  RowMat::Zero(1, H), init(H, P, std::sqrt(1.0 / H)), RowMat::Zero(1, P)};
    for (const RowMat& a : w) {
      g.push_back(RowMat::Zero(a.rows(), a.cols()));
      m.push_back(RowMat::Zero(a.rows(), a.cols()));
      v.push_back(RowMat::Zero(a.rows(), a.cols()));
    }
    perm.resize(static_cast<std::size_t>(N));
    std::iota(perm.begin(), perm.end(), 0);
    x.resize(B, P);
    eps.resize(B, L);
  }

  double step() {
    const double s = static_cast<double>(N) / B;
    for (int r = 0; r < B; ++r) {
      const long pos = (step_no * B + r) % N;
      if (pos == 0) std::shuffle(perm.begin(), perm.end(), rng);
      x.row(r) = X.row(perm[static_cast<std::size_t>(pos)]);
    }
    std::normal_distribution<double> nd;
    for (Eigen::Index i = 0; i < eps.size(); ++i) eps.data()[i] = nd(rng);
    // forward
    h1.noalias() = x * w[0];
    h1.rowwise() += w[1].row(0);
    h1 = h1.cwiseMax(0.0);
    o.noalias() = h1 * w[2];
    o.rowwise() += w[3].row(0);
    auto mu = o.leftCols(L);
    auto ls = o.rightCols(L);
    z = mu.array() + ls.array().exp() * eps.array();
    a2.noalias() = z * w[4];
    a2.rowwise() += w[5].row(0);
    h2 = a2.cwiseMax(0.0);
    logits.noalias() = h2 * w[6];
    logits.rowwise() += w[7].row(0);
    const double c = 0.5 * std::log(2 * M_PI);
    const auto sp = (logits.array().max(0.0) + (-logits.array().abs()).exp().log1p());
    const double loglik = (x.array() * logits.array() - sp).sum();
    const double logpz = (-0.5 * z.array().square() - c).sum();
    const double logq = (-0.5 * eps.array().square() - ls.array() - c).sum();
    const double elbo = s * (loglik + logpz - logq);
    // backward (of the ELBO; Adam then ascends it)
    dl = s * (x.array() - 1.0 / (1.0 + (-logits.array()).exp()));
    g[6].noalias() = h2.transpose() * dl;
    g[7] = dl.colwise().sum();
    dh2.noalias() = dl * w[6].transpose();
    dh2 = (a2.array() > 0).select(dh2, 0.0);
    g[4].noalias() = z.transpose() * dh2;
    g[5] = dh2.colwise().sum();
    dz.noalias() = dh2 * w[4].transpose();
    dz -= s * z;
    dout.resize(B, 2 * L);
    dout.leftCols(L) = dz;
    dout.rightCols(L) = dz.array() * (z - mu).array() + s;  // exp(ls) ε = z − μ; −log q adds +1 per ls
    g[2].noalias() = h1.transpose() * dout;
    g[3] = dout.colwise().sum();
    dh1.noalias() = dout * w[2].transpose();
    dh1 = (h1.array() > 0).select(dh1, 0.0);
    g[0].noalias() = x.transpose() * dh1;
    g[1] = dh1.colwise().sum();
    // Adam (ascent), lr 1e-3, β 0.9, 0.999
    ++step_no;
    const double b1 = 0.9, b2 = 0.999, lr = 1e-3;
    const double c1 = 1 - std::pow(b1, static_cast<double>(step_no)), c2 = 1 - std::pow(b2, static_cast<double>(step_no));
    for (std::size_t k = 0; k < w.size(); ++k) {
      m[k] = b1 * m[k] + (1 - b1) * g[k];
      v[k] = b2 * v[k] + (1 - b2) * g[k].cwiseProduct(g[k]);
      w[k].array() += lr * (m[k].array() / c1) / ((v[k].array() / c2).sqrt() + 1e-8);
    }
    return elbo;
  }
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int seeds = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = std::atoi(argv[++i]);
  }
  if (quick) seeds = 1;
  const std::string data_path = shared + "digits.json";
  vireo::Model model = vireo::Model::from_file(examples + "vae.vireo");
  vireo::Data data = vireo::Data::from_json_file(model, data_path);
  const nlohmann::json raw = read_json(data_path);
  const int N = raw["N"].get<int>(), P = raw["P"].get<int>(), B = 128;
  RowMat X(N, P);
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < P; ++c) X(r, c) = raw["x"][static_cast<std::size_t>(r)][static_cast<std::size_t>(c)].get<double>();
  const long epochs = quick ? 5 : 50;
  const long steps = (epochs * N + B - 1) / B;     // 702 for 50 epochs
  const long anneal = (10 * N + B - 1) / B;        // 10 epochs: 141 steps
  const std::vector<Config> configs = {{"Trace_ELBO", vireo::Elbo::Trace, 0, -20.92},
                                       {"TraceMeanField_ELBO", vireo::Elbo::MeanField, 0, -20.44},
                                       {"Trace_ELBO + KL annealing", vireo::Elbo::Trace, anneal, -21.06},
                                       {"TraceMeanField_ELBO + KL annealing", vireo::Elbo::MeanField, anneal, -20.79}};
  nlohmann::json runs = nlohmann::json::array();
  nlohmann::json by_config = nlohmann::json::object();
  double vireo_us = 0;
  long vireo_runs = 0;
  for (const Config& c : configs) {
    double sum = 0, kl = 0, us = 0;
    long worst_active = 1 << 30, nonfinite = 0;
    for (int s = 1; s <= seeds; ++s) {
      nlohmann::json r = run_vireo(model, data, c, steps, static_cast<std::uint64_t>(s), N);
      sum += r["elbo_per_digit"].get<double>() / seeds;
      kl += r["kl_per_digit"].get<double>() / seeds;
      us += r["us_per_step"].get<double>() / seeds;
      worst_active = std::min(worst_active, r["active_units"].get<long>());
      nonfinite += r["nonfinite_steps"].get<long>();
      runs.push_back(r);
    }
    vireo_us += us;
    ++vireo_runs;
    by_config[c.name] = {{"elbo_per_digit_mean", sum},
                         {"pyro_elbo_per_digit", c.pyro},
                         {"at_least_pyro", sum >= c.pyro},
                         {"kl_per_digit_mean", kl},
                         {"fewest_active_units", worst_active},
                         {"nonfinite_steps", nonfinite},
                         {"us_per_step_mean", us}};
  }
  // The hand-written limit: the same number of steps, three times, the best.
  double hand_us = INFINITY;
  double hand_elbo = 0;
  for (int rep = 0; rep < 3; ++rep) {
    HandVae h(X, B, 7 + rep);
    const double t0 = cpu_seconds();
    double last = 0;
    for (long i = 0; i < steps; ++i) last = h.step();
    hand_us = std::min(hand_us, 1e6 * (cpu_seconds() - t0) / static_cast<double>(steps));
    hand_elbo = last / N;
  }
  const double mean_us = vireo_us / static_cast<double>(std::max<long>(vireo_runs, 1));
  nlohmann::json out = {{"benchmark", "M6 variational autoencoder (digits, N = 1797, P = 64, batch 128)"},
                        {"epochs", epochs},
                        {"steps", steps},
                        {"seeds", seeds},
                        {"load_average", load_average()},
                        {"configs", by_config},
                        {"runs", runs},
                        {"hand_written_eigen", {{"us_per_step", hand_us}, {"last_batch_elbo_per_digit", hand_elbo}}},
                        {"vireo_us_per_step_mean", mean_us},
                        {"ratio_to_hand_written", mean_us / hand_us},
                        {"pyro_ms_per_step", "4.7-5.9 (Pyro 1.8.6, ANCHORS.md)"},
                        {"speedup_over_pyro_at_4.7ms", 4700.0 / mean_us}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
