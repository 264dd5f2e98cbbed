// parse -> check -> lower (compile.hpp).
#include "lang/ir/compile.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>

#include "lang/check/check.hpp"
#include "lang/ir/lower.hpp"
#include "lang/parse.hpp"

namespace vireo::ir {

std::string stem(const std::string& file_name) {
  std::size_t slash = file_name.find_last_of("/\\");
  std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  std::size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

void check_host_gradients(const Graph& g, lang::Diagnostics& diags) {
  if (!g.hosts) return;
  // Whether a gradient reaches site `s`: a latent site or a param, or a
  // deterministic site whose value may depend on one (through the edges).
  std::map<SiteId, bool> memo;
  std::function<bool(SiteId)> carries = [&](SiteId s) -> bool {
    if (auto it = memo.find(s); it != memo.end()) return it->second;
    memo[s] = false;  // a cycle adds nothing
    const Site& site = g.site(s);
    bool out = site.kind == SiteKind::Sample || site.kind == SiteKind::Param;
    if (site.kind == SiteKind::Deterministic)
      for (const Edge& e : g.edges)
        if (e.to == s && e.data_flow && carries(e.from)) out = true;
    return memo[s] = out;
  };
  std::set<std::pair<BodyId, ExprId>> reported;
  for (const HostDependence& d : g.host_dependences) {
    if (!carries(d.site) || !reported.insert({d.body, d.call}).second) continue;
    const Expr& call = g.body(d.body).expr(d.call);
    const sig::HostRow& row = g.hosts->row(call.ref);
    const Site& site = g.site(d.site);
    diags.error(call.span,
                fmt::format("host function '{}' has no gradient, but its argument depends on {} '{}'", row.name,
                            site.kind == SiteKind::Param           ? "param"
                            : site.kind == SiteKind::Deterministic ? "deterministic site"
                                                                   : "latent site",
                            site.name),
                fmt::format("register '{}' with a gradient (HostFunction::gradient), or call it on data only",
                            row.name));
  }
}

std::optional<Graph> compile(const lang::SourceFile& file, lang::Diagnostics& diags,
                             std::shared_ptr<const sig::HostTable> hosts) {
  lang::ast::Program program = lang::parse(file, diags);
  if (diags.has_errors()) return std::nullopt;  // a partial tree would only add follow-on errors
  if (!lang::check(program, diags, hosts.get())) return std::nullopt;
  Graph g = lower(program, stem(file.name()), std::move(hosts));
  check_host_gradients(g, diags);
  warn_latent_supports(g, file, diags);
  check_enumerate_options(g, diags);
  if (diags.has_errors()) return std::nullopt;
  return g;
}

}  // namespace vireo::ir
