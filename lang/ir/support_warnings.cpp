// Observed sites whose support moves with a latent value (`observe u ~
// Uniform(0, M)` with M latent). A guide over M's own support keeps drawing
// values the data rule out (log p = −∞), each such draw is refused, and a fit
// that drops draws is biased. The fix is a reparameterisation that makes the
// support hold for every draw; `check` warns and shows it.
// Which families have such a support is the table's answer: Support::Interval
// is (low, high), both arguments. The dependency edges say which latent
// values flow into the observe's arguments.
#include <fmt/format.h>

#include <set>

#include "lang/ir/compile.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::ir {

namespace {

std::string text_of(const lang::SourceFile& file, Span s) { return file.text().substr(s.begin, s.end - s.begin); }

// The data item observed by `site` (its root name), as written.
std::string observed_name(const Site& site) { return site.name; }

}  // namespace

void warn_latent_supports(const Graph& g, const lang::SourceFile& file, lang::Diagnostics& diags) {
  for (const Site& obs : g.sites) {
    if (obs.kind != SiteKind::Observe || obs.dist == sig::no_builtin) continue;
    const sig::Signature& s = sig::get(obs.dist);
    if (s.support != sig::Support::Interval) continue;
    std::set<SiteId> warned;
    for (const Edge& e : g.edges) {
      if (e.to != obs.id || e.side != BodyKind::Model || !e.data_flow || warned.count(e.from)) continue;
      const Site& lat = g.site(e.from);
      if (lat.kind != SiteKind::Sample) continue;
      warned.insert(e.from);
      // Which bound the latent is, when it is written there as itself.
      const Body& b = g.body(obs.body);
      const Expr& call = b.expr(obs.dist_call);
      int bound = -1;  // 0: low, 1: high
      for (std::uint32_t i = 0; i < 2 && i < call.count; ++i) {
        ExprId op = b.operand(call, i);
        if (op != no_expr && lat.body == obs.body && b.expr(op).op == Op::Slot && b.expr(op).ref == lat.slot) bound = static_cast<int>(i);
      }
      std::string data = observed_name(obs);
      std::string hint;
      const Body& lb = g.body(lat.body);
      const Expr* prior = lat.dist_call != no_expr ? &lb.expr(lat.dist_call) : nullptr;
      const bool uniform_prior = prior && prior->op == Op::CallBuiltin && lat.dist == obs.dist && prior->count >= 2;
      if (bound == 1 && uniform_prior)
        hint = fmt::format("reparameterise so that every draw of '{0}' lies above the data: `{0} ~ Uniform(max({1}), {2})`",
                           lat.name, data, text_of(file, lb.expr(lb.operand(*prior, 1)).span));
      else if (bound == 0 && uniform_prior)
        hint = fmt::format("reparameterise so that every draw of '{0}' lies below the data: `{0} ~ Uniform({2}, min({1}))`",
                           lat.name, data, text_of(file, lb.expr(lb.operand(*prior, 0)).span));
      else if (bound == 1)
        hint = fmt::format("reparameterise so that every draw of '{0}' lies above the data, e.g. a prior on "
                           "'{0}' whose lower bound is max({1})",
                           lat.name, data);
      else if (bound == 0)
        hint = fmt::format("reparameterise so that every draw of '{0}' lies below the data, e.g. a prior on "
                           "'{0}' whose upper bound is min({1})",
                           lat.name, data);
      else
        hint = fmt::format("reparameterise so that the support of {} holds for every draw of '{}' (bounds from "
                           "max/min of the data); `vireo run --init-values FILE.json` can start such a fit",
                           s.name, lat.name);
      diags.warning(obs.span,
                    fmt::format("the support of the observed '{}' depends on the latent '{}': draws of '{}' that "
                                "rule out the data get log density -inf and are refused, which biases the fit",
                                data, lat.name, lat.name),
                    hint);
    }
  }
}

void check_enumerate_options(const Graph& g, lang::Diagnostics& diags) {
  for (const Site& s : g.sites) {
    if (s.enumerate != EnumerateOption::On) continue;
    if (s.body == g.guide) {
      diags.error(s.span, fmt::format("'{}' is enumerated in the guide; enumeration sums out model sites", s.name),
                  "move `with enumerate` to the model's site and leave the site out of the guide");
      continue;
    }
    const sig::Signature& d = sig::get(s.dist);
    const bool finite = d.support == sig::Support::Boolean || d.support == sig::Support::IntegerUpToCount ||
                        d.support == sig::Support::Category;
    if (!finite) {
      diags.error(s.span,
                  fmt::format("'{}' cannot be enumerated: {} has {} support", s.name, d.name,
                              d.discrete ? "unbounded" : "continuous"),
                  "enumeration sums out Bernoulli, Categorical and Binomial sites; drop `with enumerate`");
      continue;
    }
    // A support the program states as a number: Categorical(probs = fill(v, N))
    // or a vector literal, Binomial(total_count = N).
    {
      const Body& b = g.body(s.body);
      const Expr& call = b.expr(s.dist_call);
      double values = 0;
      for (std::uint32_t i = 0; i < call.count; ++i) {
        const ExprId op = b.operand(call, i);
        if (op == no_expr) continue;
        const Expr& arg = b.expr(op);
        const std::string_view pname = d.params[i].name;
        if (d.support == sig::Support::Category && (pname == "probs" || pname == "logits")) {
          if (arg.op == Op::Vector) values = arg.count;
          if (arg.op == Op::CallBuiltin && sig::get(arg.ref).name == "fill" && arg.count >= 2) {
            const ExprId n = b.operand(arg, arg.count - 1);
            if (n != no_expr && b.expr(n).op == Op::Number) values = b.expr(n).number;
          }
        }
        if (d.support == sig::Support::IntegerUpToCount && pname == "total_count" && arg.op == Op::Number)
          values = arg.number + 1;
      }
      if (values > 4096) {
        diags.error(s.span,
                    fmt::format("'{}' cannot be enumerated: it has {:.0f} values, and enumeration takes at most 4096",
                                s.name, values),
                    "drop `with enumerate` (the site is then sampled), or model it with fewer values");
        continue;
      }
    }
    for (const Edge& e : g.edges) {
      if (e.from != s.id || e.side != BodyKind::Model || !e.control) continue;
      diags.error(s.span,
                  fmt::format("'{}' cannot be enumerated: its value decides whether or how often '{}' runs", s.name,
                              g.site(e.to).name),
                  "an enumerated value may feed distributions, not branches, loop bounds, plate sizes or recursion; "
                  "drop `with enumerate` (it is then sampled)");
      break;
    }
  }
}

}  // namespace vireo::ir
