// The checker: a parsed Program -> diagnostics. It enforces the rules of
// ../shared/LANGUAGE.md that the grammar cannot: one model block, names in
// scope, calls against the builtin table (stdlib/signatures), data vs latent,
// shapes where the data block makes them known, unique site names per
// execution path, param constraint types, `return` placement, model/guide
// agreement and `with` options. It reports every independent error it finds
// and never throws. Lowering (lang/ir) runs only on programs that check clean.
#pragma once
#include "lang/ast.hpp"
#include "lang/diagnostic.hpp"
#include "stdlib/signatures/host_table.hpp"

namespace vireo::lang {

// Returns true when no error was reported (warnings may have been).
// `hosts`: the host functions the program may call besides the builtins.
bool check(const ast::Program& program, Diagnostics& diags, const sig::HostTable* hosts = nullptr);

}  // namespace vireo::lang
