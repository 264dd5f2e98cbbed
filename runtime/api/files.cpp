// vireo::write_files_atomically: every output of a run or none. Each file is
// written to a temporary name in its target's folder and flushed; only when
// all are on disk are they renamed over their targets (rename is atomic on
// POSIX), so a failure never leaves a half-written file or a partial set.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runtime/api/errors.hpp"

namespace vireo {
namespace {

// Writes `contents` to a fresh temporary beside `target`; returns its path.
std::string write_temporary(const std::string& target, const std::string& contents) {
  std::filesystem::path p(target);
  std::string tmpl = (p.has_parent_path() ? p.parent_path().string() + "/" : std::string()) + "." +
                     p.filename().string() + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) throw std::runtime_error(std::strerror(errno));
  std::string path(name.data());
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw std::runtime_error(std::strerror(err));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::fchmod(fd, 0644) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw std::runtime_error(std::strerror(err));
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    throw std::runtime_error(std::strerror(err));
  }
  return path;
}

}  // namespace

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  auto discard = [&] {
    for (const auto& t : temps) ::unlink(t.c_str());
  };
  for (const auto& [path, contents] : files) {
    try {
      temps.push_back(write_temporary(path, contents));
    } catch (const std::exception& e) {
      discard();
      api::fail(Error::Kind::Io, "cannot write '" + path + "': " + e.what(),
                "check that the folder exists and is writable; nothing was written");
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (::rename(temps[i].c_str(), files[i].first.c_str()) != 0) {
      int err = errno;
      for (std::size_t k = i; k < temps.size(); ++k) ::unlink(temps[k].c_str());
      api::fail(Error::Kind::Io, "cannot write '" + files[i].first + "': " + std::strerror(err));
    }
}

}  // namespace vireo
