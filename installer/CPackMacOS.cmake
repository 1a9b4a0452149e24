# macOS: a disk image (wsserve-<version>-Darwin-<arch>.dmg) holding wsserve.app, with Qt deployed
# into the bundle by macdeployqt (installer/CMakeLists.txt), and a link to /Applications.
set(CPACK_GENERATOR "DragNDrop")
set(CPACK_DMG_VOLUME_NAME "wsserve ${PROJECT_VERSION}")
set(CPACK_PACKAGE_ICON "${PROJECT_SOURCE_DIR}/resources/icons/wsserve.icns")
