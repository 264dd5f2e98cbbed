// vireo::Communicator over an MPI communicator (include/vireo/mpi.hpp).
#include <mpi.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "vireo/mpi.hpp"

namespace vireo::mpi {
namespace {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int n = 0;
  MPI_Error_string(code, text, &n);
  throw std::runtime_error(std::string(what) + ": " + std::string(text, static_cast<std::size_t>(n)));
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(double* values, std::size_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
  }
  void gather_all(const std::uint64_t* mine, std::size_t n, std::uint64_t* out) override {
    check(MPI_Allgather(mine, static_cast<int>(n), MPI_UINT64_T, out, static_cast<int>(n), MPI_UINT64_T, comm_),
          "MPI_Allgather");
  }
  void broadcast(std::string& text, int root) override {
    std::uint64_t n = text.size();
    check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_), "MPI_Bcast");
    text.resize(static_cast<std::size_t>(n));
    if (n > 0) check(MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, root, comm_), "MPI_Bcast");
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

std::shared_ptr<Communicator> communicator(MPI_Comm comm) { return std::make_shared<MpiCommunicator>(comm); }

}  // namespace vireo::mpi
