#  Install rules, included from CMakeLists.txt when MCPACT_INSTALL is on:
#  the header, libmcpact.so.0 (CMake: mcpact::mcpact), libmcpact.a
#  (mcpact::mcpact-static), the CLI and the example server beside it, a
#  pkg-config file and a CMake package. Paths follow GNUInstallDirs.

include (CMakePackageConfigHelpers)
set (MCPACT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mcpact)

install (FILES ${PROJECT_SOURCE_DIR}/include/mcpact.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install (TARGETS mcpact-shared EXPORT mcpact-targets
         LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
         ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
         RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install (FILES ${MCPACT_STATIC_ARCHIVE} DESTINATION ${CMAKE_INSTALL_LIBDIR})
if (TARGET mcpact-cli)
    #  The CLI looks for the example server in its own directory.
    install (TARGETS mcpact-cli mcpact-example-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif ()

#  CMake: find_package (mcpact CONFIG) -> mcpact::mcpact, mcpact::mcpact-static.
#  The shared library's targets are exported; the static one, being made by
#  a custom command, is described in the config file itself.
install (EXPORT mcpact-targets NAMESPACE mcpact:: FILE mcpactTargets.cmake
         DESTINATION ${MCPACT_CMAKE_DIR})
configure_package_config_file (${PROJECT_SOURCE_DIR}/cmake/mcpactConfig.cmake.in
    ${PROJECT_BINARY_DIR}/mcpactConfig.cmake
    INSTALL_DESTINATION ${MCPACT_CMAKE_DIR}
    PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
#  The soname carries the major version: any 0.x.y serves a host built for 0.x.
write_basic_package_version_file (${PROJECT_BINARY_DIR}/mcpactConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
install (FILES ${PROJECT_BINARY_DIR}/mcpactConfig.cmake
               ${PROJECT_BINARY_DIR}/mcpactConfigVersion.cmake
         DESTINATION ${MCPACT_CMAKE_DIR})

#  pkg-config: written at install time, straight into the prefix installed
#  into (cmake --install --prefix DIR), not the configured one; written
#  there, not in the build tree, so that two installs at once cannot mix.
if (IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set (MCPACT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
    set (MCPACT_PC_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else ()
    set (MCPACT_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
    set (MCPACT_PC_DIR "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif ()
if (IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set (MCPACT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else ()
    set (MCPACT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif ()
if (CMAKE_DL_LIBS)
    set (MCPACT_PC_DL -l${CMAKE_DL_LIBS})
endif ()
set (MCPACT_PC_PREFIX "@MCPACT_PC_PREFIX@") #  filled in at install time
configure_file (${PROJECT_SOURCE_DIR}/cmake/mcpact.pc.in ${PROJECT_BINARY_DIR}/mcpact.pc.in @ONLY)
install (CODE "
    set (MCPACT_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    set (pc_file \"\$ENV{DESTDIR}${MCPACT_PC_DIR}/mcpact.pc\")
    message (STATUS \"Installing: \${pc_file}\")
    configure_file (\"${PROJECT_BINARY_DIR}/mcpact.pc.in\" \"\${pc_file}\" @ONLY)
    list (APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${pc_file}\")
")
