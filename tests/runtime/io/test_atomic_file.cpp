// The one output writer (runtime/io/atomic_file): a group of files is
// replaced all or none. A rename that fails part-way — here the second of
// three targets is a non-empty folder, which stops root too — leaves every
// target as it was, no temporary behind, and an error naming the file.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>
#include <sys/stat.h>

#include "runtime/io/atomic_file.hpp"

namespace fs = std::filesystem;
using vireo::io::read_file;
using vireo::io::write_files_atomically;

namespace {

// A fresh, empty folder per test case.
fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("vireo_io_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// Names in `dir` other than the expected ones (temporaries, kept previous versions).
std::vector<std::string> strays(const fs::path& dir, const std::set<std::string>& expected) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (!expected.count(e.path().filename().string())) out.push_back(e.path().filename().string());
  return out;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(all_three_replaced_and_nothing_left_beside) {
  fs::path d = fresh_dir("ok");
  put(d / "a.csv", "old a");
  write_files_atomically({{d / "a.csv", "new a"}, {d / "b.json", "new b"}, {d / "c.json", "new c"}});
  BOOST_TEST(read_file(d / "a.csv") == "new a");
  BOOST_TEST(read_file(d / "b.json") == "new b");
  BOOST_TEST(read_file(d / "c.json") == "new c");
  BOOST_TEST(strays(d, {"a.csv", "b.json", "c.json"}).empty());
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(failed_second_rename_puts_back_the_first) {
  fs::path d = fresh_dir("rollback");
  put(d / "a.csv", "old a");
  fs::create_directories(d / "b.json" / "inside");  // rename(2) over a non-empty folder fails, even for root
  const std::string msg = message_of(
      [&] { write_files_atomically({{d / "a.csv", "new a"}, {d / "b.json", "new b"}, {d / "c.json", "new c"}}); });
  const std::string quoted = std::string("'").append((d / "b.json").string()).append("'");
  BOOST_TEST(msg.find(quoted) != std::string::npos, msg);
  BOOST_TEST(read_file(d / "a.csv") == "old a");  // the previous content, not the new one
  BOOST_TEST(fs::is_directory(d / "b.json" / "inside"));
  BOOST_TEST(!fs::exists(d / "c.json"));
  BOOST_TEST(strays(d, {"a.csv", "b.json"}).empty());
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(failed_second_rename_removes_a_first_file_that_was_absent) {
  fs::path d = fresh_dir("absent");
  fs::create_directories(d / "b.json" / "inside");
  const std::string msg = message_of(
      [&] { write_files_atomically({{d / "a.csv", "new a"}, {d / "b.json", "new b"}, {d / "c.json", "new c"}}); });
  BOOST_TEST(msg.find((d / "b.json").string()) != std::string::npos, msg);
  BOOST_TEST(!fs::exists(d / "a.csv"));
  BOOST_TEST(!fs::exists(d / "c.json"));
  BOOST_TEST(strays(d, {"b.json"}).empty());
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(a_missing_folder_fails_before_anything_is_replaced) {
  fs::path d = fresh_dir("nofolder");
  put(d / "a.csv", "old a");
  const std::string msg = message_of([&] {
    write_files_atomically({{d / "a.csv", "new a"}, {d / "no" / "b.json", "new b"}, {d / "c.json", "new c"}});
  });
  BOOST_TEST(msg.find((d / "no" / "b.json").string()) != std::string::npos, msg);
  BOOST_TEST(read_file(d / "a.csv") == "old a");
  BOOST_TEST(strays(d, {"a.csv"}).empty());
  fs::remove_all(d);
}

// `--draws /dev/stdout`: a target that is a stream (here a FIFO, reached
// through a symlink as /dev/stdout is) is written in place, after the files;
// renaming over it would have put a file where the device was.
BOOST_AUTO_TEST_CASE(a_stream_target_is_written_in_place) {
  fs::path d = fresh_dir("stream");
  const fs::path fifo = d / "pipe", link = d / "stdout";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink(fifo, link);
  std::string got;
  std::thread reader([&] {
    std::ifstream in(fifo);
    got.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  write_files_atomically({{d / "a.csv", "new a"}, {link, "to the stream"}});
  reader.join();
  BOOST_TEST(got == "to the stream");
  BOOST_TEST(fs::is_symlink(link));
  BOOST_TEST(fs::is_fifo(fifo));
  BOOST_TEST(read_file(d / "a.csv") == "new a");
  BOOST_TEST(strays(d, {"a.csv", "pipe", "stdout"}).empty());
  fs::remove_all(d);
}
