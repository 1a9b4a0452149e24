# Linux: a .deb for Debian 12 (Depends on Debian's Qt 6 packages; Qt is not bundled) and a TGZ of the
# same tree. The .deb is named the Debian way: wsserve_<version>_<arch>.deb.
set(CPACK_GENERATOR "DEB;TGZ")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# dpkg-shlibdeps (dpkg-dev) turns the binary's libraries into Depends (libqt6core6, libqt6widgets6, ...);
# the platform plugins (xcb, offscreen) are loaded at run time, so they are named here. Native Wayland
# is only suggested: without it the window runs through XWayland, and qt6-wayland pulls in Qt Quick.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qt6-wayland")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
# /etc/wsserve/config.json is a conffile (local edits survive upgrades); the maintainer scripts only
# tell systemd about the unit (never enable it) and stop the service on removal.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_SOURCE_DIR}/linux/conffiles"
    "${CMAKE_CURRENT_SOURCE_DIR}/linux/postinst"
    "${CMAKE_CURRENT_SOURCE_DIR}/linux/prerm"
    "${CMAKE_CURRENT_SOURCE_DIR}/linux/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
