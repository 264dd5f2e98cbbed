# The two ways of using Vireo that install_and_use.cmake does not cover:
#   1. a shared libvireo (-DBUILD_SHARED_LIBS=ON), installed, and the
#      embedding example built against it with find_package(vireo) and run;
#   2. a parent project that adds Vireo with add_subdirectory and has its own
#      target named vireo_embed (parent/CMakeLists.txt): it builds the
#      library only, and its host runs.
# Both build only the library (its objects are those of the Release tree,
# so ccache answers). Run by CTest:
#   cmake -DSOURCE=<source dir> -DWORK=<scratch dir> -DCXX=<compiler> -P shared_and_subdirectory.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()
function(expect_embed_output text what)
  foreach(needle "mu: mean" "tau: mean" "bad data refused")
    string(FIND "${text}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${what}: the host's output lacks '${needle}':\n${text}")
    endif()
  endforeach()
endfunction()

file(REMOVE_RECURSE ${WORK})
set(common -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX})

# 1. Shared library, installed, found with find_package.
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/shared ${common} -DBUILD_SHARED_LIBS=ON -DVIREO_BUILD_TESTS=OFF
    -DVIREO_BUILD_TOOLS=OFF -DVIREO_BENCH=OFF)
run(${CMAKE_COMMAND} --build ${WORK}/shared --target vireo_package vireo_c)
run(${CMAKE_COMMAND} --install ${WORK}/shared --prefix ${WORK}/prefix)
file(GLOB_RECURSE shared_libs ${WORK}/prefix/lib*/libvireo.so*)
file(GLOB_RECURSE static_libs ${WORK}/prefix/lib*/libvireo.a)
if(NOT shared_libs OR static_libs)
  message(FATAL_ERROR "-DBUILD_SHARED_LIBS=ON should install libvireo.so and no libvireo.a: ${shared_libs} ${static_libs}")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/host -B ${WORK}/host ${common} -DCMAKE_PREFIX_PATH=${WORK}/prefix
    -DEMBED_SOURCE=${SOURCE}/examples/embed/main.cpp)
run(${CMAKE_COMMAND} --build ${WORK}/host)
run(${WORK}/host/host ${SOURCE}/examples/eight_schools.vireo)
expect_embed_output("${last_output}" "shared libvireo")

# 2. add_subdirectory from a parent with a target named vireo_embed.
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/parent -B ${WORK}/parent ${common} -DVIREO_SOURCE=${SOURCE}
    -DEMBED_SOURCE=${SOURCE}/examples/embed/main.cpp)
run(${CMAKE_COMMAND} --build ${WORK}/parent)
run(${WORK}/parent/vireo_embed ${SOURCE}/examples/eight_schools.vireo)
expect_embed_output("${last_output}" "add_subdirectory")
file(REMOVE_RECURSE ${WORK})
