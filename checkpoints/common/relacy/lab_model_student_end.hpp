// See lab_model_student_begin.hpp.
#undef atomic_flag
#undef mutex
#undef shared_mutex
#undef recursive_mutex
#undef timed_mutex
#undef lock_guard
#undef unique_lock
#undef scoped_lock
#undef shared_lock
#undef thread
#undef jthread
#undef this_thread
#undef thread_local
