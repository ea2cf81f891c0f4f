#!/usr/bin/env bash
# Entry point compatible with the official mariadb image for the variables it documents.
set -Eeo pipefail

log() { printf '%s [Entrypoint]: %s\n' "$(date -Is)" "$*"; }
err() { log "ERROR: $*" >&2; exit 1; }

# file_env VAR [DEFAULT]: MARIADB_X, else MYSQL_X, else MARIADB_X_FILE / MYSQL_X_FILE
file_env() {
	local var="$1" def="${2:-}" mysqlVar="${1/MARIADB_/MYSQL_}" val="${2:-}"
	local fileVar="${var}_FILE" mysqlFileVar="${mysqlVar}_FILE"
	if [ "${!var:-}" ]; then val="${!var}"
	elif [ "${!mysqlVar:-}" ]; then val="${!mysqlVar}"
	elif [ "${!fileVar:-}" ]; then val="$(< "${!fileVar}")"
	elif [ "${!mysqlFileVar:-}" ]; then val="$(< "${!mysqlFileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar" "$mysqlFileVar"
}
sql_escape() { local s="${1//\\/\\\\}"; printf '%s' "${s//\'/\\\'}"; }

if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
case "$1" in mysqld|mariadbd) is_server=1 ;; *) is_server=0 ;; esac

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
if [ "$is_server" = 1 ]; then
	DATADIR="$("$@" --verbose --help 2>/dev/null | awk '$1 == "datadir" { print $2; exit }')"
	DATADIR="${DATADIR%/}"; DATADIR="${DATADIR:-/var/lib/mysql}"
	SOCKET="$("$@" --verbose --help 2>/dev/null | awk '$1 == "socket" { print $2; exit }')"
	SOCKET="${SOCKET:-/run/mysqld/mysqld.sock}"
fi

if [ "$is_server" = 1 ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
	find "$DATADIR" "$(dirname "$SOCKET")" \! -user mysql -exec chown mysql: '{}' +
	exec gosu mysql "${BASH_SOURCE[0]}" "$@"
fi

if [ "$is_server" = 1 ] && [ ! -d "$DATADIR/mysql" ]; then
	file_env MARIADB_ROOT_PASSWORD
	file_env MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
	file_env MARIADB_RANDOM_ROOT_PASSWORD
	file_env MARIADB_ROOT_HOST '%'
	file_env MARIADB_DATABASE
	file_env MARIADB_USER
	file_env MARIADB_PASSWORD
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		err "Database is uninitialized and password option is not specified
	You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
	fi
	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)"
		log "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi

	log "Initializing database files in $DATADIR (MariaDB $(mariadbd --version | awk '{print $3}'), Debian)"
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
		--skip-test-db --default-time-zone=SYSTEM --skip-log-bin --expire-logs-days=0 \
		--loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0
	log "Database files initialized"

	log "Starting temporary server"
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--skip-log-bin --loose-innodb_buffer_pool_load_at_startup=0 &
	tmp_pid=$!
	for i in $(seq 1 60); do
		mariadb --protocol=socket --socket="$SOCKET" -uroot --database=mysql -e 'SELECT 1' >/dev/null 2>&1 && break
		kill -0 "$tmp_pid" 2>/dev/null || err "temporary server died"
		sleep 1
		[ "$i" = 60 ] && err "Unable to start server."
	done
	log "Temporary server started."

	rootpw="$(sql_escape "$MARIADB_ROOT_PASSWORD")"
	hcpw="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)"
	{
		echo "SET @@SESSION.SQL_LOG_BIN=0;"
		echo "SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');"
		echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
		echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname,'\'');"
		echo "SET PASSWORD FOR 'root'@'localhost'= PASSWORD('$rootpw');"
		if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != localhost ]; then
			roothost="$(sql_escape "$MARIADB_ROOT_HOST")"
			echo "CREATE USER 'root'@'$roothost' IDENTIFIED BY '$rootpw';"
			echo "GRANT ALL ON *.* TO 'root'@'$roothost' WITH GRANT OPTION;"
			echo "GRANT PROXY ON ''@'%' TO 'root'@'$roothost' WITH GRANT OPTION;"
		fi
		echo "CREATE USER healthcheck@'127.0.0.1' IDENTIFIED BY '$hcpw';"
		echo "CREATE USER healthcheck@'::1' IDENTIFIED BY '$hcpw';"
		echo "CREATE USER healthcheck@localhost IDENTIFIED BY '$hcpw';"
		if [ -n "$MARIADB_DATABASE" ]; then
			echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
		fi
		if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
			u="$(sql_escape "$MARIADB_USER")"; p="$(sql_escape "$MARIADB_PASSWORD")"
			echo "CREATE USER '$u'@'%' IDENTIFIED BY '$p';"
			[ -n "$MARIADB_DATABASE" ] && echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$u'@'%';"
		fi
		echo "FLUSH PRIVILEGES;"
	} | mariadb --protocol=socket --socket="$SOCKET" -uroot --database=mysql --binary-mode
	umask_old="$(umask)"; umask 0077
	cat > "$DATADIR/.my-healthcheck.cnf" <<-CNF
	[mariadb-client]
	port=3306
	socket=$SOCKET
	default-character-set=utf8mb4
	protocol=tcp
	user=healthcheck
	password=$hcpw
	CNF
	umask "$umask_old"

	export MYSQL_PWD="$MARIADB_ROOT_PASSWORD"
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh) if [ -x "$f" ]; then log "running $f"; "$f"; else log "sourcing $f"; . "$f"; fi ;;
			*.sql) log "running $f"; mariadb --protocol=socket --socket="$SOCKET" -uroot ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} < "$f" ;;
			*.sql.gz) log "running $f"; gunzip -c "$f" | mariadb --protocol=socket --socket="$SOCKET" -uroot ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} ;;
			*) log "ignoring $f" ;;
		esac
	done
	unset MYSQL_PWD

	log "Stopping temporary server"
	kill -TERM "$tmp_pid"; wait "$tmp_pid" || true
	log "MariaDB init process done. Ready for start up."
elif [ "$is_server" = 1 ]; then
	log "$DATADIR/mysql exists; skipping initialisation"
fi

exec "$@"
