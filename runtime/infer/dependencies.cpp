#include "runtime/infer/dependencies.hpp"

#include <algorithm>
#include <deque>

namespace vireo::infer {

using handlers::MsgType;
using handlers::TraceSite;

namespace {
bool is_term(const TraceSite& s) { return s.msg.type == MsgType::Sample && s.msg.site; }

bool loops_agree(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  std::size_t k = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < k; ++i)
    if (a[i] != b[i]) return false;
  return true;
}
}  // namespace

Downstream::Downstream(const ir::Graph& graph, bool guide_runs_model)
    : graph_(graph), guide_side_(guide_runs_model ? ir::BodyKind::Model : ir::BodyKind::Guide), n_(graph.sites.size()) {
  model_reach_.assign(n_ * n_, None);
  guide_reach_.assign(n_ * n_, None);
  close(ir::BodyKind::Model);
  close(ir::BodyKind::Guide);
}

// For every source, a breadth-first search over (site, exact-so-far) states:
// Exact marks a path of exact edges only, Inexact a path through at least one
// inexact edge; both may hold.
void Downstream::close(ir::BodyKind side) {
  std::vector<std::vector<const ir::Edge*>> out(n_);
  for (const auto& e : graph_.edges)
    if (e.side == side) out[static_cast<std::size_t>(e.from)].push_back(&e);
  auto& r = side == ir::BodyKind::Model ? model_reach_ : guide_reach_;
  for (std::size_t a = 0; a < n_; ++a) {
    std::deque<std::pair<std::size_t, bool>> todo;
    std::vector<std::uint8_t> seen(n_, None);
    for (const auto* e : out[a]) todo.emplace_back(static_cast<std::size_t>(e->to), e->exact);
    while (!todo.empty()) {
      auto [b, exact] = todo.front();
      todo.pop_front();
      std::uint8_t flag = exact ? Exact : Inexact;
      if (seen[b] & flag) continue;
      seen[b] |= flag;
      for (const auto* e : out[b]) todo.emplace_back(static_cast<std::size_t>(e->to), exact && e->exact);
    }
    for (std::size_t b = 0; b < n_; ++b) r[a * n_ + b] = seen[b];
  }
}

std::uint8_t Downstream::reach(ir::BodyKind side, ir::SiteId a, ir::SiteId b) const {
  const auto& r = side == ir::BodyKind::Model ? model_reach_ : guide_reach_;
  return r[static_cast<std::size_t>(a) * n_ + static_cast<std::size_t>(b)];
}

void Downstream::related(const handlers::Trace& trace, std::size_t from_pos, const TraceSite& from, ir::BodyKind side,
                         std::vector<std::size_t>& out, std::vector<bool>& seen) const {
  const auto& sites = trace.sites();
  for (std::size_t j = 0; j < sites.size(); ++j) {
    if (seen[j] || !is_term(sites[j])) continue;
    std::uint8_t r = reach(side, from.msg.site->id, sites[j].msg.site->id);
    if (r == None) continue;
    bool take = ((r & Exact) && loops_agree(from.msg.loop_index, sites[j].msg.loop_index)) || ((r & Inexact) && j > from_pos);
    if (take) {
      seen[j] = true;
      out.push_back(j);
    }
  }
}

Downstream::Terms Downstream::of(const handlers::Trace& guide, const handlers::Trace& model, std::size_t s) const {
  Terms t;
  std::vector<bool> gseen(guide.size(), false), mseen(model.size(), false);
  gseen[s] = true;
  t.guide.push_back(s);
  related(guide, s, guide.sites()[s], guide_side_, t.guide, gseen);
  // Each guide term's value is replayed into the model at the site of the same name.
  for (std::size_t k = 0; k < t.guide.size(); ++k) {
    const TraceSite& u = guide.sites()[t.guide[k]];
    const TraceSite* m = model.find(u.msg.name);
    if (!m || !is_term(*m)) continue;
    auto pos = static_cast<std::size_t>(m - model.sites().data());
    if (!mseen[pos]) {
      mseen[pos] = true;
      t.model.push_back(pos);
    }
    related(model, pos, *m, ir::BodyKind::Model, t.model, mseen);
  }
  std::sort(t.guide.begin(), t.guide.end());
  std::sort(t.model.begin(), t.model.end());
  return t;
}

}  // namespace vireo::infer
