// The joint-vector automatic guides (Pyro's AutoContinuous family): one
// Gaussian over the concatenated unconstrained coordinates of every
// continuous latent site, so that correlations between sites are learned.
//   AutoDiagonalNormal             q(u) = N(loc, diag(scale²))
//   AutoMultivariateNormal         q(u) = N(loc, L Lᵀ), L = diag(scale) · U, U unit lower triangular
//   AutoLowRankMultivariateNormal  q(u) = N(loc, S (F Fᵀ + I) S), S = diag(scale), F: D × rank
// Discrete sites keep AutoGuide's per-site guides. The layout of the vector
// (which sites, in which order, with which shapes) is found on the first run
// by running the model once under a prototype handler; every later run must
// reach the same continuous sites with the same shapes (LANGUAGE.md,
// "Automatic guides cover every latent site"), and says which site broke that.
#pragma once
#include <Eigen/Core>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/guide/guide.hpp"

namespace vireo::guide {

// Where one continuous site lives in the joint vector.
struct VectorBlock {
  std::string name;
  ad::Shape shape;    // the site's constrained value shape (plates, then event)
  ad::Shape ushape;   // its unconstrained shape
  std::int64_t offset = 0, size = 0;  // its coordinates [offset, offset + size) of u
  std::size_t plates = 0;             // how many plates enclose it
};

class AutoContinuous : public AutoGuide {
 public:
  AutoContinuous(const ir::Graph& g, GuideOptions o) : AutoGuide(g, std::move(o)) {}
  void run(interp::Context& ctx) override;

  // The joint parameters, <guide>.<role> (pname), belong to every continuous
  // site together; "scale" is the softplus-constrained diagonal scale. The
  // discrete sites' per-site parameters are AutoGuide's.
  std::optional<ParamRole> parameter_role(const std::string& name) const override;

  // Known after the first run: the continuous sites in program order.
  const std::vector<VectorBlock>& layout() const { return blocks_; }
  std::int64_t latent_dim() const { return dim_; }
  // q's mean and covariance in the unconstrained space, from the store's
  // current parameters (after the first run).
  Eigen::VectorXd mean(const params::ParamStore& store) const;
  virtual Eigen::MatrixXd covariance(const params::ParamStore& store) const = 0;

  // "Sticking the landing" (Roeder, Wu & Duvenaud 2017, "Sticking the
  // Landing: Simple, Lower-Variance Gradient Estimators for Variational
  // Inference"): log q is evaluated with the parameters detached, so only the
  // pathwise term through u remains. Same ELBO value, same expected gradient;
  // its variance vanishes as q approaches the posterior, so a fit can settle
  // at the optimum instead of jittering around it. Off by default (Pyro's
  // estimator).
  bool set_sticking_the_landing(bool on) override {
    stl_ = on;
    return true;
  }

 protected:
  // One draw of the whole unconstrained vector: u (pathwise) and log q(u).
  struct Draw {
    ad::Var u, log_q;
  };
  // Creates the family's parameters (loc starts at loc0); called once, when
  // the store lacks them.
  virtual void init_params(interp::Context& ctx, const ad::Tensor& loc0) = 0;
  virtual Draw draw(interp::Context& ctx) = 0;
  std::string pname(const char* what) const { return name() + "." + what; }
  // The parameter's unconstrained value in the store (it must be there).
  Eigen::Map<const Eigen::ArrayXd> stored(const params::ParamStore& store, const char* what) const;
  // For stl_: a Var with d.log_q's value whose only gradient is grad_u =
  // ∇u log q(u) at this draw, through d.u (the parameters held fixed).
  ad::Var sticking_the_landing(interp::Context& ctx, const Draw& d, const Eigen::VectorXd& grad_u) const;
  // n standard normal draws on the tape, as a constant.
  ad::Var standard_normal(interp::Context& ctx, std::int64_t n) const;
  bool stl_ = false;

 private:
  class Prototype;
  void continuous_site(interp::Context& ctx, handlers::Message& msg) final;
  void discover(interp::Context& ctx);
  [[noreturn]] void changed(const std::string& what) const;

  std::vector<VectorBlock> blocks_;
  std::unordered_map<std::string, std::size_t> index_;
  std::int64_t dim_ = 0;
  std::size_t carrier_ = 0;  // the block whose log q also carries the joint term
  // Per run.
  Draw current_;
  std::vector<bool> seen_;
};

class AutoDiagonalNormal final : public AutoContinuous {
 public:
  using AutoContinuous::AutoContinuous;
  std::string name() const override { return "auto_diagonal_normal"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<AutoDiagonalNormal>(*this); }
  Eigen::MatrixXd covariance(const params::ParamStore& store) const override;

 protected:
  void init_params(interp::Context& ctx, const ad::Tensor& loc0) override;
  Draw draw(interp::Context& ctx) override;
};

class AutoMultivariateNormal final : public AutoContinuous {
 public:
  using AutoContinuous::AutoContinuous;
  std::string name() const override { return "auto_mvn"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<AutoMultivariateNormal>(*this); }
  // A full covariance already: what is left is the Gaussian's tails.
  std::string better_fit_advice() const override {
    return "more steps or --particles, or a family with heavier tails than a Gaussian: auto_realnvp, with "
           "--flow-base student_t";
  }
  Eigen::MatrixXd covariance(const params::ParamStore& store) const override;
  // L = diag(scale) · U from the store.
  Eigen::MatrixXd scale_tril(const params::ParamStore& store) const;

 protected:
  void init_params(interp::Context& ctx, const ad::Tensor& loc0) override;
  Draw draw(interp::Context& ctx) override;

 private:
  // Constant D×D tensors borrowed by every step's tape: the strictly lower
  // triangle as a 0/1 mask, and the identity.
  ad::Tensor strict_lower_, eye_;
};

class AutoLowRankMultivariateNormal final : public AutoContinuous {
 public:
  using AutoContinuous::AutoContinuous;
  std::string name() const override { return "auto_lowrank_mvn"; }
  std::unique_ptr<Guide> clone() const override { return std::make_unique<AutoLowRankMultivariateNormal>(*this); }
  std::string better_fit_advice() const override {
    return "more steps, or a richer family: auto_mvn (full covariance), auto_realnvp";
  }
  Eigen::MatrixXd covariance(const params::ParamStore& store) const override;
  // The rank in use (opts.rank, or round(sqrt(D)) as Pyro chooses, at least 1).
  int rank() const { return rank_; }

 protected:
  void init_params(interp::Context& ctx, const ad::Tensor& loc0) override;
  Draw draw(interp::Context& ctx) override;

 private:
  int rank_ = 0;
};

}  // namespace vireo::guide
