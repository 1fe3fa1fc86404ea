# Compile settings shared by every target of ours (not by imported third-party targets).
include(GNUInstallDirs)
add_library(trackiq_warnings INTERFACE)
set_target_properties(trackiq_warnings PROPERTIES EXPORT_NAME warnings)
target_compile_options(trackiq_warnings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(TRACKIQ_SANITIZE)
  target_compile_options(trackiq_warnings INTERFACE -fsanitize=${TRACKIQ_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(trackiq_warnings INTERFACE -fsanitize=${TRACKIQ_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false maybe-uninitialized warnings inside libstdc++ (std::regex,
    # std::function) when sanitizers change inlining.
    target_compile_options(trackiq_warnings INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()

# trackiq_add_library(NAME module SOURCES ... DEPS ...) defines trackiq_<module> with alias trackiq::<module>.
function(trackiq_add_library module)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(trackiq_${module} STATIC ${ARG_SOURCES})
  add_library(trackiq::${module} ALIAS trackiq_${module})
  target_include_directories(trackiq_${module} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(trackiq_${module} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} trackiq_warnings)
  set_target_properties(trackiq_${module} PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME ${module})
  set_property(GLOBAL APPEND PROPERTY TRACKIQ_LIBRARIES trackiq_${module})
endfunction()

# Installs the libraries, headers and a CMake package: find_package(trackiq) then link
# trackiq::core, trackiq::workload, trackiq::runner, trackiq::report.
function(trackiq_install)
  include(CMakePackageConfigHelpers)
  get_property(libs GLOBAL PROPERTY TRACKIQ_LIBRARIES)
  install(TARGETS ${libs} trackiq_warnings EXPORT trackiqTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/trackiq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set(dir ${CMAKE_INSTALL_LIBDIR}/cmake/trackiq)
  install(EXPORT trackiqTargets NAMESPACE trackiq:: DESTINATION ${dir})
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/trackiqConfig.cmake.in
                                ${CMAKE_BINARY_DIR}/trackiqConfig.cmake INSTALL_DESTINATION ${dir})
  write_basic_package_version_file(${CMAKE_BINARY_DIR}/trackiqConfigVersion.cmake COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_BINARY_DIR}/trackiqConfig.cmake ${CMAKE_BINARY_DIR}/trackiqConfigVersion.cmake DESTINATION ${dir})
endfunction()
