// Sites: building a sample/observe site's distribution with its parameters
// broadcast to the open plates, and creating/reading `param` sites.
#include <fmt/format.h>

#include <cmath>

#include "runtime/interp/interpreter.hpp"
#include "runtime/rng/samplers.hpp"
#include "stdlib/constraints/biject_to.hpp"
#include "stdlib/dist/checks.hpp"
#include "stdlib/dist/registry.hpp"
#include "stdlib/signatures/signature.hpp"

namespace vireo::interp {

namespace {

// How many trailing dimensions of parameter `param` make up one draw's
// parameters (0 for scalar parameters; 1 for probs/logits of a Categorical,
// the loc of a MultivariateNormal, a Dirichlet's concentration; 2 for matrices).
int param_event_rank(const sig::Signature& s, std::string_view param) {
  switch (s.shape) {
    case sig::ShapeRule::CategoricalBatch:
      return 1;
    case sig::ShapeRule::VectorEvent:
      return param == "loc" ? 1 : 2;
    case sig::ShapeRule::SimplexEvent:
      return 1;
    default:
      return 0;
  }
}

// ---- random initialisers (`param W: real[in, out] = glorot_uniform()`) ----
//
// The draws come from a generator derived from (seed, purpose 8 "param-init",
// FNV-1a hash of the param's name) by the splitmix64 chain of
// runtime/api/fit.cpp's derived(): the same --seed gives the same values, and
// a param's values depend on its own name only, so adding or reordering params
// moves no other param's values. fan_in and fan_out are the declared shape's
// last two dimensions [fan_in, fan_out] (a weight used as `x @ W`); for a
// vector both are its length, for a scalar both are 1.
//   init_normal(loc, scale)  N(loc, scale)
//   init_uniform(low, high)  U(low, high)
//   glorot_uniform()         U(-a, a), a = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)
//   he_normal()              N(0, sqrt(2 / fan_in))                     (He et al. 2015)
constexpr std::uint64_t param_init_purpose = 8;

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  return h;
}

rng::Generator param_init_stream(std::uint64_t seed, std::string_view name) {
  std::uint64_t s = seed;
  s = rng::splitmix64(s) ^ (param_init_purpose * 0x9E3779B97F4A7C15ULL);
  s = rng::splitmix64(s) ^ fnv1a(name);
  return rng::Generator(rng::splitmix64(s));
}

}  // namespace

std::pair<double, double> param_fans(const ad::Shape& shape) {
  const int r = shape.rank();
  if (r == 0) return {1.0, 1.0};
  if (r == 1) return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
  return {static_cast<double>(shape[r - 2]), static_cast<double>(shape[r - 1])};
}

ad::Tensor draw_param_init(std::string_view initializer, const std::vector<double>& args, const ad::Shape& shape,
                           std::uint64_t seed, std::string_view name) {
  rng::Generator g = param_init_stream(seed, name);
  ad::Tensor out(shape);
  const auto [fan_in, fan_out] = param_fans(shape);
  double* y = out.data();
  const std::int64_t n = out.numel();
  if (initializer == "init_normal" || initializer == "he_normal") {
    const double loc = initializer == "init_normal" ? args.at(0) : 0.0;
    const double scale = initializer == "init_normal" ? args.at(1) : std::sqrt(2.0 / fan_in);
    for (std::int64_t i = 0; i < n; ++i) y[i] = loc + scale * rng::standard_normal(g);
  } else {
    double low = 0, high = 0;
    if (initializer == "init_uniform") {
      low = args.at(0);
      high = args.at(1);
    } else {  // glorot_uniform
      high = std::sqrt(6.0 / (fan_in + fan_out));
      low = -high;
    }
    for (std::int64_t i = 0; i < n; ++i) y[i] = low + (high - low) * g.uniform_open();
  }
  return out;
}

dist::DistributionPtr Interpreter::site_distribution(Frame& f, const ir::Site& site, const Value* observed) {
  const ir::Body& b = *f.body;
  const ir::Expr& call = b.expr(site.dist_call);
  const sig::Signature& s = sig::get(call.ref);
  const auto& open = ctx_.open_plates();

  // The batch shape the site must have: the open plates' sizes, then the
  // declared shape without the distribution's own event dimensions.
  bool shaped = !open.empty();
  PlateList plates;
  ad::Shape batch;
  for (const auto& fr : open) {
    plates.push_back(fr.plate);
    batch.push_back(fr.subsample);
  }
  if (site.type.given && !site.type.dims.empty()) {
    std::vector<std::int64_t> dims = eval_dims(f, site.type.dims);
    int keep = static_cast<int>(dims.size()) - s.event_rank;
    for (int i = 0; i < keep; ++i) batch.push_back(dims[static_cast<std::size_t>(i)]);
    shaped = true;
  } else if (observed) {
    // An observed value's dims beyond the enclosing plates are its event
    // (LANGUAGE.md); the distribution broadcasts to them, and the trace sums
    // them into one log density per plate element.
    const ad::Shape& vs = observed->var.shape();
    int own = observed->plain() ? vs.rank() - static_cast<int>(open.size()) : observed->event_rank();
    for (int i = std::max(0, vs.rank() - own); i < vs.rank() - s.event_rank; ++i) {
      batch.push_back(vs[i]);
      shaped = true;
    }
  }

  dist::Params params;
  for (std::size_t i = 0; i < s.params.size() && i < call.count; ++i) {
    ir::ExprId op = b.operand(call, static_cast<std::uint32_t>(i));
    if (op == ir::no_expr) continue;
    std::string_view pname = s.params[i].name;
    Value v = eval(f, op);
    ad::Var var = v.var;
    if (shaped) {
      int pe = param_event_rank(s, pname);
      int own_event = v.plain() ? v.var.rank() : v.event_rank();
      if (own_event < pe)
        throw RunError(b.expr(op).span, fmt::format("{}'s {} needs at least {} dimension(s); it has shape {}", s.name,
                                                    pname, pe, ad::to_string(v.var.shape())));
      ad::Shape target = batch;
      for (int d = v.var.rank() - pe; d < v.var.rank(); ++d) target.push_back(v.var.shape()[d]);
      try {
        // A plate-indexed parameter is one value per plate element, whose own
        // dims line up from the right with the declared shape's (as a plain
        // one's do): x per element against `v: real[2]` is a scalar per element.
        const int declared = batch.rank() - static_cast<int>(plates.size()) + pe;
        const ad::Var aligned = align(v, plates, std::max(own_event, declared));
        // Already the site's shape (a plate-indexed mean, per-element data): no copy node.
        var = aligned.shape() == target ? aligned : ad::broadcast_to(aligned, target);
      } catch (const std::exception& ex) {
        rethrow_tape_limit(b.expr(op).span, ex);
        std::string where = open.empty() ? std::string(observed ? "the observed value" : "the declared shape")
                                         : fmt::format("plate '{}' of size {}", open.back().name, open.back().subsample);
        throw RunError(b.expr(op).span,
                       fmt::format("{}'s {} has shape {}, which does not fit {} (site shape {})", s.name, pname,
                                   ad::to_string(v.var.shape()), where, ad::to_string(batch)),
                       "inside a plate, a parameter has one element per plate index or broadcasts to it");
      }
    }
    params.emplace(std::string(pname), var);
  }
  try {
    return dist::make_distribution(s.name, ctx_.tape(), params);
  } catch (const std::exception& e) {
    rethrow_tape_limit(call.span, e);
    // A parameter that is NaN or infinite came from numbers of this step (an
    // overflow), which SVI's guard may refuse; a finite invalid value (a
    // negative scale) is the program's mistake and stops the fit at once.
    bool nonfinite = false;
    for (const auto& [pname, var] : params) nonfinite = nonfinite || !var.value().map().isFinite().all();
    std::string name = site.name, what = e.what();
    // A loop run as one batch: the first iteration whose parameters the
    // distribution refuses, with the message that iteration gives alone.
    for (std::int64_t k = 0; batch_.on && k < batch_.count; ++k) {
      dist::Params one;
      for (const auto& [pname, var] : params) one.emplace(pname, var.rank() > 0 ? ad::index(var, k) : var);
      try {
        dist::make_distribution(s.name, ctx_.tape(), one);
      } catch (const std::exception& ek) {
        name = fmt::format("{}[{}]", site.name, batch_.first + k);
        what = ek.what();
        break;
      }
    }
    throw RunError(call.span, fmt::format("at site '{}': {}", name, what))
        .set_numeric(nonfinite && dynamic_cast<const dist::ParameterError*>(&e) != nullptr);
  }
}

ad::Var Interpreter::factor_term(Frame& f, const ir::Site& site) {
  Value v = eval(f, site.value);
  const auto& open = ctx_.open_plates();
  PlateList plates;
  ad::Shape batch;
  for (const auto& fr : open) {
    plates.push_back(fr.plate);
    batch.push_back(fr.subsample);
  }
  const int own_event = v.plain() ? v.var.rank() : v.event_rank();
  ad::Var term;
  try {
    term = ad::broadcast_to(align(v, plates, own_event), batch);
  } catch (const std::exception& ex) {
    rethrow_tape_limit(f.body->expr(site.value).span, ex);
    std::string where = open.empty() ? std::string("one number")
                                     : fmt::format("one number per element of the plates, shape {}", ad::to_string(batch));
    throw RunError(f.body->expr(site.value).span,
                   fmt::format("factor '{}': the term has shape {}; a factor here is {}", site.name,
                               ad::to_string(v.var.shape()), where),
                   "reduce the extra dimensions, e.g. with sum(…) or logsumexp(…)");
  }
  // An integer or bool term is promoted to real; NaN is no log density.
  for (std::int64_t i = 0; i < term.numel(); ++i)
    if (std::isnan(term.data()[i]))
      throw RunError(f.body->expr(site.value).span,
                     batch_.on ? fmt::format("factor '{}[{}]': the term is NaN", site.name, batch_.first + i)
                               : fmt::format("factor '{}': the term is NaN{}", site.name,
                                             term.numel() > 1 ? fmt::format(" at element {}", i) : std::string()),
                     "a factor adds a log density: a number or -inf (a hard constraint), never NaN")
          .set_numeric(true);
  return term;
}

void Interpreter::exec_param(Frame& f, const ir::Stmt& stmt) {
  const ir::Site& site = ctx_.graph().site(stmt.site);
  const ir::TypeDecl& t = site.type;
  using lang::ast::BaseType;
  if (t.base == BaseType::Int || t.base == BaseType::Bool)
    throw RunError(site.span, fmt::format("param '{}' must be real-valued", site.name), "declare it `real` (with bounds if needed)");

  // 1. The constraint from the declared type.
  constraints::Constraint c = constraints::real();
  if (t.base == BaseType::Simplex) {
    c = constraints::simplex();
  } else if (t.lower != ir::no_expr && t.upper != ir::no_expr) {
    c = constraints::interval(eval(f, t.lower).var.value(), eval(f, t.upper).var.value());
  } else if (t.lower != ir::no_expr) {
    double lo = eval_number(f, t.lower, "a lower bound");
    c = lo == 0 ? constraints::positive() : constraints::greater_than(ad::Tensor(lo));
  } else if (t.upper != ir::no_expr) {
    c = constraints::less_than(eval(f, t.upper).var.value());
  }
  constraints::TransformPtr transform = constraints::biject_to(c);

  // 2. First use: evaluate the initial value, check it, store it unconstrained.
  const std::string& name = site.name;  // params are named by their statement
  if (!ctx_.store().find(name)) {
    ad::Shape shape(eval_dims(f, t.dims));
    ad::Tensor y;
    const ir::Expr& init_expr = f.body->expr(site.value);
    const sig::Signature* initializer =
        init_expr.op == ir::Op::CallBuiltin && sig::get(init_expr.ref).is_initializer() ? &sig::get(init_expr.ref) : nullptr;
    if (initializer) {
      std::vector<double> args;
      for (std::uint32_t i = 0; i < init_expr.count; ++i) {
        const std::string what = fmt::format("{}'s {}", initializer->name, initializer->params[i].name);
        args.push_back(eval_number(f, f.body->operand(init_expr, i), what.c_str()));
      }
      if (initializer->name == "init_normal" && !(args.at(1) > 0 && std::isfinite(args[1])))
        throw RunError(init_expr.span, fmt::format("init_normal's scale must be positive; got {}", args[1]));
      if (initializer->name == "init_uniform" && !(args.at(0) < args.at(1) && std::isfinite(args[1] - args[0])))
        throw RunError(init_expr.span, fmt::format("init_uniform's low must be less than its high; got low = {} and high = {}",
                                                   args[0], args[1]));
      if (c.name() != constraints::real().name() && initializer->name != "init_uniform")
        throw RunError(init_expr.span,
                       fmt::format("param '{}': {}() draws unbounded values, which its constraint ({}) cannot take", name,
                                   initializer->name, c.name()),
                       "initialise a bounded param with init_uniform(low, high) inside its bounds, or with a constant");
      y = draw_param_init(initializer->name, args, shape, ctx_.seed(), name);
    } else {
      Value init = eval(f, site.value);
      try {
        y = ad::broadcast_to(init.var, shape).value();
      } catch (const std::exception& ex) {
        rethrow_tape_limit(site.span, ex);
        throw RunError(site.span, fmt::format("param '{}': the initial value of shape {} does not fit the declared shape {}",
                                              name, ad::to_string(init.var.shape()), ad::to_string(shape)));
      }
    }
    ad::Tensor ok = c.check(y);
    for (std::int64_t i = 0; i < ok.numel(); ++i)
      if (ok[i] == 0)
        throw RunError(site.span, fmt::format("param '{}': the initial value is outside its support ({})", name, c.name()),
                       initializer ? "init_uniform(low, high) must lie inside the declared bounds"
                                   : "choose an initial value that satisfies the declared bounds");
    ad::Tensor x = transform->inverse(ctx_.tape().constant(y)).value();
    params::Entry e;
    e.name = name;
    e.shape = x.shape().to_vector();
    e.constraint = c.name();
    e.unconstrained = Eigen::Map<const Eigen::ArrayXd>(x.data(), static_cast<Eigen::Index>(x.numel()));
    ctx_.store().add(std::move(e));
  }

  // 3. This step's value: the constrained image of the unconstrained leaf.
  handlers::Message msg;
  msg.type = handlers::MsgType::Param;
  msg.name = name;
  msg.site = &site;
  msg.rng = &ctx_.rng();
  msg.tape = &ctx_.tape();
  msg.value = Value{transform->forward(ctx_.param_leaf(name)), Kind::Real, {}};
  msg.has_value = true;
  msg.done = true;
  ctx_.handlers().apply(msg);
  f.slots[static_cast<std::size_t>(site.slot)] = msg.value;
  f.bound[static_cast<std::size_t>(site.slot)] = true;
}

}  // namespace vireo::interp
