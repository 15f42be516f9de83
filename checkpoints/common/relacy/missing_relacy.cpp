// The model executable when Relacy is not installed: every model test fails, saying why.
#include <doctest/doctest.h>

#include <cstdio>

// A TEST_CASE that matches any model test name would need the names; instead main.cpp fails
// a --test-case filter that matches nothing, and this message says what to install.
TEST_CASE("relacy-dev is not installed") {
  std::puts("relacy-dev is not installed: sudo apt-get install relacy-dev");
  FAIL("relacy-dev is not installed: sudo apt-get install relacy-dev");
}
