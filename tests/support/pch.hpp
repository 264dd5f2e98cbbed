// The tests' precompiled header (tests/CMakeLists.txt): what nearly every
// test file includes and what costs most to parse (Boost.Test alone is a
// third of a small test's compile time). Third-party and standard headers
// only: a change to Vireo's own headers does not rebuild it.
#pragma once

#include <boost/test/unit_test.hpp>

#include <Eigen/Dense>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>
