#!/bin/bash
# Start script of the SuiteCRM container (itstack). It runs the image's own first-run setup,
# the same four setup scripts and post-init hook, in the same order, as the image's
# /opt/bitnami/scripts/suitecrm/entrypoint.sh; then, on EVERY start, it writes itstack's block
# of settings into SuiteCRM's .env.local (public URL, SAML) and the legacy config_override.php
# (site_url), clears the Symfony cache and hands over to the image's run script.
#
# Why a wrapper: the whole install directory lives in the data volume (Bitnami persists it and
# replaces /opt/bitnami/suitecrm by a symlink), so a file uploaded there at container creation
# would be lost on the next restore, and a file uploaded into the empty volume would make the
# image believe SuiteCRM is already installed.
set -o errexit -o nounset -o pipefail

. /opt/bitnami/scripts/suitecrm-env.sh
. /opt/bitnami/scripts/libos.sh
. /opt/bitnami/scripts/libwebserver.sh

/opt/bitnami/scripts/"$(web_server_type)"/setup.sh
/opt/bitnami/scripts/php/setup.sh
/opt/bitnami/scripts/mysql-client/setup.sh
/opt/bitnami/scripts/suitecrm/setup.sh
/post-init.sh

app="${SUITECRM_BASE_DIR}"

# Replace the lines between the itstack markers (or append them) in a file.
merge_block() {
    local target="$1" block="$2"
    [[ -f "$target" ]] || printf '%s\n' "${3:-}" > "$target"
    sed -i '/^# >>> itstack/,/^# <<< itstack/d' "$target"
    cat "$block" >> "$target"
    chown daemon:daemon "$target"
}
merge_block "${app}/.env.local" /opt/itstack/suitecrm.env.local
merge_block "${app}/public/legacy/config_override.php" /opt/itstack/config_override.php '<?php'

# Settings in .env.local are compiled into Symfony's container: rebuild it.
(cd "$app" && run_as_user daemon php bin/console cache:clear --no-interaction)

exec /opt/bitnami/scripts/suitecrm/run.sh
