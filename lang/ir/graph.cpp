// Look-ups and spellings of the site graph (graph.hpp).
#include "lang/ir/graph.hpp"

namespace vireo::ir {

const char* spelling(Op op) {
  switch (op) {
    case Op::Number: return "number";
    case Op::Bool: return "bool";
    case Op::Slot: return "slot";
    case Op::Data: return "data";
    case Op::Neg: return "-";
    case Op::Not: return "not";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::MatMul: return "@";
    case Op::Pow: return "^";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::And: return "and";
    case Op::Or: return "or";
    case Op::CallBuiltin: return "call";
    case Op::CallFn: return "callfn";
    case Op::CallHost: return "callhost";
    case Op::Index: return "index";
    case Op::Slice: return "slice";
    case Op::Vector: return "vector";
  }
  return "?";
}

const char* spelling(SiteKind k) {
  switch (k) {
    case SiteKind::Sample: return "sample";
    case SiteKind::Observe: return "observe";
    case SiteKind::Param: return "param";
    case SiteKind::Deterministic: return "deterministic";
    case SiteKind::Factor: return "factor";
  }
  return "?";
}

BodyId Graph::find_fn(const std::string& fn) const {
  for (std::size_t i = 0; i < bodies.size(); ++i)
    if (bodies[i].kind == BodyKind::Fn && bodies[i].name == fn) return static_cast<BodyId>(i);
  return none;
}

int Graph::find_data(const std::string& item) const {
  for (std::size_t i = 0; i < data.size(); ++i)
    if (data[i].name == item) return static_cast<int>(i);
  return -1;
}

std::vector<SiteId> Graph::find_sites(BodyKind side, const std::string& site_name) const {
  std::vector<SiteId> out;
  for (SiteId id : side == BodyKind::Guide ? guide_sites : model_sites)
    if (site(id).name == site_name) out.push_back(id);
  return out;
}

const Edge* Graph::find_edge(SiteId from, SiteId to, BodyKind side) const {
  for (const auto& e : edges)
    if (e.from == from && e.to == to && e.side == side) return &e;
  return nullptr;
}

}  // namespace vireo::ir
