// The one writer of output files (atomic_file.hpp). A group is written in
// three phases, each undone completely when it fails:
//   1. every file to a fresh temporary beside its target, flushed to disk;
//   2. every target's previous file (if any) hard-linked to a second name,
//      so that it survives being renamed over;
//   3. the temporaries renamed over their targets, in order. When rename i
//      fails, targets 0..i-1 get their previous files back (or are removed
//      when they had none), and the temporaries and links are removed.
#include "runtime/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace vireo::io {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what, int err) {
  throw std::runtime_error("cannot " + what + " '" + path.string() + "': " + std::strerror(err));
}

fs::path folder_of(const fs::path& target) { return target.has_parent_path() ? target.parent_path() : fs::path("."); }

// Creates a fresh file named ".NAME.TAG-XXXXXX" beside `target`; returns its
// descriptor (−1 with errno set on failure) and its name.
int create_beside(const fs::path& target, const char* tag, std::string& name) {
  std::string leaf = ".";
  leaf.append(target.filename().string()).append(".").append(tag).append("-XXXXXX");
  name = (folder_of(target) / leaf).string();
  return ::mkstemp(name.data());
}

// Writes all of `contents` to `fd`; false (errno set) on failure.
bool write_all(int fd, std::string_view contents) {
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

// Phase 1: `contents` in a fresh temporary beside `target`, on disk; its name.
std::string write_temporary(const fs::path& target, std::string_view contents) {
  std::string name;
  int fd = create_beside(target, "tmp", name);
  if (fd < 0) fail(target, "create a temporary file beside", errno);
  auto abandon = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(name.c_str());
    fail(target, what, err);
  };
  if (!write_all(fd, contents)) abandon("write");
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) abandon("flush");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(name.c_str());
    fail(target, "flush", err);
  }
  return name;
}

// Phase 2: a second name for the file now at `target`, or "" when there is
// none (or it is a folder, over which the rename will fail and say so).
std::string keep_previous(const fs::path& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    fail(target, "examine", errno);
  }
  if (S_ISDIR(st.st_mode)) return {};
  std::string name;
  int fd = create_beside(target, "old", name);
  if (fd < 0) fail(target, "keep the previous version of", errno);
  ::close(fd);
  ::unlink(name.c_str());  // mkstemp reserved a unique name; link() needs it free
  if (::link(target.c_str(), name.c_str()) != 0) fail(target, "keep the previous version of", errno);
  return name;
}

}  // namespace

namespace {

// A target that is not a file but a stream (a terminal, /dev/stdout, a
// pipe): it cannot be replaced, only written to.
bool is_stream(const fs::path& target) {
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) return false;  // absent (or unreadable): a file to create
  return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

void write_stream(const fs::path& target, std::string_view contents) {
  int fd = ::open(target.c_str(), O_WRONLY);
  if (fd < 0) fail(target, "open", errno);
  if (!write_all(fd, contents)) {
    int err = errno;
    ::close(fd);
    fail(target, "write", err);
  }
  ::close(fd);
}

}  // namespace

void write_files_atomically(const std::vector<std::pair<fs::path, std::string_view>>& all) {
  // Streams (`--draws /dev/stdout`) are written in place, after every file
  // has been replaced: renaming over one would put a file where the device was.
  std::vector<std::pair<fs::path, std::string_view>> files, streams;
  for (const auto& f : all) (is_stream(f.first) ? streams : files).push_back(f);
  if (files.empty()) {
    for (const auto& [path, contents] : streams) write_stream(path, contents);
    return;
  }
  const std::size_t n = files.size();
  std::vector<std::string> temps, previous;
  auto remove_all = [](const std::vector<std::string>& names) {
    for (const auto& name : names)
      if (!name.empty()) ::unlink(name.c_str());
  };
  try {
    for (const auto& [path, contents] : files) temps.push_back(write_temporary(path, contents));
    for (const auto& file : files) previous.push_back(keep_previous(file.first));
  } catch (...) {
    remove_all(temps);
    remove_all(previous);
    throw;
  }

  for (std::size_t i = 0; i < n; ++i) {
    if (::rename(temps[i].c_str(), files[i].first.c_str()) == 0) continue;
    std::string message = "cannot write '" + files[i].first.string() + "': " + std::strerror(errno);
    // Undo the renames already done, last first.
    std::string not_restored;
    for (std::size_t k = i; k-- > 0;) {
      const fs::path& target = files[k].first;
      if (previous[k].empty() ? ::unlink(target.c_str()) == 0 : ::rename(previous[k].c_str(), target.c_str()) == 0) {
        previous[k].clear();
      } else {
        not_restored += "; could not put back '" + target.string() + "' (" + std::strerror(errno) + ")" +
                        (previous[k].empty() ? std::string() : ", its previous content is in '" + previous[k] + "'");
        previous[k].clear();  // keep it: it is the only copy
      }
    }
    temps.erase(temps.begin(), temps.begin() + static_cast<std::ptrdiff_t>(i));
    remove_all(temps);
    remove_all(previous);
    throw std::runtime_error(message + (not_restored.empty() ? "; every file is as it was" : not_restored));
  }
  remove_all(previous);
  // The renames themselves reach the disk when each folder is flushed (best effort).
  std::set<std::string> folders;
  for (const auto& file : files) folders.insert(folder_of(file.first).string());
  for (const auto& folder : folders) {
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) continue;
    ::fsync(fd);
    ::close(fd);
  }
  for (const auto& [path, contents] : streams) write_stream(path, contents);
}

void write_file_atomically(const fs::path& path, std::string_view contents) {
  write_files_atomically({{path, contents}});
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path.string() + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vireo::io
