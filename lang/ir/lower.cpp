// AST -> site graph: names resolved to slots, calls to table rows or fn
// bodies, expressions flattened into each Body's pool, sites and plates
// collected with their context (see graph.hpp for the layout).
#include "lang/ir/lower.hpp"

#include <cmath>
#include <limits>
#include <map>

namespace vireo::ir {
namespace {

namespace ast = lang::ast;

Op binary_op(ast::BinaryOp op) {
  switch (op) {
    case ast::BinaryOp::Or: return Op::Or;
    case ast::BinaryOp::And: return Op::And;
    case ast::BinaryOp::Lt: return Op::Lt;
    case ast::BinaryOp::Le: return Op::Le;
    case ast::BinaryOp::Gt: return Op::Gt;
    case ast::BinaryOp::Ge: return Op::Ge;
    case ast::BinaryOp::Eq: return Op::Eq;
    case ast::BinaryOp::Ne: return Op::Ne;
    case ast::BinaryOp::Add: return Op::Add;
    case ast::BinaryOp::Sub: return Op::Sub;
    case ast::BinaryOp::Mul: return Op::Mul;
    case ast::BinaryOp::Div: return Op::Div;
    case ast::BinaryOp::MatMul: return Op::MatMul;
    case ast::BinaryOp::Pow: return Op::Pow;
  }
  return Op::Add;
}

class Lowerer {
 public:
  Lowerer(std::string name, std::shared_ptr<const sig::HostTable> hosts) {
    g_.name = std::move(name);
    g_.hosts = std::move(hosts);
  }

  Graph run(const ast::Program& program) {
    // 1. Bodies: data first, then every fn (so calls can refer to any), model, guide.
    g_.data_body = new_body(BodyKind::Data, "data", {});
    std::vector<std::pair<const ast::FnDecl*, BodyId>> fns;
    for (const auto& item : program.items)
      if (const auto* f = std::get_if<ast::FnDecl>(&item); f && !fn_ids_.count(f->name)) {
        BodyId id = new_body(BodyKind::Fn, f->name, f->span);
        fn_ids_[f->name] = id;
        fns.emplace_back(f, id);
      }
    // 2. Data declarations (their sizes and bounds may use earlier data).
    for (const auto& item : program.items)
      if (const auto* d = std::get_if<ast::DataBlock>(&item)) {
        if (data_seen_) continue;
        data_seen_ = true;
        enter(g_.data_body);
        for (const auto& decl : d->decls) {
          if (data_ids_.count(decl.name)) continue;
          DataDecl out{decl.name, lower_type(decl.type), decl.span};
          data_ids_[decl.name] = static_cast<int>(g_.data.size());
          g_.data.push_back(std::move(out));
        }
      }
    // 3. Fns, model, guide.
    for (auto [f, id] : fns) {
      enter(id);
      for (const auto& p : f->params) declare(p.name);
      body().param_count = f->params.size();
      body().stmts = lower_block(f->body);
    }
    for (const auto& item : program.items) {
      if (const auto* m = std::get_if<ast::ModelBlock>(&item); m && g_.model == none) {
        g_.model = new_body(BodyKind::Model, "model", m->span);
        enter(g_.model);
        body().stmts = lower_block(m->body);
      } else if (const auto* gb = std::get_if<ast::GuideBlock>(&item); gb && g_.guide == none) {
        g_.guide = new_body(BodyKind::Guide, "guide", gb->span);
        enter(g_.guide);
        body().stmts = lower_block(gb->body);
      }
    }
    compute_dependencies(g_);
    mark_batchable_loops(g_);
    mark_fixed_structure(g_);
    return std::move(g_);
  }

 private:
  BodyId new_body(BodyKind kind, std::string name, Span span) {
    Body b;
    b.kind = kind;
    b.name = std::move(name);
    b.span = span;
    g_.bodies.push_back(std::move(b));
    return static_cast<BodyId>(g_.bodies.size() - 1);
  }
  void enter(BodyId id) {
    current_ = id;
    scopes_.assign(1, {});
    plates_.clear();
    loops_.clear();
  }
  Body& body() { return g_.bodies[static_cast<std::size_t>(current_)]; }

  SlotId declare(const std::string& name) {
    auto id = static_cast<SlotId>(body().slot_names.size());
    body().slot_names.push_back(name);
    scopes_.back()[name] = id;
    return id;
  }
  SlotId lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (auto f = it->find(name); f != it->end()) return f->second;
    return none;
  }

  ExprId push(Op op, std::int32_t ref, double number, const std::vector<ExprId>& operands, Span span) {
    Body& b = body();
    Expr e;
    e.op = op;
    e.ref = ref;
    e.number = number;
    e.first = static_cast<std::uint32_t>(b.operands.size());
    e.count = static_cast<std::uint32_t>(operands.size());
    e.span = span;
    b.operands.insert(b.operands.end(), operands.begin(), operands.end());
    b.exprs.push_back(e);
    return static_cast<ExprId>(b.exprs.size() - 1);
  }

  ExprId lower_expr(const ast::Expr& e) {
    return std::visit(
        [&](const auto& n) -> ExprId {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, ast::NumberLit>) {
            return push(Op::Number, n.is_integer ? 1 : 0, n.value, {}, e.span);
          } else if constexpr (std::is_same_v<T, ast::BoolLit>) {
            return push(Op::Bool, none, n.value ? 1 : 0, {}, e.span);
          } else if constexpr (std::is_same_v<T, ast::NameRef>) {
            if (SlotId s = lookup(n.name); s != none) return push(Op::Slot, s, 0, {}, e.span);
            if (auto d = data_ids_.find(n.name); d != data_ids_.end()) return push(Op::Data, d->second, 0, {}, e.span);
            return push(Op::Number, 0, std::numeric_limits<double>::quiet_NaN(), {}, e.span);
          } else if constexpr (std::is_same_v<T, ast::Unary>) {
            ExprId a = lower_expr(*n.operand);
            return push(n.op == ast::UnaryOp::Neg ? Op::Neg : Op::Not, none, 0, {a}, e.span);
          } else if constexpr (std::is_same_v<T, ast::Binary>) {
            ExprId a = lower_expr(*n.lhs);
            ExprId b = lower_expr(*n.rhs);
            return push(binary_op(n.op), none, 0, {a, b}, e.span);
          } else if constexpr (std::is_same_v<T, ast::Call>) {
            return lower_call(n, e.span);
          } else if constexpr (std::is_same_v<T, ast::Index>) {
            std::vector<ExprId> ops{lower_expr(*n.base)};
            for (const auto& s : n.subscripts) {
              if (!s.is_slice) {
                ops.push_back(s.index ? lower_expr(**s.index) : push(Op::Number, 1, 0, {}, s.span));
              } else {
                ExprId lo = s.lo ? lower_expr(**s.lo) : no_expr;
                ExprId hi = s.hi ? lower_expr(**s.hi) : no_expr;
                ops.push_back(push(Op::Slice, none, 0, {lo, hi}, s.span));
              }
            }
            return push(Op::Index, none, 0, ops, e.span);
          } else if constexpr (std::is_same_v<T, ast::VectorLit>) {
            std::vector<ExprId> ops;
            for (const auto& el : n.elements) ops.push_back(lower_expr(el));
            return push(Op::Vector, none, 0, ops, e.span);
          }
        },
        e.node);
  }

  ExprId lower_call(const ast::Call& c, Span span) {
    std::vector<ExprId> args;
    for (const auto& a : c.args) args.push_back(lower_expr(*a.value));
    if (const sig::Signature* s = sig::find(c.callee)) {
      std::vector<std::string> names;
      for (const auto& a : c.args) names.push_back(a.name);
      sig::Binding bind = sig::bind_arguments(*s, names);
      std::vector<ExprId> ops(s->params.size() + static_cast<std::size_t>(bind.variadic_count), no_expr);
      for (std::size_t i = 0; i < args.size(); ++i) {
        int p = i < bind.param_of_arg.size() ? bind.param_of_arg[i] : -1;
        if (p >= 0 && static_cast<std::size_t>(p) < ops.size()) ops[static_cast<std::size_t>(p)] = args[i];
      }
      return push(Op::CallBuiltin, s->id, 0, ops, span);
    }
    if (int h = g_.hosts ? g_.hosts->find(c.callee) : -1; h >= 0) {
      const sig::Signature& s = g_.hosts->row(h).signature;
      std::vector<std::string> names;
      for (const auto& a : c.args) names.push_back(a.name);
      sig::Binding bind = sig::bind_arguments(s, names);
      std::vector<ExprId> ops(s.params.size(), no_expr);
      for (std::size_t i = 0; i < args.size(); ++i) {
        int p = i < bind.param_of_arg.size() ? bind.param_of_arg[i] : -1;
        if (p >= 0 && static_cast<std::size_t>(p) < ops.size()) ops[static_cast<std::size_t>(p)] = args[i];
      }
      return push(Op::CallHost, h, 0, ops, span);
    }
    if (auto f = fn_ids_.find(c.callee); f != fn_ids_.end()) {
      const Body& callee = g_.bodies[static_cast<std::size_t>(f->second)];
      std::vector<ExprId> ops(callee.param_count, no_expr);
      std::size_t positional = 0;
      for (std::size_t i = 0; i < c.args.size(); ++i) {
        std::size_t k = positional;
        if (!c.args[i].name.empty()) {
          k = 0;
          while (k < callee.param_count && callee.slot_names[k] != c.args[i].name) ++k;
        } else {
          ++positional;
        }
        if (k < ops.size()) ops[k] = args[i];
      }
      return push(Op::CallFn, f->second, 0, ops, span);
    }
    return push(Op::Number, 0, std::numeric_limits<double>::quiet_NaN(), {}, span);
  }

  TypeDecl lower_type(const ast::TypeExpr& t) {
    TypeDecl out;
    out.given = true;
    out.base = t.base;
    if (t.lower) out.lower = lower_expr(**t.lower);
    if (t.upper) out.upper = lower_expr(**t.upper);
    for (const auto& d : t.dims) out.dims.push_back(lower_expr(d));
    return out;
  }

  Baseline lower_options(const std::vector<ast::SiteOption>& options) {
    Baseline b;
    for (const auto& o : options) {
      if (o.name != "baseline") continue;
      b.given = true;
      for (const auto& a : o.args) {
        const auto* num = std::get_if<ast::NumberLit>(&a.value->node);
        if (a.name.empty()) b.none = true;
        else if (a.name == "beta" && num) b.beta = num->value;
        else if (a.name == "hidden" && num && num->value >= 1 && num->value < 1e9) b.hidden = static_cast<int>(num->value);
        else if (a.name == "value") b.value = lower_expr(*a.value);
        else if (a.name == "net") b.net = lower_expr(*a.value);
      }
    }
    return b;
  }

  SiteId new_site(SiteKind kind, std::string name, Span span, Span name_span) {
    Site s;
    s.id = static_cast<SiteId>(g_.sites.size());
    s.kind = kind;
    s.name = std::move(name);
    s.body = current_;
    s.plates = plates_;
    s.loops = loops_;
    s.span = span;
    s.name_span = name_span;
    g_.sites.push_back(std::move(s));
    return g_.sites.back().id;
  }
  Site& site(SiteId id) { return g_.sites[static_cast<std::size_t>(id)]; }

  void set_dist(SiteId id, const ast::Expr& dist) {
    ExprId call = lower_expr(dist);
    const Expr& e = body().expr(call);
    site(id).dist_call = call;
    site(id).dist = e.op == Op::CallBuiltin ? e.ref : sig::no_builtin;
  }

  std::vector<Stmt> lower_block(const ast::Block& block) {
    std::vector<Stmt> out;
    for (const auto& s : block) out.push_back(lower_stmt(s));
    return out;
  }

  std::vector<Stmt> lower_scoped(const ast::Block& block) {
    scopes_.emplace_back();
    std::vector<Stmt> out = lower_block(block);
    scopes_.pop_back();
    return out;
  }

  Stmt lower_stmt(const ast::Stmt& stmt) {
    Stmt out;
    out.span = stmt.span;
    std::visit(
        [&](const auto& s) {
          using T = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<T, ast::SampleStmt>) {
            out.kind = StmtKind::Sample;
            out.site = new_site(SiteKind::Sample, s.name, stmt.span, s.name_span);
            set_dist(out.site, s.dist);
            if (s.type) site(out.site).type = lower_type(*s.type);
            site(out.site).baseline = lower_options(s.options);
            for (const auto& o : s.options)
              if (o.name == "enumerate") site(out.site).enumerate = o.args.empty() ? EnumerateOption::On : EnumerateOption::None;
            out.slot = lookup(s.name);
            if (out.slot == none) out.slot = declare(s.name);
            site(out.site).slot = out.slot;
          } else if constexpr (std::is_same_v<T, ast::ObserveStmt>) {
            const ast::Expr* root = &s.target;
            while (const auto* ix = std::get_if<ast::Index>(&root->node)) root = &*ix->base;
            const auto* n = std::get_if<ast::NameRef>(&root->node);
            out.kind = StmtKind::Observe;
            out.site = new_site(SiteKind::Observe, n ? n->name : "?", stmt.span, s.target.span);
            set_dist(out.site, s.dist);
            site(out.site).value = lower_expr(s.target);
            if (s.type) site(out.site).type = lower_type(*s.type);
            site(out.site).baseline = lower_options(s.options);
          } else if constexpr (std::is_same_v<T, ast::LetStmt>) {
            out.kind = StmtKind::Let;
            out.value = lower_expr(s.value);
            out.slot = declare(s.name);
          } else if constexpr (std::is_same_v<T, ast::AssignStmt>) {
            out.kind = StmtKind::Assign;
            out.value = lower_expr(s.value);
            out.slot = lookup(s.name);
            if (out.slot == none) out.slot = declare(s.name);
          } else if constexpr (std::is_same_v<T, ast::DeterministicStmt>) {
            out.kind = StmtKind::Deterministic;
            out.site = new_site(SiteKind::Deterministic, s.name, stmt.span, s.name_span);
            out.value = lower_expr(s.value);
            site(out.site).value = out.value;
            out.slot = lookup(s.name);
            if (out.slot == none) out.slot = declare(s.name);
            site(out.site).slot = out.slot;
          } else if constexpr (std::is_same_v<T, ast::ParamStmt>) {
            out.kind = StmtKind::Param;
            out.site = new_site(SiteKind::Param, s.name, stmt.span, s.name_span);
            site(out.site).type = lower_type(s.type);
            out.value = lower_expr(s.init);
            site(out.site).value = out.value;
            out.slot = lookup(s.name);
            if (out.slot == none) out.slot = declare(s.name);
            site(out.site).slot = out.slot;
          } else if constexpr (std::is_same_v<T, ast::PlateStmt>) {
            out.kind = StmtKind::Plate;
            Plate p;
            p.id = static_cast<PlateId>(g_.plates.size());
            p.name = s.name;
            p.body = current_;
            p.size = lower_expr(s.size);
            if (s.subsample) p.subsample = lower_expr(*s.subsample);
            p.parent = plates_.empty() ? none : plates_.back();
            p.span = stmt.span;
            if (!s.index_name.empty()) p.index_slot = declare(s.index_name);
            out.plate = p.id;
            out.slot = p.index_slot;
            g_.plates.push_back(p);
            plates_.push_back(p.id);
            out.body = lower_block(s.body);  // a plate opens no scope
            plates_.pop_back();
          } else if constexpr (std::is_same_v<T, ast::ForStmt>) {
            out.kind = StmtKind::For;
            out.value = lower_expr(s.lo);
            out.value2 = lower_expr(s.hi);
            scopes_.emplace_back();
            out.slot = declare(s.var);
            loops_.push_back(out.slot);
            out.body = lower_block(s.body);
            loops_.pop_back();
            scopes_.pop_back();
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            out.kind = StmtKind::If;
            out.value = lower_expr(s.cond);
            out.body = lower_scoped(s.then_body);
            if (s.else_body) {
              out.has_else = true;
              out.else_body = lower_scoped(*s.else_body);
            }
          } else if constexpr (std::is_same_v<T, ast::ReturnStmt>) {
            out.kind = StmtKind::Return;
            out.value = lower_expr(s.value);
          } else if constexpr (std::is_same_v<T, ast::ScaleStmt>) {
            out.kind = StmtKind::Scale;
            out.value = lower_expr(s.weight);
            out.body = lower_block(s.body);
          } else if constexpr (std::is_same_v<T, ast::FactorStmt>) {
            out.kind = StmtKind::Factor;
            out.site = new_site(SiteKind::Factor, s.name, stmt.span, s.name_span);
            out.value = lower_expr(s.value);
            site(out.site).value = out.value;
          }
        },
        stmt.node);
    return out;
  }

  Graph g_;
  BodyId current_ = none;
  bool data_seen_ = false;
  std::vector<std::map<std::string, SlotId>> scopes_;
  std::vector<PlateId> plates_;
  std::vector<SlotId> loops_;
  std::map<std::string, BodyId> fn_ids_;
  std::map<std::string, int> data_ids_;
};

}  // namespace

Graph lower(const lang::ast::Program& program, std::string name, std::shared_ptr<const sig::HostTable> hosts) {
  return Lowerer(std::move(name), std::move(hosts)).run(program);
}

}  // namespace vireo::ir
