#!/bin/bash
# Every few minutes: directory groups -> GLPI profiles; the health check reads the stamp file.
set -u
while true; do
    if php /opt/itstack/roles.php; then
        date +%s > /tmp/itstack-last-sync
    else
        echo "itstack: role mapping failed" >&2
    fi
    sleep "${ITSTACK_SYNC_INTERVAL:-300}"
done
