// Shape rules of the builtin table over symbolic dimensions (shape.hpp).
#include "stdlib/signatures/shape.hpp"

#include <algorithm>

namespace vireo::sig {

std::string Dim::str() const {
  switch (kind) {
    case Kind::Fixed: return std::to_string(size);
    case Kind::Symbol: return symbol;
    case Kind::Unknown: break;
  }
  return "?";
}

bool conflicts(const Dim& a, const Dim& b) {
  if (a.kind == Dim::Kind::Fixed && b.kind == Dim::Kind::Fixed) return a.size != b.size;
  if (a.kind == Dim::Kind::Symbol && b.kind == Dim::Kind::Symbol) return a.symbol != b.symbol;
  return false;
}

bool same(const Dim& a, const Dim& b) {
  if (a.kind != b.kind || a.kind == Dim::Kind::Unknown) return false;
  return a.kind == Dim::Kind::Fixed ? a.size == b.size : a.symbol == b.symbol;
}

std::string Shape::str() const {
  if (dims.empty()) return "scalar";
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + dims[i].str();
  return out + "]";
}

namespace {

// The more informative of two compatible dimensions, keeping any tag.
Dim pick(const Dim& a, const Dim& b) {
  Dim d = a.kind == Dim::Kind::Unknown || (a.is_one() && !b.is_one()) ? b : a;
  if (b.is_one() && !a.is_one() && a.kind != Dim::Kind::Unknown) d = a;
  d.tag = a.tag >= 0 ? a.tag : b.tag;
  return d;
}

ShapeOutcome plain_broadcast(const Shape& a, const Shape& b) {
  Shape out;
  std::size_t n = std::max(a.rank(), b.rank());
  out.dims.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Dim* da = i < a.rank() ? &a.dims[a.rank() - 1 - i] : nullptr;
    const Dim* db = i < b.rank() ? &b.dims[b.rank() - 1 - i] : nullptr;
    Dim& d = out.dims[n - 1 - i];
    if (!da) d = *db;
    else if (!db) d = *da;
    else if (da->is_one()) d = pick(*db, *da);
    else if (db->is_one()) d = pick(*da, *db);
    else if (conflicts(*da, *db))
      return {std::nullopt, "shapes " + a.str() + " and " + b.str() + " do not broadcast (" + da->str() + " vs " +
                                db->str() + ")"};
    else d = pick(*da, *db);
  }
  return {out, {}};
}

bool has_tags(const Shape& s) {
  return std::any_of(s.dims.begin(), s.dims.end(), [](const Dim& d) { return d.tag >= 0; });
}

Shape drop_last(const Shape& s, std::size_t n) {
  Shape out = s;
  out.dims.resize(s.rank() >= n ? s.rank() - n : 0);
  return out;
}

}  // namespace

ShapeOutcome broadcast(const MaybeShape& a, const MaybeShape& b) {
  if (!a || !b) return {};
  if (!has_tags(*a) || !has_tags(*b)) return plain_broadcast(*a, *b);
  // Both plate-indexed: plate dims align by tag, the rest right-aligned.
  std::vector<Dim> tagged;
  Shape ra, rb;
  for (const Dim& d : a->dims) (d.tag >= 0 ? tagged : ra.dims).push_back(d);
  for (const Dim& d : b->dims) {
    if (d.tag < 0) {
      rb.dims.push_back(d);
    } else if (std::none_of(tagged.begin(), tagged.end(), [&](const Dim& t) { return t.tag == d.tag; })) {
      tagged.push_back(d);
    }
  }
  std::stable_sort(tagged.begin(), tagged.end(), [](const Dim& x, const Dim& y) { return x.tag < y.tag; });
  ShapeOutcome rest = plain_broadcast(ra, rb);
  if (!rest.shape) return rest;
  Shape out;
  out.dims = tagged;
  out.dims.insert(out.dims.end(), rest.shape->dims.begin(), rest.shape->dims.end());
  return {out, {}};
}

namespace {

// `a @ b` of two per-element (or plain) shapes; `an`, `bn` describe them in messages.
ShapeOutcome plain_matmul(const Shape& a, const Shape& b, const std::string& an, const std::string& bn) {
  if (a.rank() == 0 || b.rank() == 0)
    return {std::nullopt, "`@` needs vectors or matrices on both sides; got " + an + " @ " + bn};
  const Dim& ak = a.dims.back();
  const Dim& bk = b.rank() == 1 ? b.dims[0] : b.dims[b.rank() - 2];
  if (conflicts(ak, bk))
    return {std::nullopt, "`@` of " + an + " and " + bn + ": inner dimensions differ (" + ak.str() + " vs " + bk.str() + ")"};
  if (a.rank() == 1 && b.rank() == 1) return {Shape{}, {}};
  if (b.rank() == 1) return {drop_last(a, 1), {}};
  if (a.rank() == 1) {
    Shape out = drop_last(b, 2);
    out.dims.push_back(b.dims.back());
    return {out, {}};
  }
  ShapeOutcome batch = broadcast(drop_last(a, 2), drop_last(b, 2));
  if (!batch.shape) return batch;
  batch.shape->dims.push_back(a.dims[a.rank() - 2]);
  batch.shape->dims.push_back(b.dims.back());
  return batch;
}

// "[K, K]", or for a plate-indexed value "[N, K] (per element [K])".
std::string describe(const Shape& s) {
  if (plate_rank(s) == 0) return s.str();
  Shape el = per_element(s);
  return s.str() + (el.rank() == 0 ? " (one value per plate element)" : " (per element " + el.str() + ")");
}

// The leading plate dims of a and b, merged by tag (outer plates first).
std::vector<Dim> merged_plates(const Shape& a, const Shape& b) {
  std::vector<Dim> out;
  for (const Shape* s : {&a, &b})
    for (std::size_t i = 0; i < plate_rank(*s); ++i)
      if (std::none_of(out.begin(), out.end(), [&](const Dim& d) { return d.tag == s->dims[i].tag; }))
        out.push_back(s->dims[i]);
  std::stable_sort(out.begin(), out.end(), [](const Dim& x, const Dim& y) { return x.tag < y.tag; });
  return out;
}

}  // namespace

std::size_t plate_rank(const Shape& s) {
  std::size_t n = 0;
  while (n < s.rank() && s.dims[n].tag >= 0) ++n;
  return n;
}

Shape per_element(const Shape& s) {
  Shape out;
  out.dims.assign(s.dims.begin() + static_cast<std::ptrdiff_t>(plate_rank(s)), s.dims.end());
  return out;
}

ShapeOutcome matmul(const MaybeShape& a, const MaybeShape& b) {
  if (!a || !b) return {};
  if (plate_rank(*a) == 0 && plate_rank(*b) == 0) return plain_matmul(*a, *b, a->str(), b->str());
  // Plate dimensions are batch dimensions: multiply one element's values.
  ShapeOutcome r = plain_matmul(per_element(*a), per_element(*b), describe(*a), describe(*b));
  if (!r.shape) return r;
  Shape out;
  out.dims = merged_plates(*a, *b);
  out.dims.insert(out.dims.end(), r.shape->dims.begin(), r.shape->dims.end());
  return {out, {}};
}

ShapeOutcome broadcast_in(const MaybeShape& a, const MaybeShape& b, const std::vector<Dim>& open) {
  if (!a || !b) return {};
  bool ta = plate_rank(*a) > 0, tb = plate_rank(*b) > 0;
  if (ta == tb) return broadcast(a, b);
  const Shape& t = ta ? *a : *b;
  const Shape& p = ta ? *b : *a;
  Shape el = per_element(t);
  if (p.rank() <= el.rank()) return broadcast(a, b);
  // The plain array reaches into the plate dims: line t up with every open
  // plate (size 1 along those it does not vary over), then right-align.
  Shape full;
  std::string names;
  for (const Dim& o : open) {
    auto it = std::find_if(t.dims.begin(), t.dims.begin() + static_cast<std::ptrdiff_t>(plate_rank(t)),
                           [&](const Dim& d) { return d.tag == o.tag; });
    Dim d = it != t.dims.begin() + static_cast<std::ptrdiff_t>(plate_rank(t)) ? *it : Dim::fixed(1);
    d.tag = o.tag;
    full.dims.push_back(d);
  }
  if (full.rank() < plate_rank(t)) return broadcast(a, b);  // a value from a plate not open here
  full.dims.insert(full.dims.end(), el.dims.begin(), el.dims.end());
  auto fail = [&](const std::string& why) -> ShapeOutcome {
    return {std::nullopt, "the plain array " + p.str() + " and the plate-indexed value " + describe(t) +
                              " do not broadcast: " + why};
  };
  if (p.rank() > full.rank())
    return fail("a plain array is right-aligned against the full shape (the open plates, then the per-element "
                "shape), and " + p.str() + " has more dimensions than " + full.str());
  ShapeOutcome r = ta ? plain_broadcast(full, p) : plain_broadcast(p, full);
  if (!r.shape) {
    std::string where;
    for (std::size_t i = 0; i < p.rank(); ++i) {
      const Dim& x = p.dims[p.rank() - 1 - i];
      const Dim& y = full.dims[full.rank() - 1 - i];
      if (!x.is_one() && !y.is_one() && conflicts(x, y)) where = " (" + x.str() + " vs " + y.str() + ")";
    }
    return fail("right-aligned against its full shape " + full.str() +
                " (1 along the open plates it does not vary over) the sizes differ" + where);
  }
  // A plain dim lined up with a plate the value does not vary over must be
  // that plate's size (or 1).
  for (std::size_t i = 0; i < open.size(); ++i)
    if (conflicts(r.shape->dims[i], open[i]))
      return fail("right-aligned against its full shape " + full.str() + ", " + r.shape->dims[i].str() +
                  " falls on a plate of size " + open[i].str());
  return r;
}

ShapeOutcome result_shape(const Signature& sig, const std::vector<ShapeArg>& args, const std::vector<Dim>& open) {
  auto arg = [&](std::size_t i) -> const ShapeArg* {
    return i < args.size() && args[i].present ? &args[i] : nullptr;
  };
  auto dim_of = [&](std::size_t i) { return arg(i) && arg(i)->as_dim ? *arg(i)->as_dim : Dim::unknown(); };
  const std::string name(sig.name);
  switch (sig.shape) {
    case ShapeRule::Elementwise:
    case ShapeRule::Batch: {
      ShapeOutcome acc{Shape{}, {}};
      for (const auto& a : args) {
        if (!a.present) continue;
        acc = broadcast_in(acc.shape, a.shape, open);
        if (!acc.error.empty()) {
          acc.error = "arguments of " + name + " do not fit together: " + acc.error;
          return acc;
        }
        if (!acc.shape) return acc;
      }
      return acc;
    }
    case ShapeRule::Reduce:
    case ShapeRule::Size: return {Shape{}, {}};
    case ShapeRule::ParamShape: return {std::nullopt, {}};  // the param's declared shape (check_param)
    case ShapeRule::Declared: return {std::nullopt, {}};    // the host's declaration (the checker's check_host_call)
    case ShapeRule::ReduceOrElementwise:
      if (arg(1)) return broadcast_in(args[0].shape, args[1].shape, open);
      return {Shape{}, {}};
    case ShapeRule::SameAsFirst: return {arg(0) ? args[0].shape : std::nullopt, {}};
    case ShapeRule::Dot: {
      if (!arg(0) || !arg(1) || !args[0].shape || !args[1].shape) return {Shape{}, {}};
      if (args[0].shape->rank() != 1 || args[1].shape->rank() != 1)
        return {std::nullopt, "dot needs two vectors; got " + args[0].shape->str() + " and " + args[1].shape->str()};
      if (conflicts(args[0].shape->dims[0], args[1].shape->dims[0]))
        return {std::nullopt, "dot of vectors of different lengths: " + args[0].shape->str() + " and " +
                                  args[1].shape->str()};
      return {Shape{}, {}};
    }
    case ShapeRule::Dense: {
      if (!arg(0) || !arg(1) || !arg(2) || !args[0].shape || !args[1].shape || !args[2].shape) return {};
      const Shape& w = *args[1].shape;
      const Shape& b = *args[2].shape;
      if (plate_rank(w) > 0 || w.rank() != 2)
        return {std::nullopt, "dense's weights W must be one matrix [in, out]; got " + describe(w)};
      if (plate_rank(b) > 0 || b.rank() != 1)
        return {std::nullopt, "dense's bias b must be one vector [out]; got " + describe(b)};
      if (conflicts(w.dims[1], b.dims[0]))
        return {std::nullopt, "dense: W " + w.str() + " has " + w.dims[1].str() + " outputs but the bias b " + b.str() +
                                  " has " + b.dims[0].str()};
      if (per_element(*args[0].shape).rank() == 0)
        return {std::nullopt, "dense's input x must be a vector (or a matrix of rows) per element; got " +
                                  describe(*args[0].shape)};
      ShapeOutcome r = matmul(args[0].shape, args[1].shape);
      if (!r.shape) r.error = "dense(x, W, b): " + r.error;
      return r;
    }
    case ShapeRule::Transpose: {
      if (!arg(0) || !args[0].shape) return {};
      if (args[0].shape->rank() != 2) return {std::nullopt, "transpose needs a matrix; got " + args[0].shape->str()};
      Shape s = *args[0].shape;
      std::swap(s.dims[0], s.dims[1]);
      return {s, {}};
    }
    case ShapeRule::OneHot: {
      if (!arg(0) || !args[0].shape) return {};
      Shape s = *args[0].shape;
      s.dims.push_back(dim_of(1));
      return {s, {}};
    }
    case ShapeRule::SizeArgs:
    case ShapeRule::Fill: {
      Shape s;
      if (sig.shape == ShapeRule::Fill && arg(0) && args[0].shape) {
        // fill(value, dims…) per plate element: one number each.
        const Shape& v = *args[0].shape;
        if (per_element(v).rank() > 0)
          return {std::nullopt, "fill's value must be one number" +
                                    std::string(plate_rank(v) ? " per plate element" : "") + "; it has shape " +
                                    describe(v)};
        s.dims = v.dims;
      }
      for (std::size_t i = sig.params.size(); i < args.size(); ++i) s.dims.push_back(dim_of(i));
      return {s, {}};
    }
    case ShapeRule::Arange: {
      if (!arg(1)) return {Shape{{dim_of(0)}}, {}};
      Dim lo = dim_of(0), hi = dim_of(1);
      if (lo.kind == Dim::Kind::Fixed && hi.kind == Dim::Kind::Fixed)
        return {Shape{{Dim::fixed(std::max<std::int64_t>(0, hi.size - lo.size))}}, {}};
      if (lo.kind == Dim::Kind::Fixed && lo.size == 0) return {Shape{{hi}}, {}};
      return {Shape{{Dim::unknown()}}, {}};
    }
    case ShapeRule::CategoricalBatch: {
      const ShapeArg* p = arg(0) ? arg(0) : arg(1);
      if (!p || !p->shape) return {};
      if (p->shape->rank() == 0)
        return {std::nullopt, name + "'s probabilities need a last dimension of categories; got a scalar"};
      return {drop_last(*p->shape, 1), {}};
    }
    case ShapeRule::VectorEvent: {
      const ShapeArg* loc = arg(0);
      const ShapeArg* mat = arg(1) ? arg(1) : arg(2);
      if (!loc || !mat || !loc->shape || !mat->shape) return {};
      if (loc->shape->rank() == 0) return {std::nullopt, name + "'s loc must be a vector; got a scalar"};
      if (mat->shape->rank() < 2) return {std::nullopt, name + " needs a matrix; got " + mat->shape->str()};
      const Dim& d = loc->shape->dims.back();
      const Dim& r = mat->shape->dims[mat->shape->rank() - 2];
      const Dim& c = mat->shape->dims.back();
      if (conflicts(r, c)) return {std::nullopt, name + " needs a square matrix; got " + mat->shape->str()};
      if (conflicts(d, c))
        return {std::nullopt, name + ": loc " + loc->shape->str() + " does not fit the matrix " + mat->shape->str()};
      ShapeOutcome batch = broadcast(drop_last(*loc->shape, 1), drop_last(*mat->shape, 2));
      if (!batch.shape) return batch;
      batch.shape->dims.push_back(d);
      return batch;
    }
    case ShapeRule::SimplexEvent: {
      if (!arg(0) || !args[0].shape) return {};
      if (args[0].shape->rank() == 0)
        return {std::nullopt, name + "'s concentration must be a vector; got a scalar"};
      return {args[0].shape, {}};
    }
  }
  return {};
}

}  // namespace vireo::sig
