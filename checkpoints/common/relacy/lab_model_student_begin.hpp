// Included just before the student's headers in a model test file (see lab_model.hpp): the
// constructs the model cannot run are renamed to stand-ins that report "not modelled" at
// their file and line, so the model fails instead of silently checking something else.
// lab_model_student_end.hpp undoes the renaming. (No include guard: used in pairs.)
#include "lab_model_not_modelled.hpp"

#define atomic_flag lab_model_atomic_flag
#define mutex lab_model_mutex
#define shared_mutex lab_model_mutex
#define recursive_mutex lab_model_mutex
#define timed_mutex lab_model_mutex
#define lock_guard lab_model_lock
#define unique_lock lab_model_lock
#define scoped_lock lab_model_lock
#define shared_lock lab_model_lock
#define thread lab_model_thread
#define jthread lab_model_thread
#define this_thread lab_model_this_thread
// Relacy runs every modelled thread as a fiber of ONE OS thread: a thread_local would be one
// object for all of them. This does not compile, and the error names the line.
#define thread_local LAB_NOT_MODELLED_thread_local_relacy_runs_threads_as_fibers_of_one_OS_thread
