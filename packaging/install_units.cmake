# Run by `cmake --install` (packaging/CMakeLists.txt passes the USERSYNC_* variables): writes the
# systemd units with the paths of *this* install, so `cmake --install build --prefix DIR` gives
# units whose ExecStart= names DIR/bin/usersync, and installs them (DESTDIR honoured by
# file(INSTALL)). From one service and one timer template: usersync.service/.timer (one
# configuration, /etc/usersync/usersync.toml) and usersync@.service/.timer (one per tenant:
# `systemctl enable --now usersync@acme.timer` reads /etc/usersync/acme.toml).
function(usersync_full_path out path)
  if(IS_ABSOLUTE "${path}")
    set(${out} "${path}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${path}" PARENT_SCOPE)
  endif()
endfunction()

usersync_full_path(unit_dir "${USERSYNC_UNIT_DIR}")
usersync_full_path(bin_dir "${USERSYNC_BINDIR}")
set(USERSYNC_BINARY "${bin_dir}/usersync")

# usersync_unit(NAME TIMER WHAT CONFIG ENV DIR): configures both templates under NAME.
function(usersync_unit name timer what config env dir)
  set(UNIT_NAME "${name}.service")
  set(UNIT_TIMER "${timer}")
  set(UNIT_WHAT "${what}")
  set(UNIT_CONFIG "${config}")
  set(UNIT_ENV "${env}")
  set(UNIT_DIR "${dir}")
  configure_file("${USERSYNC_UNIT_SOURCE_DIR}/usersync.service.in"
                 "${USERSYNC_UNIT_STAGING_DIR}/${name}.service" @ONLY)
  configure_file("${USERSYNC_UNIT_SOURCE_DIR}/usersync.timer.in"
                 "${USERSYNC_UNIT_STAGING_DIR}/${timer}" @ONLY)
  file(INSTALL DESTINATION "${unit_dir}" TYPE FILE
       FILES "${USERSYNC_UNIT_STAGING_DIR}/${name}.service" "${USERSYNC_UNIT_STAGING_DIR}/${timer}")
endfunction()

usersync_unit(usersync usersync.timer "the directory" "${USERSYNC_CONFIG_DIR}/usersync.toml"
              "${USERSYNC_CONFIG_DIR}/env" usersync)
usersync_unit(usersync@ usersync@.timer "tenant %i" "${USERSYNC_CONFIG_DIR}/%i.toml"
              "${USERSYNC_CONFIG_DIR}/%i.env" usersync/%i)
