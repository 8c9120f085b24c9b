// Placeholder; tests follow.
#include <gtest/gtest.h>
