// KEYBRIDGE_CHECK: aborts in every build when an invariant is broken (a bug, never bad input).
#pragma once

#include <cstdio>
#include <cstdlib>

#define KEYBRIDGE_CHECK(cond, msg)                                                              \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "KEYBRIDGE_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, (msg)); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)
