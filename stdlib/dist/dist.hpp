// dist.hpp — everything stdlib/dist offers, in one include:
//   Distribution (distribution.hpp)  the interface: log_prob, sample, rsample,
//                                    support, shapes, mean/variance/entropy, param
//   families.hpp                     typed factories: normal(loc, scale), …
//   registry.hpp                     families by LANGUAGE.md name: make_distribution
//   kl.hpp                           kl_divergence(p, q) over the table of pairs
//   checks.hpp                       ParameterError and the argument checks
//   ops.hpp                          implicit gamma draws, cholesky, solve_lower, diagonal
#pragma once

#include "stdlib/dist/checks.hpp"
#include "stdlib/dist/distribution.hpp"
#include "stdlib/dist/families.hpp"
#include "stdlib/dist/kl.hpp"
#include "stdlib/dist/ops.hpp"
#include "stdlib/dist/registry.hpp"
