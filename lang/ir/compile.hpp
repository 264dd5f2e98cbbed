// The whole front end in one call: text -> parse -> check -> site graph.
// Used by the embedding API (runtime/api), the tests and the fuzz target.
#pragma once
#include <optional>
#include <string>

#include "lang/diagnostic.hpp"
#include "lang/ir/graph.hpp"
#include "lang/source.hpp"

namespace vireo::ir {

// Parses and checks `file`, reporting into `diags`; lowers it when there are
// no errors. nullopt when any stage reported an error. `hosts`: the host
// functions the program may call (vireo::HostFunctions); a call of one
// registered without a gradient is refused where its arguments may depend on
// a latent site or a param (check_host_gradients).
std::optional<Graph> compile(const lang::SourceFile& file, lang::Diagnostics& diags,
                             std::shared_ptr<const sig::HostTable> hosts = nullptr);

// Refuses the calls of host functions without a gradient whose arguments may
// depend on a latent site, a param, or a deterministic value of either: the
// ELBO's gradient would have to flow through them (compile.cpp).
void check_host_gradients(const Graph& g, lang::Diagnostics& diags);

// Warns where an observe's support depends on a latent value (Uniform(0, M)
// with M latent), with the reparameterisation that avoids it (support_warnings.cpp).
void warn_latent_supports(const Graph& g, const lang::SourceFile& file, lang::Diagnostics& diags);

// Refuses `with enumerate` where the program shows the site cannot be summed
// out: a family with unbounded support, a guide's site, or a value that
// decides a branch, a loop bound, a plate size or a recursion (support_warnings.cpp).
void check_enumerate_options(const Graph& g, lang::Diagnostics& diags);

// "dir/eight_schools.vireo" -> "eight_schools"
std::string stem(const std::string& file_name);

}  // namespace vireo::ir
