# cove_net: the libev connection framework (listeners, connections, TLS,
# worker processes). No protocol knowledge; daemons link it via `cove`.
add_library(cove_net STATIC
  ${CMAKE_CURRENT_LIST_DIR}/listen.c
  ${CMAKE_CURRENT_LIST_DIR}/tls.c
  ${CMAKE_CURRENT_LIST_DIR}/conn.c
  ${CMAKE_CURRENT_LIST_DIR}/conn-io.c
  ${CMAKE_CURRENT_LIST_DIR}/worker.c
  ${CMAKE_CURRENT_LIST_DIR}/privdrop.c)
target_include_directories(cove_net PUBLIC ${EV_INCLUDE_DIR})
target_link_libraries(cove_net PUBLIC cove_base ${EV_LIBRARY} OpenSSL::SSL)
list(APPEND COVE_CORE_MODULES cove_net)
