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
//      from it along the model's static edges. A latent model site's value
//      is the guide's, replayed, so a model path goes on through a latent
//      site only where it entered it by a control edge (whether the site
//      ran, and so which value a variable it assigns holds, depends on the
//      source); through a data edge it reaches that site's log p and stops.
// Static edges relate statements; instances are matched as follows. Along a
// path of exact edges (lang/ir/graph.hpp), instances in the same iteration
// of the loops both statements sit in are related (the loop indices agree on
// the `for` statements they share). Where the static edges cannot say which
// instance feeds which, the rule falls back to the order of execution seen at
// run time — every instance executed after the source counts, a superset
// that keeps the estimator unbiased at the price of variance:
//   - along a path with an inexact edge (a loop-carried value, recursion);
//   - along an exact path inside a shared loop that carries state (a variable
//     declared outside the loop and assigned in it — possibly only in some
//     iterations, so an exact edge may also hold across iterations).
// Within a plate, each cost is refined per plate element with align(): the
// element n of s reaches element n of a term in the same plate (plates are
// matched by name, so the guide's `plate data` is the model's). That holds
// only while values stay plate-indexed, so a plate in which a value computed
// from its sites may mix elements — a reduction (sum, mean, logsumexp, min,
// max, dot, softmax, log_softmax, transpose, `@`) or a fn call of one on
// such a value inside the plate, or the value read after the plate closes —
// is not refined: every element of s gets every element of the term.
// Statement-level facts are decided from the site graph once; nothing is
// tracked through tensor operations at run time.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "lang/ir/graph.hpp"
#include "runtime/handlers/trace.hpp"

namespace vireo::infer {

// The plates whose elements may mix (the rule above): a cost is not refined
// per element of these. Trace_ELBO and TraceMeanField_ELBO use it too.
std::set<std::string> mixing_plates(const ir::Graph& graph);

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

  // Term `lp` (one value per element of its plates `have`) summed down to a
  // site's plates `want`: plates of `have` missing from `want`, and plates
  // that are not refined (mixing_plates), are summed; plates of `want` the
  // term lacks get size-1 axes. Broadcasts against `want`'s element shape.
  ad::Var align(const ad::Var& lp, const handlers::Frames& have,
                const handlers::Frames& want) const;
  // Names of the plates whose elements may mix (see the rule above).
  const std::set<std::string>& mixing_plates() const { return mixing_; }

 private:
  enum Reach : std::uint8_t { None = 0, Exact = 1, Inexact = 2 };  // bit flags
  std::vector<std::uint8_t> close(ir::BodyKind edge_side, bool stop_at_replayed) const;
  std::uint8_t reach(const std::vector<std::uint8_t>& table, ir::SiteId a, ir::SiteId b) const {
    return table[static_cast<std::size_t>(a) * n_ + static_cast<std::size_t>(b)];
  }
  bool relates(const handlers::TraceSite& from, std::size_t from_pos, const handlers::TraceSite& to,
                               std::size_t to_pos, std::uint8_t r) const;
  // Instances of b related to the instance at `from` (by the rule above), scanning `trace`.
  void related(const handlers::Trace& trace, std::size_t from_pos, const std::vector<std::uint8_t>& table,
               std::vector<std::size_t>& out, std::vector<bool>& seen) const;
  void find_carrying_loops();
  void find_mixing_plates();

  const ir::Graph& graph_;
  ir::BodyKind guide_side_;
  std::size_t n_;
  // n × n reach flags: guide terms from guide sites; model terms from model sites (stopping at replayed sites).
  std::vector<std::uint8_t> model_reach_, guide_reach_;
  std::set<std::pair<ir::BodyId, ir::SlotId>> carrying_;  // `for` loops (body, loop variable) that carry state
  std::set<std::string> mixing_;
};

}  // namespace vireo::infer
