# Shared compile settings: every target links wsserve_common_cfg, nothing uses add_definitions.
add_library(wsserve_common_cfg INTERFACE)
target_compile_features(wsserve_common_cfg INTERFACE cxx_std_20)
target_compile_definitions(wsserve_common_cfg INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_CAST_TO_ASCII
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_CONTEXTLESS_CONNECT
    QT_USE_QSTRINGBUILDER
    QT_DISABLE_DEPRECATED_UP_TO=0x060400
    WSSERVE_VERSION="${PROJECT_VERSION}")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(wsserve_common_cfg INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers)
    if(WSSERVE_WERROR)
        target_compile_options(wsserve_common_cfg INTERFACE -Werror)
    endif()
elseif(MSVC)
    target_compile_options(wsserve_common_cfg INTERFACE /W4 /permissive- /Zc:__cplusplus)
    if(WSSERVE_WERROR)
        target_compile_options(wsserve_common_cfg INTERFACE /WX)
    endif()
endif()

# Sanitizers: WSSERVE_SANITIZE is the list handed to -fsanitize= for every target that links
# wsserve_common_cfg (compile and link), e.g. "address;undefined" (preset asan) or "thread" (preset tsan).
# UBSan does not recover, so a report ends the process and fails the test that ran it.
# WSSERVE_FUZZ (clang only) builds tests/fuzz and instruments every target for libFuzzer's coverage
# feedback (-fsanitize=fuzzer-no-link); it implies "address;undefined" when WSSERVE_SANITIZE is empty.
set(WSSERVE_SANITIZE "" CACHE STRING "Sanitizers for every target: a list such as address;undefined or thread")
feature_option(WSSERVE_FUZZ "Build the libFuzzer targets of tests/fuzz (clang only)" OFF)
if(WSSERVE_FUZZ AND NOT WSSERVE_SANITIZE)
    set(WSSERVE_SANITIZE "address;undefined" CACHE STRING "" FORCE)
endif()
if(WSSERVE_SANITIZE)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        message(FATAL_ERROR "WSSERVE_SANITIZE needs gcc or clang (compiler: ${CMAKE_CXX_COMPILER_ID})")
    endif()
    if("thread" IN_LIST WSSERVE_SANITIZE AND ("address" IN_LIST WSSERVE_SANITIZE OR "leak" IN_LIST WSSERVE_SANITIZE))
        message(FATAL_ERROR "WSSERVE_SANITIZE: thread cannot be combined with address or leak")
    endif()
    list(JOIN WSSERVE_SANITIZE "," wsserve_sanitizers)
    set(wsserve_sanitize_flags -fsanitize=${wsserve_sanitizers} -fno-omit-frame-pointer)
    if("undefined" IN_LIST WSSERVE_SANITIZE)
        list(APPEND wsserve_sanitize_flags -fno-sanitize-recover=all)
    endif()
    target_compile_options(wsserve_common_cfg INTERFACE ${wsserve_sanitize_flags})
    target_link_options(wsserve_common_cfg INTERFACE ${wsserve_sanitize_flags})
    add_feature_info(WSSERVE_SANITIZE ON "Sanitizers: ${wsserve_sanitizers}")
endif()
if(WSSERVE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "WSSERVE_FUZZ needs clang (libFuzzer), e.g. -DCMAKE_CXX_COMPILER=clang++-14")
    endif()
    target_compile_options(wsserve_common_cfg INTERFACE -fsanitize=fuzzer-no-link)
endif()
# ThreadSanitizer with Debian's uninstrumented Qt: the tsan test preset preloads this library, which tells
# TSan about the happens-before edge of Qt's cross-thread event queue (tests/sanitizers/tsanqthandoff.cpp).
if("thread" IN_LIST WSSERVE_SANITIZE AND WSSERVE_BUILD_TESTS)
    add_library(wsserve_tsan_qt_handoff SHARED ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsanqthandoff.cpp)
    target_link_libraries(wsserve_tsan_qt_handoff PRIVATE Qt6::Core wsserve_common_cfg ${CMAKE_DL_LIBS})
    set_target_properties(wsserve_tsan_qt_handoff PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
    # Shows the annotations hide only false positives: one real race must still be reported.
    add_executable(wsserve_tsan_selftest ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsanselftest.cpp)
    target_link_libraries(wsserve_tsan_selftest PRIVATE Qt6::Core wsserve_common_cfg)
    set_target_properties(wsserve_tsan_selftest PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
endif()
