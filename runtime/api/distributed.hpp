// Data-parallel fits behind include/vireo/distributed.hpp: the data's shard
// (load_shard) and the fit's meeting of the ranks in every step. Internal to
// runtime/api.
#pragma once
#include "runtime/api/data_impl.hpp"
#include "runtime/api/fit_impl.hpp"

namespace vireo::api {

// Makes `f` data-parallel over its data's shard: the plate's scale in the
// context, and the StepExchange its Svi meets the other ranks through.
// Refuses what a data-parallel fit cannot do (a joint guide over plate-local
// latent sites, --clip-value). Before the first step.
void make_distributed(detail::FitImpl& f, const detail::DataImpl::Sharding& shard);

}  // namespace vireo::api
