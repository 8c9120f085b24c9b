# INTERFACE target carrying sanitizer flags (KEYBRIDGE_SANITIZE=address;undefined | thread).
add_library(keybridge_sanitizers INTERFACE)
if(KEYBRIDGE_SANITIZE)
  list(JOIN KEYBRIDGE_SANITIZE "," _kb_san)
  target_compile_options(keybridge_sanitizers INTERFACE -fsanitize=${_kb_san}
    -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(keybridge_sanitizers INTERFACE -fsanitize=${_kb_san})
endif()
