// The site graph as text: expressions as source, then one line per data
// item, plate, site and edge.
#include <fmt/format.h>

#include <cmath>

#include "lang/ir/print.hpp"

namespace vireo::ir {
namespace {

bool is_infix(Op op) {
  switch (op) {
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::MatMul: case Op::Pow:
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Eq: case Op::Ne: case Op::And: case Op::Or:
      return true;
    default: return false;
  }
}

int precedence(Op op) {
  switch (op) {
    case Op::Or: return 1;
    case Op::And: return 2;
    case Op::Not: return 3;
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Eq: case Op::Ne: return 4;
    case Op::Add: case Op::Sub: return 5;
    case Op::Mul: case Op::Div: case Op::MatMul: return 6;
    case Op::Neg: return 7;
    case Op::Pow: return 8;
    default: return 9;
  }
}

std::string number_text(double v, bool integer) {
  if (std::isnan(v)) return "nan";
  if (integer && std::fabs(v) < 9e15) return fmt::format("{}", static_cast<long long>(v));
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string type_text(const Graph& g, BodyId body, const TypeDecl& t) {
  std::string out = lang::ast::spelling(t.base);
  if (t.lower != no_expr || t.upper != no_expr) {
    out += "<";
    if (t.lower != no_expr) out += "lower=" + expr_text(g, body, t.lower);
    if (t.lower != no_expr && t.upper != no_expr) out += ", ";
    if (t.upper != no_expr) out += "upper=" + expr_text(g, body, t.upper);
    out += ">";
  }
  if (!t.dims.empty()) {
    out += "[";
    for (std::size_t i = 0; i < t.dims.size(); ++i) out += (i ? ", " : "") + expr_text(g, body, t.dims[i]);
    out += "]";
  }
  return out;
}

}  // namespace

std::string expr_text(const Graph& g, BodyId body_id, ExprId id) {
  if (id == no_expr) return "";
  const Body& b = g.body(body_id);
  const Expr& e = b.expr(id);
  auto sub = [&](std::uint32_t i, int min_prec) {
    ExprId c = b.operand(e, i);
    std::string s = expr_text(g, body_id, c);
    if (c != no_expr && precedence(b.expr(c).op) < min_prec) return "(" + s + ")";
    return s;
  };
  switch (e.op) {
    case Op::Number: return number_text(e.number, e.ref == 1);
    case Op::Bool: return e.number != 0 ? "true" : "false";
    case Op::Slot:
      return e.ref >= 0 && static_cast<std::size_t>(e.ref) < b.slot_names.size() ? b.slot_names[e.ref] : "?";
    case Op::Data: return e.ref >= 0 && static_cast<std::size_t>(e.ref) < g.data.size() ? g.data[e.ref].name : "?";
    case Op::Neg: return "-" + sub(0, precedence(Op::Neg));
    case Op::Not: return "not " + sub(0, precedence(Op::Not));
    case Op::CallBuiltin: {
      const sig::Signature& s = sig::get(e.ref);
      std::string out = std::string(s.name) + "(";
      bool first = true, named = false;
      for (std::uint32_t i = 0; i < e.count; ++i) {
        ExprId a = b.operand(e, i);
        bool is_param = i < s.params.size();
        if (a == no_expr) {
          named = true;
          continue;
        }
        if (is_param && s.params[i].alternative >= 0) named = true;
        out += first ? "" : ", ";
        first = false;
        if (named && is_param) out += std::string(s.params[i].name) + " = ";
        out += expr_text(g, body_id, a);
      }
      return out + ")";
    }
    case Op::CallHost: {
      std::string out = (g.hosts ? g.hosts->row(e.ref).name : std::string("?")) + "(";
      for (std::uint32_t i = 0; i < e.count; ++i) out += (i ? ", " : "") + expr_text(g, body_id, b.operand(e, i));
      return out + ")";
    }
    case Op::CallFn: {
      std::string out = g.body(e.ref).name + "(";
      for (std::uint32_t i = 0; i < e.count; ++i) out += (i ? ", " : "") + expr_text(g, body_id, b.operand(e, i));
      return out + ")";
    }
    case Op::Index: {
      std::string out = sub(0, 9) + "[";
      for (std::uint32_t i = 1; i < e.count; ++i) out += (i > 1 ? ", " : "") + expr_text(g, body_id, b.operand(e, i));
      return out + "]";
    }
    case Op::Slice: return expr_text(g, body_id, b.operand(e, 0)) + ":" + expr_text(g, body_id, b.operand(e, 1));
    case Op::Vector: {
      std::string out = "[";
      for (std::uint32_t i = 0; i < e.count; ++i) out += (i ? ", " : "") + expr_text(g, body_id, b.operand(e, i));
      return out + "]";
    }
    default: break;
  }
  if (is_infix(e.op)) {
    int p = precedence(e.op);
    bool right_assoc = e.op == Op::Pow;
    return sub(0, right_assoc ? p + 1 : p) + " " + spelling(e.op) + " " + sub(1, right_assoc ? p : p + 1);
  }
  return "?";
}

std::string to_text(const Graph& g) {
  std::string out = fmt::format("graph {}\n", g.name);
  for (const auto& d : g.data) out += fmt::format("data {}: {}\n", d.name, type_text(g, g.data_body, d.type));
  for (const auto& p : g.plates) {
    out += fmt::format("plate {} {}({}", p.id, p.name, expr_text(g, p.body, p.size));
    if (p.subsample != no_expr) out += ", subsample = " + expr_text(g, p.body, p.subsample);
    out += ")";
    if (p.index_slot != none) out += " as " + g.body(p.body).slot_names[p.index_slot];
    out += " in " + g.body(p.body).name;
    if (p.parent != none) out += fmt::format(" inside {}", g.plate(p.parent).name);
    out += "\n";
  }
  for (const auto& s : g.sites) {
    const Body& b = g.body(s.body);
    out += fmt::format("site {} {} {}", s.id, spelling(s.kind), s.name);
    if (s.type.given) out += ": " + type_text(g, s.body, s.type);
    switch (s.kind) {
      case SiteKind::Sample: out += " ~ " + expr_text(g, s.body, s.dist_call); break;
      case SiteKind::Observe:
        out += " = " + expr_text(g, s.body, s.value) + " ~ " + expr_text(g, s.body, s.dist_call);
        break;
      case SiteKind::Param:
      case SiteKind::Deterministic:
      case SiteKind::Factor: out += " = " + expr_text(g, s.body, s.value); break;
    }
    out += " in " + b.name;
    if (!s.plates.empty()) {
      out += " plates";
      for (PlateId p : s.plates) out += " " + g.plate(p).name;
    }
    if (!s.loops.empty()) {
      out += " loops";
      for (SlotId l : s.loops) out += " " + b.slot_names[l];
    }
    if (s.baseline.given) {
      out += " baseline(";
      std::vector<std::string> parts;
      if (s.baseline.none) parts.push_back("none");
      if (s.baseline.beta) parts.push_back(fmt::format("beta = {}", *s.baseline.beta));
      if (s.baseline.value != no_expr) parts.push_back("value = " + expr_text(g, s.body, s.baseline.value));
      if (s.baseline.net != no_expr) parts.push_back("net = " + expr_text(g, s.body, s.baseline.net));
      if (s.baseline.hidden) parts.push_back(fmt::format("hidden = {}", s.baseline.hidden));
      for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
      out += ")";
    }
    out += "\n";
  }
  for (const auto& h : g.host_edges)
    out += fmt::format("edge {} host {}{} -> {}\n", h.side == BodyKind::Guide ? "guide" : "model", g.hosts->row(h.row).name,
                       g.hosts->row(h.row).has_gradient() ? "" : " (no gradient)", g.site(h.to).name);
  for (const auto& e : g.edges) {
    std::string how = e.data_flow && e.control ? "data+control" : e.data_flow ? "data" : "control";
    out += fmt::format("edge {} {} -> {} ({}{})\n", e.side == BodyKind::Guide ? "guide" : "model", g.site(e.from).name,
                       g.site(e.to).name, how, e.exact ? "" : ", inexact");
  }
  return out;
}

}  // namespace vireo::ir
