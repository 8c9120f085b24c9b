# INTERFACE target carrying the project's warning flags; linked PRIVATE by every target.
add_library(keybridge_warnings INTERFACE)
target_compile_options(keybridge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough -Wextra-semi -Wformat=2)
# -Wnull-dereference and -Wmaybe-uninitialized only work with the optimiser, where GCC 12 reports
# them inside Asio, CLI11 and std::variant (third-party code we cannot fix), so an optimised
# build for administrators keeps its output readable.
target_compile_options(keybridge_warnings INTERFACE
  $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-Wno-null-dereference -Wno-maybe-uninitialized>)
if(KEYBRIDGE_WARNINGS_AS_ERRORS)
  # GCC 12's -Wmaybe-uninitialized misfires on std::variant copies once inlining is on; it stays
  # a warning, but must not fail a build.
  target_compile_options(keybridge_warnings INTERFACE -Werror -Wno-error=maybe-uninitialized)
endif()
target_compile_definitions(keybridge_warnings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
