# Warning set accepted by both gcc 12 and clang 14 (style.md 2.1).
set(TW_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
    -Wmissing-prototypes -Wold-style-definition -Wvla -Wcast-qual -Wwrite-strings
    -Wimplicit-fallthrough -Wundef -Wpointer-arith)
if(TW_WERROR)
    list(APPEND TW_WARNINGS -Werror)
endif()

# tw_target_defaults(<target>): warnings, hardening and sanitizer flags.
function(tw_target_defaults target)
    target_compile_options(${target} PRIVATE ${TW_WARNINGS})
    target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
    if(TW_HARDEN)
        target_compile_options(${target} PRIVATE -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
            -fstack-clash-protection -fcf-protection)
    endif()
endfunction()

if(TW_HARDEN)
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
    add_link_options(-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack)
endif()
