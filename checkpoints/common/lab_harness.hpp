// lab_harness.hpp: the one hook between the checkpoints' helpers and the test main.
//
// main.cpp (the trusted test main) writes the harness's record of a graded run; a test that
// ends as "not run" (lab_test.hpp's end_not_run: inconclusive or skipped, exit status 77)
// must leave that record too, so that the grader believes the status 77 only when the
// harness said it. main.cpp sets this pointer before any other code runs; it stays null in
// an executable without that main (and in a run that is not graded).
#pragma once

namespace lab::harness {

// Writes the record "not run, <kind>" (kind: "inconclusive" or "skipped"); null if no record.
inline void (*record_not_run)(const char* kind) = nullptr;

}  // namespace lab::harness
