// Running the built `vireo` command from tests: exit status, stdout, stderr.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace vireo_test {

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs `vireo ARGS`, capturing stdout and stderr through temporary files.
inline Run vireo(const std::string& args) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path();
  std::string tag = std::to_string(::getpid()) + "_" + std::to_string(counter++);
  fs::path out = dir / ("vireo_cli_out_" + tag), err = dir / ("vireo_cli_err_" + tag);
  std::string cmd = std::string("'") + VIREO_EXE + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  int raw = std::system(cmd.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  r.out = slurp(out);
  r.err = slurp(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

inline fs::path write_temp(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / (std::to_string(::getpid()) + "_" + name);
  std::ofstream(p) << text;
  return p;
}

inline bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

inline const std::string examples = VIREO_SOURCE_DIR "/examples/";

}  // namespace vireo_test
