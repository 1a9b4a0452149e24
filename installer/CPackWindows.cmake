# Windows: an NSIS installer (wsserve-<version>-Windows-AMD64.exe) with a Start menu entry and an
# uninstaller; Qt and the MSVC runtime are deployed next to wsserve.exe (installer/CMakeLists.txt).
set(CPACK_GENERATOR "NSIS")
set(CPACK_NSIS_PACKAGE_NAME "wsserve ${PROJECT_VERSION}")
set(CPACK_NSIS_DISPLAY_NAME "wsserve")
set(CPACK_NSIS_MUI_ICON "${PROJECT_SOURCE_DIR}/resources/icons/wsserve.ico")
set(CPACK_NSIS_MUI_UNIICON "${PROJECT_SOURCE_DIR}/resources/icons/wsserve.ico")
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\wsserve.exe")
set(CPACK_NSIS_URL_INFO_ABOUT "${PROJECT_HOMEPAGE_URL}")
set(CPACK_NSIS_CONTACT "${CPACK_PACKAGE_CONTACT}")
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MANIFEST_DPI_AWARE ON)
