# cove_daemon: the start-up shared by cove-pop3d, cove-imapd and cove-lmtpd
# (command line, config, log, listeners, worker settings). No protocol or
# storage knowledge.
add_library(cove_daemon STATIC ${CMAKE_CURRENT_LIST_DIR}/daemon.c)
target_link_libraries(cove_daemon PUBLIC cove_conf cove_net cove_base)
list(APPEND COVE_CORE_MODULES cove_daemon)
