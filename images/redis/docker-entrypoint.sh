#!/bin/sh
# Entry point compatible with the official redis image.
set -e

# first arg is `-f` or `--some-option`, or a `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

# The official image compiles redis with protected-mode defaulting to "no" (so other
# containers can connect when no password is set). Debian's binary defaults to "yes":
# add `--protected-mode no` unless the args or the config file say otherwise.
if [ "$1" = 'redis-server' ]; then
	pm=0
	for a in "$@"; do case "$a" in *protected-mode*) pm=1 ;; esac; done
	if [ -n "${2:-}" ] && [ "${2#-}" = "$2" ] && [ -f "$2" ] && grep -qi '^[[:space:]]*protected-mode' "$2"; then pm=1; fi
	[ "$pm" = 1 ] || set -- "$@" --protected-mode no
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
