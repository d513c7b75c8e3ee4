# Authentication: strict base64, password hashes and SCRAM secrets
# (cove_password, used by covectl and the front-ends), and the
# protocol-agnostic SASL server (cove_sasl, used by the front-ends).
add_library(cove_password STATIC
  ${CMAKE_CURRENT_LIST_DIR}/base64.c
  ${CMAKE_CURRENT_LIST_DIR}/password.c)
target_link_libraries(cove_password PUBLIC cove_base OpenSSL::Crypto ${CRYPT_LIBRARY})
list(APPEND COVE_CORE_MODULES cove_password)

add_library(cove_sasl STATIC ${CMAKE_CURRENT_LIST_DIR}/sasl.c)
target_link_libraries(cove_sasl PUBLIC cove_password cove_base OpenSSL::Crypto)
list(APPEND COVE_CORE_MODULES cove_sasl)
