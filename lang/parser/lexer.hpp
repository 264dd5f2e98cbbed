// Text -> tokens. Comments and whitespace are skipped; a byte that cannot
// start a token (a control character, a non-ASCII byte, a stray '.') is
// reported once per run of such bytes and dropped, so that the parser still
// sees the rest of the file.
#pragma once
#include <vector>

#include "lang/diagnostic.hpp"
#include "lang/parser/token.hpp"
#include "lang/source.hpp"

namespace vireo::lang::parser {

// The tokens of `file`, always ending with one Tok::End.
std::vector<Token> tokenize(const SourceFile& file, Diagnostics& diags);

}  // namespace vireo::lang::parser
