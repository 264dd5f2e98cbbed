// Data-parallel fits: one model trained on several processes (ranks), each
// holding only its share of the rows of one data plate. Without MPI headers:
// vireo/mpi.hpp makes a Communicator from an MPI communicator (when Vireo is
// built with MPI); single_process() is the one-rank group, which works in
// every build.
//
//   auto comm = vireo::mpi::communicator(MPI_COMM_WORLD);         // vireo/mpi.hpp
//   vireo::Data data = vireo::load_shard(model, "part-{rank}.json", comm);
//   vireo::Fit fit(model, data, options);  // every rank: the same model and options
//   fit.run(2000);                          // gradients summed over the ranks each step
//
// What is distributed (README.md, "Running on a cluster"): the plate's rows,
// its terms of the ELBO and their gradients, its plate-local latent sites and
// the guide parameters indexed by the plate. Every rank holds the global
// latent sites' guide, drawn from the same random stream, and applies the
// same update, so the global parameters stay identical on every rank.
// Evaluations after the fit (draws, summaries, evidence) see this rank's rows
// only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "vireo/vireo.hpp"

namespace vireo {

// The collective operations a data-parallel fit needs. Every rank calls each
// operation in the same order (as MPI's collectives). vireo/mpi.hpp
// implements it over an MPI communicator; a host may implement it over
// another transport.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place: each element becomes its sum over the ranks.
  virtual void sum(double* values, std::size_t n) = 0;
  // Every rank's n words, rank after rank, into out (n × size() words).
  virtual void gather_all(const std::uint64_t* mine, std::size_t n, std::uint64_t* out) = 0;
  // Rank `root`'s text, on every rank.
  virtual void broadcast(std::string& text, int root) = 0;
};

// Runs `body` on this rank; when it throws a vireo::Error on any rank, every
// rank throws the first failed rank's error, naming that rank. Collective:
// what a host checks before a fit (its outputs' folders, its options) so that
// no rank waits for one that stopped.
void agree(Communicator& comm, const std::function<void()>& body);

// The one-rank group of a process on its own: a fit with it is the plain fit.
std::shared_ptr<Communicator> single_process();

// Whether this build of Vireo includes vireo/mpi.hpp's communicator (MPI was
// found when it was built).
bool built_with_mpi();

struct ShardOptions {
  // The plate whose rows are split over the ranks; empty: the outermost plate
  // of the model whose size is a data item that is the leading dimension of
  // other data items (`plate data(N)` with `X: real[N, D]`).
  std::string plate;
};

// This rank's share of the data, for a fit over `comm`. Collective: every
// rank of comm calls it with the same model. When `path` holds "{rank}", each
// rank reads its own file (the rank's number in place of "{rank}"), holding
// its rows of the plate's data items, the plate's size item as its number of
// rows, and every other item as on every other rank; otherwise every rank
// reads the one file and keeps its rows (rows split as evenly as they go,
// rank 0 first). The plate's size is the total over the ranks. A rank whose
// file fails to load, shards that disagree on the items outside the plate,
// and a shard without rows make every rank throw the same vireo::Error,
// naming the rank. The Data remembers comm: a Fit made with it is
// data-parallel.
Data load_shard(const Model& model, const std::string& path, std::shared_ptr<Communicator> comm,
                const ShardOptions& options = {});

// The same from arrays the host holds (Data::from_arrays): this rank's rows
// of the plate's items, the plate's size item as their number, and the items
// every rank shares. Collective, as load_shard with a file per rank.
Data shard_from_arrays(const Model& model, const std::map<std::string, Array>& arrays,
                       std::shared_ptr<Communicator> comm, const ShardOptions& options = {});

// What a data-parallel fit's data hold: which plate, this rank's rows
// [first, first + rows) of total. Empty (plate "") for data not sharded.
struct ShardInfo {
  std::string plate;
  int rank = 0;
  int ranks = 1;
  std::int64_t first = 0;
  std::int64_t rows = 0;
  std::int64_t total = 0;
};
ShardInfo shard_info(const Data& data);

}  // namespace vireo
