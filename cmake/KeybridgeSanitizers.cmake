# INTERFACE target carrying sanitizer flags (KEYBRIDGE_SANITIZE=address;undefined | thread).
add_library(keybridge_sanitizers INTERFACE)
if(KEYBRIDGE_SANITIZE)
  list(JOIN KEYBRIDGE_SANITIZE "," _kb_san)
  target_compile_options(keybridge_sanitizers INTERFACE -fsanitize=${_kb_san}
    -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(keybridge_sanitizers INTERFACE -fsanitize=${_kb_san})
  if("thread" IN_LIST KEYBRIDGE_SANITIZE)
    # g++ 12 warns that Asio's atomic_thread_fence is not instrumented; it is not our code.
    target_compile_options(keybridge_sanitizers INTERFACE -Wno-error=tsan -Wno-tsan)
  endif()
endif()
