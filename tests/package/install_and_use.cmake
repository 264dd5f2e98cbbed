# Installs the build tree into a fresh prefix, then builds and runs the
# embedding example (examples/embed/main.cpp) against it twice: as a CMake
# project with find_package(vireo), and with a plain compiler line from
# pkg-config. Run by CTest:
#   cmake -DBUILD=<build dir> -DSOURCE=<source dir> -DWORK=<scratch dir> -DCXX=<compiler> -P install_and_use.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()
function(expect_embed_output text what)
  foreach(needle "mu: mean" "tau: mean" "draws of 18 columns" "bad data refused")
    string(FIND "${text}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${what}: the host's output lacks '${needle}':\n${text}")
    endif()
  endforeach()
endfunction()

file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
# Only the public headers are installed.
file(GLOB_RECURSE headers RELATIVE ${prefix}/include ${prefix}/include/*)
foreach(h IN LISTS headers)
  if(NOT h MATCHES "^vireo/[a-z_]+\\.(hpp|h)$")
    message(FATAL_ERROR "an internal header was installed: ${h}")
  endif()
endforeach()

# The C API: its header and the shared library libvireo_c.so.
if(NOT EXISTS ${prefix}/include/vireo/vireo.h)
  message(FATAL_ERROR "vireo/vireo.h (the C API) was not installed")
endif()
file(GLOB_RECURSE c_libs ${prefix}/lib*/libvireo_c.so)
if(NOT c_libs)
  message(FATAL_ERROR "libvireo_c.so (the C API) was not installed")
endif()

# 1. find_package(vireo)
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/host -B ${WORK}/host -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${prefix} -DEMBED_SOURCE=${SOURCE}/examples/embed/main.cpp -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build ${WORK}/host)
run(${WORK}/host/host ${SOURCE}/examples/eight_schools.vireo)
expect_embed_output("${last_output}" "find_package(vireo)")

# 2. pkg-config
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
file(GLOB pc_dirs ${prefix}/lib*/pkgconfig)
list(JOIN pc_dirs ":" pc_path)
set(ENV{PKG_CONFIG_PATH} "${pc_path}")
run(${PKG_CONFIG} --cflags --libs --static vireo)
string(STRIP "${last_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} -O1 ${SOURCE}/examples/embed/main.cpp ${flags} -o ${WORK}/pc_host)
run(${WORK}/pc_host ${SOURCE}/examples/eight_schools.vireo)
expect_embed_output("${last_output}" "pkg-config")
file(REMOVE_RECURSE ${WORK})
