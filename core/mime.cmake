# cove_mime: the MIME parser (part tree, envelope, cached structure blob) and
# its decoders. iconv comes from glibc, so nothing extra is linked.
add_library(cove_mime STATIC
  ${CMAKE_CURRENT_LIST_DIR}/mime.c
  ${CMAKE_CURRENT_LIST_DIR}/mime-header.c
  ${CMAKE_CURRENT_LIST_DIR}/mime-params.c
  ${CMAKE_CURRENT_LIST_DIR}/mime-address.c
  ${CMAKE_CURRENT_LIST_DIR}/mime-encoding.c
  ${CMAKE_CURRENT_LIST_DIR}/mime-decoder.c
  ${CMAKE_CURRENT_LIST_DIR}/mime-serialize.c)
target_link_libraries(cove_mime PUBLIC cove_base)
list(APPEND COVE_CORE_MODULES cove_mime)
