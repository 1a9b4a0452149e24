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
