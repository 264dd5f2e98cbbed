// Temporary experiment harness (not a test): M4 schedules.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include "vector_fit.hpp"
using namespace vireo;
int main(int argc, char** argv) {
  test::Schedule s;
  s.guide = argc > 1 ? argv[1] : "auto_mvn";
  s.lr = argc > 2 ? atof(argv[2]) : 0.05;
  s.lrd = argc > 3 ? atof(argv[3]) : 1.0;
  s.particles = argc > 4 ? atoi(argv[4]) : 1;
  s.steps = argc > 5 ? atoi(argv[5]) : 2000;
  s.stl = argc > 6 ? atoi(argv[6]) : 0;
  s.init_scale = argc > 7 ? atof(argv[7]) : 0.1;
  int every = argc > 8 ? atoi(argv[8]) : 500;
  std::ifstream f(VIREO_SHARED_DIR "/bench/data/conjugate_linreg_d100.json");
  nlohmann::json j = nlohmann::json::parse(f);
  int n = j["N"], d = j["D"];
  Eigen::MatrixXd x(n, d); Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) { y[i] = j["y"][i]; for (int k = 0; k < d; ++k) x(i, k) = j["X"][i][k]; }
  test::ConjugateLinreg truth(x, y);
  test::VectorFit fit(test::linreg_model, truth.data(), argc > 9 ? atoi(argv[9]) : 1);
  fit.setup(s);
  auto t0 = std::chrono::steady_clock::now();
  for (int done = 0; done < s.steps; done += every) {
    int rej = fit.train(every);
    auto* g = fit.joint();
    double kl = test::gaussian_kl(g->mean(fit.store), g->covariance(fit.store), truth.post_mean, truth.post_cov);
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("step %6d  KL %9.3f  lr %.2e  rej %d  t %.1fs\n", done + every, kl, fit.optimizer->lr(), rej, sec);
  }
  auto [e, se] = fit.elbo_estimate(2000);
  {
    auto* g = fit.joint();
    Eigen::VectorXd m = g->mean(fit.store); Eigen::VectorXd sd = g->covariance(fit.store).diagonal().cwiseSqrt();
    Eigen::VectorXd tsd = truth.post_cov.diagonal().cwiseSqrt();
    double zm = ((m - truth.post_mean).array() / tsd.array()).abs().maxCoeff();
    double rs = (sd.array() / tsd.array() - 1).abs().maxCoeff();
    std::printf("max |mean err|/sd %.4f  max |sd ratio - 1| %.4f\n", zm, rs);
  }
  std::printf("logZ %.3f  ELBO(2000) %.3f ± %.3f  gap %.3f\n", truth.log_z, e, se, truth.log_z - e);
}
