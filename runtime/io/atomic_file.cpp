#include "runtime/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vireo::io {

namespace {
std::runtime_error failure(const std::filesystem::path& path, const char* what) {
  return std::runtime_error("cannot " + std::string(what) + " '" + path.string() + "': " + std::strerror(errno));
}
}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw failure(path, "create a temporary file beside");
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = failure(path, "write");
      ::close(fd);
      ::unlink(tmpl.c_str());
      throw err;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    auto err = failure(path, "flush");
    ::unlink(tmpl.c_str());
    throw err;
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    auto err = failure(path, "replace");
    ::unlink(tmpl.c_str());
    throw err;
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path.string() + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vireo::io
