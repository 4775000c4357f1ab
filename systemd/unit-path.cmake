# Whether a path can be written as it is into the unit's command lines
# (split at white space, with % specifiers and $ variables, a leading
# - @ : + ! meaning something, and ExecReload's inside a shell's single
# quotes, where a leading NAME= would be an assignment) and into a
# tmpfiles.d line: an absolute path of ASCII letters, digits and
# / . _ + @ , : = - only. Anything else would need quoting there, so it
# is refused rather than installed as a unit that fails, or runs
# another command.
#
# Included by systemd/CMakeLists.txt; run as a script by the tests:
#   cmake -DUNIT_VAR=NAME -DUNIT_PATH=PATH -P unit-path.cmake
# fails with the configure's message when PATH is refused.

function(feedwatch_unit_path_ok path out)
  if("${path}" MATCHES "^/[A-Za-z0-9/._+@,:=-]*$")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(feedwatch_unit_path_check var path)
  feedwatch_unit_path_ok("${path}" ok)
  if(NOT ok)
    message(FATAL_ERROR "${var} is \"${path}\": the systemd unit and "
      "tmpfiles.d line take absolute paths of ASCII letters, digits and "
      "/ . _ + @ , : = - only (no white space, quote, backslash, $, % or ;)")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  feedwatch_unit_path_check("${UNIT_VAR}" "${UNIT_PATH}")
endif()
