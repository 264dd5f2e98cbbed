// What a vireo::Data holds: the checked values (the interpreter's DataSet)
// and the model they were checked against. Internal to runtime/api.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/api/model_impl.hpp"
#include "runtime/interp/context.hpp"
#include "vireo/distributed.hpp"
#include "vireo/vireo.hpp"

namespace vireo {

struct detail::DataImpl {
  std::shared_ptr<const detail::ModelImpl> model;
  std::string name;
  interp::DataSet set;
  std::vector<Diagnostic> warnings;
  std::string rendered_warnings;
  // This rank's share of a data-parallel fit's data (load_shard, distributed.cpp).
  struct Sharding {
    std::shared_ptr<Communicator> comm;
    ShardInfo info;
    int size_item = -1;  // the plate's size item in the data block
  };
  std::optional<Sharding> shard;
};

}  // namespace vireo
