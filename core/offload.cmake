# cove_offload: a per-loop pool of threads for CPU-heavy jobs (password
# hashing) whose results are answered on the libev loop.
find_package(Threads REQUIRED)
add_library(cove_offload STATIC ${CMAKE_CURRENT_LIST_DIR}/offload.c)
target_include_directories(cove_offload PUBLIC ${EV_INCLUDE_DIR})
target_link_libraries(cove_offload PUBLIC cove_base ${EV_LIBRARY} Threads::Threads)
list(APPEND COVE_CORE_MODULES cove_offload)
