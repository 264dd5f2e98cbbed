// Look-ups in the builtin table, descriptions for messages, and the binding of
// a call's arguments to a row's parameters (shared by checker and lowering).
#include "stdlib/signatures/signature.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace vireo::sig {

const Signature* find(std::string_view name) {
  static const std::map<std::string_view, BuiltinId> by_name = [] {
    std::map<std::string_view, BuiltinId> m;
    for (const auto& s : signatures()) m.emplace(s.name, s.id);
    return m;
  }();
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : &signatures()[static_cast<std::size_t>(it->second)];
}

const Signature& get(BuiltinId id) { return signatures().at(static_cast<std::size_t>(id)); }

std::vector<std::string> names(Callable which) {
  std::vector<std::string> out;
  for (const auto& s : signatures())
    if (s.callable == which || (which == Callable::Function && s.callable == Callable::Initializer))
      out.emplace_back(s.name);
  return out;
}

int Signature::param_index(std::string_view param) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == param) return static_cast<int>(i);
  return -1;
}

std::string Signature::describe_params() const {
  std::string out = "(";
  bool first = true;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Parameter& p = params[i];
    if (p.alternative >= 0 && i > 0 && params[i - 1].alternative == p.alternative) {
      out += " | ";
    } else {
      if (!first) out += ", ";
    }
    first = false;
    out += p.name;
    if (!p.required && p.alternative < 0) out += p.default_text.empty() ? "?" : "=" + std::string(p.default_text);
  }
  if (variadic_min >= 0) {
    if (!first) out += ", ";
    out += std::string(variadic_name) + "…";
  }
  return out + ")";
}

namespace {

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Binding bind_arguments(const Signature& sig, const std::vector<std::string>& arg_names) {
  Binding b;
  const std::size_t np = sig.params.size();
  const std::string takes = std::string(sig.name) + " takes " + sig.describe_params();

  // 1. Positions: one per parameter, one per exclusive group (its first member).
  std::vector<int> positions;
  for (std::size_t i = 0; i < np; ++i)
    if (sig.params[i].alternative < 0 || i == 0 || sig.params[i - 1].alternative != sig.params[i].alternative)
      positions.push_back(static_cast<int>(i));

  // 2. Assign each argument.
  std::vector<int> given(np, -1);  // argument index bound to each parameter
  std::size_t positional = 0;
  bool seen_named = false, reported_count = false;
  for (std::size_t a = 0; a < arg_names.size(); ++a) {
    const std::string& name = arg_names[a];
    int p = -1;
    if (name.empty()) {
      if (seen_named) {
        b.errors.push_back({static_cast<int>(a), "a positional argument cannot follow a named one",
                            "name it, or move it before the named arguments"});
        b.param_of_arg.push_back(-1);
        continue;
      }
      if (positional < positions.size()) {
        p = positions[positional];
      } else if (sig.variadic_min >= 0) {
        b.param_of_arg.push_back(static_cast<int>(np) + b.variadic_count++);
        ++positional;
        continue;
      } else {
        if (!reported_count)
          b.errors.push_back({static_cast<int>(a), takes + "; got " + plural(arg_names.size(), "argument"), {}});
        reported_count = true;
        b.param_of_arg.push_back(-1);
        ++positional;
        continue;
      }
      ++positional;
    } else {
      seen_named = true;
      p = sig.param_index(name);
      if (p < 0) {
        std::string best;
        std::size_t best_d = name.size() / 3 + 1;
        for (const auto& q : sig.params)
          if (std::size_t d = distance(name, q.name); d <= best_d && (best.empty() || d < best_d))
            best = q.name, best_d = d;
        b.errors.push_back({static_cast<int>(a), std::string(sig.name) + " has no parameter '" + name + "'",
                            best.empty() ? takes : "did you mean '" + best + "'? " + takes});
        b.param_of_arg.push_back(-1);
        continue;
      }
    }
    if (given[static_cast<std::size_t>(p)] >= 0) {
      b.errors.push_back({static_cast<int>(a),
                          "argument '" + std::string(sig.params[static_cast<std::size_t>(p)].name) + "' of " +
                              std::string(sig.name) + " is given twice",
                          takes});
      b.param_of_arg.push_back(-1);
      continue;
    }
    given[static_cast<std::size_t>(p)] = static_cast<int>(a);
    b.param_of_arg.push_back(p);
  }
  if (reported_count) return b;
  // A misnamed argument usually means a missing one: suggest it, and report
  // nothing more about this call.
  if (!b.errors.empty()) {
    std::vector<std::string_view> missing;
    for (std::size_t i = 0; i < np; ++i)
      if (sig.params[i].required && given[i] < 0) missing.push_back(sig.params[i].name);
    for (auto& e : b.errors)
      if (missing.size() == 1 && e.hint == takes) e.hint = "did you mean '" + std::string(missing[0]) + "'? " + takes;
    return b;
  }

  // 3. Required parameters and exclusive groups.
  bool all_positional = !seen_named;
  for (std::size_t i = 0; i < np; ++i) {
    const Parameter& par = sig.params[i];
    if (par.required && given[i] < 0) {
      if (all_positional)
        b.errors.push_back({-1, takes + "; got " + plural(arg_names.size(), "argument"), {}});
      else
        b.errors.push_back({-1, std::string(sig.name) + " is missing its argument '" + std::string(par.name) + "'",
                            takes});
      return b;
    }
    if (par.alternative >= 0 && (i == 0 || sig.params[i - 1].alternative != par.alternative)) {
      std::vector<std::size_t> members, present;
      for (std::size_t j = i; j < np && sig.params[j].alternative == par.alternative; ++j) {
        members.push_back(j);
        if (given[j] >= 0) present.push_back(j);
      }
      std::string either;
      for (std::size_t k = 0; k < members.size(); ++k)
        either += (k ? (k + 1 == members.size() ? " or '" : ", '") : "'") +
                  std::string(sig.params[members[k]].name) + "'";
      if (present.empty()) {
        std::string example;
        for (std::size_t k = 0; k < members.size(); ++k)
          example += (k ? " or " : "") + std::string(sig.name) + "(" + std::string(sig.params[members[k]].name) +
                     " = …)";
        b.errors.push_back({-1, std::string(sig.name) + " needs " + either, "write " + example});
      } else if (present.size() > 1) {
        b.errors.push_back({given[present[1]], std::string(sig.name) + " takes " + either + ", not both",
                            "keep one of them"});
      }
    }
  }
  if (sig.variadic_min >= 0 && b.variadic_count < sig.variadic_min)
    b.errors.push_back({-1, std::string(sig.name) + " needs at least " + plural(static_cast<std::size_t>(sig.variadic_min), "dimension"),
                        takes});
  return b;
}

bool in_domain(Domain d, double x) {
  switch (d) {
    case Domain::Any: return true;
    case Domain::Real: return std::isfinite(x);
    case Domain::Positive: return x > 0 && !std::isnan(x);
    case Domain::NonNegative: return x >= 0;
    case Domain::Probability: return x >= 0 && x <= 1;
    case Domain::NonNegativeInteger: return x >= 0 && std::isfinite(x) && std::floor(x) == x;
  }
  return true;
}

const char* domain_words(Domain d) {
  switch (d) {
    case Domain::Any: return "any value";
    case Domain::Real: return "finite";
    case Domain::Positive: return "positive";
    case Domain::NonNegative: return "non-negative";
    case Domain::Probability: return "in [0, 1]";
    case Domain::NonNegativeInteger: return "a non-negative integer";
  }
  return "";
}

}  // namespace vireo::sig
