# cove_conf: the INI configuration loader (conf.c, conf-value.c). The default plugin
# directory is compiled in from the install layout chosen at configure time.
add_library(cove_conf STATIC ${CMAKE_CURRENT_LIST_DIR}/conf.c
                      ${CMAKE_CURRENT_LIST_DIR}/conf-value.c)
target_link_libraries(cove_conf PUBLIC cove_base)
target_compile_definitions(cove_conf PRIVATE
  COVE_PLUGIN_INSTALL_DIR="${COVE_PLUGIN_INSTALL_DIR}")
list(APPEND COVE_CORE_MODULES cove_conf)
