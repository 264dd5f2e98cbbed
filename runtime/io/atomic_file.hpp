// The one writer of Vireo's output files: a reader never sees half a file,
// and a group of files written together (a run's draws, summary and saved
// parameters) is replaced all or none. Every file goes to a temporary name in
// its target's folder and is flushed; only when all are on disk are they
// renamed over their targets (rename is atomic on POSIX), each target's
// previous file kept under a hard link until the last rename has succeeded,
// so that a failed rename can put back the files already replaced.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vireo::io {

// Replaces every (path, contents) pair or none. Throws std::runtime_error
// naming the path that failed and the system's reason; every target then
// holds what it held before (or is absent if it was), and no temporary is left.
void write_files_atomically(const std::vector<std::pair<std::filesystem::path, std::string_view>>& files);

// One file, the same way.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Reads a whole file; throws std::runtime_error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);

}  // namespace vireo::io
