# The paths of softiommu.pc, relative to the directory the file is
# installed in (pkg-config's ${pcfiledir}), so that `cmake --install
# --prefix DIR` and a moved tree give a working .pc: SIO_PC_PREFIX_REL
# climbs from <libdir>/pkgconfig to the prefix (../.. for lib, ../../.. for
# a multiarch lib/<triplet>), and libdir and includedir are ${prefix}-based
# unless they were configured as absolute paths outside it.
set(_sio_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  file(RELATIVE_PATH SIO_PC_PREFIX_REL "${_sio_pc_dir}" "${CMAKE_INSTALL_PREFIX}")
else()
  # Relative to a prefix that is not known yet: count the components.
  string(REGEX REPLACE "[^/]+" ".." SIO_PC_PREFIX_REL "${_sio_pc_dir}")
endif()
if(SIO_PC_PREFIX_REL STREQUAL "")
  set(SIO_PC_PREFIX_REL ".")
endif()
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(SIO_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(SIO_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
unset(_sio_pc_dir)
