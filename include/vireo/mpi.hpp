// A vireo::Communicator over an MPI communicator, for data-parallel fits
// (vireo/distributed.hpp). Only in builds with MPI (vireo::built_with_mpi());
// link the vireo_mpi library. The host initialises and finalises MPI; the
// communicator must outlive every Fit made with data loaded through it.
#pragma once
#include <mpi.h>

#include <memory>

#include "vireo/distributed.hpp"

namespace vireo::mpi {

std::shared_ptr<Communicator> communicator(MPI_Comm comm);

}  // namespace vireo::mpi
