# shellcheck shell=bash
# shared by ds-entrypoint / ds-add-user / ds-add-group (sourced)
DS_LDAPI="ldapi://%2fdata%2frun%2fslapd-localhost.socket"
DS_MARKER=/data/config/itstack-initialized
# the suffix chosen at first start wins over a later DS_SUFFIX
ds_suffix() {
	if [ -s /data/config/itstack-suffix ]; then cat /data/config/itstack-suffix
	else printf '%s\n' "${DS_SUFFIX:-${DS_SUFFIX_NAME:-dc=it-stack,dc=test}}"; fi
}
# root over LDAPI autobinds as cn=Directory Manager (nsslapd-ldapimaprootdn)
ds_ldap() {  # ldapadd|ldapmodify|ldapsearch args...
	local tool="$1"; shift
	"$tool" -Q -Y EXTERNAL -H "$DS_LDAPI" "$@"
}
# one LDIF line, base64 when the value is not plain ASCII-safe
ldif_line() {  # attr value
	if [[ "$2" =~ ^[A-Za-z0-9._@+=,/\ \(\)\'-]*$ ]] && [[ "$2" != " "* ]] && [[ "$2" != *" " ]]; then
		printf '%s: %s\n' "$1" "$2"
	else
		printf '%s:: %s\n' "$1" "$(printf '%s' "$2" | base64 -w0)"
	fi
}
new_uuid() { cat /proc/sys/kernel/random/uuid; }
