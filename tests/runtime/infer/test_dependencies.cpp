// Downstream (runtime/infer/dependencies.hpp) against a brute-force
// computation of downstream costs, on models with chains of discrete sites,
// branches on sampled values, plates (nested, and with global sites), loops
// and fns, under hand-written and automatic guides.
//
// Brute force, per execution: the base execution is one particle as
// TraceGraph_ELBO runs it. For a guide site u and element n of its value,
// the guide is re-run with every latent site pinned to its base value except
// u[n], set to each other value of its support (continuous values: shifted),
// and the model replayed against that; the terms (site, element) whose
// log-density changed, appeared or vanished are the ones that consumed u[n]
// directly. Downstream(s[n]) is the transitive closure: the direct terms of
// s[n], and, for each guide site w[m] among them (w[m]'s distribution
// consumed s[n], so its value depends on s[n]), the direct terms of w[m].
// Reported: the terms Downstream::of lists, each element routed to s's
// elements by Downstream::align exactly as TraceGraph_ELBO weights them.
// Every brute-force term must be reported (soundness); where the static
// rule is exact — no loop-carried state, hand-written guides — the two sets
// must be equal (precision).
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <set>
#include <tuple>

#include "runtime/handlers/replay.hpp"
#include "runtime/infer/dependencies.hpp"
#include "runtime/infer/trace_elbo.hpp"
#include "runtime/interp/interpreter.hpp"
#include "stdlib/dist/registry.hpp"
#include "support/fit.hpp"

using namespace vireo;
using handlers::Message;
using handlers::MsgType;
using handlers::TraceSite;

namespace {

// A term: 'g' (guide −log q) or 'm' (model log p), the site's name, the flat
// index of its element among the site's plate elements.
using Term = std::tuple<char, std::string, std::int64_t>;
using TermSet = std::set<Term>;

std::string show(const TermSet& s) {
  std::string out;
  for (const auto& [side, name, n] : s) out += fmt::format(" {}:{}[{}]", side, name, n);
  return out.empty() ? " (none)" : out;
}

// Per-element log-densities of every term of one execution.
using Snapshot = std::map<std::pair<char, std::string>, std::vector<double>>;

Snapshot snapshot(const infer::ParticleTraces& t) {
  Snapshot s;
  for (const auto& site : t.guide.sites())
    if (infer::is_latent(site) && site.has_log_prob) {
      const double* p = site.log_prob.data();
      s[{'g', site.msg.name}] = std::vector<double>(p, p + site.log_prob.numel());
    }
  for (const auto& site : t.model.sites())
    if (site.msg.type == MsgType::Sample && site.has_log_prob) {
      const double* p = site.log_prob.data();
      s[{'m', site.msg.name}] = std::vector<double>(p, p + site.log_prob.numel());
    }
  return s;
}

// The base terms whose log-density differs in `other` (or that vanished).
TermSet changed(const Snapshot& base, const Snapshot& other) {
  TermSet out;
  for (const auto& [key, v] : base) {
    auto it = other.find(key);
    for (std::size_t n = 0; n < v.size(); ++n) {
      bool same = it != other.end() && it->second.size() == v.size() &&
                  std::abs(it->second[n] - v[n]) <= 1e-9 * (1 + std::abs(v[n]));
      if (!same) out.emplace(key.first, key.second, static_cast<std::int64_t>(n));
    }
  }
  return out;
}

// Pins latent sample sites to given values. Innermost under a hand-written
// guide (the site draws nothing); under an automatic guide it sees the site
// after the guide drew it, and recomputes the guide's log q (a discrete
// site's q is Family(logits = auto.logits.<name>)) at the pinned value.
class Pin final : public handlers::Handler {
 public:
  Pin(interp::Context& ctx, const std::map<std::string, ad::Tensor>& values) : ctx_(ctx), values_(values) {}
  void process(Message& msg) override {
    if (msg.type != MsgType::Sample || msg.is_observed) return;
    auto it = values_.find(msg.name);
    if (it == values_.end()) return;
    ad::Var v = ctx_.tape().constant(it->second);
    if (msg.log_prob) {
      ad::Var l = ctx_.param_leaf("auto.logits." + msg.name);
      auto q = dist::make_distribution(msg.fn->name(), ctx_.tape(), dist::Params{{"logits", l}});
      msg.log_prob = q->log_prob(v);
    }
    msg.value.var = v;
    msg.has_value = true;
    msg.done = true;
  }

 private:
  interp::Context& ctx_;
  const std::map<std::string, ad::Tensor>& values_;
};

struct Model {
  std::string name, text;
  interp::DataSet data;
  std::string guide = "custom";
  bool exact = true;  // assert equality, not only soundness
};

class BruteForce {
 public:
  BruteForce(test::Fit& fit) : fit_(fit) {}

  // Runs the base particle; records values, terms and what Downstream reports.
  void base(const infer::Downstream& down) {
    down_ = &down;
    auto& ctx = *fit_.ctx;
    ctx.begin_step();
    infer::run_particle(ctx, *fit_.guide, base_);
    snap_ = snapshot(base_);
    const auto& gs = base_.guide.sites();
    for (const auto& s : gs)
      if (infer::is_latent(s)) {
        values_[s.msg.name] = s.msg.value.var.value();
        sites_[s.msg.name] = {s.msg.fn->is_discrete(), support_size(s), s.log_prob.numel()};
      }
    for (std::size_t i = 0; i < gs.size(); ++i) {
      const TraceSite& s = gs[i];
      if (!infer::is_latent(s) || s.msg.reparameterized || !s.has_log_prob) continue;
      infer::Downstream::Terms terms = down.of(base_.guide, base_.model, i);
      for (std::int64_t n = 0; n < s.log_prob.numel(); ++n) {
        TermSet& r = reported_[{s.msg.name, n}];
        auto route = [&](const TraceSite& u, char side) {
          for (std::int64_t m = 0; m < u.log_prob.numel(); ++m)
            if (reaches(u, m, s, n)) r.emplace(side, u.msg.name, m);
        };
        for (std::size_t g : terms.guide) route(gs[g], 'g');
        for (std::size_t m : terms.model) route(base_.model.sites()[m], 'm');
      }
    }
  }

  const std::map<std::pair<std::string, std::int64_t>, TermSet>& reported() const { return reported_; }

  // The closure described at the top of the file.
  TermSet downstream(const std::string& name, std::int64_t n) {
    TermSet out{{'g', name, n}};  // its own −log q, by the rule (it may not change: q(0) = q(1))
    std::vector<std::pair<std::string, std::int64_t>> todo{{name, n}};
    std::set<std::pair<std::string, std::int64_t>> done;
    while (!todo.empty()) {
      auto u = todo.back();
      todo.pop_back();
      if (!done.insert(u).second) continue;
      for (const Term& t : direct(u.first, u.second)) {
        out.insert(t);
        if (std::get<0>(t) == 'g') todo.emplace_back(std::get<1>(t), std::get<2>(t));
      }
    }
    return out;
  }

 private:
  struct SiteInfo {
    bool discrete;
    std::int64_t support;  // values of a discrete site's support (0: continuous)
    std::int64_t elements;
  };

  static std::int64_t support_size(const TraceSite& s) {
    std::string_view f = s.msg.fn->name();
    if (f == "Bernoulli") return 2;
    if (f == "Categorical") {
      ad::Var p = s.msg.fn->param("probs");
      return p.shape()[p.rank() - 1];
    }
    if (s.msg.fn->is_discrete()) throw std::logic_error("brute force: no support for " + std::string(f));
    return 0;
  }

  // Whether element m of term u is weighted into element n of site s's cost:
  // route a one-hot of u's elements through Downstream::align.
  bool reaches(const TraceSite& u, std::int64_t m, const TraceSite& s, std::int64_t n) {
    ad::Tape& tape = fit_.ctx->tape();
    ad::Tensor one(u.log_prob.shape(), 0.0);
    one[m] = 1;
    ad::Shape fs;
    for (const auto& f : s.msg.frames) fs.push_back(f.subsample);
    ad::Var routed = ad::broadcast_to(down_->align(tape.constant(one), u.msg.frames, s.msg.frames), fs);
    return routed.value()[n] != 0;
  }

  // The terms whose log-density changes when u's element n alone changes.
  const TermSet& direct(const std::string& u, std::int64_t n) {
    auto key = std::make_pair(u, n);
    if (auto it = direct_.find(key); it != direct_.end()) return it->second;
    TermSet& out = direct_[key];
    const SiteInfo& info = sites_.at(u);
    const ad::Tensor& v0 = values_.at(u);
    std::int64_t per = v0.numel() / info.elements;  // value entries per element (event size)
    std::vector<ad::Tensor> alternatives;
    if (info.discrete) {
      for (std::int64_t k = 0; k < info.support; ++k)
        if (k != static_cast<std::int64_t>(v0[n])) {
          ad::Tensor v = v0;
          v[n] = static_cast<double>(k);
          alternatives.push_back(v);
        }
    } else {
      ad::Tensor v = v0;
      for (std::int64_t j = 0; j < per; ++j) v[n * per + j] += 0.37 * (1 + std::abs(v[n * per + j]));
      alternatives.push_back(v);
    }
    for (const auto& v : alternatives) {
      std::map<std::string, ad::Tensor> pinned = values_;
      pinned[u] = v;
      for (const Term& t : changed(snap_, run(pinned))) out.insert(t);
    }
    return out;
  }

  Snapshot run(const std::map<std::string, ad::Tensor>& pinned) {
    auto& ctx = *fit_.ctx;
    ctx.begin_step();
    infer::ParticleTraces t;
    {
      handlers::TraceHandler trace(t.guide);
      Pin pin(ctx, pinned);
      handlers::HandlerStack::Scoped s1(ctx.handlers(), trace);
      handlers::HandlerStack::Scoped s2(ctx.handlers(), pin);
      fit_.guide->run(ctx);
    }
    {
      handlers::TraceHandler trace(t.model);
      handlers::ReplayHandler replay(t.guide);
      handlers::HandlerStack::Scoped s1(ctx.handlers(), trace);
      handlers::HandlerStack::Scoped s2(ctx.handlers(), replay);
      interp::Interpreter(ctx).run(ctx.graph().model);
    }
    t.guide.compute_log_probs();
    t.model.compute_log_probs();
    return snapshot(t);
  }

  test::Fit& fit_;
  const infer::Downstream* down_ = nullptr;
  infer::ParticleTraces base_;
  Snapshot snap_;
  std::map<std::string, ad::Tensor> values_;
  std::map<std::string, SiteInfo> sites_;
  std::map<std::pair<std::string, std::int64_t>, TermSet> reported_, direct_;
};

// Every execution of `executions` seeds: brute force against Downstream.
void check(const Model& model, int executions = 12) {
  test::Fit fit(model.text, model.data, 5);
  fit.setup(model.guide);
  infer::Downstream down(fit.graph, model.guide != "custom");
  int compared = 0;
  for (int e = 0; e < executions; ++e) {
    BruteForce bf(fit);
    bf.base(down);
    for (const auto& [key, reported] : bf.reported()) {
      TermSet brute = bf.downstream(key.first, key.second);
      ++compared;
      BOOST_TEST_MESSAGE(model.name << " " << key.first << "[" << key.second << "] reported" << show(reported)
                                      << " brute" << show(brute));
      TermSet missing, extra;
      std::set_difference(brute.begin(), brute.end(), reported.begin(), reported.end(), std::inserter(missing, missing.end()));
      std::set_difference(reported.begin(), reported.end(), brute.begin(), brute.end(), std::inserter(extra, extra.end()));
      BOOST_TEST(missing.empty(), model.name << ", execution " << e << ", site " << key.first << "[" << key.second
                                             << "]: consumed but not reported:" << show(missing)
                                             << "\n  reported:" << show(reported) << "\n  brute force:" << show(brute));
      if (model.exact)
        BOOST_TEST(extra.empty(), model.name << ", execution " << e << ", site " << key.first << "[" << key.second
                                             << "]: reported but never consumed:" << show(extra)
                                             << "\n  reported:" << show(reported) << "\n  brute force:" << show(brute));
    }
  }
  BOOST_TEST(compared > 0, model.name << ": no score-function site to compare");
}

interp::DataSet data(std::vector<std::pair<ad::Tensor, interp::Kind>> items) { return test::dataset(std::move(items)); }
ad::Tensor real(double x) { return ad::Tensor(x); }
ad::Tensor vec(std::vector<double> v) { return ad::Tensor::vector(std::move(v)); }
constexpr auto Real = interp::Kind::Real;
constexpr auto Int = interp::Kind::Int;

}  // namespace

// z1 → z2 → z3 in the model, z1 → z2 in the guide: z3's guide value does not
// depend on z2, so y3 (which reads z3's replayed value) is not downstream of
// z1 even though the model's z3 statement reads z2.
BOOST_AUTO_TEST_CASE(chain_of_discrete_sites) {
  check({"chain", R"(data { y1: real  y3: real }
model {
  z1 ~ Bernoulli(probs = 0.4)
  z2 ~ Bernoulli(probs = 0.2 + 0.6 * z1)
  z3 ~ Bernoulli(probs = 0.3 + 0.4 * z2)
  observe y1 ~ Normal(z1, 1)
  observe y3 ~ Normal(z3, 1)
}
guide {
  param a: real<lower=0, upper=1> = 0.5
  param b: real<lower=0, upper=1> = 0.3
  param c: real<lower=0, upper=1> = 0.6
  z1 ~ Bernoulli(probs = a)
  z2 ~ Bernoulli(probs = b + (c - b) * z1)
  z3 ~ Bernoulli(probs = c)
})",
         data({{real(1.3), Real}, {real(0.4), Real}})});
}

// A branch on a sampled value: the branch's sites appear and vanish with z;
// a continuous guide site reads z; sites after the branch that do not read
// it stay out.
BOOST_AUTO_TEST_CASE(branch_on_a_sampled_value) {
  check({"branch", R"(data { y: real  v: real }
model {
  z ~ Bernoulli(probs = 0.35)
  if z == 1 {
    a ~ Normal(2, 1)
    observe y ~ Normal(a, 1)
  } else {
    k ~ Bernoulli(probs = 0.3)
    observe y ~ Normal(k - 1, 1)
  }
  w ~ Bernoulli(probs = 0.45)
  observe v ~ Normal(w, 1)
}
guide {
  param p: real<lower=0, upper=1> = 0.6
  param m: real = 0.5
  z ~ Bernoulli(probs = p)
  if z == 1 {
    a ~ Normal(m + z, 1)
  } else {
    k ~ Bernoulli(probs = 0.4)
  }
  w ~ Bernoulli(probs = 0.6)
})",
         data({{real(0.7), Real}, {real(0.2), Real}})});
}

// A local variable assigned under a branch: y reads s, which is z's draw or
// 0 depending on c, so y is downstream of c even when s did not run.
BOOST_AUTO_TEST_CASE(assignment_under_a_branch) {
  check({"conditional assignment", R"(data { y: real }
model {
  let s = 3
  c ~ Bernoulli(probs = 0.45)
  if c == 1 {
    s ~ Bernoulli(probs = 0.7)
  }
  observe y ~ Normal(2 * s, 1)
}
guide {
  let s = 3
  c ~ Bernoulli(probs = 0.55)
  if c == 1 {
    s ~ Bernoulli(probs = 0.4)
  }
})",
         data({{real(0.9), Real}})});
}

// One z per plate element and one global discrete site: element n of z
// reaches only element n of x; g reaches every x.
BOOST_AUTO_TEST_CASE(plate_with_a_global_site) {
  check({"plate", R"(data { N: int  x: real[N] }
model {
  g ~ Bernoulli(probs = 0.4)
  mu ~ Normal(0, 1)
  plate data(N) {
    z ~ Bernoulli(probs = 0.3)
    observe x ~ Normal(mu + 2 * z + g, 1)
  }
}
guide {
  param m: real = 0
  param phi: real[N] = [0.3, -0.2, 0.5]
  g ~ Bernoulli(probs = 0.3)
  mu ~ Normal(m, 1)
  plate data(N) {
    z ~ Bernoulli(logits = phi + g)
  }
})",
         data({{real(3), Int}, {vec({0.5, 2.5, -0.3}), Real}})});
}

// Nested plates: u[i] reaches row i; v[i, j] only element (i, j).
BOOST_AUTO_TEST_CASE(nested_plates) {
  check({"nested plates", R"(data { I: int  J: int  x: real[I, J] }
model {
  plate rows(I) {
    u ~ Bernoulli(probs = 0.45)
    plate cols(J) {
      v ~ Bernoulli(probs = 0.3 + 0.4 * u)
      observe x ~ Normal(u + v, 1)
    }
  }
}
guide {
  param pu: real[I] = 0.3
  plate rows(I) {
    u ~ Bernoulli(logits = pu)
    plate cols(J) {
      v ~ Bernoulli(probs = 0.25 + 0.5 * u)
    }
  }
})",
         data({{real(2), Int}, {real(3), Int}, {ad::Tensor(ad::Shape{2, 3}, {0.1, 1.2, -0.4, 2.0, 0.3, 0.8}), Real}})});
}

// The M3 mixture in small: Categorical z per element, gathering loc[z].
BOOST_AUTO_TEST_CASE(mixture) {
  check({"mixture", R"(data { N: int  K: int  x: real[N] }
model {
  loc: real[K] ~ Normal(0, 10)
  plate data(N) {
    z ~ Categorical(probs = [0.2, 0.3, 0.5])
    observe x ~ Normal(loc[z], 1)
  }
}
guide {
  param m: real[K] = [-1, 0, 1]
  param phi: real[N, K] = [0.1, -0.3, 0.4]
  loc: real[K] ~ Normal(m, 1)
  plate data(N) {
    z ~ Categorical(logits = phi)
  }
})",
         data({{real(4), Int}, {real(3), Int}, {vec({-2, 0.1, 2.2, 0.4}), Real}})});
}

// Values that leave the plate's elements: a reduction inside the plate, and
// an array read after the plate by another plate of the same name. Every x
// reads every z, so the plate cannot be refined (only soundness is asserted:
// the unrefined cost also counts z's other elements' own terms).
BOOST_AUTO_TEST_CASE(plates_whose_elements_mix) {
  Model reduction{"reduction in a plate", R"(data { N: int  x: real[N] }
model {
  plate data(N) {
    z ~ Bernoulli(probs = 0.3)
    observe x ~ Normal(sum(z), 1)
  }
}
guide {
  plate data(N) {
    z ~ Bernoulli(probs = 0.6)
  }
})",
                  data({{real(3), Int}, {vec({0.5, 2.5, -0.3}), Real}})};
  reduction.exact = false;
  check(reduction);
  Model later{"array read after the plate", R"(data { N: int  x: real[N] }
model {
  plate data(N) {
    z ~ Bernoulli(probs = 0.3)
  }
  let first = z[0]
  plate data(N) {
    observe x ~ Normal(first, 1)
  }
}
guide {
  plate data(N) {
    z ~ Bernoulli(probs = 0.6)
  }
})",
              data({{real(3), Int}, {vec({0.5, 2.5, -0.3}), Real}})};
  later.exact = false;
  check(later);
}

// A loop without carried state: iteration t's z reaches only y[t].
BOOST_AUTO_TEST_CASE(loop_without_carried_state) {
  check({"independent loop", R"(data { T: int  y: real[T] }
model {
  for t in 0..T {
    z ~ Bernoulli(probs = 0.4)
    observe y[t] ~ Normal(z, 1)
  }
}
guide {
  param p: real<lower=0, upper=1> = 0.65
  for t in 0..T {
    z ~ Bernoulli(probs = p)
  }
})",
         data({{real(3), Int}, {vec({0.2, 1.1, -0.5}), Real}})});
}

// A Markov chain through a `for` loop: state carried from one iteration to
// the next, in the model and the guide (the inexact edges: a superset is
// allowed, so only soundness is asserted).
BOOST_AUTO_TEST_CASE(loop_chain) {
  Model m{"loop chain", R"(data { T: int  y: real[T] }
model {
  let s = 0
  for t in 0..T {
    s ~ Bernoulli(probs = 0.3 + 0.4 * s)
    observe y[t] ~ Normal(s, 1)
  }
}
guide {
  param p: real<lower=0, upper=1>[T] = 0.7
  let s = 0
  for t in 0..T {
    s ~ Bernoulli(probs = 0.5 * p[t] + 0.3 * s)
  }
})",
          data({{real(3), Int}, {vec({0.2, 1.1, -0.5}), Real}})};
  m.exact = false;
  check(m);
}

// A value left by one loop and read by every iteration of another: the last
// s reaches every y, whatever the loop indices say.
BOOST_AUTO_TEST_CASE(value_carried_out_of_a_loop) {
  Model m{"two loops", R"(data { T: int  y: real[T] }
model {
  let s = 0
  for t in 0..T {
    s ~ Bernoulli(probs = 0.35)
  }
  for u in 0..T {
    observe y[u] ~ Normal(s, 1)
  }
}
guide {
  let s = 0
  for t in 0..T {
    s ~ Bernoulli(probs = 0.4)
  }
})",
          data({{real(3), Int}, {vec({0.2, 1.1, -0.5}), Real}})};
  m.exact = false;
  check(m);
}

// State assigned only in some iterations: y[t] reads the latest s, which may
// come from an earlier iteration.
BOOST_AUTO_TEST_CASE(conditional_state_in_a_loop) {
  Model m{"conditional state", R"(data { T: int  y: real[T] }
model {
  let s = 0
  for t in 0..T {
    c ~ Bernoulli(probs = 0.45)
    if c == 1 {
      s ~ Bernoulli(probs = 0.35)
    }
    observe y[t] ~ Normal(s, 1)
  }
}
guide {
  let s = 0
  for t in 0..T {
    c ~ Bernoulli(probs = 0.6)
    if c == 1 {
      s ~ Bernoulli(probs = 0.4)
    }
  }
})",
          data({{real(3), Int}, {vec({0.2, 1.1, -0.5}), Real}})};
  m.exact = false;
  check(m, 20);
}

// A fn with a sample site, called twice (sites `f`, `f#1`), and recursion
// with stochastic control flow (the geometric example).
BOOST_AUTO_TEST_CASE(fns_and_recursion) {
  Model twice{"fn called twice", R"(fn flip(p) {
  f ~ Bernoulli(probs = p)
  return f
}
data { y1: real  y2: real }
model {
  let a = flip(0.3)
  let b = flip(0.6)
  observe y1 ~ Normal(a, 1)
  observe y2 ~ Normal(a + b, 1)
}
guide {
  let a = flip(0.45)
  let b = flip(0.7)
})",
              data({{real(0.4), Real}, {real(1.5), Real}})};
  twice.exact = false;
  check(twice);
  Model geometric{"geometric", R"(fn geometric(p, depth) {
  flip ~ Bernoulli(probs = p)
  if flip == 1 { return depth }
  return geometric(p, depth + 1)
}
data { k: int }
model {
  let n = geometric(0.4, 0)
  observe k ~ Poisson(n + 0.5)
})",
                  data({{real(2), Int}})};
  geometric.guide = "auto_normal";
  geometric.exact = false;
  check(geometric, 20);
}

// Automatic guides run the model's program: branches and plates.
BOOST_AUTO_TEST_CASE(automatic_guide) {
  Model m{"auto_normal", R"(data { N: int  x: real[N]  y: real }
model {
  z ~ Bernoulli(probs = 0.35)
  if z == 1 {
    k ~ Bernoulli(probs = 0.3)
    observe y ~ Normal(k, 1)
  } else {
    observe y ~ Normal(-1, 1)
  }
  plate data(N) {
    c ~ Bernoulli(probs = 0.4)
    observe x ~ Normal(c + z, 1)
  }
})",
          data({{real(3), Int}, {vec({0.5, 2.5, -0.3}), Real}, {real(0.3), Real}})};
  m.guide = "auto_normal";
  m.exact = false;
  check(m);
}
