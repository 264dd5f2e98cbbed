// Statements: scopes (for/if/fn bodies open one, plates do not), sites and
// their names along one execution path, data vs latent, params, plates and
// per-site options.
#include <fmt/format.h>

#include <algorithm>

#include "lang/check/checker.hpp"

namespace vireo::lang::check_detail {

namespace {

// The data name at the root of an observed expression: `y`, `y[i]`, `x[idx, :]`.
const ast::NameRef* root_name(const ast::Expr& e) {
  if (const auto* n = std::get_if<ast::NameRef>(&e.node)) return n;
  if (const auto* ix = std::get_if<ast::Index>(&e.node)) return root_name(*ix->base);
  return nullptr;
}

sig::Shape strip_tag(sig::Shape s, int tag) {
  for (auto& d : s.dims)
    if (d.tag == tag) d.tag = -1;
  return s;
}

}  // namespace

void Checker::check_block(const ast::Block& block) {
  for (const auto& s : block) {
    if (diags_.full()) return;
    check_stmt(s);
  }
}

VarInfo* Checker::lookup(const std::string& name) {
  if (!body_) return nullptr;
  for (auto it = body_->scopes.rbegin(); it != body_->scopes.rend(); ++it) {
    auto f = it->find(name);
    if (f != it->end()) return &f->second;
  }
  return nullptr;
}

void Checker::declare(const std::string& name, Span span, ValueType type) {
  body_->scopes.back()[name] = VarInfo{std::move(type), span};
}

std::vector<sig::Dim> Checker::plate_dims() const {
  std::vector<sig::Dim> dims;
  if (!body_) return dims;  // the data block's expressions: no plates
  for (const auto& p : body_->plates) dims.push_back(p.size);
  return dims;
}

// Two statements giving the same site name in one execution are an error; a
// `for` loop suffixes its sites with the index, so the key counts loop depth.
void Checker::record_site(const std::string& name, Span span, bool latent, const sig::Signature* dist) {
  body_->sites.push_back({name, span, latent, dist});
  std::string key = name;
  for (int i = 0; i < body_->loop_depth; ++i) key += "[]";
  auto [it, inserted] = body_->path_sites.emplace(key, span);
  if (!inserted)
    diags_.error(span, fmt::format("site '{}' is defined twice in one execution", name),
                 "give one of the two statements another name (sites inside a `for` loop get an index suffix)");
}

void Checker::check_stmt(const ast::Stmt& stmt) {
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, ast::SampleStmt>) {
          check_sample(s);
        } else if constexpr (std::is_same_v<T, ast::ObserveStmt>) {
          check_observe(s, stmt);
        } else if constexpr (std::is_same_v<T, ast::LetStmt>) {
          ValueType t = check_expr(s.value);
          if (data_.count(s.name))
            diags_.error(s.name_span, fmt::format("'{}' is a data name; a variable cannot take it", s.name),
                         "choose another name");
          declare(s.name, s.name_span, t);
        } else if constexpr (std::is_same_v<T, ast::AssignStmt>) {
          ValueType t = check_expr(s.value);
          if (VarInfo* v = lookup(s.name)) {
            // Loop-carried state may change shape; keep only what both values agree on.
            bool same_shape = v->type.shape && t.shape && v->type.shape->str() == t.shape->str();
            v->type = ValueType{v->type.kind == t.kind ? t.kind : Kind::Unknown, same_shape ? t.shape : std::nullopt};
          } else if (data_.count(s.name)) {
            diags_.error(s.name_span, fmt::format("'{}' is data and cannot be assigned", s.name),
                         fmt::format("use a new variable: `let {}2 = …`", s.name));
          } else {
            diags_.error(s.name_span, fmt::format("assignment to undeclared variable '{}'", s.name),
                         fmt::format("declare it first: `let {} = …`", s.name));
            declare(s.name, s.name_span, t);
          }
        } else if constexpr (std::is_same_v<T, ast::DeterministicStmt>) {
          ValueType t = check_expr(s.value);
          if (data_.count(s.name))
            diags_.error(s.name_span, fmt::format("'{}' is a data name; a deterministic site cannot take it", s.name),
                         "choose another name");
          record_site(s.name, s.name_span, false);
          declare(s.name, s.name_span, t);
        } else if constexpr (std::is_same_v<T, ast::ParamStmt>) {
          check_param(s);
        } else if constexpr (std::is_same_v<T, ast::PlateStmt>) {
          check_plate(s);
        } else if constexpr (std::is_same_v<T, ast::ForStmt>) {
          for (const auto* bound : {&s.lo, &s.hi}) {
            ValueType t = check_expr(*bound);
            if (t.kind == Kind::Real || t.kind == Kind::Bool)
              diags_.error(bound->span, fmt::format("a loop bound must be an int; this is a {}", kind_word(t.kind)));
            else if (t.known_non_scalar())
              diags_.error(bound->span, fmt::format("a loop bound must be a single int; this has shape {}", t.shape->str()));
          }
          push_scope();
          declare(s.var, s.var_span, ValueType::scalar(Kind::Int));
          ++body_->loop_depth;
          check_block(s.body);
          --body_->loop_depth;
          pop_scope();
        } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
          check_if(s);
        } else if constexpr (std::is_same_v<T, ast::ReturnStmt>) {
          check_expr(s.value);
          if (body_->part != Part::Fn)
            diags_.error(stmt.span, "`return` outside a function",
                         "only a fn body returns a value; a model or guide block ends by itself");
        } else if constexpr (std::is_same_v<T, ast::ScaleStmt>) {
          ValueType w = check_expr(s.weight);
          if (w.kind == Kind::Bool) diags_.error(s.weight.span, "a scale weight must be a number; this is a bool");
          check_block(s.body);
        } else if constexpr (std::is_same_v<T, ast::FactorStmt>) {
          check_factor(s, stmt);
        }
      },
      stmt.node);
}

// `x ~ D(args)` / `x: type ~ D(args)`
void Checker::check_sample(const ast::SampleStmt& s) {
  const sig::Signature* dist = nullptr;
  ValueType dt = check_distribution(s.dist, &dist);
  if (data_.count(s.name)) {
    if (body_->part == Part::Guide)
      diags_.error(s.name_span, fmt::format("'{}' is data; the guide samples only latent sites", s.name),
                   "remove this statement from the guide");
    else
      diags_.error(s.name_span, fmt::format("'{}' is data: write `observe {} ~ …`", s.name, s.name),
                   "a data name on the left of `~` is observed, not sampled");
  }
  ValueType site = dt;
  std::vector<sig::Dim> plates = plate_dims();
  if (s.type) {
    std::vector<sig::Dim> dims;
    if (s.type->lower || s.type->upper)
      diags_.error(s.type->span, "a sample site's type takes no bounds; the distribution decides its support");
    check_type_dims(*s.type, false, dims);
    if (dist && (s.type->base == ast::BaseType::Int || s.type->base == ast::BaseType::Bool) && !dist->discrete)
      diags_.error(s.type->span, fmt::format("{} gives real values; the site is declared {}", dist->name,
                                             s.type->base == ast::BaseType::Int ? "int" : "bool"),
                   "declare it `real`, or use a discrete distribution");
    sig::Shape declared;
    declared.dims = plates;
    declared.dims.insert(declared.dims.end(), dims.begin(), dims.end());
    if (dt.shape) {
      sig::ShapeOutcome fit = sig::broadcast(dt.shape, declared);
      if (!fit.error.empty() || (fit.shape && fit.shape->rank() > declared.rank()))
        shape_error(s.dist.span, fmt::format("{} has shape {}, which does not fit the declared shape {}",
                                             dist ? std::string(dist->name) : "the distribution", dt.shape->str(),
                                             sig::Shape{dims}.str()));
    }
    site.shape = declared;
  } else if (!plates.empty() && dt.shape) {
    // Inside plates: one element per plate index, then the event shape.
    sig::Shape full;
    full.dims = plates;
    int event = dist ? dist->event_rank : 0;
    for (std::size_t i = dt.shape->rank() >= static_cast<std::size_t>(event) ? dt.shape->rank() - event : 0;
         i < dt.shape->rank(); ++i)
      full.dims.push_back(dt.shape->dims[i]);
    sig::ShapeOutcome fit = sig::broadcast(dt.shape, full);
    if (!fit.error.empty())
      shape_error(s.dist.span, fmt::format("{} has shape {}, which does not line up with the plates {}",
                                           dist ? std::string(dist->name) : "the distribution", dt.shape->str(),
                                           sig::Shape{plates}.str()));
    site.shape = full;
  }
  check_options(s.options, false);
  record_site(s.name, s.name_span, true, dist);
  if (VarInfo* v = lookup(s.name)) v->type = site;
  else declare(s.name, s.name_span, site);
}

// `observe e ~ D(args)`: e is a data name or an indexed data name.
void Checker::check_observe(const ast::ObserveStmt& s, const ast::Stmt& stmt) {
  const sig::Signature* dist = nullptr;
  ValueType dt = check_distribution(s.dist, &dist);
  const ast::NameRef* root = root_name(s.target);
  std::string name = root ? root->name : "?";
  if (!root) {
    diags_.error(s.target.span, "only data can be observed: write a data name, or one indexed like `y[i]`");
  } else if (!data_.count(root->name)) {
    if (lookup(root->name))
      diags_.error(s.target.span, fmt::format("'{}' is not data; only data items can be observed", root->name),
                   fmt::format("declare '{}' in the data block, or write `{} ~ …` for a latent site", root->name,
                               root->name));
    else
      diags_.error(s.target.span, fmt::format("unknown data item '{}'; only data items can be observed", root->name),
                   closest_name(root->name, data_order_).empty()
                       ? fmt::format("declare it in the data block: `data {{ {}: real }}`", root->name)
                       : fmt::format("did you mean '{}'?", closest_name(root->name, data_order_)));
  } else {
    ValueType target = check_expr(s.target);
    std::vector<sig::Dim> event_dims;
    if (s.type) {
      if (s.type->lower || s.type->upper)
        diags_.error(s.type->span, "an observe's type takes no bounds; the data block's declaration has them");
      check_type_dims(*s.type, false, event_dims);
    }
    if (target.shape) target.shape = observed_shape(*target.shape, name, s.target.span, s.type ? &event_dims : nullptr);
    if (dt.shape && target.shape) {
      // The distribution broadcasts to the observed value (its dims beyond the
      // plates are the event, summed in the log density), never beyond it.
      std::string dname = dist ? std::string(dist->name) : "the distribution";
      sig::ShapeOutcome fit = sig::broadcast_in(dt.shape, target.shape, plate_dims());
      if (!fit.error.empty())
        shape_error(s.dist.span, fmt::format("the observed '{}' has shape {} but {} has shape {}: {}", name,
                                             target.shape->str(), dname, dt.shape->str(), fit.error));
      else if (fit.shape && fit.shape->rank() > target.shape->rank())
        shape_error(s.dist.span, fmt::format("{} has shape {}, more dimensions than the observed '{}' ({})", dname,
                                             dt.shape->str(), name, target.shape->str()),
                    "each observed value gets one distribution: index the parameters per element");
    }
    if (dist && !dist->discrete && target.kind == Kind::Bool)
      diags_.error(s.target.span, fmt::format("'{}' is bool; {} scores real values", name, dist->name));
    if (dist && dist->discrete && target.kind == Kind::Real)
      diags_.error(s.target.span, fmt::format("'{}' is declared real, but {} gives whole numbers", name, dist->name),
                   fmt::format("declare '{}' as int in the data block", name));
  }
  if (body_->part == Part::Guide)
    diags_.error(stmt.span, "the guide cannot observe data", "observe statements belong in the model");
  check_options(s.options, true);
  if (root && data_.count(root->name)) record_site(name, s.target.span, false);
}

// The observed value's shape as the checker sees it inside plates: its
// leading dimensions are the enclosing plates (tagged as plate dims), the
// rest is one element's event. `declared`: the event written `e: int[P]`.
sig::Shape Checker::observed_shape(sig::Shape t, const std::string& name, Span span,
                                   const std::vector<sig::Dim>* declared) {
  std::vector<sig::Dim> plates = plate_dims();
  std::size_t pr = sig::plate_rank(t);
  if (pr == 0 && !plates.empty()) {
    if (t.rank() < plates.size()) {
      diags_.error(span, fmt::format("the observed '{}' has shape {}, but inside {} it needs one element per plate "
                                     "index: its leading dimensions are the plates' sizes {}",
                                     name, t.str(), plural_plates(), sig::Shape{plates}.str()),
                   "observe it inside fewer plates, or index it per element");
      return t;
    }
    bool reported = false;
    for (std::size_t i = 0; i < plates.size(); ++i) {
      if (!reported && sig::conflicts(t.dims[i], plates[i]) && (reported = true))
        diags_.error(span, fmt::format("the observed '{}' has shape {}; its leading dimensions are the enclosing "
                                       "plates' sizes {} (the rest is its event), but dimension {} is {}, not {}",
                                       name, t.str(), sig::Shape{plates}.str(), i, t.dims[i].str(), plates[i].str()),
                     "observe it in plates of its sizes, or index it with the plate's index: `y[idx]`");
      t.dims[i].tag = plates[i].tag;
    }
  }
  if (declared) {
    sig::Shape event = sig::per_element(t);
    bool fits = event.rank() == declared->size();
    for (std::size_t i = 0; fits && i < event.rank(); ++i) fits = !sig::conflicts(event.dims[i], (*declared)[i]);
    if (!fits)
      diags_.error(span, fmt::format("the observed '{}' has per-element shape {} (full shape {}), not the declared {}",
                                     name, event.str(), t.str(), sig::Shape{*declared}.str()),
                   "the type after ':' is one plate element's event shape");
  }
  return t;
}

std::string Checker::plural_plates() const {
  std::string out;
  for (std::size_t i = 0; i < body_->plates.size(); ++i)
    out += (i ? ", " : "") + fmt::format("'{}'", body_->plates[i].name);
  return (body_->plates.size() == 1 ? "plate " : "plates ") + out;
}

// `factor name = e`: a real log-density term of the model, one number or one
// per element of the enclosing plates (a scalar inside plates counts once per
// element, as every site inside a plate does).
void Checker::check_factor(const ast::FactorStmt& s, const ast::Stmt& stmt) {
  ValueType t = check_expr(s.value);
  if (t.kind == Kind::Bool)
    diags_.error(s.value.span, "a factor adds a real number (a log density) to the model; this is a bool",
                 "for a hard constraint write `log(c)` of the condition c: 0 where it holds, -inf where not");
  std::vector<sig::Dim> plates = plate_dims();
  if (t.shape && t.shape->rank() > 0) {
    sig::ShapeOutcome fit = sig::broadcast(t.shape, sig::Shape{plates});
    if (plates.empty())
      diags_.error(s.value.span,
                   fmt::format("a factor outside a plate is one number; this has shape {}", t.shape->str()),
                   fmt::format("add its elements up: `factor {} = sum(…)`", s.name));
    else if (!fit.error.empty() || (fit.shape && fit.shape->rank() > plates.size()))
      diags_.error(s.value.span,
                   fmt::format("a factor inside plates is one number per element of {}; this has shape {}",
                               sig::Shape{plates}.str(), t.shape->str()),
                   "reduce the dimensions beyond the plates, e.g. with sum(…) or logsumexp(…)");
  }
  if (data_.count(s.name))
    diags_.error(s.name_span, fmt::format("'{}' is a data name; a factor cannot take it", s.name),
                 "choose another name");
  if (body_->part == Part::Guide)
    diags_.error(stmt.span, "the guide cannot have a factor: it adds to the model's log density",
                 "move it to the model block (the guide's density is that of its own draws)");
  body_->factors.push_back(stmt.span);
  record_site(s.name, s.name_span, false);
}

// A fn the guide calls may not hold a factor (its term would land in log q).
void Checker::check_guide_factors() {
  std::set<std::string> seen;
  std::vector<std::string> todo(guide_body_.calls.begin(), guide_body_.calls.end());
  while (!todo.empty()) {
    std::string f = todo.back();
    todo.pop_back();
    if (!seen.insert(f).second || !fn_bodies_.count(f)) continue;
    const Body& b = fn_bodies_.at(f);
    for (Span span : b.factors)
      diags_.error(span, fmt::format("fn '{}' has a factor, and the guide calls it", f),
                   "a factor adds to the model's log density: call this fn from the model only, or move the factor "
                   "to the model");
    todo.insert(todo.end(), b.calls.begin(), b.calls.end());
  }
}

// `param p: type = init`: real (or simplex) values with optional bounds.
void Checker::check_param(const ast::ParamStmt& s) {
  const ast::TypeExpr& t = s.type;
  if (t.base == ast::BaseType::Int || t.base == ast::BaseType::Bool)
    diags_.error(t.span, fmt::format("a param is learned by gradients and must be real; '{}' is declared {}", s.name,
                                     t.base == ast::BaseType::Int ? "int" : "bool"),
                 "declare it `real` (with bounds if needed, e.g. real<lower=0>) or `simplex[K]`");
  if (t.base == ast::BaseType::Simplex && (t.lower || t.upper))
    diags_.error(t.span, "a simplex takes no bounds");
  if (t.base == ast::BaseType::Simplex && t.dims.size() != 1)
    diags_.error(t.span, "simplex takes exactly one size: `simplex[K]`");
  for (const auto* bound : {&t.lower, &t.upper}) {
    if (!*bound) continue;
    ValueType bt = check_expr(***bound);
    if (bt.known_non_scalar())
      diags_.error((**bound)->span, fmt::format("a param's bound must be a single number; this has shape {}",
                                                bt.shape->str()));
  }
  if (t.lower && t.upper) {
    const auto* lo = std::get_if<ast::NumberLit>(&(*t.lower)->node);
    const auto* hi = std::get_if<ast::NumberLit>(&(*t.upper)->node);
    if (lo && hi && lo->value >= hi->value)
      diags_.error(t.span, fmt::format("the lower bound {} is not below the upper bound {}", lo->text, hi->text));
  }
  std::vector<sig::Dim> dims;
  check_type_dims(t, false, dims);
  // A random initialiser takes the param's shape; its draws are unbounded
  // except init_uniform's, so a bounded or simplex param refuses the others.
  const auto* call = std::get_if<ast::Call>(&s.init.node);
  const sig::Signature* initializer = call ? sig::find(call->callee) : nullptr;
  if (initializer && !initializer->is_initializer()) initializer = nullptr;
  initializer_allowed_ = initializer != nullptr;
  ValueType init = check_expr(s.init);
  initializer_allowed_ = false;
  const bool bounded = t.base == ast::BaseType::Simplex || t.lower || t.upper;
  if (initializer && bounded && initializer->name != "init_uniform")
    diags_.error(s.init.span,
                 fmt::format("{}() draws unbounded values, which '{}' with its declared {} cannot take", initializer->name,
                             s.name, t.base == ast::BaseType::Simplex ? "simplex" : "bounds"),
                 "initialise a bounded param with init_uniform(low, high) inside its bounds, or with a constant");
  sig::Shape shape{dims};
  if (init.shape) {
    sig::ShapeOutcome fit = sig::broadcast(init.shape, shape);
    if (!fit.error.empty() || (fit.shape && fit.shape->rank() > shape.rank()))
      shape_error(s.init.span, fmt::format("the initial value has shape {}, which does not fit the param's shape {}",
                                           init.shape->str(), shape.str()));
  }
  if (data_.count(s.name))
    diags_.error(s.name_span, fmt::format("'{}' is a data name; a param cannot take it", s.name), "choose another name");
  record_site(s.name, s.name_span, false);
  if (VarInfo* v = lookup(s.name)) v->type = ValueType{Kind::Real, shape};
  else declare(s.name, s.name_span, ValueType{Kind::Real, shape});
}

// `plate name(size[, subsample = B]) [as idx] { … }` — no new scope.
void Checker::check_plate(const ast::PlateStmt& s) {
  ValueType size = check_expr(s.size);
  if (size.kind == Kind::Real || size.kind == Kind::Bool)
    diags_.error(s.size.span, fmt::format("a plate's size must be an int; this is a {}", kind_word(size.kind)));
  else if (size.known_non_scalar())
    diags_.error(s.size.span, fmt::format("a plate's size must be a single int; this has shape {}", size.shape->str()));
  for (const auto& p : body_->plates)
    if (p.name == s.name)
      diags_.error(s.name_span, fmt::format("plate '{}' is already open here", s.name), "give the inner plate another name");
  PlateInfo plate{s.name, next_plate_id_++, as_dim(s.size)};
  if (s.subsample) {
    ValueType b = check_expr(*s.subsample);
    if (b.kind == Kind::Real || b.kind == Kind::Bool)
      diags_.error(s.subsample->span, "a subsample size must be an int");
    plate.size = as_dim(*s.subsample);
  }
  plate.size.tag = plate.id;
  body_->plates.push_back(plate);
  if (!s.index_name.empty()) declare(s.index_name, s.index_span, ValueType{Kind::Int, sig::Shape{{plate.size}}});
  check_block(s.body);
  body_->plates.pop_back();
  // After the plate its values are plain arrays: drop the plate's tag.
  for (auto& scope : body_->scopes)
    for (auto& [name, v] : scope)
      if (v.type.shape) v.type.shape = strip_tag(*v.type.shape, plate.id);
}

// `if c { … } else { … }`: each branch is a scope and a path of its own.
void Checker::check_if(const ast::IfStmt& s) {
  ValueType c = check_expr(s.cond);
  if (c.known_non_scalar())
    diags_.error(s.cond.span, fmt::format("a condition must be a single value; this has shape {}", c.shape->str()),
                 "compare one element, e.g. `x[0] > 0`, or use a reduction such as sum(...)");
  std::map<std::string, Span> before = body_->path_sites;
  push_scope();
  check_block(s.then_body);
  pop_scope();
  std::map<std::string, Span> after_then = body_->path_sites;
  if (s.else_body) {
    body_->path_sites = before;
    push_scope();
    check_block(*s.else_body);
    pop_scope();
    body_->path_sites.insert(after_then.begin(), after_then.end());
  }
}

// `with baseline(beta = 0.9)`, `baseline(value = e)`, `baseline(net = e, hidden = 16)`, `baseline(none)`.
void Checker::check_options(const std::vector<ast::SiteOption>& options, bool observed) {
  static const std::vector<std::string> keys = {"beta", "value", "net", "hidden"};
  bool seen_baseline = false;
  for (const auto& o : options) {
    if (o.name == "baseline" && seen_baseline) {
      diags_.error(o.name_span, "baseline is given twice for this site", "merge the settings into one baseline(…)");
      continue;
    }
    seen_baseline = seen_baseline || o.name == "baseline";
    if (o.name == "enumerate") {
      // `with enumerate` (sum the site out under --elbo enum) or `with enumerate(none)` (sample it).
      const auto* n = o.args.size() == 1 && o.args[0].name.empty() ? std::get_if<ast::NameRef>(&o.args[0].value->node)
                                                                    : nullptr;
      if (observed)
        diags_.error(o.name_span, "an observe site is not enumerated", "enumeration sums out latent discrete sites");
      else if (!o.args.empty() && !(n && n->name == "none"))
        diags_.error(o.span, "enumerate takes nothing, or `none`",
                     "write `with enumerate` to sum the site out, `with enumerate(none)` to sample it");
      continue;
    }
    if (o.name != "baseline") {
      std::string best = closest_name(o.name, {"baseline", "enumerate"});
      diags_.error(o.name_span, fmt::format("unknown site option '{}'", o.name),
                   best.empty() ? "the options are baseline(…) and enumerate" : fmt::format("did you mean '{}'?", best));
      continue;
    }
    if (observed) {
      diags_.error(o.name_span, "an observe site has no baseline", "baselines belong to sampled (latent) sites");
      continue;
    }
    if (o.args.empty()) {
      diags_.error(o.span, "baseline needs its settings: beta, value, net, hidden, or none",
                   "e.g. `with baseline(beta = 0.9)`");
      continue;
    }
    bool net = false, hidden = false;
    std::set<std::string> given;
    for (const auto& a : o.args) {
      if (a.name.empty()) {
        const auto* n = std::get_if<ast::NameRef>(&a.value->node);
        if (n && n->name == "none" && o.args.size() == 1) continue;
        diags_.error(a.value->span,
                     n && n->name == "none" ? "baseline(none) takes nothing else"
                                            : "baseline's settings are named: beta, value, net, hidden (or none alone)",
                     "e.g. `with baseline(beta = 0.9)`");
        continue;
      }
      if (std::find(keys.begin(), keys.end(), a.name) == keys.end()) {
        std::string best = closest_name(a.name, keys);
        diags_.error(a.name_span, fmt::format("baseline has no setting '{}'", a.name),
                     best.empty() ? "its settings are beta, value, net, hidden, or none"
                                  : fmt::format("did you mean '{}'?", best));
        continue;
      }
      if (!given.insert(a.name).second) {
        diags_.error(a.name_span, fmt::format("baseline's '{}' is given twice", a.name));
        continue;
      }
      const auto* num = std::get_if<ast::NumberLit>(&a.value->node);
      if (a.name == "beta") {
        if (!num || num->value < 0 || num->value >= 1)
          diags_.error(a.value->span, "baseline's beta must be a number in [0, 1)", "e.g. beta = 0.9");
      } else if (a.name == "hidden") {
        hidden = true;
        if (!num || !num->is_integer || num->value < 1)
          diags_.error(a.value->span, "baseline's hidden must be a positive whole number", "e.g. hidden = 16");
      } else {
        if (a.name == "net") net = true;
        check_expr(*a.value);
      }
    }
    if (hidden && !net) diags_.error(o.span, "baseline's hidden sizes a net: give net = … too");
  }
}

}  // namespace vireo::lang::check_detail
