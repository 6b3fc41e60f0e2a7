# Sanitizer builds: SIO_SANITIZE=address gives ASan+UBSan, =thread gives TSan.
if(SIO_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(SIO_SANITIZE_ADDRESS=1)
elseif(SIO_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  add_compile_definitions(SIO_SANITIZE_THREAD=1)
elseif(NOT SIO_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SIO_SANITIZE must be '', 'address' or 'thread'")
endif()
