# Compile settings shared by every target of ours (not by imported third-party targets).
add_library(trackiq_warnings INTERFACE)
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
  target_include_directories(trackiq_${module} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(trackiq_${module} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} trackiq_warnings)
  set_target_properties(trackiq_${module} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
