// The site graph as Graphviz DOT, in the style of Pyro's render_model: one
// node per site name, latent sites as ellipses, observed sites shaded, params
// as small boxes, deterministic sites dashed, plates as clusters labelled
// "name (size)", edges from the static dependencies (control-only edges
// dotted, inexact ones — loop-carried or through recursion — dashed), and
// the host functions a site uses as rounded boxes with an arrow to the site.
#include <fmt/format.h>

#include <map>
#include <set>

#include "lang/ir/print.hpp"

namespace vireo::ir {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class DotWriter {
 public:
  explicit DotWriter(const Graph& g) : g_(g) {}

  std::string write(const DotOptions& options) {
    out_ = fmt::format("digraph {} {{\n", quoted(g_.name.empty() ? "model" : g_.name));
    out_ += "  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\"];\n";
    side(BodyKind::Model, "  ");
    if (options.include_guide && g_.guide != none) {
      out_ += "  subgraph cluster_guide {\n    label=\"guide\";\n    style=rounded;\n    color=gray40;\n";
      side(BodyKind::Guide, "    ");
      out_ += "  }\n";
    }
    for (const auto& line : edge_lines_) out_ += line;
    out_ += "}\n";
    return out_;
  }

 private:
  std::string node_id(BodyKind side, const std::string& name) const {
    return quoted(side == BodyKind::Guide ? "guide." + name : name);
  }

  std::string node_line(BodyKind side, const Site& s, const std::string& indent) const {
    std::string attrs;
    switch (s.kind) {
      case SiteKind::Sample: attrs = "shape=ellipse"; break;
      case SiteKind::Observe: attrs = "shape=ellipse, style=filled, fillcolor=gray"; break;
      case SiteKind::Param: attrs = "shape=box, fontsize=10, width=0.3, height=0.2"; break;
      case SiteKind::Deterministic: attrs = "shape=ellipse, style=dashed"; break;
      // A term of the log density: filled like the observed sites it stands beside.
      case SiteKind::Factor: attrs = "shape=diamond, style=filled, fillcolor=gray"; break;
    }
    return fmt::format("{}{} [label={}, {}];\n", indent, node_id(side, s.name), quoted(s.name), attrs);
  }

  void side(BodyKind side, const std::string& indent) {
    const std::vector<SiteId>& ids = side == BodyKind::Guide ? g_.guide_sites : g_.model_sites;
    // 1. One node per name: the first site of that name decides its look and plate.
    std::map<PlateId, std::vector<const Site*>> by_plate;  // none: outside any plate
    std::set<std::string> named;
    std::set<PlateId> used;
    for (SiteId id : ids) {
      const Site& s = g_.site(id);
      if (!named.insert(s.name).second) continue;
      PlateId p = s.plates.empty() ? none : s.plates.back();
      by_plate[p].push_back(&s);
      for (PlateId q = p; q != none; q = g_.plate(q).parent) used.insert(q);
    }
    for (const Site* s : by_plate[none]) out_ += node_line(side, *s, indent);
    // 2. Plates as nested clusters.
    for (PlateId p : used)
      if (g_.plate(p).parent == none) cluster(side, p, used, by_plate, indent);
    // 3. Host functions: one box per function used, an arrow to each site it feeds.
    std::set<std::int32_t> hosts;
    std::set<std::pair<std::int32_t, std::string>> fed;  // one arrow per (function, site name)
    for (const auto& h : g_.host_edges) {
      if (h.side != side) continue;
      const std::string name = "host:" + g_.hosts->row(h.row).name;
      if (hosts.insert(h.row).second)
        out_ += fmt::format("{}{} [label={}, shape=box, style=rounded];\n", indent, node_id(side, name),
                            quoted(g_.hosts->row(h.row).name + "()"));
      if (fed.insert({h.row, g_.site(h.to).name}).second)
        edge_lines_.push_back(fmt::format("  {} -> {};\n", node_id(side, name), node_id(side, g_.site(h.to).name)));
    }
    // 4. Edges between named nodes, once per pair.
    std::set<std::pair<std::string, std::string>> done;
    for (const auto& e : g_.edges) {
      if (e.side != side) continue;
      const std::string& from = g_.site(e.from).name;
      const std::string& to = g_.site(e.to).name;
      if (!done.insert({from, to}).second) continue;
      std::string style;
      if (!e.exact) style = " [style=dashed]";
      else if (!e.data_flow) style = " [style=dotted]";
      edge_lines_.push_back(fmt::format("  {} -> {}{};\n", node_id(side, from), node_id(side, to), style));
    }
  }

  void cluster(BodyKind side, PlateId p, const std::set<PlateId>& used,
               std::map<PlateId, std::vector<const Site*>>& by_plate, const std::string& indent) {
    const Plate& plate = g_.plate(p);
    std::string size = expr_text(g_, plate.body, plate.size);
    if (plate.subsample != no_expr) size += ", subsample " + expr_text(g_, plate.body, plate.subsample);
    out_ += fmt::format("{}subgraph cluster_{}{} {{\n", indent, side == BodyKind::Guide ? "guide_" : "", p);
    out_ += fmt::format("{}  label={};\n{}  labeljust=r;\n{}  labelloc=b;\n", indent,
                        quoted(plate.name + " (" + size + ")"), indent, indent);
    for (const Site* s : by_plate[p]) out_ += node_line(side, *s, indent + "  ");
    for (PlateId q : used)
      if (g_.plate(q).parent == p) cluster(side, q, used, by_plate, indent + "  ");
    out_ += indent + "}\n";
  }

  const Graph& g_;
  std::string out_;
  std::vector<std::string> edge_lines_;
};

}  // namespace

std::string to_dot(const Graph& g, const DotOptions& options) { return DotWriter(g).write(options); }

}  // namespace vireo::ir
