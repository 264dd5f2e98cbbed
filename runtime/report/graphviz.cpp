#include "runtime/report/graphviz.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace vireo::report {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scratch folder of our own, removed on scope exit.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vireo-dot-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data())) dir = buf.data();
  }
  ~Scratch() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

Svg dot_to_svg(const std::string& dot_text, const std::string& dot_program) {
  Svg out;
  Scratch scratch;
  if (scratch.dir.empty()) {
    out.error = std::string("no scratch folder for Graphviz: ") + std::strerror(errno);
    return out;
  }
  const auto in = scratch.dir / "graph.dot", svg = scratch.dir / "graph.svg", err = scratch.dir / "stderr";
  std::ofstream(in, std::ios::binary) << dot_text;
  // dot -Tsvg IN -o OUT, its stderr to a file; no shell, so no quoting.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = {dot_program, "-Tsvg", in.string(), "-o", svg.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, dot_program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    out.error = "Graphviz's `" + dot_program + "` could not be run (" + std::strerror(rc) +
                "): install Graphviz (Debian: graphviz) to see the plate diagram here; the graph in DOT is below";
    return out;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out.error = "Graphviz's `" + dot_program + "` failed";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      out.error += ": not found; install Graphviz (Debian: graphviz) to see the plate diagram here";
    else if (std::string e = slurp(err); !e.empty())
      out.error += ": " + e;
    return out;
  }
  std::string text = slurp(svg);
  const std::size_t start = text.find("<svg");
  if (start == std::string::npos) {
    out.error = "Graphviz's `" + dot_program + "` wrote no SVG";
    return out;
  }
  out.svg = text.substr(start);
  return out;
}

}  // namespace vireo::report
