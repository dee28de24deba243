# Helpers shared by every library, service and test in the tree.

# Adds every immediate subdirectory of DIR that has a CMakeLists.txt, in sorted order.
function(shieldx_add_subdirectories dir)
  file(GLOB children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}/${dir} ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*)
  list(SORT children)
  foreach(child ${children})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/${child}/CMakeLists.txt)
      add_subdirectory(${dir}/${child})
    endif()
  endforeach()
endfunction()

# shieldx_library(NAME [SRCS a.cc ...] [DEPS x y] [PRIVATE_DEPS z])
# A static library `shieldx_<NAME>` with alias `shieldx::<NAME>`. With no SRCS, every *.cc in
# the current directory that is not *_test.cc, *_fuzz.cc or *_main.cc.
# Headers are included as "libs/<name>/foo.h" from the repository root.
function(shieldx_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_SRCS)
    file(GLOB ARG_SRCS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
    list(FILTER ARG_SRCS EXCLUDE REGEX "_(test|fuzz|main|bench)\\.cc$")
  endif()
  add_library(shieldx_${name} STATIC ${ARG_SRCS})
  add_library(shieldx::${name} ALIAS shieldx_${name})
  target_include_directories(shieldx_${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/proto_gen)
  target_link_libraries(shieldx_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# shieldx_tests(NAME [SRCS ...] DEPS ... [LABELS l] [TIMEOUT s])
# One gtest binary `NAME` built from SRCS (default: every *_test.cc here), registered with
# CTest per test case. LABELS: `unit` (default) or `integration` (starts real servers).
function(shieldx_tests name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_SRCS)
    file(GLOB ARG_SRCS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  endif()
  if(NOT ARG_SRCS)
    return()
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SRCS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/proto_gen)
  target_compile_definitions(${name} PRIVATE SHIELDX_SOURCE_ROOT="${PROJECT_SOURCE_DIR}"
                                             SHIELDX_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
                       DISCOVERY_TIMEOUT 60)
endfunction()
