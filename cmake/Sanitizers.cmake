# TW_SANITIZE=address,undefined instruments everything (library, binary, tests).
if(TW_SANITIZE)
    add_compile_options(-fsanitize=${TW_SANITIZE} -fno-sanitize-recover=all
        -fno-omit-frame-pointer -g -O1)
    add_link_options(-fsanitize=${TW_SANITIZE})
    add_compile_definitions(TW_SANITIZED=1)
endif()
