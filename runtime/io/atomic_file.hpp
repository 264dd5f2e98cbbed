// Writing a file so that a reader never sees half of it and a failure never
// destroys what was there: write to a temporary name in the same folder,
// flush it to disk, then rename over the target (rename is atomic on POSIX).
#pragma once
#include <filesystem>
#include <string_view>

namespace vireo::io {

// Replaces `path` with `contents` atomically. Throws std::runtime_error naming
// the path and the system's reason; on failure the old file is untouched and
// the temporary is removed.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Reads a whole file; throws std::runtime_error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);

}  // namespace vireo::io
