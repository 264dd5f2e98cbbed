// vireo::write_files_atomically: every output of a run or none, through the
// one writer in runtime/io (temporaries, then renames; a failed rename puts
// back the files already replaced).
#include "runtime/api/errors.hpp"
#include "runtime/io/atomic_file.hpp"

namespace vireo {

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::pair<std::filesystem::path, std::string_view>> group;
  group.reserve(files.size());
  for (const auto& [path, contents] : files) group.emplace_back(path, contents);
  try {
    io::write_files_atomically(group);
  } catch (const std::runtime_error& e) {
    api::fail(Error::Kind::Io, e.what(), "check that the folder exists and is writable and that the path is not a folder");
  }
}

}  // namespace vireo
