# keybridge_embed(TARGET <lib> NAMESPACE <ns> FUNCTION <fn> FILES <f>...) generates a .cc that
# returns the files' contents as std::string_view pairs {relative name, bytes}, so the binary
# never looks files up at run time (migrations, OpenAPI document, UI assets).
function(keybridge_embed)
  cmake_parse_arguments(E "" "TARGET;NAMESPACE;FUNCTION;BASE" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_FUNCTION}_embedded.cc)
  set(abs_files "")
  foreach(f IN LISTS E_FILES)
    list(APPEND abs_files ${E_BASE}/${f})
  endforeach()
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${E_NAMESPACE} -DFN=${E_FUNCTION}
            -DBASE=${E_BASE} "-DFILES=${E_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    DEPENDS ${abs_files} ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    COMMENT "Embedding ${E_FUNCTION}" VERBATIM)
  target_sources(${E_TARGET} PRIVATE ${out})
endfunction()
