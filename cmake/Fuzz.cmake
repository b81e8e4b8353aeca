# With TW_FUZZ the library is built with coverage instrumentation; only the
# fuzz executables link libFuzzer's main (fuzz/CMakeLists.txt).
if(TW_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "TW_FUZZ needs clang (use the fuzz preset)")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
    add_compile_definitions(TW_FUZZING=1)
endif()
