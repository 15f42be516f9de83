# lab_milestone(): the one place that turns a checkpoints/NN-name/ folder into tests.
#
#   lab_milestone(NN-name LABEL mN
#                 TESTS       test_a.cpp ...        # doctest sources in this folder
#                 [DEPENDS    NN-name ...]          # earlier milestones whose headers it includes
#                 [PLAIN_TESTS test_c.cpp ...]      # doctest sources built WITHOUT sanitizers
#                 [TRACK_SOURCES file.cpp ...]      # .cpp files of the track folder to compile
#                 [TIMEOUT    seconds])             # per test, default 30
#
# It creates
#   lab_track_mN     the student's (or solution's) code: include dir ${LAB_TRACK_DIR}/NN-name,
#                    plus the .cpp files named in TRACK_SOURCES, plus the dependencies' tracks;
#   mN_checkpoints   one doctest executable, warnings + sanitizers on;
#   mN_plain         with PLAIN_TESTS: a second one without sanitizers (timing-sensitive
#                    experiments that TSan would distort), same naming and labels;
#   one CTest test per doctest TEST_CASE, named "mN/<test case>", labelled mN, with a timeout,
# so that a crash, hang or sanitizer report fails exactly one test.
include_guard(GLOBAL)

add_library(lab_common INTERFACE)
target_include_directories(lab_common INTERFACE "${CMAKE_CURRENT_LIST_DIR}")

# The doctest main is compiled once per build tree and shared by every milestone.
add_library(lab_doctest_main OBJECT "${CMAKE_CURRENT_LIST_DIR}/main.cpp")
target_link_libraries(lab_doctest_main PUBLIC doctest::doctest lab_common lab_warnings lab_sanitizers)
add_library(lab_doctest_main_plain OBJECT "${CMAKE_CURRENT_LIST_DIR}/main.cpp")
target_link_libraries(lab_doctest_main_plain PUBLIC doctest::doctest lab_common lab_warnings)

function(lab_milestone slug)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "LABEL;TIMEOUT" "TESTS;PLAIN_TESTS;DEPENDS;TRACK_SOURCES")
  if(NOT ARG_LABEL OR NOT ARG_TESTS)
    message(FATAL_ERROR "lab_milestone(${slug}): LABEL and TESTS are required")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 30)
  endif()
  set(track "${LAB_TRACK_DIR}/${slug}")
  if(NOT IS_DIRECTORY "${track}")
    message(WARNING "lab: ${track} does not exist; milestone ${ARG_LABEL} is not built")
    return()
  endif()

  set(lib lab_track_${ARG_LABEL})
  if(ARG_TRACK_SOURCES)
    list(TRANSFORM ARG_TRACK_SOURCES PREPEND "${track}/")
    add_library(${lib} STATIC ${ARG_TRACK_SOURCES})
    target_include_directories(${lib} PUBLIC "${track}")
    target_link_libraries(${lib} PUBLIC lab_common Threads::Threads PRIVATE lab_warnings lab_sanitizers)
    set(scope PUBLIC)
  else()
    add_library(${lib} INTERFACE)
    target_include_directories(${lib} INTERFACE "${track}")
    target_link_libraries(${lib} INTERFACE lab_common Threads::Threads)
    set(scope INTERFACE)
  endif()
  foreach(dep IN LISTS ARG_DEPENDS)
    string(REGEX MATCH "^0*([0-9]+)" _ "${dep}")
    set(dep_lib lab_track_m${CMAKE_MATCH_1})
    if(NOT TARGET ${dep_lib})
      message(WARNING "lab: ${slug} depends on ${dep}, which is not built")
    else()
      target_link_libraries(${lib} ${scope} ${dep_lib})
    endif()
  endforeach()

  set(exe ${ARG_LABEL}_checkpoints)
  add_executable(${exe} ${ARG_TESTS})
  target_link_libraries(${exe} PRIVATE lab_doctest_main ${lib} doctest::doctest lab_warnings lab_sanitizers)
  doctest_discover_tests(${exe}
    TEST_PREFIX "${ARG_LABEL}/"
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})

  if(ARG_PLAIN_TESTS)
    # The track library carries no sanitizer flags of its own (they are on the executables),
    # so the same headers compile here without instrumentation.
    set(plain ${ARG_LABEL}_plain)
    add_executable(${plain} ${ARG_PLAIN_TESTS})
    target_link_libraries(${plain} PRIVATE lab_doctest_main_plain ${lib} doctest::doctest lab_warnings)
    if(ARG_TRACK_SOURCES)
      message(FATAL_ERROR "lab_milestone(${slug}): PLAIN_TESTS with TRACK_SOURCES is not supported")
    endif()
    doctest_discover_tests(${plain}
      TEST_PREFIX "${ARG_LABEL}/"
      PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
  endif()
endfunction()
