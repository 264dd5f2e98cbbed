// The checker's top level: blocks of a file (one model, at most one data and
// one guide block), functions, the data block's types, and the agreement of
// a hand-written guide with the model's latent sites.
#include <fmt/format.h>

#include "lang/check/check.hpp"
#include "lang/check/checker.hpp"

namespace vireo::lang {

bool check(const ast::Program& program, Diagnostics& diags, const sig::HostTable* hosts) {
  int before = diags.error_count();
  check_detail::Checker checker(diags, hosts);
  checker.run(program);
  return diags.error_count() == before;
}

}  // namespace vireo::lang

namespace vireo::lang::check_detail {

void Checker::run(const ast::Program& program) {
  const ast::DataBlock* data = nullptr;
  const ast::ModelBlock* model = nullptr;
  const ast::GuideBlock* guide = nullptr;
  std::vector<const ast::FnDecl*> fns;

  // 1. Blocks: one model, at most one data and one guide; fns by name.
  for (const auto& item : program.items) {
    if (const auto* d = std::get_if<ast::DataBlock>(&item)) {
      if (data) diags_.error(d->span, "a file has at most one data block", "merge the two data blocks into one");
      else data = d;
    } else if (const auto* m = std::get_if<ast::ModelBlock>(&item)) {
      if (model) diags_.error(m->span, "a file holds exactly one model block", "merge the two model blocks into one");
      else model = m;
    } else if (const auto* g = std::get_if<ast::GuideBlock>(&item)) {
      if (guide) diags_.error(g->span, "a file has at most one guide block", "merge the two guide blocks into one");
      else guide = g;
    } else if (const auto* f = std::get_if<ast::FnDecl>(&item)) {
      fns.push_back(f);
    }
  }
  if (!model) diags_.error({0, 0}, "this file has no model block", "add one: `model { mu ~ Normal(0, 1) }`");

  // 2. The data block first: its names are visible everywhere.
  if (data) check_data(*data);

  // 3. Function names, then bodies (a fn may call one defined after it).
  for (const auto* f : fns) {
    if (sig::find(f->name))
      diags_.error(f->name_span, fmt::format("'{}' is a builtin; a function cannot take its name", f->name),
                   "rename the function");
    else if (host(f->name))
      diags_.error(f->name_span, fmt::format("'{}' is a host function; a function cannot take its name", f->name),
                   "rename the function");
    else if (data_.count(f->name))
      diags_.error(f->name_span, fmt::format("'{}' is already a data name", f->name), "rename the function");
    else if (!fns_.emplace(f->name, f).second)
      diags_.error(f->name_span, fmt::format("function '{}' is defined twice", f->name), "rename one of them");
  }
  for (const auto* f : fns) {
    if (fns_.count(f->name) == 0 || fns_.at(f->name) != f) continue;
    Body& b = fn_bodies_[f->name];
    b.part = Part::Fn;
    b.fn_name = f->name;
    body_ = &b;
    push_scope();
    for (const auto& p : f->params) {
      if (body_->scopes.back().count(p.name))
        diags_.error(p.span, fmt::format("parameter '{}' appears twice in '{}'", p.name, f->name));
      declare(p.name, p.span, ValueType::unknown());
    }
    check_block(f->body);
    body_ = nullptr;
  }

  // 4. Model and guide.
  if (model) {
    model_body_.part = Part::Model;
    body_ = &model_body_;
    push_scope();
    check_block(model->body);
    body_ = nullptr;
  }
  if (guide) {
    guide_body_.part = Part::Guide;
    body_ = &guide_body_;
    push_scope();
    check_block(guide->body);
    body_ = nullptr;
    check_guide_factors();
    if (model) check_agreement(*guide);
  }
}

// data { name: type … }: unique names, sizes that are earlier int data or literals.
void Checker::check_data(const ast::DataBlock& block) {
  for (const auto& d : block.decls) {
    if (data_.count(d.name)) {
      diags_.error(d.name_span, fmt::format("data item '{}' is declared twice", d.name), "remove or rename one");
      continue;
    }
    if (sig::find(d.name) || host(d.name)) {
      diags_.error(d.name_span,
                   fmt::format("'{}' is a {}; a data item cannot take its name", d.name,
                               sig::find(d.name) ? "builtin" : "host function"),
                   "rename the data item");
      continue;
    }
    const ast::TypeExpr& t = d.type;
    if (t.base == ast::BaseType::Bool && (t.lower || t.upper))
      diags_.error(t.span, "a bool takes no bounds", "write `bool`");
    if (t.base == ast::BaseType::Simplex && t.dims.size() != 1)
      diags_.error(t.span, "simplex takes exactly one size: `simplex[K]`");
    // Bounds: scalars from literals and earlier data.
    for (const auto* bound : {&t.lower, &t.upper}) {
      if (!*bound) continue;
      ValueType bt = check_expr(***bound);
      if (bt.known_non_scalar()) diags_.error((**bound)->span, "a bound must be a single number");
    }
    std::vector<sig::Dim> dims;
    check_type_dims(t, true, dims);
    DataInfo info;
    info.base = t.base;
    info.span = d.span;
    info.type.kind = t.base == ast::BaseType::Int ? Kind::Int : t.base == ast::BaseType::Bool ? Kind::Bool : Kind::Real;
    info.type.shape = sig::Shape{dims};
    data_.emplace(d.name, info);
    data_order_.push_back(d.name);
  }
}

// The sizes of a type `real[N, 3]`: each an integer literal or an int name, or
// an expression whose value is known only at run time.
void Checker::check_type_dims(const ast::TypeExpr& type, bool data_block, std::vector<sig::Dim>& dims) {
  for (const auto& e : type.dims) {
    if (const auto* name = std::get_if<ast::NameRef>(&e.node)) {
      auto it = data_.find(name->name);
      if (data_block && it == data_.end()) {
        std::vector<std::string> cands(data_order_.begin(), data_order_.end());
        std::string best = closest_name(name->name, cands);
        diags_.error(e.span, fmt::format("size '{}' is not a data item declared above", name->name),
                     best.empty() ? "sizes are integer literals or int data declared earlier in the data block"
                                  : fmt::format("did you mean '{}'?", best));
        dims.push_back(sig::Dim::unknown());
        continue;
      }
      if (it != data_.end() && (it->second.type.kind != Kind::Int || !it->second.type.is_scalar())) {
        const ValueType& t = it->second.type;
        diags_.error(e.span, fmt::format("size '{}' must be a single int; it is declared {}{}", name->name,
                                         kind_word(t.kind), t.known_non_scalar() ? t.shape->str() : ""));
        dims.push_back(sig::Dim::unknown());
        continue;
      }
    }
    if (const auto* num = std::get_if<ast::NumberLit>(&e.node); num && !num->is_integer) {
      diags_.error(e.span, fmt::format("size {} is not an integer", num->text));
      dims.push_back(sig::Dim::unknown());
      continue;
    }
    if (data_block && !std::holds_alternative<ast::NameRef>(e.node) && !std::holds_alternative<ast::NumberLit>(e.node)) {
      Body* saved = body_;
      body_ = nullptr;
      check_expr(e);
      body_ = saved;
    } else if (!data_block) {
      ValueType t = check_expr(e);
      if (t.kind == Kind::Real) diags_.error(e.span, "a size must be an integer; this is a real");
    }
    dims.push_back(as_dim(e));
  }
}

// The latent sites of a body and of every fn it reaches, by name.
std::set<std::string> Checker::reachable_sites(const Body& body, bool latent_only,
                                               std::map<std::string, const SiteRecord*>* where) {
  std::set<std::string> names;
  std::set<std::string> seen_fns;
  std::vector<const Body*> todo{&body};
  while (!todo.empty()) {
    const Body* b = todo.back();
    todo.pop_back();
    for (const auto& s : b->sites) {
      if (latent_only && !s.latent) continue;
      if (names.insert(s.name).second && where) (*where)[s.name] = &s;
    }
    for (const auto& f : b->calls)
      if (seen_fns.insert(f).second && fn_bodies_.count(f)) todo.push_back(&fn_bodies_.at(f));
  }
  return names;
}

// A hand-written guide must sample exactly the model's latent sites.
void Checker::check_agreement(const ast::GuideBlock& guide) {
  std::map<std::string, const SiteRecord*> model_where, guide_where;
  std::set<std::string> model_latent = reachable_sites(model_body_, true, &model_where);
  std::set<std::string> guide_latent = reachable_sites(guide_body_, true, &guide_where);
  std::vector<std::string> model_names(model_latent.begin(), model_latent.end());
  for (const auto& [name, site] : guide_where) {
    const Span span = site->span;
    if (data_.count(name)) continue;  // reported where it is sampled
    if (model_latent.count(name)) {
      // The guide must propose values the model can score.
      const sig::Signature* m = model_where.at(name)->dist;
      const sig::Signature* g = site->dist;
      if (m && g && m->discrete != g->discrete)
        diags_.error(span, fmt::format("the model's '{}' is {} ({}) but the guide draws it from {}, which is {}", name,
                                       m->discrete ? "discrete" : "continuous", m->name, g->name,
                                       g->discrete ? "discrete" : "continuous"),
                     fmt::format("guide '{}' with a {} distribution", name, m->discrete ? "discrete" : "continuous"));
      else if (m && g && m->support != g->support && m->support != sig::Support::Interval)
        diags_.warning(span, fmt::format("the guide's {} for '{}' has a different support than the model's {}", g->name,
                                         name, m->name),
                       "guide values outside the model's support score -inf");
      continue;
    }
    std::string best = closest_name(name, model_names);
    diags_.error(span, fmt::format("the guide samples '{}', but the model has no latent site '{}'", name, name),
                 best.empty() ? "the guide may sample only the model's latent sites"
                              : fmt::format("did you mean '{}'?", best));
  }
  for (const auto& [name, site] : model_where) {
    const Span span = site->span;
    if (guide_latent.count(name)) continue;
    diags_.error(span, fmt::format("the model's latent site '{}' has no counterpart in the guide", name),
                 fmt::format("add `{} ~ …` to the guide block (or drop the guide to use an automatic one)", name));
  }
}

}  // namespace vireo::lang::check_detail
