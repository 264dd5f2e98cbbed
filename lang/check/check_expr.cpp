// Expressions: names, calls against the builtin table and user functions,
// indexing and gathering, and the kinds and shapes of operators.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "lang/check/checker.hpp"
#include "stdlib/signatures/shape.hpp"

namespace vireo::lang::check_detail {

namespace {

Kind arith_kind(Kind a, Kind b) {
  if (a == Kind::Unknown || b == Kind::Unknown) return Kind::Unknown;
  if (a == Kind::Real || b == Kind::Real) return Kind::Real;
  return Kind::Int;
}

std::string plural(std::size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// The values of a constant argument: a number, a negated one, or a vector
// literal of them; nullopt when the value is known only at run time.
std::optional<std::vector<double>> constant_values(const ast::Expr& e) {
  if (const auto* n = std::get_if<ast::NumberLit>(&e.node)) return std::vector<double>{n->value};
  if (const auto* u = std::get_if<ast::Unary>(&e.node); u && u->op == ast::UnaryOp::Neg) {
    auto v = constant_values(*u->operand);
    if (v)
      for (double& x : *v) x = -x;
    return v;
  }
  if (const auto* l = std::get_if<ast::VectorLit>(&e.node)) {
    std::vector<double> out;
    for (const auto& el : l->elements) {
      auto v = constant_values(el);
      if (!v) return std::nullopt;
      out.insert(out.end(), v->begin(), v->end());
    }
    return out;
  }
  return std::nullopt;
}

std::string number_text(double x) { return fmt::format("{}", x); }

}  // namespace

void Checker::shape_error(Span span, const std::string& message, const std::string& hint) {
  diags_.error(span, message, hint);
}

sig::Dim Checker::as_dim(const ast::Expr& e) const {
  // Sizes beyond 2^53 are not exact doubles (and would overflow a cast): unknown.
  if (const auto* n = std::get_if<ast::NumberLit>(&e.node); n && n->is_integer && n->value >= 0 && n->value < 9e15)
    return sig::Dim::fixed(static_cast<std::int64_t>(n->value));
  if (const auto* r = std::get_if<ast::NameRef>(&e.node)) {
    auto it = data_.find(r->name);
    bool shadowed = false;
    if (body_)
      for (const auto& scope : body_->scopes) shadowed = shadowed || scope.count(r->name);
    if (it != data_.end() && !shadowed && it->second.type.kind == Kind::Int && it->second.type.is_scalar())
      return sig::Dim::named(r->name);
  }
  return sig::Dim::unknown();
}

std::vector<std::string> Checker::visible_names() const {
  std::vector<std::string> out(data_order_.begin(), data_order_.end());
  if (body_)
    for (const auto& scope : body_->scopes)
      for (const auto& [name, v] : scope) out.push_back(name);
  return out;
}

void Checker::unknown_name(const std::string& name, Span span) {
  if (body_ && !body_->reported_unknown.insert(name).second) return;
  std::string best = closest_name(name, visible_names());
  std::string hint = best.empty() ? "declare it first (`let`, `~`, or in the data block)"
                                  : fmt::format("did you mean '{}'?", best);
  diags_.error(span, fmt::format("unknown name '{}'", name), hint);
}

ValueType Checker::check_expr(const ast::Expr& e) {
  if (expr_depth_ >= max_expr_depth) {
    if (!depth_reported_)
      diags_.error(e.span, fmt::format("expression nested more than {} levels deep", max_expr_depth),
                   "split it into steps with `let`");
    depth_reported_ = true;
    return {};
  }
  struct Depth {
    int& d;
    explicit Depth(int& depth) : d(depth) { ++d; }
    ~Depth() { --d; }
  } depth(expr_depth_);
  return std::visit(
      [&](const auto& n) -> ValueType {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, ast::NumberLit>) {
          return ValueType::scalar(n.is_integer ? Kind::Int : Kind::Real);
        } else if constexpr (std::is_same_v<T, ast::BoolLit>) {
          return ValueType::scalar(Kind::Bool);
        } else if constexpr (std::is_same_v<T, ast::NameRef>) {
          if (const VarInfo* v = const_cast<Checker*>(this)->lookup(n.name)) return v->type;
          if (auto it = data_.find(n.name); it != data_.end()) return it->second.type;
          if (const sig::Signature* s = sig::find(n.name)) {
            diags_.error(e.span, fmt::format("'{}' is a {}; call it with arguments: {}", n.name,
                                             s->is_distribution() ? "distribution" : "function", s->describe()));
            return {};
          }
          if (fns_.count(n.name) || host(n.name)) {
            diags_.error(e.span, fmt::format("'{}' is a function; call it with arguments", n.name));
            return {};
          }
          unknown_name(n.name, e.span);
          return {};
        } else if constexpr (std::is_same_v<T, ast::Unary>) {
          ValueType t = check_expr(*n.operand);
          if (n.op == ast::UnaryOp::Not) {
            if (t.kind == Kind::Real)
              diags_.error(e.span, "`not` needs a bool; this is a real", "compare first, e.g. `not (x > 0)`");
            return {Kind::Bool, t.shape};
          }
          if (t.kind == Kind::Bool) t.kind = Kind::Int;
          return t;
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          return check_binary(n);
        } else if constexpr (std::is_same_v<T, ast::Call>) {
          return check_call(n, e.span, false);
        } else if constexpr (std::is_same_v<T, ast::Index>) {
          return check_index(n, e.span);
        } else if constexpr (std::is_same_v<T, ast::VectorLit>) {
          Kind kind = Kind::Int;
          sig::MaybeShape inner = sig::Shape{};
          bool first = true;
          for (const auto& el : n.elements) {
            ValueType t = check_expr(el);
            kind = kind == Kind::Unknown || t.kind == Kind::Unknown ? Kind::Unknown : arith_kind(kind, t.kind);
            if (!t.shape) inner.reset();
            else if (first) inner = t.shape;
            else if (inner && inner->str() != t.shape->str()) {
              diags_.error(el.span, fmt::format("the elements of a vector must have one shape; this one is {}, an "
                                                "earlier one {}", t.shape->str(), inner->str()));
              inner.reset();
            }
            first = false;
          }
          if (!inner) return {kind, std::nullopt};
          sig::Shape s;
          s.dims.push_back(sig::Dim::fixed(static_cast<std::int64_t>(n.elements.size())));
          s.dims.insert(s.dims.end(), inner->dims.begin(), inner->dims.end());
          return {kind, s};
        }
      },
      e.node);
}

ValueType Checker::check_binary(const ast::Binary& b) {
  ValueType l = check_expr(*b.lhs);
  ValueType r = check_expr(*b.rhs);
  const char* op = ast::spelling(b.op);
  switch (b.op) {
    case ast::BinaryOp::Or:
    case ast::BinaryOp::And:
      for (const auto* side : {&l, &r})
        if (side->kind == Kind::Real)
          diags_.error(b.op_span, fmt::format("`{}` needs bool operands; one side is a real", op),
                       "compare first, e.g. `x > 0`");
      break;
    default: break;
  }
  sig::ShapeOutcome shape = b.op == ast::BinaryOp::MatMul ? sig::matmul(l.shape, r.shape)
                                                          : sig::broadcast_in(l.shape, r.shape, plate_dims());
  if (!shape.error.empty()) diags_.error(b.op_span, fmt::format("cannot apply `{}`: {}", op, shape.error));
  Kind kind = Kind::Unknown;
  switch (b.op) {
    case ast::BinaryOp::Or:
    case ast::BinaryOp::And:
    case ast::BinaryOp::Lt:
    case ast::BinaryOp::Le:
    case ast::BinaryOp::Gt:
    case ast::BinaryOp::Ge:
    case ast::BinaryOp::Eq:
    case ast::BinaryOp::Ne: kind = Kind::Bool; break;
    case ast::BinaryOp::Div: kind = Kind::Real; break;
    default: kind = arith_kind(l.kind, r.kind);
  }
  return {kind, shape.shape};
}

ValueType Checker::check_index(const ast::Index& ix, Span span) {
  ValueType base = check_expr(*ix.base);
  std::vector<ValueType> subs;
  for (const auto& s : ix.subscripts) {
    if (!s.is_slice) {
      ValueType t = s.index ? check_expr(**s.index) : ValueType{};
      if (t.kind == Kind::Real)
        diags_.error(s.span, "an index must be an int; this is a real", "indices count from 0 and are whole numbers");
      subs.push_back(t);
    } else {
      for (const auto* end : {&s.lo, &s.hi})
        if (*end) {
          ValueType t = check_expr(***end);
          if (t.kind == Kind::Real) diags_.error((**end)->span, "a slice bound must be an int; this is a real");
        }
      subs.push_back({});
    }
  }
  if (!base.shape) return {base.kind, std::nullopt};
  // A plate-indexed value is subscripted over its per-element dimensions only
  // (LANGUAGE.md, "Plates are vectorised"); a plain array over all of them.
  const sig::Shape& full = *base.shape;
  const std::size_t pr = sig::plate_rank(full);
  const sig::Shape bs = sig::per_element(full);
  const auto* base_name = std::get_if<ast::NameRef>(&ix.base->node);
  const std::string what = base_name ? fmt::format("'{}'", base_name->name) : std::string("this value");
  const std::string rule =
      pr > 0 ? fmt::format("{} is plate-indexed (one value per element of {}), so its subscripts address one element's "
                           "shape {} (full shape {})",
                           what, plate_words(full), bs.str(), full.str())
             : std::string();
  if (ix.subscripts.size() > bs.rank()) {
    if (pr > 0)
      diags_.error(span, fmt::format("too many subscripts: {}; it is indexed with {}", rule,
                                     ix.subscripts.size()),
                   bs.rank() == 0 ? "each element is a single value: use it without subscripts"
                                  : fmt::format("LANGUAGE.md: subscripts of a plate-indexed value address its per-element "
                                                "dimensions only; write at most {}",
                                                plural(bs.rank(), "subscript")));
    else
      diags_.error(span, fmt::format("too many indices: the value has {} ({}) and is indexed with {}",
                                     plural(bs.rank(), "dimension"), bs.str(), ix.subscripts.size()),
                   bs.rank() == 0 ? "a single value cannot be indexed" : "");
    return {base.kind, std::nullopt};
  }
  sig::Shape out;
  out.dims.assign(full.dims.begin(), full.dims.begin() + static_cast<std::ptrdiff_t>(pr));
  bool known = true;
  for (std::size_t i = 0; i < ix.subscripts.size(); ++i) {
    const ast::Subscript& s = ix.subscripts[i];
    const sig::Dim& dim = bs.dims[i];
    if (s.is_slice) {
      const ast::NumberLit* lo = s.lo ? std::get_if<ast::NumberLit>(&(*s.lo)->node) : nullptr;
      const ast::NumberLit* hi = s.hi ? std::get_if<ast::NumberLit>(&(*s.hi)->node) : nullptr;
      if (hi && dim.kind == sig::Dim::Kind::Fixed && hi->value > static_cast<double>(dim.size))
        diags_.error(s.span, fmt::format("slice {}:{} is outside 0:{}{}", lo ? lo->text : "", hi->text, dim.size,
                                         pr > 0 ? "; " + rule : ""));
      if (!s.lo && !s.hi) out.dims.push_back(dim);
      else if (hi && (lo || !s.lo) && hi->value < 9e15 && (!lo || lo->value < 9e15) && hi->value >= (lo ? lo->value : 0))
        out.dims.push_back(sig::Dim::fixed(static_cast<std::int64_t>(hi->value - (lo ? lo->value : 0))));
      else out.dims.push_back(sig::Dim::unknown());
      continue;
    }
    const ValueType& t = subs[i];
    if (!t.shape) {
      known = false;
      continue;
    }
    if (t.shape->rank() == 0) {
      const ast::NumberLit* lit = s.index ? std::get_if<ast::NumberLit>(&(**s.index).node) : nullptr;
      if (lit && dim.kind == sig::Dim::Kind::Fixed && lit->value >= static_cast<double>(dim.size))
        diags_.error(s.span, fmt::format("index {} is out of range for a dimension of size {}{}", lit->text, dim.size,
                                         pr > 0 ? "; " + rule : ""));
      continue;
    }
    // Gathering with an int array: its shape replaces the dimension. The
    // runtime gathers on the first subscript of a plain array only.
    if (pr > 0 || i > 0) {
      diags_.error(s.span,
                   pr > 0 ? fmt::format("cannot gather with an array of indices here: {}", rule)
                          : "gathering by an integer array works on the first subscript of a plain array",
                   "index a data item, a param or a value computed outside plates: `loc[z]`, `x[idx]`");
      return {base.kind, std::nullopt};
    }
    out.dims.insert(out.dims.end(), t.shape->dims.begin(), t.shape->dims.end());
  }
  if (!known) return {base.kind, std::nullopt};
  for (std::size_t i = ix.subscripts.size(); i < bs.rank(); ++i) out.dims.push_back(bs.dims[i]);
  return {base.kind, out};
}

std::string Checker::plate_words(const sig::Shape& s) const {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < sig::plate_rank(s); ++i) {
    std::string name = "a plate";
    if (body_)
      for (const auto& p : body_->plates)
        if (p.id == s.dims[i].tag) name = fmt::format("plate '{}'", p.name);
    names.push_back(name);
  }
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? (i + 1 == names.size() ? " and " : ", ") : "") + names[i];
  return out;
}

ValueType Checker::check_call(const ast::Call& c, Span span, bool want_distribution) {
  const bool initializer_allowed = std::exchange(initializer_allowed_, false);  // not for the arguments
  std::vector<ValueType> arg_types;
  for (const auto& a : c.args) arg_types.push_back(check_expr(*a.value));

  const sig::Signature* s = sig::find(c.callee);
  if (!s)
    if (const sig::HostRow* row = host(c.callee)) return check_host_call(c, span, want_distribution, *row, arg_types);
  if (!s) {
    auto f = fns_.find(c.callee);
    if (f == fns_.end()) {
      if (lookup(c.callee) || data_.count(c.callee)) {
        diags_.error(c.callee_span, fmt::format("'{}' is a value, not a function", c.callee));
        return {};
      }
      bool capital = !c.callee.empty() && std::isupper(static_cast<unsigned char>(c.callee[0]));
      std::vector<std::string> cands = sig::names(capital ? sig::Callable::Distribution : sig::Callable::Function);
      if (!capital) {
        for (const auto& [name, fn] : fns_) cands.push_back(name);
        if (hosts_)
          for (auto& name : hosts_->names()) cands.push_back(std::move(name));
      }
      std::string best = closest_name(c.callee, cands);
      diags_.error(c.callee_span,
                   fmt::format("unknown {} '{}'", capital || want_distribution ? "distribution" : "function", c.callee),
                   best.empty() ? (capital ? "the distributions are listed in LANGUAGE.md's standard library" : "")
                                : fmt::format("did you mean '{}'?", best));
      return {};
    }
    // A user function: arity and named parameters.
    const ast::FnDecl& fn = *f->second;
    if (body_) body_->calls.insert(fn.name);
    std::vector<bool> bound(fn.params.size(), false);
    std::string takes = fn.name + "(";
    for (std::size_t i = 0; i < fn.params.size(); ++i) takes += (i ? ", " : "") + fn.params[i].name;
    takes += ")";
    std::size_t positional = 0;
    for (const auto& a : c.args) {
      if (a.name.empty()) {
        if (positional < bound.size()) bound[positional] = true;
        ++positional;
        continue;
      }
      std::size_t k = 0;
      while (k < fn.params.size() && fn.params[k].name != a.name) ++k;
      if (k == fn.params.size()) {
        diags_.error(a.name_span, fmt::format("{} has no parameter '{}'", fn.name, a.name), fmt::format("it takes {}", takes));
      } else if (bound[k]) {
        diags_.error(a.name_span, fmt::format("argument '{}' of {} is given twice", a.name, fn.name));
      } else {
        bound[k] = true;
      }
    }
    std::size_t missing = static_cast<std::size_t>(std::count(bound.begin(), bound.end(), false));
    if (positional > fn.params.size() || missing > 0)
      diags_.error(c.callee_span, fmt::format("{} takes {}; got {}", fn.name, plural(fn.params.size(), "argument"),
                                              plural(c.args.size(), "argument")),
                   fmt::format("call it as {}", takes));
    if (want_distribution) {
      diags_.error(c.callee_span, fmt::format("'{}' is a function, not a distribution", c.callee),
                   "write a distribution on the right of `~`, such as Normal(0, 1)");
    }
    return {};
  }

  if (s->is_distribution() && !want_distribution) {
    diags_.error(c.callee_span, fmt::format("{} is a distribution, not a value", s->name),
                 fmt::format("sample it into a name first: `x ~ {}(…)`", s->name));
    return {};
  }
  if (s->is_initializer() && (want_distribution || !initializer_allowed)) {
    diags_.error(c.callee_span,
                 fmt::format("{}() is a random initialiser: it is valid only as the whole initial value of a param", s->name),
                 fmt::format("write `param W: real[4, 3] = {}` — it takes its shape from the param's type",
                             s->describe()));
    return {};
  }
  if (!s->is_distribution() && want_distribution) {
    diags_.error(c.callee_span, fmt::format("'{}' is a function, not a distribution", s->name),
                 "write a distribution on the right of `~`, such as Normal(0, 1)");
    return {};
  }

  std::vector<std::string> names;
  for (const auto& a : c.args) names.push_back(a.name);
  sig::Binding bind = sig::bind_arguments(*s, names);
  for (const auto& err : bind.errors) {
    Span at = c.callee_span;
    if (err.arg >= 0) {
      const ast::Arg& a = c.args[static_cast<std::size_t>(err.arg)];
      at = a.name.empty() ? a.value->span : a.name_span;
    }
    diags_.error(at, err.message, err.hint);
  }
  if (!bind.ok()) return {s->kind == sig::ValueKind::Int ? Kind::Int : Kind::Unknown, std::nullopt};

  // Arguments in parameter order, then the variadic extras.
  std::vector<sig::ShapeArg> shape_args(s->params.size() + static_cast<std::size_t>(bind.variadic_count));
  for (auto& sa : shape_args) sa.present = false;
  for (std::size_t i = 0; i < c.args.size(); ++i) {
    auto& sa = shape_args[static_cast<std::size_t>(bind.param_of_arg[i])];
    sa.present = true;
    sa.shape = arg_types[i].shape;
    sa.as_dim = as_dim(*c.args[i].value);
  }
  if (s->is_distribution() || s->is_initializer()) check_domains(*s, c, bind);
  sig::ShapeOutcome shape = sig::result_shape(*s, shape_args, body_ ? plate_dims() : std::vector<sig::Dim>{});
  if (!shape.error.empty()) diags_.error(span, shape.error);

  Kind kind = Kind::Real;
  switch (s->kind) {
    case sig::ValueKind::Int: kind = Kind::Int; break;
    case sig::ValueKind::Real: kind = Kind::Real; break;
    case sig::ValueKind::Bool: kind = Kind::Bool; break;
    case sig::ValueKind::SameAsFirst: kind = arg_types.empty() ? Kind::Unknown : arg_types[0].kind; break;
  }
  if (s->kind == sig::ValueKind::SameAsFirst && kind == Kind::Bool && s->shape == sig::ShapeRule::Reduce) kind = Kind::Int;
  return {kind, shape.shape};
}

const sig::HostRow* Checker::host(const std::string& name) const {
  int i = hosts_ ? hosts_->find(name) : -1;
  return i < 0 ? nullptr : &hosts_->row(i);
}

ValueType Checker::check_host_call(const ast::Call& c, Span span, bool want_distribution, const sig::HostRow& row,
                                   const std::vector<ValueType>& arg_types) {
  const sig::Signature& s = row.signature;
  if (want_distribution) {
    diags_.error(c.callee_span, fmt::format("'{}' is a host function, not a distribution", row.name),
                 "write a distribution on the right of `~`, such as Normal(0, 1)");
    return {};
  }
  std::vector<std::string> names;
  for (const auto& a : c.args) names.push_back(a.name);
  sig::Binding bind = sig::bind_arguments(s, names);
  for (const auto& err : bind.errors) {
    Span at = c.callee_span;
    if (err.arg >= 0) {
      const ast::Arg& a = c.args[static_cast<std::size_t>(err.arg)];
      at = a.name.empty() ? a.value->span : a.name_span;
    }
    diags_.error(at, err.message, err.hint);
  }
  // Each argument against its declared shape: the rank, and every extent the
  // host fixed that the data block makes known. A plate-indexed argument
  // would be one element per plate element, which the host function (called
  // once per execution on whole arrays) cannot be.
  for (std::size_t i = 0; bind.ok() && i < c.args.size(); ++i) {
    const auto k = static_cast<std::size_t>(bind.param_of_arg[i]);
    const std::vector<std::int64_t>& want = row.arg_shapes[k];
    const sig::MaybeShape& got = arg_types[i].shape;
    const Span at = c.args[i].value->span;
    const std::string expects = fmt::format("{} takes {} of shape {}", row.name, row.param_names[k],
                                            sig::HostRow::shape_text(want));
    if (!got) continue;
    if (sig::plate_rank(*got) > 0) {
      diags_.error(at, fmt::format("{}'s argument {} varies along {}; a host function takes whole arrays", row.name,
                                   row.param_names[k], plate_words(*got)),
                   "call it outside the plate, or on values that do not depend on the plate index");
      continue;
    }
    bool fits = got->rank() == want.size();
    for (std::size_t d = 0; fits && d < want.size(); ++d)
      if (want[d] >= 0 && sig::conflicts(got->dims[d], sig::Dim::fixed(want[d]))) fits = false;
    if (!fits) diags_.error(at, fmt::format("{}; got {}", expects, got->str()), s.describe());
  }
  sig::Shape result;
  for (std::int64_t d : row.result_shape) result.dims.push_back(d < 0 ? sig::Dim::unknown() : sig::Dim::fixed(d));
  (void)span;
  return {Kind::Real, result};
}

// Constant arguments against the domains of the table's rows (Parameter::
// domain, Parameter::below): what the runtime's checks would refuse at the
// first step, reported here, every one.
void Checker::check_domains(const sig::Signature& s, const ast::Call& c, const sig::Binding& bind) {
  std::vector<std::optional<std::vector<double>>> values(s.params.size());
  std::vector<const ast::Expr*> exprs(s.params.size(), nullptr);
  for (std::size_t i = 0; i < c.args.size(); ++i) {
    auto k = static_cast<std::size_t>(bind.param_of_arg[i]);
    if (k >= s.params.size()) continue;
    exprs[k] = &*c.args[i].value;
    values[k] = constant_values(*c.args[i].value);
  }
  for (std::size_t k = 0; k < s.params.size(); ++k) {
    const sig::Parameter& p = s.params[k];
    if (!values[k]) continue;
    const std::vector<double>& v = *values[k];
    for (std::size_t j = 0; j < v.size(); ++j) {
      if (sig::in_domain(p.domain, v[j])) continue;
      std::string at = v.size() > 1 ? fmt::format(" (element {})", j) : "";
      diags_.error(exprs[k]->span,
                   fmt::format("{}'s {} must be {}; got {}{}", s.name, p.name, sig::domain_words(p.domain),
                               number_text(v[j]), at),
                   fmt::format("{}{} takes {} values here, as at run time", s.name, s.describe_params(),
                               sig::domain_words(p.domain)));
      break;
    }
    if (p.below.empty()) continue;
    int h = s.param_index(p.below);
    if (h < 0 || !values[static_cast<std::size_t>(h)]) continue;
    const std::vector<double>& hi = *values[static_cast<std::size_t>(h)];
    if (v.size() == 1 && hi.size() == 1 && !(v[0] < hi[0]))
      diags_.error(exprs[k]->span,
                   fmt::format("{}'s {} must be less than its {}; got {} = {} and {} = {}", s.name, p.name, p.below,
                               p.name, number_text(v[0]), p.below, number_text(hi[0])),
                   fmt::format("write the smaller bound first: {}({}, {})", s.name, number_text(hi[0]),
                               number_text(v[0])));
  }
}

ValueType Checker::check_distribution(const ast::Expr& e, const sig::Signature** sig_out) {
  *sig_out = nullptr;
  const auto* call = std::get_if<ast::Call>(&e.node);
  if (!call) {
    check_expr(e);
    diags_.error(e.span, "expected a distribution call after `~`, such as Normal(0, 1)",
                 "`~` draws from a distribution; to bind a computed value write `let x = …` or `deterministic x = …`");
    return {};
  }
  ValueType t = check_call(*call, e.span, true);
  if (const sig::Signature* s = sig::find(call->callee); s && s->is_distribution()) *sig_out = s;
  return t;
}

}  // namespace vireo::lang::check_detail
