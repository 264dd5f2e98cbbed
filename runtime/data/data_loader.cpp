// Loading and validating data (data_loader.hpp). One Loader walks the data
// block in declaration order; for each item it
//   1. checks that the data has it (or, under allow_missing_observed, that
//      the model reads it only as an observed value: then it becomes a NaN
//      placeholder of its declared shape, for forward sampling to draw),
//   2. evaluates its sizes and bounds with the interpreter over the items
//      loaded so far (skipping it when they use an item that has a problem),
//   3. reads the value from its source — JSON or a host array — checking
//      structure and element types (source-specific),
//   4. checks the elements' domain: finite, whole for int, 0/1 for bool,
//      inside the bounds, and the simplex constraint (shared).
// Problems are collected, positioned in the data text when there is one, and
// thrown together.
#include "runtime/data/data_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "lang/diagnostic.hpp"
#include "runtime/interp/interpreter.hpp"

namespace vireo::data {

namespace {

using Json = nlohmann::json;
using interp::Kind;
using lang::ast::BaseType;

// Per item, the problems listed in full; the rest are only counted, so that
// a 5000 × 50 matrix of strings yields a readable report.
constexpr int max_issues_per_item = 10;
// Above 2^53 not every integer is a double; an int item would silently change.
constexpr double max_exact_int = 9007199254740992.0;
// Tolerance of the simplex sum, absolute.
constexpr double simplex_tolerance = 1e-8;

std::string index_text(const std::vector<std::int64_t>& index) {
  if (index.empty()) return {};
  return fmt::format("[{}]", fmt::join(index, ", "));
}

std::string number_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", v);
}

std::string shape_text(const std::vector<std::int64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

const char* type_word(BaseType b, bool plural) {
  switch (b) {
    case BaseType::Int:
      return plural ? "ints" : "int";
    case BaseType::Bool:
      return plural ? "bools" : "bool";
    default:
      return plural ? "reals" : "real";
  }
}

// ---- positions in JSON text ---------------------------------------------
// Finds where a value sits in (already validated) JSON text: the top-level
// key `item`, then array elements by index. Only used to position messages.
class JsonLocator {
 public:
  explicit JsonLocator(const std::string& text) : t_(text) {}

  std::optional<std::size_t> find(const std::string& item, const std::vector<std::int64_t>& index) const {
    std::size_t p = ws(0);
    if (!at(p, '{')) return std::nullopt;
    std::optional<std::size_t> found;
    p = ws(p + 1);
    while (p < t_.size() && t_[p] == '"') {
      std::size_t q = skip_string(p);
      std::string key;
      try {
        key = Json::parse(t_.substr(p, q - p)).get<std::string>();
      } catch (const std::exception&) {
        return std::nullopt;
      }
      p = ws(q);
      if (!at(p, ':')) return std::nullopt;
      p = ws(p + 1);
      if (key == item) found = p;  // the last of duplicate keys wins, as in nlohmann
      p = ws(skip_value(p));
      if (at(p, ',')) p = ws(p + 1);
    }
    if (!found) return std::nullopt;
    p = *found;
    for (std::int64_t i : index) {
      if (!at(p, '[')) return std::nullopt;
      p = ws(p + 1);
      for (std::int64_t k = 0; k < i; ++k) {
        p = ws(skip_value(p));
        if (!at(p, ',')) return std::nullopt;
        p = ws(p + 1);
      }
    }
    return p;
  }

 private:
  bool at(std::size_t p, char c) const { return p < t_.size() && t_[p] == c; }
  std::size_t ws(std::size_t p) const {
    while (p < t_.size() && (t_[p] == ' ' || t_[p] == '\t' || t_[p] == '\n' || t_[p] == '\r')) ++p;
    return p;
  }
  std::size_t skip_string(std::size_t p) const {
    for (++p; p < t_.size() && t_[p] != '"'; ++p)
      if (t_[p] == '\\') ++p;
    return p + 1;
  }
  std::size_t skip_value(std::size_t p) const {
    if (at(p, '"')) return skip_string(p);
    if (at(p, '[') || at(p, '{')) {
      int depth = 0;
      while (p < t_.size()) {
        char c = t_[p];
        if (c == '"') {
          p = skip_string(p);
          continue;
        }
        if (c == '[' || c == '{') ++depth;
        if ((c == ']' || c == '}') && --depth == 0) return p + 1;
        ++p;
      }
      return p;
    }
    while (p < t_.size() && !std::strchr(",]} \t\r\n", t_[p])) ++p;
    return p;
  }

  const std::string& t_;
};

// A key given twice in one object of (already validated) JSON text: nlohmann
// keeps the last value without a word, and its parser callback and SAX
// events carry no position, so the text is scanned here. Returns the key,
// the offset of its second occurrence and that of its first.
struct DuplicateKey {
  std::string key;
  std::size_t at = 0, first = 0;
};

std::optional<DuplicateKey> find_duplicate_key(const std::string& t) {
  struct Open {
    bool object = false;
    bool expect_key = false;
    std::map<std::string, std::size_t> keys;
  };
  std::vector<Open> open;  // iterative: the depth of the JSON is not the depth of this stack
  for (std::size_t p = 0; p < t.size(); ++p) {
    const char c = t[p];
    if (c == '"') {
      std::size_t q = p + 1;
      for (; q < t.size() && t[q] != '"'; ++q)
        if (t[q] == '\\') ++q;
      if (!open.empty() && open.back().object && open.back().expect_key) {
        std::string key;
        try {
          key = Json::parse(t.substr(p, q + 1 - p)).get<std::string>();
        } catch (const std::exception&) {
          return std::nullopt;
        }
        auto [it, fresh] = open.back().keys.emplace(key, p);
        if (!fresh) return DuplicateKey{key, p, it->second};
        open.back().expect_key = false;
      }
      p = q;
    } else if (c == '{' || c == '[') {
      open.push_back(Open{c == '{', c == '{', {}});
    } else if ((c == '}' || c == ']') && !open.empty()) {
      open.pop_back();
    } else if (c == ',' && !open.empty() && open.back().object) {
      open.back().expect_key = true;
    }
  }
  return std::nullopt;
}

// What a JSON value is, for "… but is a string (\"NaN\")".
std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::array:
      return fmt::format("an array of {}", v.size());
    case Json::value_t::object:
      return "an object";
    case Json::value_t::string:
      return fmt::format("a string ({})", v.dump());
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    default:
      return fmt::format("the number {}", v.dump());
  }
}

// ---- the loader -----------------------------------------------------------

// One declaration while it is being loaded.
struct Item {
  int index = 0;
  const ir::DataDecl* decl = nullptr;
  BaseType base = BaseType::Real;
  std::vector<std::int64_t> dims;
  std::vector<std::string> dim_texts;  // "J = 8", or "8" when written as a number
  std::optional<ad::Tensor> lower, upper;
  std::string lower_text, upper_text;
  std::vector<double> values;  // row-major, as read
  std::vector<char> bad;       // per value: already reported (wrong type)
  bool shape_ok = true;
  int errors = 0;

  const std::string& name() const { return decl->name; }
  std::string ref(const std::vector<std::int64_t>& index) const { return "'" + name() + index_text(index) + "'"; }
};

class Loader {
 public:
  Loader(const ir::Graph& g, const lang::SourceFile& model, std::string data_name, LoadOptions options = {})
      : g_(g), model_(model), data_name_(std::move(data_name)), options_(options) {}

  // Loads every declaration; `given` lists the names the source has, and
  // `read` fills an item's values from the source.
  interp::DataSet load(const std::vector<std::string>& given, const std::function<void(Item&)>& read);

  void read_json(Item& it, const Json& v, std::vector<std::int64_t>& path);
  void read_array(Item& it, const ArrayInput& a);

  // A problem with the data file as a whole.
  void file_error(std::string message, int line = 0, int column = 0) {
    DataIssue d;
    d.message = std::move(message);
    d.data_line = line;
    d.data_column = column;
    issues_.push_back({std::move(d), false, {}});
    ++error_count_;
  }
  // Positions every issue that points into the data at `text`.
  void locate(const std::string& text);
  [[noreturn]] void fail();
  bool has_errors() const { return error_count_ > 0; }
  std::vector<DataIssue> warnings() const;

 private:
  struct Pending {
    DataIssue issue;
    bool in_data = false;  // points at a value in the data (positionable)
    std::vector<std::int64_t> path;
  };

  void add(const ir::DataDecl* decl, DataIssue::Severity sev, std::string message,
           const std::vector<std::int64_t>& index, bool in_data);
  void error(Item& it, const std::vector<std::int64_t>& index, std::string message, bool in_data = true) {
    ++error_count_;
    if (++it.errors <= max_issues_per_item)
      add(it.decl, DataIssue::Severity::Error, std::move(message), index, in_data);
  }
  bool evaluate_declaration(Item& it, interp::Context& ctx, const std::vector<char>& good);
  std::optional<ad::Tensor> evaluate(Item& it, interp::Context& ctx, ir::ExprId e, const char* what, std::string* text);
  void read_element(Item& it, const Json& v, const std::vector<std::int64_t>& path);
  void check_elements(Item& it);
  void check_bounds(Item& it);
  void check_simplex(Item& it);
  std::vector<std::int64_t> unravel(const Item& it, std::int64_t flat) const;
  std::string source_text(lang::Span s) const { return model_.text().substr(s.begin, s.end - s.begin); }

  // An item left out that the model needs (LoadOptions::allow_missing_observed).
  struct Needed {
    const ir::DataDecl* decl;
    lang::Span use;
  };
  void needed(const ir::DataDecl* decl, lang::Span use) {
    needed_.push_back({decl, use});
    ++error_count_;
  }
  [[noreturn]] void fail_needed() const;

  const ir::Graph& g_;
  const lang::SourceFile& model_;
  std::string data_name_;
  LoadOptions options_;
  std::vector<Pending> issues_;
  std::vector<Needed> needed_;
  int error_count_ = 0;  // including those past the per-item cap and the needed items
};

void Loader::add(const ir::DataDecl* decl, DataIssue::Severity sev, std::string message,
                 const std::vector<std::int64_t>& index, bool in_data) {
  DataIssue d;
  d.severity = sev;
  d.message = std::move(message);
  if (decl) {
    d.item = decl->name;
    d.index = index_text(index);
    d.decl_line = model_.line_col(decl->span.begin).line;
    // A declaration split over lines reads better on one.
    std::istringstream words(source_text(decl->span));
    std::string w;
    while (words >> w) d.decl_text += (d.decl_text.empty() ? "" : " ") + w;
  }
  issues_.push_back({std::move(d), in_data, index});
}

// Data items that an expression of the data body reads.
void data_uses(const ir::Body& b, ir::ExprId id, std::vector<int>& out) {
  if (id == ir::no_expr) return;
  const ir::Expr& e = b.expr(id);
  if (e.op == ir::Op::Data) out.push_back(e.ref);
  for (std::uint32_t i = 0; i < e.count; ++i) data_uses(b, b.operand(e, i), out);
}

std::optional<ad::Tensor> Loader::evaluate(Item& it, interp::Context& ctx, ir::ExprId e, const char* what,
                                           std::string* text) {
  const ir::Body& body = g_.body(g_.data_body);
  std::string src = source_text(body.expr(e).span);
  try {
    ctx.begin_step();
    interp::Interpreter interp(ctx);
    ad::Tensor v = interp.eval_data_expr(e).var.value();
    // "0" for a number written as such, "K = 3" for anything else.
    if (text) {
      if (v.numel() != 1)
        *text = "`" + src + "`";
      else
        *text = number_text(v[0]) == src ? src : fmt::format("{} = {}", src, number_text(v[0]));
    }
    return v;
  } catch (const std::exception& ex) {
    error(it, {},
          fmt::format("'{}' cannot be checked: its {} `{}` cannot be computed: {}", it.name(), what, src, ex.what()),
          false);
    return std::nullopt;
  }
}

// Step 2: sizes and bounds. False when the item cannot be checked.
bool Loader::evaluate_declaration(Item& it, interp::Context& ctx, const std::vector<char>& good) {
  const ir::TypeDecl& t = it.decl->type;
  const ir::Body& body = g_.body(g_.data_body);
  std::vector<int> uses;
  for (ir::ExprId d : t.dims) data_uses(body, d, uses);
  data_uses(body, t.lower, uses);
  data_uses(body, t.upper, uses);
  for (int u : uses) {
    if (u >= it.index) {  // the checker forbids this; never read an item not loaded yet
      error(it, {},
            fmt::format("'{}' cannot be checked: its type uses '{}', declared after it", it.name(),
                        g_.data[static_cast<std::size_t>(u)].name),
            false);
      return false;
    }
    if (!good[static_cast<std::size_t>(u)]) {
      add(it.decl, DataIssue::Severity::Warning,
          fmt::format("'{}' was not checked: its type uses '{}', which has a problem", it.name(),
                      g_.data[static_cast<std::size_t>(u)].name),
          {}, false);
      return false;
    }
  }
  if (static_cast<int>(t.dims.size()) > ad::kMaxRank) {
    error(it, {},
          fmt::format("'{}' has {} dimensions; at most {} are supported", it.name(), t.dims.size(), ad::kMaxRank),
          false);
    return false;
  }
  bool ok = true;
  for (ir::ExprId d : t.dims) {
    std::string text;
    std::optional<ad::Tensor> v = evaluate(it, ctx, d, "size", &text);
    if (!v) {
      ok = false;
      continue;
    }
    std::string src = source_text(body.expr(d).span);
    if (v->numel() != 1) {
      error(it, {},
            fmt::format("'{}' cannot be checked: its size `{}` is not a single number (shape {})", it.name(), src,
                        ad::to_string(v->shape())),
            false);
      ok = false;
      continue;
    }
    double n = (*v)[0];
    if (!std::isfinite(n) || n != std::floor(n)) {
      error(it, {}, fmt::format("'{}' cannot be checked: its size {} is not an integer", it.name(), text), false);
      ok = false;
    } else if (n < 0) {
      error(it, {}, fmt::format("'{}' cannot be checked: its size {} is negative", it.name(), text), false);
      ok = false;
    } else {
      it.dims.push_back(static_cast<std::int64_t>(n));
      it.dim_texts.push_back(text);
    }
  }
  // Sizes from the data are untrusted: a shape of more than 2^27 elements
  // (1 GiB of doubles; its JSON would take several) is refused here, before
  // a left-out item's placeholder is allocated.
  if (ok) {
    constexpr std::int64_t max_elements = std::int64_t{1} << 27;
    std::int64_t n = 1;
    bool over = false;
    for (std::int64_t d : it.dims) over = over || __builtin_mul_overflow(n, d, &n) || n > max_elements;
    if (over && n != 0) {
      std::string dims;
      for (const auto& d : it.dim_texts) dims += (dims.empty() ? "" : ", ") + d;
      error(it, {},
            fmt::format("'{}' would have more than {} elements (sizes {}), more than a run may hold", it.name(),
                        max_elements, dims),
            false);
      ok = false;
    }
  }
  if (t.lower != ir::no_expr) it.lower = evaluate(it, ctx, t.lower, "lower bound", &it.lower_text);
  if (t.upper != ir::no_expr) it.upper = evaluate(it, ctx, t.upper, "upper bound", &it.upper_text);
  if ((t.lower != ir::no_expr && !it.lower) || (t.upper != ir::no_expr && !it.upper)) ok = false;
  return ok;
}

// Step 3 for JSON: nested arrays down to the declared rank, then elements.
void Loader::read_json(Item& it, const Json& v, std::vector<std::int64_t>& path) {
  std::size_t depth = path.size();
  if (depth < it.dims.size()) {
    std::string expect = fmt::format("an array of {} {}", it.dim_texts[depth],
                                     depth + 1 < it.dims.size() ? "arrays" : type_word(it.base, true));
    if (!v.is_array()) {
      error(it, path, fmt::format("{} should be {} but is {}", it.ref(path), expect, describe(v)));
      it.shape_ok = false;
      return;
    }
    if (static_cast<std::int64_t>(v.size()) != it.dims[depth]) {
      error(it, path,
            fmt::format("{} has {} elements but its declared size is {}", it.ref(path), v.size(), it.dim_texts[depth]));
      it.shape_ok = false;
    }
    for (std::size_t k = 0; k < v.size(); ++k) {
      path.push_back(static_cast<std::int64_t>(k));
      read_json(it, v[k], path);
      path.pop_back();
    }
    return;
  }
  if (v.is_array()) {
    std::string hint = v.size() == 1 && path.empty() ? fmt::format(" (write {}, not {})", v[0].dump(), v.dump()) : "";
    error(it, path,
          fmt::format("{} should be a single {} but is {}{}", it.ref(path), type_word(it.base, false), describe(v),
                      hint));
    it.shape_ok = false;
    return;
  }
  read_element(it, v, path);
}

// One JSON scalar: JSON integers for int, numbers for real, true/false (or
// 0/1) for bool.
void Loader::read_element(Item& it, const Json& v, const std::vector<std::int64_t>& path) {
  double x = std::nan("");
  bool ok = false;
  std::string ref = it.ref(path);
  switch (it.base) {
    case BaseType::Int:
      if (v.is_number_integer()) {
        x = v.is_number_unsigned() ? static_cast<double>(v.get<std::uint64_t>())
                                   : static_cast<double>(v.get<std::int64_t>());
        ok = true;
      } else if (v.is_number_float()) {
        double f = v.get<double>();
        if (std::isfinite(f) && f == std::floor(f))
          error(it, path,
                fmt::format("{} = {} is written as a real; an int must be a JSON integer ({})", ref, v.dump(),
                            number_text(f)));
        else
          error(it, path, fmt::format("{} = {} is not an integer", ref, v.dump()));
      } else {
        error(it, path, fmt::format("{} is {}; it should be an int", ref, describe(v)));
      }
      break;
    case BaseType::Bool:
      if (v.is_boolean()) {
        x = v.get<bool>() ? 1 : 0;
        ok = true;
      } else if (v.is_number() && (v == 0 || v == 1) && v.is_number_integer()) {
        x = v.get<double>();
        ok = true;
      } else {
        error(it, path, fmt::format("{} is {}; a bool must be true or false (or 1 or 0)", ref, describe(v)));
      }
      break;
    default:
      if (v.is_number()) {
        x = v.get<double>();
        ok = true;
      } else {
        std::string hint;
        if (v.is_string()) {
          std::string s = v.get<std::string>();
          for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (s == "nan" || s == "inf" || s == "-inf" || s == "infinity" || s == "-infinity")
            hint = "; NaN and infinite values are not allowed in data";
        } else if (v.is_null()) {
          hint = "; missing values are not supported";
        }
        error(it, path, fmt::format("{} is {}; it should be a real number{}", ref, describe(v), hint));
      }
  }
  it.values.push_back(x);
  it.bad.push_back(ok ? 0 : 1);
}

// Step 3 for host arrays: the shape, then the values as they are.
void Loader::read_array(Item& it, const ArrayInput& a) {
  std::int64_t count = 1;
  bool negative = false;
  for (std::int64_t d : a.shape) {
    negative = negative || d < 0;
    count *= d;
  }
  if (a.shape != it.dims) {
    error(it, {},
          fmt::format("'{}' has shape {} but is declared with shape [{}]", it.name(), shape_text(a.shape),
                      fmt::join(it.dim_texts, ", ")));
    it.shape_ok = false;
  } else if (negative || count != static_cast<std::int64_t>(a.values.size())) {
    error(it, {},
          fmt::format("'{}' has {} values, but its shape {} holds {}", it.name(), a.values.size(), shape_text(a.shape),
                      count));
    it.shape_ok = false;
  }
  if (!it.shape_ok) return;
  it.values = a.values;
  it.bad.assign(a.values.size(), 0);
}

std::vector<std::int64_t> Loader::unravel(const Item& it, std::int64_t flat) const {
  std::vector<std::int64_t> index(it.dims.size());
  for (std::size_t k = it.dims.size(); k-- > 0;) {
    index[k] = flat % it.dims[k];
    flat /= it.dims[k];
  }
  return index;
}

// Step 4: every element that was read as the right type.
void Loader::check_elements(Item& it) {
  for (std::size_t i = 0; i < it.values.size(); ++i) {
    if (it.bad[i]) continue;
    double v = it.values[i];
    auto idx = [&] { return unravel(it, static_cast<std::int64_t>(i)); };
    if (!std::isfinite(v)) {
      error(it, idx(), fmt::format("{} = {} is not a finite number", it.ref(idx()), number_text(v)));
      it.bad[i] = 1;
    } else if (it.base == BaseType::Int && v != std::floor(v)) {
      error(it, idx(), fmt::format("{} = {} is not an integer", it.ref(idx()), number_text(v)));
      it.bad[i] = 1;
    } else if (it.base == BaseType::Int && std::fabs(v) > max_exact_int) {
      error(it, idx(), fmt::format("{} = {} is too large to be an int (beyond 2^53)", it.ref(idx()), number_text(v)));
      it.bad[i] = 1;
    } else if (it.base == BaseType::Bool && v != 0 && v != 1) {
      error(it, idx(),
            fmt::format("{} = {} is not a bool; write true or false (or 1 or 0)", it.ref(idx()), number_text(v)));
      it.bad[i] = 1;
    }
  }
  check_bounds(it);
}

// Bounds are inclusive, for int and real alike (as Stan checks data). A
// bound is one number or an array of the item's shape.
void Loader::check_bounds(Item& it) {
  struct Bound {
    const ad::Tensor* value;
    const std::string* text;
    bool lower;
  };
  std::vector<Bound> bounds;
  for (bool lower : {true, false}) {
    const std::optional<ad::Tensor>& b = lower ? it.lower : it.upper;
    const std::string& text = lower ? it.lower_text : it.upper_text;
    if (!b) continue;
    if (b->numel() != 1 && b->shape().to_vector() != it.dims) {
      error(it, {},
            fmt::format("'{}' cannot be checked against its {} bound {}: the bound has shape {} and '{}' has {}",
                        it.name(), lower ? "lower" : "upper", text, ad::to_string(b->shape()), it.name(),
                        shape_text(it.dims)),
            false);
      continue;
    }
    bounds.push_back({&*b, &text, lower});
  }
  for (std::size_t i = 0; i < it.values.size(); ++i) {
    if (it.bad[i]) continue;
    for (const Bound& b : bounds) {
      bool scalar = b.value->numel() == 1;
      double limit = (*b.value)[scalar ? 0 : static_cast<std::int64_t>(i)];
      double v = it.values[i];
      if (b.lower ? v >= limit : v <= limit) continue;
      std::vector<std::int64_t> idx = unravel(it, static_cast<std::int64_t>(i));
      std::string text = scalar ? *b.text : fmt::format("{}{} = {}", *b.text, index_text(idx), number_text(limit));
      error(it, idx,
            fmt::format("{} = {} is {} its {} bound {}", it.ref(idx), number_text(v), b.lower ? "below" : "above",
                        b.lower ? "lower" : "upper", text));
    }
  }
}

// A simplex: non-negative entries summing to 1 along the last axis.
void Loader::check_simplex(Item& it) {
  if (it.dims.empty()) return;
  std::int64_t k = it.dims.back();
  bool negative = false;
  for (std::size_t i = 0; i < it.values.size(); ++i)
    if (it.values[i] < 0) {
      std::vector<std::int64_t> idx = unravel(it, static_cast<std::int64_t>(i));
      error(it, idx,
            fmt::format("{} = {} is negative; a simplex has non-negative entries", it.ref(idx),
                        number_text(it.values[i])));
      negative = true;
    }
  if (negative || k == 0) return;
  for (std::size_t row = 0; row * static_cast<std::size_t>(k) < it.values.size(); ++row) {
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j)
      sum += it.values[row * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)];
    if (std::fabs(sum - 1) <= simplex_tolerance) continue;
    std::vector<std::int64_t> idx = unravel(it, static_cast<std::int64_t>(row) * k);
    idx.pop_back();
    error(it, idx,
          fmt::format("{} sums to {:.12g}; a simplex must sum to 1 (within {})", it.ref(idx), sum, simplex_tolerance));
  }
}

interp::DataSet Loader::load(const std::vector<std::string>& given, const std::function<void(Item&)>& read) {
  interp::DataSet ds;
  // The Context borrows the tensors of earlier items by pointer: no reallocation.
  ds.values.reserve(g_.data.size());
  ds.kinds.reserve(g_.data.size());
  params::ParamStore store;
  rng::Generator rng;
  interp::Context ctx(g_, ds, store, rng);
  std::vector<char> good;
  // Which items may be left out: those read only as observed values.
  std::vector<std::optional<lang::Span>> uses;
  if (options_.allow_missing_observed) {
    uses = uses_beyond_observation(g_);
    ds.missing.assign(g_.data.size(), false);
  }
  for (std::size_t i = 0; i < g_.data.size(); ++i) {
    Item it;
    it.index = static_cast<int>(i);
    it.decl = &g_.data[i];
    it.base = it.decl->type.base;
    Kind kind = it.base == BaseType::Int ? Kind::Int : it.base == BaseType::Bool ? Kind::Bool : Kind::Real;
    std::size_t before = issues_.size();
    bool present = std::find(given.begin(), given.end(), it.name()) != given.end();
    const bool left_out = !present && options_.allow_missing_observed;
    if (left_out && uses[i]) needed(it.decl, *uses[i]);
    else if (!present && !left_out) error(it, {}, fmt::format("'{}' is missing", it.name()), false);
    const bool declared = evaluate_declaration(it, ctx, good);
    if (left_out && !uses[i] && declared && it.errors == 0 && issues_.size() == before) {
      // A placeholder of the declared shape, for the observe sites to sample.
      ds.values.push_back(ad::Tensor(ad::Shape(it.dims), std::nan("")));
      ds.kinds.push_back(kind);
      ds.missing[i] = true;
      good.push_back(1);
      continue;
    }
    bool ok = declared && present;
    if (ok) {
      read(it);
      if (it.shape_ok) {
        check_elements(it);
        if (it.errors == 0 && it.base == BaseType::Simplex) check_simplex(it);
      }
    }
    if (it.errors > max_issues_per_item)
      add(it.decl, DataIssue::Severity::Error,
          fmt::format("… and {} more problems with '{}'", it.errors - max_issues_per_item, it.name()), {}, false);
    ok = ok && it.errors == 0 && issues_.size() == before;
    good.push_back(ok ? 1 : 0);
    ds.values.push_back(ok ? ad::Tensor(ad::Shape(it.dims), std::move(it.values)) : ad::Tensor());
    ds.kinds.push_back(kind);
  }
  for (const std::string& name : given) {
    if (g_.find_data(name) >= 0) continue;
    std::vector<std::string> names;
    for (const auto& d : g_.data) names.push_back(d.name);
    std::string near = lang::closest_name(name, names);
    DataIssue d;
    d.severity = DataIssue::Severity::Warning;
    d.item = name;
    d.message = fmt::format("'{}' is not declared in the data block of {}; it is ignored{}", name, model_.name(),
                            near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near));
    issues_.push_back({std::move(d), true, {}});
  }
  return ds;
}

void Loader::locate(const std::string& text) {
  JsonLocator where(text);
  lang::SourceFile file(data_name_, text);
  for (Pending& p : issues_) {
    if (!p.in_data || p.issue.item.empty()) continue;
    if (auto off = where.find(p.issue.item, p.path)) {
      lang::LineCol lc = file.line_col(static_cast<std::uint32_t>(*off));
      p.issue.data_line = lc.line;
      p.issue.data_column = lc.column;
    }
  }
}

std::vector<DataIssue> Loader::warnings() const {
  std::vector<DataIssue> out;
  for (const Pending& p : issues_)
    if (p.issue.severity == DataIssue::Severity::Warning) out.push_back(p.issue);
  return out;
}

void Loader::fail_needed() const {
  // The items that may be left out, to name in the hint.
  std::vector<std::string> optional;
  const std::vector<std::optional<lang::Span>> uses = uses_beyond_observation(g_);
  for (std::size_t i = 0; i < uses.size(); ++i)
    if (!uses[i]) optional.push_back(g_.data[i].name);
  const std::string may = optional.empty() ? std::string("none here")
                                           : fmt::format("here {}", fmt::join(optional, ", "));
  std::vector<lang::Diagnostic> out;
  std::vector<std::string> items;
  for (const Needed& n : needed_) {
    const lang::LineCol at = model_.line_col(n.use.begin);
    std::string line(model_.line_text(at.line));
    line.erase(0, line.find_first_not_of(" \t"));
    const bool in_data_block = std::any_of(g_.data.begin(), g_.data.end(), [&](const ir::DataDecl& other) {
      return other.span.begin <= n.use.begin && n.use.begin < other.span.end;
    });
    lang::Diagnostic d;
    d.span = n.decl->span;
    d.message = fmt::format("data item '{}' is missing, and the model needs it: {}, at line {}:{}: `{}`",
                            n.decl->name,
                            in_data_block ? "another item's size or bound uses it"
                                          : "it is read other than as an observed value",
                            at.line, at.column, line);
    d.hint = fmt::format(
        "give '{}' in the data (--data FILE.json: {{\"{}\": …}}); only the items the model uses solely as "
        "observed values ({}) may be left out, to be sampled",
        n.decl->name, n.decl->name, may);
    out.push_back(std::move(d));
    items.push_back(n.decl->name);
  }
  throw MissingItemsError(std::move(out), std::move(items));
}

void Loader::fail() {
  if (!needed_.empty()) fail_needed();
  std::vector<DataIssue> all;
  for (const Pending& p : issues_)
    if (p.issue.severity == DataIssue::Severity::Error) all.push_back(p.issue);
  for (const Pending& p : issues_)
    if (p.issue.severity != DataIssue::Severity::Error) all.push_back(p.issue);
  std::string report = fmt::format("{}: the data does not fit {} ({} error{}):", data_name_, model_.name(),
                                   error_count_, error_count_ == 1 ? "" : "s");
  for (const DataIssue& d : all) report += "\n" + render(d, data_name_, model_.name());
  throw DataError(report, std::move(all));
}

// Loads, positions the issues in `text` when given, and throws on any error.
interp::DataSet finish(Loader& loader, interp::DataSet ds, const std::string* text, std::vector<DataIssue>* warnings) {
  if (text) loader.locate(*text);
  if (loader.has_errors()) loader.fail();
  if (warnings) *warnings = loader.warnings();
  return ds;
}

interp::DataSet load_json_impl(const ir::Graph& g, const Json& j, const lang::SourceFile& model_source,
                               const std::string& data_name, const std::string* text,
                               std::vector<DataIssue>* warnings, const LoadOptions& options) {
  Loader loader(g, model_source, data_name, options);
  if (!j.is_object()) {
    loader.file_error(fmt::format("the data must be a JSON object keyed by data names, but it is {}", describe(j)));
    loader.fail();
  }
  std::vector<std::string> given;
  for (auto it = j.begin(); it != j.end(); ++it) given.push_back(it.key());
  interp::DataSet ds = loader.load(given, [&](Item& it) {
    std::vector<std::int64_t> path;
    loader.read_json(it, j.at(it.name()), path);
  });
  return finish(loader, std::move(ds), text, warnings);
}

}  // namespace

namespace {

// The root of an observe site's target: an index expression's base, followed
// down (`flips` in `flips[i]`); no_expr for a site that is no observe.
ir::ExprId target_root(const ir::Graph& g, const ir::Site& site) {
  if (site.kind != ir::SiteKind::Observe || site.value == ir::no_expr) return ir::no_expr;
  const ir::Body& body = g.body(site.body);
  ir::ExprId root = site.value;
  while (body.expr(root).op == ir::Op::Index) root = body.operand(body.expr(root), 0);
  return root;
}

}  // namespace

int observed_item(const ir::Graph& g, const ir::Site& site) {
  const ir::ExprId root = target_root(g, site);
  if (root == ir::no_expr) return -1;
  const ir::Expr& e = g.body(site.body).expr(root);
  return e.op == ir::Op::Data ? e.ref : -1;
}

std::vector<std::optional<lang::Span>> uses_beyond_observation(const ir::Graph& g) {
  // 1. The roots of the observe sites' targets.
  std::vector<std::vector<char>> observed(g.bodies.size());
  for (std::size_t b = 0; b < g.bodies.size(); ++b) observed[b].assign(g.bodies[b].exprs.size(), 0);
  for (const ir::Site& site : g.sites)
    if (site.body != g.guide && observed_item(g, site) >= 0)
      observed[static_cast<std::size_t>(site.body)][static_cast<std::size_t>(target_root(g, site))] = 1;
  // 2. Every other read of a data item, the earliest in the source kept.
  std::vector<std::optional<lang::Span>> out(g.data.size());
  for (std::size_t b = 0; b < g.bodies.size(); ++b) {
    const ir::Body& body = g.bodies[b];
    if (body.kind == ir::BodyKind::Guide) continue;
    for (std::size_t e = 0; e < body.exprs.size(); ++e) {
      const ir::Expr& x = body.exprs[e];
      if (x.op != ir::Op::Data || observed[b][e] || x.ref < 0 || static_cast<std::size_t>(x.ref) >= out.size()) continue;
      std::optional<lang::Span>& first = out[static_cast<std::size_t>(x.ref)];
      if (!first || x.span.begin < first->begin) first = x.span;
    }
  }
  return out;
}

std::string render(const DataIssue& d, const std::string& data_name, const std::string& model_name) {
  std::string out = data_name;
  if (d.data_line > 0) out += fmt::format(":{}:{}", d.data_line, d.data_column);
  out += ": ";
  if (d.severity == DataIssue::Severity::Warning) out += "warning: ";
  out += d.message;
  if (d.decl_line > 0) out += fmt::format(" (declared at {}:{}: `{}`)", model_name, d.decl_line, d.decl_text);
  return out;
}

interp::DataSet load_json(const ir::Graph& g, const nlohmann::json& j, const lang::SourceFile& model_source,
                          const std::string& data_file_name, std::vector<DataIssue>* warnings,
                          const LoadOptions& options) {
  return load_json_impl(g, j, model_source, data_file_name, nullptr, warnings, options);
}

interp::DataSet load_json_text(const ir::Graph& g, const std::string& text, const lang::SourceFile& model_source,
                               const std::string& data_file_name, std::vector<DataIssue>* warnings,
                               const LoadOptions& options) {
  Json j;
  std::optional<std::size_t> bad_at;
  std::string detail;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based: the last character read, where the parser gave up.
    bad_at = e.byte > 0 ? e.byte - 1 : 0;
    // nlohmann's message repeats the position ("parse error at line 1, column 9: …"); keep the rest.
    std::string what = e.what();
    std::size_t colon = what.find(": ", what.find("column"));
    detail = colon == std::string::npos ? what : what.substr(colon + 2);
    std::string next = text.substr(std::min(*bad_at, text.size()), 3);
    for (char& c : next) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (next == "nan" || next == "inf") detail += " (NaN and infinite values are not allowed in data)";
  } catch (const Json::out_of_range& e) {
    // A number beyond the range of a double: "number overflow parsing '1e999'".
    std::string what = e.what();
    std::size_t open = what.find('\''), close = what.rfind('\'');
    std::string token = open < close ? what.substr(open + 1, close - open - 1) : "";
    std::size_t at = token.empty() ? std::string::npos : text.find(token);
    bad_at = at == std::string::npos ? 0 : at;
    detail = fmt::format("the number {} is too large for a double; infinite values are not allowed in data", token);
  }
  if (bad_at) {
    lang::LineCol lc = lang::SourceFile(data_file_name, text).line_col(static_cast<std::uint32_t>(*bad_at));
    Loader loader(g, model_source, data_file_name);
    loader.file_error("malformed JSON: " + detail, lc.line, lc.column);
    loader.fail();
  }
  if (std::optional<DuplicateKey> dup = find_duplicate_key(text)) {
    lang::SourceFile file(data_file_name, text);
    lang::LineCol lc = file.line_col(static_cast<std::uint32_t>(dup->at));
    lang::LineCol first = file.line_col(static_cast<std::uint32_t>(dup->first));
    Loader loader(g, model_source, data_file_name);
    loader.file_error(fmt::format("the key \"{}\" is given twice in one object (first at line {}); JSON would keep "
                                  "only the last value: remove or rename one",
                                  dup->key, first.line),
                      lc.line, lc.column);
    loader.fail();
  }
  return load_json_impl(g, j, model_source, data_file_name, &text, warnings, options);
}

interp::DataSet load_json_file(const ir::Graph& g, const std::string& path, const lang::SourceFile& model_source,
                               std::vector<DataIssue>* warnings, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Loader loader(g, model_source, path);
    loader.file_error(fmt::format("cannot read the data file: {}", std::strerror(errno)));
    loader.fail();
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return load_json_text(g, buf.str(), model_source, path, warnings, options);
}

interp::DataSet load_arrays(const ir::Graph& g, const std::map<std::string, ArrayInput>& arrays,
                            const lang::SourceFile& model_source, std::vector<DataIssue>* warnings,
                            const LoadOptions& options) {
  Loader loader(g, model_source, "data", options);
  std::vector<std::string> given;
  for (const auto& [name, a] : arrays) given.push_back(name);
  interp::DataSet ds = loader.load(given, [&](Item& it) { loader.read_array(it, arrays.at(it.name())); });
  return finish(loader, std::move(ds), nullptr, warnings);
}

}  // namespace vireo::data
