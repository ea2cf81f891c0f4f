#!/bin/bash
# Subset of the official mariadb image's healthcheck.sh:
#   --connect             a TCP connection + query succeeds (the init-time server is socket-only)
#   --innodb_initialized  InnoDB is available
# No flags = both. Credentials: $DATADIR/.my-healthcheck.cnf (written at init), else
# root with MARIADB_ROOT_PASSWORD over TCP.
set -eo pipefail
DATADIR=/var/lib/mysql
[ $# -gt 0 ] || set -- --connect --innodb_initialized
if [ -r "$DATADIR/.my-healthcheck.cnf" ]; then
	cli=(mariadb --defaults-extra-file="$DATADIR/.my-healthcheck.cnf" -N -B)
else
	cli=(mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -uroot -N -B)
	export MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
fi
for check in "$@"; do
	case "$check" in
		--connect) q='SELECT 1' ;;
		--innodb_initialized) q="SELECT 1 FROM information_schema.ENGINES WHERE engine='InnoDB' AND support IN ('YES','DEFAULT','ENABLED')" ;;
		--su-mysql|--defaults-file=*|--no-defaults) continue ;;
		*) echo "healthcheck.sh: unsupported test $check" >&2; exit 2 ;;
	esac
	out="$("${cli[@]}" -e "$q" 2>&1)" || { echo "$check: $out"; exit 1; }
	[ "$out" = 1 ] || { echo "$check: unexpected answer '$out'"; exit 1; }
done
