#!/usr/bin/env bash
# Entry point compatible with the official postgres image for the variables it documents.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR or VAR_FILE (Docker secrets), not both
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}" val
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"; exit 1
	fi
	val="$def"
	if [ "${!var:-}" ]; then val="${!var}"; elif [ "${!fileVar:-}" ]; then val="$(< "${!fileVar}")"; fi
	export "$var"="$val"
	unset "$fileVar"
}

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA"
	find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql
	find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	chmod 3777 /var/run/postgresql
	exec gosu postgres "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]; then
		cat >&2 <<-'MSG'
		Error: Database is uninitialized and superuser password is not specified.
		       You must specify POSTGRES_PASSWORD to a non-empty value for the
		       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
		       (or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password)
		MSG
		exit 1
	fi
	echo "itstack-postgres: initialising $PGDATA (PostgreSQL $PG_MAJOR, Debian)"
	mkdir -p "$PGDATA"; chmod 00700 "$PGDATA"
	initargs=()
	pwfile=""
	if [ -n "$POSTGRES_PASSWORD" ]; then
		pwfile="$(mktemp)"; chmod 600 "$pwfile"
		printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
		initargs+=(--pwfile="$pwfile")
	fi
	eval 'initdb --username="$POSTGRES_USER" "${initargs[@]}" '"$POSTGRES_INITDB_ARGS"
	[ -n "$pwfile" ] && rm -f "$pwfile"
	# like the official image: host connections use the configured password_encryption
	# (scram-sha-256 on PG >= 14) unless POSTGRES_HOST_AUTH_METHOD overrides it
	auth="$(postgres -D "$PGDATA" -C password_encryption)"
	: "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

	# temporary server on the unix socket only
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
	export PGPASSWORD="$POSTGRES_PASSWORD"
	psql_q=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [ "$POSTGRES_DB" != 'postgres' ]; then
		"${psql_q[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'SQL'
			CREATE DATABASE :"db" ;
		SQL
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh) if [ -x "$f" ]; then echo "running $f"; "$f"; else echo "sourcing $f"; . "$f"; fi ;;
			*.sql) echo "running $f"; "${psql_q[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql_q[@]}" --dbname "$POSTGRES_DB" ;;
			*) echo "ignoring $f" ;;
		esac
	done
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD
	echo "itstack-postgres: init process complete; ready for start up."
elif [ "$1" = 'postgres' ]; then
	echo "itstack-postgres: $PGDATA contains a database (PG_VERSION $(cat "$PGDATA/PG_VERSION")); skipping initialisation"
fi

exec "$@"
