// Compiles tests/support/pch.hpp once for every test (tests/CMakeLists.txt).
