// Which log-density terms lie downstream of a guide site — the cost that
// site's score-function term is weighted by in TraceGraph_ELBO.
//
// The rule. A term (a sample or observe site's log p in the model trace, or
// a latent site's −log q in the guide trace) is downstream of a
// non-reparameterised guide site instance s when its computation consumed
// s's value, directly or through later sampled values and control flow:
//   1. s itself (its own −log q);
//   2. guide terms t whose statement is reachable from s's statement along
//      the static dependency edges of the program the guide runs (the guide
//      block, or the model's program for automatic guides);
//   3. for each guide instance u of 1–2, the model's instance of the same
//      name (its log p at the replayed value) and the model terms reachable
//      from it along the model's static edges.
// Static edges relate statements; instances are matched as follows. Along a
// path of exact edges (lang/ir/graph.hpp), instances in the same loop
// iteration are related: the loop indices of both agree on the loops they
// share (their common leading positions). Along a path with an inexact edge
// (a loop-carried value, recursion) the static edges cannot say which
// instance feeds which, so every instance executed after the source counts:
// a superset, which keeps the estimator unbiased at the price of variance.
// Within a plate, TraceGraph_ELBO further refines each cost per plate
// element (element n of z reaches element n of x) with sum_to_frames.
// Everything here is decided from the site graph once per statement pair;
// nothing is tracked through tensor operations at run time.
#pragma once
#include <cstdint>
#include <vector>

#include "lang/ir/graph.hpp"
#include "runtime/handlers/trace.hpp"

namespace vireo::infer {

class Downstream {
 public:
  // `guide_runs_model`: the guide trace comes from the model's own program
  // (an automatic guide), so its static edges are the model's.
  Downstream(const ir::Graph& graph, bool guide_runs_model);

  struct Terms {
    std::vector<std::size_t> guide;  // indices into the guide trace's sites
    std::vector<std::size_t> model;  // indices into the model trace's sites
  };
  // The terms downstream of guide trace site `s` (an index into guide.sites()).
  Terms of(const handlers::Trace& guide, const handlers::Trace& model, std::size_t s) const;

 private:
  enum Reach : std::uint8_t { None = 0, Exact = 1, Inexact = 2 };  // bit flags
  std::uint8_t reach(ir::BodyKind side, ir::SiteId a, ir::SiteId b) const;
  void close(ir::BodyKind side);
  // Instances of b related to the instance at `from` (by the rule above), scanning `trace`.
  void related(const handlers::Trace& trace, std::size_t from_pos, const handlers::TraceSite& from, ir::BodyKind side,
               std::vector<std::size_t>& out, std::vector<bool>& seen) const;

  const ir::Graph& graph_;
  ir::BodyKind guide_side_;
  std::size_t n_;
  std::vector<std::uint8_t> model_reach_, guide_reach_;  // n × n flags
};

}  // namespace vireo::infer
