# `mpirun -np 2 vireo run` (issue 19): rank 0 alone prints the summary and
# writes the outputs; a rank that fails stops both, naming itself and the
# site, and nothing is written.
#   cmake -DMPIRUN="mpirun --oversubscribe" -DVIREO=path/to/vireo -DSOURCE=… -DWORK=… -P cli_mpi.cmake
separate_arguments(mpirun UNIX_COMMAND "${MPIRUN}")
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(model ${SOURCE}/examples/eight_schools.vireo)
set(data ${SOURCE}/examples/eight_schools.json)
execute_process(COMMAND ${mpirun} -np 2 ${VIREO} run ${model} --data ${data} --steps 300 --num-draws 50
                        --summary ${WORK}/s.json --draws ${WORK}/d.csv
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "the 2-rank run failed (${code}):\n${out}\n${err}")
endif()
if(NOT EXISTS ${WORK}/s.json OR NOT EXISTS ${WORK}/d.csv)
  message(FATAL_ERROR "rank 0 did not write the outputs:\n${err}")
endif()
string(REGEX MATCHALL "\nmu " mu_lines "\n${out}")
list(LENGTH mu_lines n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "the summary was printed ${n} times, not once:\n${out}")
endif()
if(NOT err MATCHES "data-parallel over 2 ranks: plate 'schools' of 8 rows split")
  message(FATAL_ERROR "no data-parallel header:\n${err}")
endif()
# Without --threads the two ranks share this machine's cores.
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
math(EXPR shared "${cores} / 2")
if(shared LESS 1)
  set(shared 1)
endif()
if(NOT err MATCHES "rows 0-3, ${shared} threads? a rank\n")
  message(FATAL_ERROR "2 ranks on ${cores} cores should take ${shared} thread(s) each:\n${err}")
endif()
execute_process(COMMAND ${mpirun} -np 2 ${VIREO} run ${model} --data ${data} --steps 5 --threads 3
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0 OR NOT err MATCHES "rows 0-3, 3 threads a rank\n")
  message(FATAL_ERROR "--threads 3 under mpirun is not taken as given (${code}):\n${err}")
endif()

# The last school's row indexes past loc: rank 1 fails at the site.
file(WRITE ${WORK}/idx.vireo "data {\n  N: int\n  K: int\n  g: int[N]\n  y: real[N]\n}\nmodel {\n  loc: real[K] ~ Normal(0, 10)\n  plate data(N) {\n    observe y ~ Normal(loc[g], 1)\n  }\n}\n")
file(WRITE ${WORK}/idx.json "{\"N\": 6, \"K\": 2, \"g\": [0, 1, 0, 1, 0, 7], \"y\": [1, 2, 3, 4, 5, 6]}")
execute_process(COMMAND ${mpirun} -np 2 ${VIREO} run ${WORK}/idx.vireo --data ${WORK}/idx.json --steps 10
                        --summary ${WORK}/bad.json
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(code EQUAL 0 OR EXISTS ${WORK}/bad.json)
  message(FATAL_ERROR "a failing rank did not stop the run, or the summary was written (${code}):\n${err}")
endif()
if(NOT err MATCHES "rank 1 of 2 failed in this step; every rank stops:\n[^\n]*idx.vireo:10:28: error: index 7 is out of range")
  message(FATAL_ERROR "the message does not name rank 1 and the site:\n${err}")
endif()
