// vireo_bench_api: M1, M2 and M4 (../shared/bench/MODELS.md) run through the
// embedding API only (include/vireo), as a host program would run them.
// Prints one JSON object: per fit, µs per step (this thread's CPU time: the
// machine is shared), the running ELBO and the ELBO of the final guide from
// fresh draws; for M4 the exact ELBO of the fitted Gaussian, its gap to the
// exact log Z and the errors of its means and sds against the truth files.
//   vireo_bench_api [--quick] [--only M1|M2|M4|M5|none] [--compare-defaults] [--mvn-d1000-steps N]
// --quick: a tenth of the steps and ELBO draws (smoke run, profiling).
// --only: that model alone (none: only what --compare-defaults runs). --compare-defaults: also M1, M2
// and M5 under the schedule M4 needs (clipped_adam, lr 0.01, lrd 0.999,
// init_scale 1) and under each half of it, beside their MODELS.md
// schedules, to judge it as a default.
// M2 runs beside the limit (issue 18): its whole SVI step written by hand in
// Eigen (HandM2), the two timed in alternating batches; its check that the
// hand-written step is the same step, and Stan's and Pyro's figures beside.
#include "vireo/eigen.hpp"
#include "vireo/vireo.hpp"

// The hand-written step draws its noise as Fit::step does, from Vireo's own
// generator and sampler, so that the two can be compared draw for draw.
#include "runtime/rng/samplers.hpp"

#include "bench_common.hpp"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace vireo::bench;

// Runs `steps` steps in 20 batches. µs per step: the mean over the whole run
// and the best batch (the least disturbed by other processes).
nlohmann::json train(vireo::Fit& fit, long steps) {
  const long batches = std::min<long>(20, std::max<long>(1, steps));
  std::vector<double> per;
  double total = 0;
  long done = 0;
  for (long b = 0; b < batches; ++b) {
    const long n = steps * (b + 1) / batches - done;
    const double t0 = cpu_seconds();
    for (long i = 0; i < n; ++i) fit.step();
    const double t = cpu_seconds() - t0;
    total += t;
    done += n;
    if (n > 0) per.push_back(1e6 * t / static_cast<double>(n));
  }
  std::sort(per.begin(), per.end());
  return {{"steps", steps},
          {"us_per_step", 1e6 * total / static_cast<double>(std::max<long>(steps, 1))},
          {"us_per_step_best_batch", per.empty() ? NAN : per.front()},
          {"rejected_steps", fit.rejected_steps()},
          {"running_elbo", fit.running_elbo()}};
}

// The ELBO of the current guide from `draws` fresh executions, mean and
// standard error. The API has no such call: Fit::trace() gives one
// execution, drawn from a generator derived from (seed, steps taken). So
// each draw reloads the fit's own parameters with another step count in the
// file: the same guide, a fresh generator. The optimizer state is left out
// of the file (trace() does not read it), which keeps reloads cheap, and so
// is the running ELBO's record.
// Finally the fit's own state is restored.
std::pair<double, double> fresh_elbo(vireo::Fit& fit, int draws) {
  const std::string original = fit.params_json();
  nlohmann::json j = nlohmann::json::parse(original);
  j["optimizer"].erase("optimizer");
  j["optimizer"].erase("running_elbo");  // its record must end at the step count, which each draw moves
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("vireo_bench_api_" + std::to_string(::getpid()) + ".json");
  std::vector<double> v;
  for (int i = 0; i < draws; ++i) {
    j["optimizer"]["steps"] = 1000000000L + i;
    std::ofstream(path) << j.dump();
    fit.load_params(path.string());
    v.push_back(fit.trace().elbo);
  }
  std::ofstream(path) << original;
  fit.load_params(path.string());
  std::filesystem::remove(path);
  double m = 0, s2 = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  for (double x : v) s2 += (x - m) * (x - m) / static_cast<double>(v.size() - 1);
  return {m, std::sqrt(s2 / static_cast<double>(v.size()))};
}

nlohmann::json elbo_json(vireo::Fit& fit, int draws) {
  if (draws < 2) return nullptr;
  const auto [m, se] = fresh_elbo(fit, draws);
  return {{"mean", m}, {"se", se}, {"draws", draws}};
}

struct Schedule {
  std::string guide = "auto_normal";
  std::string optim = "adam";
  double lr = 0.01, lrd = 1, init_scale = 0.1;
  long steps = 1000;
  int elbo_draws = 2000;
  std::string estimator = "standard";
  long evidence_draws = 0;  // > 0: the importance-sampling evidence with the guide as proposal
};

vireo::FitOptions options(const Schedule& s) {
  vireo::FitOptions o;
  o.guide = vireo::parse_guide(s.guide);
  o.optim = vireo::parse_optimizer(s.optim);
  o.lr = s.lr;
  o.lrd = s.lrd;
  o.init_scale = s.init_scale;
  o.estimator = vireo::parse_estimator(s.estimator);
  o.seed = 1;
  return o;
}

nlohmann::json schedule_json(const Schedule& s) {
  nlohmann::json j = {{"guide", s.guide}, {"optim", s.optim}, {"lr", s.lr}, {"init_scale", s.init_scale}};
  if (s.lrd != 1) j["lrd"] = s.lrd;
  if (s.estimator != "standard") j["estimator"] = s.estimator;
  return j;
}

nlohmann::json evidence_json(vireo::Fit& fit, long draws) {
  if (draws < 1) return nullptr;
  const vireo::Evidence e = fit.evidence(draws);
  return {{"log_z", e.log_z}, {"se", e.se}, {"ess", e.ess}, {"khat", e.khat}, {"khat_threshold", e.khat_threshold},
          {"reliable", e.reliable}, {"draws", e.draws}};
}

nlohmann::json run_model(const vireo::Model& model, const vireo::Data& data, const Schedule& s) {
  vireo::Fit fit(model, data, options(s));
  nlohmann::json out = schedule_json(s);
  out.update(train(fit, s.steps));
  out["elbo"] = elbo_json(fit, s.elbo_draws);
  out["evidence"] = evidence_json(fit, s.evidence_draws);
  return out;
}

// ---- M4: the exact ELBO of the fitted Gaussian and its errors ----

struct M4 {
  Eigen::MatrixXd x;
  Eigen::VectorXd y, post_mean, post_sd;
  double log_z = 0;
};

M4 read_m4(const std::string& stem) {
  const nlohmann::json j = read_json(stem + ".json"), t = read_json(stem + "_truth.json");
  const int n = j.at("N"), d = j.at("D");
  M4 m;
  m.x.resize(n, d);
  m.y.resize(n);
  for (int i = 0; i < n; ++i) {
    m.y[i] = j.at("y").at(i);
    for (int k = 0; k < d; ++k) m.x(i, k) = j.at("X").at(i).at(k);
  }
  m.post_mean.resize(d);
  m.post_sd.resize(d);
  for (int k = 0; k < d; ++k) {
    m.post_mean[k] = t.at("post_mean").at(k);
    m.post_sd[k] = t.at("post_sd").at(k);
  }
  m.log_z = t.at("log_marginal_likelihood");
  return m;
}

double softplus(double x) { return x > 20 ? x : std::log1p(std::exp(x)); }

Eigen::VectorXd vec(const vireo::Array& a) {
  return Eigen::Map<const Eigen::VectorXd>(a.values.data(), static_cast<Eigen::Index>(a.values.size()));
}

// q = N(mean, L Lᵀ) over beta, read from Fit::parameters() (the guides'
// parameters as auto_guide.cpp and auto_vector.hpp name them).
struct Gaussian {
  Eigen::VectorXd mean;
  Eigen::MatrixXd tril;  // L; diagonal for auto_normal
};

Gaussian fitted_gaussian(const vireo::Fit& fit, const std::string& guide) {
  const auto p = fit.parameters();
  Gaussian q;
  if (guide == "auto_normal") {
    q.mean = vec(p.at("auto.loc.beta"));
    q.tril = vec(p.at("auto.scale.beta")).unaryExpr(&softplus).asDiagonal();
  } else if (guide == "auto_mvn") {
    q.mean = vec(p.at("auto_mvn.loc"));
    const Eigen::VectorXd s = vec(p.at("auto_mvn.scale")).unaryExpr(&softplus);
    const auto& w = p.at("auto_mvn.scale_tril").values;
    const Eigen::Index d = s.size();
    q.tril = Eigen::MatrixXd::Zero(d, d);
    for (Eigen::Index i = 0; i < d; ++i) {
      q.tril(i, i) = s[i];
      for (Eigen::Index k = 0; k < i; ++k) q.tril(i, k) = s[i] * w[static_cast<std::size_t>(i * d + k)];
    }
  } else {
    throw std::runtime_error("no M4 moments for guide " + guide);
  }
  return q;
}

// ELBO of q = N(m, L Lᵀ) for y ~ N(X β, I), β ~ N(0, I), in closed form:
//   E log p(y|β) = −N/2 log 2π − ½(‖y − X m‖² + ‖X L‖²_F)
//   E log p(β)   = −D/2 log 2π − ½(‖m‖² + ‖L‖²_F)
//   H(q)         =  D/2 (1 + log 2π) + Σ log L_ii
// Its gap to log Z is KL(q ‖ posterior).
double exact_elbo(const M4& m, const Gaussian& q) {
  const double log_2pi = std::log(2 * M_PI);
  const double n = static_cast<double>(m.x.rows()), d = static_cast<double>(m.x.cols());
  const Eigen::MatrixXd xl = m.x * q.tril;
  const double lik = -0.5 * n * log_2pi - 0.5 * ((m.y - m.x * q.mean).squaredNorm() + xl.squaredNorm());
  const double prior = -0.5 * d * log_2pi - 0.5 * (q.mean.squaredNorm() + q.tril.squaredNorm());
  const double entropy = 0.5 * d * (1 + log_2pi) + q.tril.diagonal().array().log().sum();
  return lik + prior + entropy;
}

nlohmann::json run_m4(const vireo::Model& model, const vireo::Data& data, const M4& truth, const Schedule& s) {
  vireo::Fit fit(model, data, options(s));
  nlohmann::json out = schedule_json(s);
  out.update(train(fit, s.steps));
  const Gaussian q = fitted_gaussian(fit, s.guide);
  const Eigen::VectorXd sd = q.tril.rowwise().norm();
  const double elbo = exact_elbo(truth, q);
  out["elbo_exact"] = elbo;
  out["log_z"] = truth.log_z;
  out["gap_to_log_z"] = truth.log_z - elbo;
  out["max_abs_mean_err_over_post_sd"] = ((q.mean - truth.post_mean).array() / truth.post_sd.array()).abs().maxCoeff();
  out["max_abs_sd_ratio_minus_1"] = (sd.array() / truth.post_sd.array() - 1).abs().maxCoeff();
  out["elbo"] = elbo_json(fit, s.elbo_draws);
  out["evidence"] = evidence_json(fit, s.evidence_draws);
  if (s.evidence_draws > 0) out["evidence"]["error"] = out["evidence"]["log_z"].get<double>() - truth.log_z;
  return out;
}

// ---- M2 beside the limit: the whole step written by hand ----

// The generator of step k of a fit seeded `seed`: runtime/api/fit.cpp's
// derived(seed, Purpose::Step, k), copied (a fit's step generator is not
// part of the API). Were the two to part, the check below would say so.
vireo::rng::Generator step_generator(std::uint64_t seed, std::uint64_t k) {
  std::uint64_t s = seed;
  s = vireo::rng::splitmix64(s) ^ (1 * 0x9E3779B97F4A7C15ULL);
  s = vireo::rng::splitmix64(s) ^ k;
  return vireo::rng::Generator(vireo::rng::splitmix64(s));
}

// M2's whole SVI step as Fit::step takes it with auto_normal, Trace_ELBO
// (standard estimator, one particle) and Adam (lr 0.01), written by hand for
// this one model: the limit an interpreter with a tape can approach.
// θ = (w, b), D + 1 numbers, each with a guide loc and an unconstrained scale
// s (σ = softplus(s), auto_guide.cpp):
//   ε ~ N(0, I) (w's D draws, then b's, from the step's generator)
//   θ = loc + σ ε,  l = X w + b
//   ELBO = Σ_n [y_n l_n − softplus(l_n)]               log-likelihood
//        + Σ_j log N(θ_j; 0, sd_j)  (sd 1 for w, 5 for b)   priors
//        − Σ_j log N(θ_j; loc_j, σ_j)                      log q
// Gradient (Trace_ELBO differentiates log q through θ and directly; for the
// loc the two cancel, for σ they leave 1/σ, the entropy's gradient):
//   g_θ = [Xᵀ(y − sigmoid(l)); Σ(y − sigmoid(l))] − θ / sd²
//   ∂ELBO/∂loc = g_θ,   ∂ELBO/∂s = (g_θ ε + 1/σ) sigmoid(s)
// then Adam on the loss −ELBO, as runtime/optim/optimizer.cpp computes it.
struct HandM2 {
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMat& X;
  const Eigen::ArrayXd& y;
  std::uint64_t seed;
  long k = 0;                          // steps taken: the generator's counter
  Eigen::ArrayXd loc, s;               // D + 1 each, b last
  Eigen::ArrayXd m_loc, v_loc, m_s, v_s;
  long adam_t = 0;
  Eigen::ArrayXd inv_var, log_sd;      // the priors
  Eigen::ArrayXd eps, e, sigma, sig_s, theta, g, g_loc, g_s;
  Eigen::ArrayXd l, el, r;
  Eigen::VectorXd gw;
  static constexpr double lr = 0.01, beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;

  HandM2(const RowMat& x, const Eigen::ArrayXd& yy, std::uint64_t sd) : X(x), y(yy), seed(sd) {
    const Eigen::Index D = X.cols();
    inv_var = Eigen::ArrayXd::Ones(D + 1);
    inv_var[D] = 1.0 / 25;
    log_sd = Eigen::ArrayXd::Zero(D + 1);
    log_sd[D] = std::log(5.0);
    for (Eigen::ArrayXd* a : {&loc, &s, &m_loc, &v_loc, &m_s, &v_s}) a->setZero(D + 1);
  }

  // One step; returns its ELBO estimate.
  double step() {
    const Eigen::Index D = X.cols();
    const double half_log_2pi = 0.5 * std::log(2 * M_PI);
    vireo::rng::Generator gen = step_generator(seed, static_cast<std::uint64_t>(k));
    eps.resize(D + 1);
    for (Eigen::Index j = 0; j <= D; ++j) eps[j] = vireo::rng::standard_normal(gen);
    // σ = softplus(s) and sigmoid(s), from one exp(−|s|).
    e = (-s.abs()).exp();
    sigma = s.max(0.0) + e.log1p();
    sig_s = (e + (1.0 - e) * (0.5 + 0.5 * s.sign())) / (1.0 + e);
    theta = loc + sigma * eps;
    // The likelihood: one gemv forward, one exp and one log per datum, one gemv back.
    l.matrix().noalias() = X * theta.head(D).matrix();
    l += theta[D];
    el = (-l.abs()).exp();
    // log1p(e) vectorised as bench_ad.cpp and runtime/ad/elementwise.cpp take
    // it (Eigen's log1p is scalar): log(u) corrected for u = 1 + e's rounding.
    const double loglik = (y * l - (l.max(0.0) + ((1.0 + el).log() - (((1.0 + el) - 1.0) - el) / (1.0 + el)))).sum();
    r = y - (el + (1.0 - el) * (0.5 + 0.5 * l.sign())) / (1.0 + el);
    gw.noalias() = X.transpose() * r.matrix();
    g.resize(D + 1);
    g.head(D) = gw.array();
    g[D] = r.sum();
    // The priors and log q.
    const double logprior = (-0.5 * theta.square() * inv_var - log_sd).sum() - static_cast<double>(D + 1) * half_log_2pi;
    const double logq = (-0.5 * eps.square() - sigma.log()).sum() - static_cast<double>(D + 1) * half_log_2pi;
    g -= theta * inv_var;
    // The loss −ELBO's gradient, then Adam.
    g_loc = -g;
    g_s = -(g * eps + sigma.inverse()) * sig_s;
    ++adam_t;
    const double bc1 = 1 - std::pow(beta1, static_cast<double>(adam_t));
    const double bc2 = 1 - std::pow(beta2, static_cast<double>(adam_t));
    adam(loc, m_loc, v_loc, g_loc, bc1, bc2);
    adam(s, m_s, v_s, g_s, bc1, bc2);
    ++k;
    return loglik + logprior - logq;
  }

  static void adam(Eigen::ArrayXd& x, Eigen::ArrayXd& m, Eigen::ArrayXd& v, const Eigen::ArrayXd& grad, double bc1,
                   double bc2) {
    m = beta1 * m + (1 - beta1) * grad;
    v = beta2 * v + (1 - beta2) * grad.square();
    x -= (lr / bc1) * m / (v.sqrt() / std::sqrt(bc2) + adam_eps);
  }

  // The ELBO of the current guide from `draws` fresh draws (mean and
  // standard error), the forward half of step() without an update.
  std::pair<double, double> fresh_elbo(int draws) const {
    const Eigen::Index D = X.cols();
    vireo::rng::Generator gen(0xe1b0);
    const Eigen::ArrayXd sd = s.max(0.0) + (-s.abs()).exp().log1p();
    Eigen::ArrayXd z(D + 1), t(D + 1), lin(X.rows());
    std::vector<double> v;
    for (int i = 0; i < draws; ++i) {
      for (Eigen::Index j = 0; j <= D; ++j) z[j] = vireo::rng::standard_normal(gen);
      t = loc + sd * z;
      lin.matrix().noalias() = X * t.head(D).matrix();
      lin += t[D];
      const double loglik = (y * lin - (lin.max(0.0) + (-lin.abs()).exp().log1p())).sum();
      const double logprior = (-0.5 * t.square() * inv_var - log_sd).sum();
      const double logq = (-0.5 * z.square() - sd.log()).sum();
      v.push_back(loglik + logprior - logq);  // the ±(D + 1)·½log 2π cancel
    }
    double mean = 0, s2 = 0;
    for (double x : v) mean += x / static_cast<double>(v.size());
    for (double x : v) s2 += (x - mean) * (x - mean) / static_cast<double>(v.size() - 1);
    return {mean, std::sqrt(s2 / static_cast<double>(v.size()))};
  }
};

// The guide's parameters and Adam's state of a fit, into the hand-written step.
void copy_state(const vireo::Fit& fit, HandM2& h) {
  const Eigen::Index D = h.X.cols();
  const auto p = fit.parameters();
  const nlohmann::json j = nlohmann::json::parse(fit.params_json());
  const nlohmann::json& slots = j.at("optimizer").at("optimizer").at("slots");
  auto put = [&](const std::string& name, Eigen::ArrayXd& x, Eigen::ArrayXd& m, Eigen::ArrayXd& v, Eigen::Index at) {
    const auto& val = p.at(name).values;
    const auto mm = slots.at(name).at("m").get<std::vector<double>>(), vv = slots.at(name).at("v").get<std::vector<double>>();
    for (std::size_t i = 0; i < val.size(); ++i) {
      x[at + static_cast<Eigen::Index>(i)] = val[i];
      m[at + static_cast<Eigen::Index>(i)] = mm[i];
      v[at + static_cast<Eigen::Index>(i)] = vv[i];
    }
    h.adam_t = slots.at(name).at("step").get<long>();
  };
  put("auto.loc.w", h.loc, h.m_loc, h.v_loc, 0);
  put("auto.loc.b", h.loc, h.m_loc, h.v_loc, D);
  put("auto.scale.w", h.s, h.m_s, h.v_s, 0);
  put("auto.scale.b", h.s, h.m_s, h.v_s, D);
  h.k = fit.steps_taken();
}

// The largest |difference| between the fit's guide parameters and the hand-written step's.
double max_param_difference(const vireo::Fit& fit, const HandM2& h) {
  const Eigen::Index D = h.X.cols();
  const auto p = fit.parameters();
  double d = 0;
  auto cmp = [&](const std::string& name, const Eigen::ArrayXd& x, Eigen::Index at) {
    const auto& val = p.at(name).values;
    for (std::size_t i = 0; i < val.size(); ++i) d = std::max(d, std::abs(val[i] - x[at + static_cast<Eigen::Index>(i)]));
  };
  cmp("auto.loc.w", h.loc, 0);
  cmp("auto.loc.b", h.loc, D);
  cmp("auto.scale.w", h.s, 0);
  cmp("auto.scale.b", h.s, D);
  return d;
}

// M2 (AutoNormal, Adam 0.01, `steps` steps) through the API, beside HandM2.
// Step 0 runs on the fit alone (it creates the parameters, drawing their
// initial values from the step's generator); its parameters and Adam state
// are copied into the hand-written step. The next `tracked` steps run on
// both with the same noise, comparing their ELBOs and, at the end, their
// parameters: the check that the two take the same step. The remaining steps
// run in batches, the fit's and the hand-written step's alternating (which
// goes first alternates too), each timed in this thread's CPU time; the
// figures are µs per step of the best batch and the median batch, and their
// ratios. Both keep using the same generator keys to the end, so their final
// ELBOs (running, and from fresh draws) should agree within Monte Carlo error.
nlohmann::json run_m2(const vireo::Model& model, const vireo::Data& data, const Schedule& sched) {
  const nlohmann::json raw = read_json(shared + "logistic_regression.json");
  const int N = raw.at("N"), D = raw.at("D");
  HandM2::RowMat X(N, D);
  Eigen::ArrayXd y(N);
  for (int n = 0; n < N; ++n) {
    const auto row = static_cast<std::size_t>(n);
    y[n] = raw.at("y").at(row).get<double>();
    for (int d = 0; d < D; ++d) X(n, d) = raw.at("X").at(row).at(static_cast<std::size_t>(d)).get<double>();
  }
  const vireo::FitOptions o = options(sched);
  vireo::Fit fit(model, data, o);
  HandM2 hand(X, y, o.seed);

  fit.step();
  copy_state(fit, hand);
  const long tracked = std::min<long>(20, sched.steps - 1);
  double max_elbo_diff = 0;
  std::vector<double> hand_elbos;
  for (long i = 0; i < tracked; ++i) {
    const double a = fit.step(), b = hand.step();
    hand_elbos.push_back(b);
    max_elbo_diff = std::max(max_elbo_diff, std::abs(a - b));
  }
  const double param_diff = max_param_difference(fit, hand);

  const long rest = sched.steps - 1 - tracked;
  const long batches = std::min<long>(40, std::max<long>(1, rest));
  std::vector<double> per_fit, per_hand;
  double fit_total = 0;
  long done = 0;
  for (long bt = 0; bt < batches; ++bt) {
    const long n = rest * (bt + 1) / batches - done;
    done += n;
    if (n == 0) continue;
    auto time_fit = [&] {
      const double t0 = cpu_seconds();
      for (long i = 0; i < n; ++i) fit.step();
      const double t = cpu_seconds() - t0;
      fit_total += t;
      per_fit.push_back(1e6 * t / static_cast<double>(n));
    };
    auto time_hand = [&] {
      const double t0 = cpu_seconds();
      for (long i = 0; i < n; ++i) hand_elbos.push_back(hand.step());
      per_hand.push_back(1e6 * (cpu_seconds() - t0) / static_cast<double>(n));
    };
    if (bt % 2 == 0) {
      time_fit();
      time_hand();
    } else {
      time_hand();
      time_fit();
    }
  }
  auto best = [](std::vector<double> v) { return v.empty() ? NAN : *std::min_element(v.begin(), v.end()); };
  auto median = [](std::vector<double> v) {
    if (v.empty()) return static_cast<double>(NAN);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  // The running ELBO as Fit::running_elbo defines it: the mean of the last
  // tenth of all the steps' ELBOs (the hand-written step's list lacks step 0,
  // which no tenth of 2000 steps reaches).
  const long window = std::max<long>(1, sched.steps / 10);
  double hand_running = 0;
  const long from = std::max<long>(0, static_cast<long>(hand_elbos.size()) - window);
  for (std::size_t i = static_cast<std::size_t>(from); i < hand_elbos.size(); ++i)
    hand_running += hand_elbos[i] / static_cast<double>(hand_elbos.size() - static_cast<std::size_t>(from));

  nlohmann::json out = schedule_json(sched);
  out["steps"] = sched.steps;
  out["timed_steps"] = rest;
  out["timed_batches"] = per_fit.size();
  out["us_per_step"] = 1e6 * fit_total / static_cast<double>(std::max<long>(rest, 1));
  out["us_per_step_best_batch"] = best(per_fit);
  out["rejected_steps"] = fit.rejected_steps();
  out["running_elbo"] = fit.running_elbo();
  out["elbo"] = elbo_json(fit, sched.elbo_draws);
  const double vb = best(per_fit), vm = median(per_fit), hb = best(per_hand), hm = median(per_hand);
  nlohmann::json limit = {{"what", "the whole step by hand in Eigen: noise, reparameterised draw, priors, likelihood and "
                                   "its gradient, log q, Adam (bench_api.cpp, HandM2)"},
                          {"vireo_us_best", vb},
                          {"vireo_us_median", vm},
                          {"hand_us_best", hb},
                          {"hand_us_median", hm},
                          {"ratio_best", vb / hb},
                          {"ratio_median", vm / hm},
                          {"goal_ratio", 1.1}};
  const auto [hand_elbo, hand_se] = sched.elbo_draws >= 2 ? hand.fresh_elbo(sched.elbo_draws) : std::pair<double, double>{NAN, NAN};
  limit["check"] = {{"tracked_steps", tracked},
                    {"max_abs_elbo_difference_per_step", max_elbo_diff},
                    {"max_abs_param_difference_after_tracked_steps", param_diff},
                    {"max_abs_param_difference_at_end", max_param_difference(fit, hand)},
                    {"hand_running_elbo", hand_running},
                    {"hand_elbo", {{"mean", hand_elbo}, {"se", hand_se}, {"draws", sched.elbo_draws}}}};
  out["limit"] = limit;
  out["reference"] = {{"stan_advi_gradient_step_us", "465-504 (bernoulli_logit), 215-231 (bernoulli_logit_glm) (issue 18)"},
                      {"stan_advi_with_periodic_elbo_us", "571-619 (issue 18)"},
                      {"pyro_us", "3200 (Pyro 1.8.6, ANCHORS.md)"},
                      {"elbo_reference", "-1637.0 to -1637.4 (ANCHORS.md)"}};
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, compare = false;
  std::string only;
  long mvn_d1000_steps = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--compare-defaults") {
      compare = true;
    } else if (a == "--mvn-d1000-steps" && i + 1 < argc) {
      mvn_d1000_steps = std::atol(argv[++i]);
    } else {
      std::cerr << "usage: vireo_bench_api [--quick] [--only M1|M2|M4|M5|none] [--compare-defaults] [--mvn-d1000-steps N]\n";
      return 2;
    }
  }
  const long scale = quick ? 10 : 1;
  const auto wanted = [&](const char* name) { return only.empty() || only == name; };
  try {
    nlohmann::json out;
    out["load_average_at_start"] = load_average();
    const vireo::Model m1 = vireo::Model::from_file(examples + "eight_schools.vireo");
    const vireo::Data d1 = vireo::Data::from_json_file(m1, shared + "eight_schools.json");
    const vireo::Model m2 = vireo::Model::from_file(examples + "logistic_regression.vireo");
    const vireo::Data d2 = vireo::Data::from_json_file(m2, shared + "logistic_regression.json");

    // M1: eight schools, AutoNormal, Adam 0.01, 5000 steps.
    if (wanted("M1")) {
      Schedule s;
      s.steps = 5000 / scale;
      s.elbo_draws = 2000 / static_cast<int>(scale);
      s.evidence_draws = 10000 / scale;
      out["M1"] = run_model(m1, d1, s);
      out["M1"]["target_us_per_step"] = 5;
    }

    // M2: logistic regression N = 5000, D = 50, AutoNormal, Adam 0.01, 2000 steps.
    if (wanted("M2")) {
      Schedule s;
      s.steps = 2000 / scale;
      s.elbo_draws = 2000 / static_cast<int>(scale);
      out["M2"] = run_m2(m2, d2, s);
    }

    // M4: conjugate linear regression, d = 100 and 1000.
    const vireo::Model m4 = vireo::Model::from_string(linreg_model, "m4.vireo");
    for (const int d : {100, 1000}) {
      if (!wanted("M4")) break;
      const std::string stem = shared + "conjugate_linreg_d" + std::to_string(d);
      const M4 truth = read_m4(stem);
      const vireo::Data data = vireo::Data::from_json_file(m4, stem + ".json");
      std::vector<Schedule> runs;
      Schedule normal;  // MODELS.md: AutoNormal, Adam 0.01
      normal.steps = 5000 / scale;
      normal.elbo_draws = 1000 / static_cast<int>(scale);
      normal.evidence_draws = 10000 / scale;
      runs.push_back(normal);
      Schedule mvn = normal;  // AutoMultivariateNormal, Adam 0.01 (the reference systems' run)
      mvn.guide = "auto_mvn";
      // Each fresh draw reloads D² numbers: 500 at d = 100; none at d = 1000,
      // where elbo_exact is the figure.
      mvn.elbo_draws = d == 100 ? 500 / static_cast<int>(scale) : 0;
      mvn.evidence_draws = d == 100 ? 10000 / scale : 0;
      if (d == 1000) mvn.steps = mvn_d1000_steps / scale;
      runs.push_back(mvn);
      if (d == 100) {
        // The schedule test_m4 uses, without STL, then with it.
        Schedule decay = mvn;
        decay.optim = "clipped_adam";
        decay.lrd = 0.999;
        decay.init_scale = 1.0;
        decay.steps = 3000 / scale;
        runs.push_back(decay);
        Schedule stl = decay;  // the recipe that reaches log Z (README)
        stl.estimator = "stl";
        stl.steps = 2000 / scale;
        runs.push_back(stl);
      }
      nlohmann::json list = nlohmann::json::array();
      for (const Schedule& s : runs) list.push_back(run_m4(m4, data, truth, s));
      out["M4_d" + std::to_string(d)] = list;
    }

    // M5: horseshoe logistic regression, AutoNormal, Adam 0.01; its importance
    // weights are degenerate for every guide measured, which k̂ must say.
    if (wanted("M5")) {
      const vireo::Model m5 = vireo::Model::from_file(examples + "horseshoe_logistic.vireo");
      const vireo::Data d5 = vireo::Data::from_json_file(m5, shared + "horseshoe_logistic.json");
      Schedule s;
      s.steps = 5000 / scale;
      s.elbo_draws = 1000 / static_cast<int>(scale);
      s.evidence_draws = 10000 / scale;
      out["M5"] = run_model(m5, d5, s);
    }

    if (compare) {
      // M1, M2 and M5 (AutoNormal) under the schedule M4 needs, and under
      // each of its two changes alone, beside their MODELS.md schedule.
      const vireo::Model m5 = vireo::Model::from_file(examples + "horseshoe_logistic.vireo");
      const vireo::Data d5 = vireo::Data::from_json_file(m5, shared + "horseshoe_logistic.json");
      struct Case {
        const char* name;
        const vireo::Model& model;
        const vireo::Data& data;
        long steps;
      };
      struct Variant {
        const char* name;
        bool decay, wide;
      };
      nlohmann::json cmp;
      for (const Case& c : {Case{"M1", m1, d1, 5000}, Case{"M2", m2, d2, 2000}, Case{"M5", m5, d5, 5000}}) {
        for (const Variant& v : {Variant{"models_md", false, false}, Variant{"lrd_0.999", true, false},
                                 Variant{"init_scale_1", false, true}, Variant{"m4_schedule", true, true}}) {
          Schedule s;
          if (v.decay) {
            s.optim = "clipped_adam";
            s.lrd = 0.999;
          }
          if (v.wide) s.init_scale = 1.0;
          s.steps = c.steps / scale;
          s.elbo_draws = 1000 / static_cast<int>(scale);
          cmp[c.name][v.name] = run_model(c.model, c.data, s);
        }
      }
      out["compare_defaults"] = cmp;
    }
    out["load_average_at_end"] = load_average();
    std::cout << out.dump(1) << "\n";
  } catch (const vireo::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
