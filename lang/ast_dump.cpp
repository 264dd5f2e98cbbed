// The AST dump (ast_dump.hpp). One overload per node kind, dispatched with std::visit.
#include "lang/ast_dump.hpp"

#include <fmt/format.h>

namespace vireo::lang::ast {

namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

std::string args(const std::vector<Arg>& as) {
  std::string out;
  for (const auto& a : as) out += " " + (a.name.empty() ? dump(*a.value) : a.name + "=" + dump(*a.value));
  return out;
}

std::string opt(const std::optional<Box<Expr>>& e) { return e ? dump(**e) : "_"; }

std::string options(const std::vector<SiteOption>& os) {
  std::string out;
  for (const auto& o : os) out += fmt::format(" with ({}{})", o.name, args(o.args));
  return out;
}

std::string block(const Block& b, int indent) {
  std::string out;
  for (const auto& s : b) out += dump(s, indent);
  return out;
}

}  // namespace

std::string dump(const Expr& e) {
  return std::visit(
      overloaded{
          [](const NumberLit& n) { return n.text.empty() ? fmt::format("{}", n.value) : n.text; },
          [](const BoolLit& b) { return std::string(b.value ? "true" : "false"); },
          [](const NameRef& n) { return n.name; },
          [](const Unary& u) {
            return fmt::format("({} {})", u.op == UnaryOp::Neg ? "neg" : "not", dump(*u.operand));
          },
          [](const Binary& b) { return fmt::format("({} {} {})", spelling(b.op), dump(*b.lhs), dump(*b.rhs)); },
          [](const Call& c) { return fmt::format("(call {}{})", c.callee, args(c.args)); },
          [](const Index& ix) {
            std::string out = "(index " + dump(*ix.base);
            for (const auto& s : ix.subscripts)
              out += s.is_slice ? fmt::format(" (: {} {})", opt(s.lo), opt(s.hi)) : " " + opt(s.index);
            return out + ")";
          },
          [](const VectorLit& v) {
            std::string out = "[";
            for (std::size_t i = 0; i < v.elements.size(); ++i) out += (i ? " " : "") + dump(v.elements[i]);
            return out + "]";
          },
      },
      e.node);
}

std::string dump(const TypeExpr& t) {
  std::string out = spelling(t.base);
  if (t.lower || t.upper) {
    out += "<";
    if (t.lower) out += "lower=" + dump(**t.lower);
    if (t.lower && t.upper) out += ", ";
    if (t.upper) out += "upper=" + dump(**t.upper);
    out += ">";
  }
  if (!t.dims.empty()) {
    out += "[";
    for (std::size_t i = 0; i < t.dims.size(); ++i) out += (i ? ", " : "") + dump(t.dims[i]);
    out += "]";
  }
  return out;
}

std::string dump(const Stmt& s, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  return std::visit(
      overloaded{
          [&](const SampleStmt& x) {
            return fmt::format("{}sample {}{} ~ {}{}\n", pad, x.name, x.type ? " : " + dump(*x.type) : "",
                               dump(x.dist), options(x.options));
          },
          [&](const ObserveStmt& x) {
            return fmt::format("{}observe {}{} ~ {}{}\n", pad, dump(x.target), x.type ? " : " + dump(*x.type) : "",
                               dump(x.dist), options(x.options));
          },
          [&](const LetStmt& x) { return fmt::format("{}let {} = {}\n", pad, x.name, dump(x.value)); },
          [&](const AssignStmt& x) { return fmt::format("{}assign {} = {}\n", pad, x.name, dump(x.value)); },
          [&](const DeterministicStmt& x) {
            return fmt::format("{}deterministic {} = {}\n", pad, x.name, dump(x.value));
          },
          [&](const ParamStmt& x) {
            return fmt::format("{}param {} : {} = {}\n", pad, x.name, dump(x.type), dump(x.init));
          },
          [&](const PlateStmt& x) {
            std::string head = fmt::format("{}plate {} ({})", pad, x.name, dump(x.size));
            if (x.subsample) head += " subsample=" + dump(*x.subsample);
            if (!x.index_name.empty()) head += " as " + x.index_name;
            return head + "\n" + block(x.body, indent + 1);
          },
          [&](const ForStmt& x) {
            return fmt::format("{}for {} in {} .. {}\n", pad, x.var, dump(x.lo), dump(x.hi)) +
                   block(x.body, indent + 1);
          },
          [&](const IfStmt& x) {
            std::string out = fmt::format("{}if {}\n", pad, dump(x.cond)) + block(x.then_body, indent + 1);
            if (x.else_body) out += pad + "else\n" + block(*x.else_body, indent + 1);
            return out;
          },
          [&](const ReturnStmt& x) { return fmt::format("{}return {}\n", pad, dump(x.value)); },
          [&](const ScaleStmt& x) {
            return fmt::format("{}scale {}\n", pad, dump(x.weight)) + block(x.body, indent + 1);
          },
          [&](const FactorStmt& x) { return fmt::format("{}factor {} = {}\n", pad, x.name, dump(x.value)); },
      },
      s.node);
}

std::string dump(const Program& p) {
  std::string out;
  for (const auto& item : p.items) {
    out += std::visit(overloaded{
                          [](const DataBlock& d) {
                            std::string o = "data\n";
                            for (const auto& decl : d.decls) o += fmt::format("  {} : {}\n", decl.name, dump(decl.type));
                            return o;
                          },
                          [](const ModelBlock& m) { return "model\n" + block(m.body, 1); },
                          [](const GuideBlock& g) { return "guide\n" + block(g.body, 1); },
                          [](const FnDecl& f) {
                            std::string ps;
                            for (std::size_t i = 0; i < f.params.size(); ++i) ps += (i ? ", " : "") + f.params[i].name;
                            return fmt::format("fn {}({})\n", f.name, ps) + block(f.body, 1);
                          },
                      },
                      item);
  }
  return out;
}

}  // namespace vireo::lang::ast
