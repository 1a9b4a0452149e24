# CPack settings shared by every OS: identity, version (from project()), licence, checksums, text.
# The per-OS files (CPackLinux/Windows/MacOS.cmake) pick the generators and set theirs.
set(CPACK_PACKAGE_NAME "wsserve")
set(CPACK_PACKAGE_VENDOR "wsserve contributors")
set(CPACK_PACKAGE_CONTACT "wsserve contributors <wsserve@example.invalid>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VERSION_MAJOR "${PROJECT_VERSION_MAJOR}")
set(CPACK_PACKAGE_VERSION_MINOR "${PROJECT_VERSION_MINOR}")
set(CPACK_PACKAGE_VERSION_PATCH "${PROJECT_VERSION_PATCH}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
# Debian wants the synopsis under 80 characters; PROJECT_DESCRIPTION is longer.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Host real-time WebSocket servers speaking the Phoenix Channels protocol")
# Lines under 80 characters: the .deb shows them as they are.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
    "wsserve hosts real-time WebSocket servers on your local network from one"
    "program: chat, relay, echo or a turn-based game, each isolated in its own"
    "thread and restarted by a supervisor when it fails. Clients speak the"
    "Phoenix Channels protocol, so existing Phoenix client libraries work"
    "unchanged. On a desktop it opens a window showing each instance's clients"
    "and live message flow; with --headless it runs as a service (a systemd unit"
    "is included, disabled), driven by scripts over an admin HTTP API.")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_PACKAGE_INSTALL_DIRECTORY "wsserve")
# Start menu / launcher entry: bin/wsserve, labelled "wsserve".
set(CPACK_PACKAGE_EXECUTABLES "wsserve" "wsserve")
set(CPACK_STRIP_FILES ON)
# The version is in every package file name: wsserve-0.1.0-Linux-x86_64.tar.gz, ...-Windows-AMD64.exe.
set(CPACK_PACKAGE_FILE_NAME "${CPACK_PACKAGE_NAME}-${PROJECT_VERSION}-${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_VERBATIM_VARIABLES ON)

# `cpack --config CPackSourceConfig.cmake`: the sources, without builds, Git data or node_modules.
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_PACKAGE_FILE_NAME "${CPACK_PACKAGE_NAME}-${PROJECT_VERSION}-source")
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/out/" "/node_modules/" "\\.user$")
