# shellcheck shell=bash
# need_deb <debian package> <why> <check...>: run <check>; if it fails, install <package> with
# apt-get and run <check> again. On any failure it prints what was needed, why, and apt-get's own
# last lines, and returns 1: callers run under `set -e`, so nothing goes on half-installed.
need_deb() {
  local pkg=$1 why=$2 log rc=0
  shift 2
  "$@" >/dev/null 2>&1 && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    printf 'error: %s needs the Debian package %s, and there is no apt-get here: install it yourself\n' "$why" "$pkg" >&2
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    printf 'error: %s needs the Debian package %s: run as root, or first: sudo apt-get install %s\n' "$why" "$pkg" "$pkg" >&2
    return 1
  fi
  echo "installing $pkg (Debian) for $why"
  log=$(mktemp)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg"; } >"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    printf 'error: apt-get could not install %s (exit %s), needed for %s. Its last lines:\n' "$pkg" "$rc" "$why" >&2
    tail -n 8 "$log" | sed 's/^/    /' >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  if ! "$@" >/dev/null 2>&1; then
    printf "error: apt-get installed %s, but '%s' still fails (needed for %s)\n" "$pkg" "$*" "$why" >&2
    return 1
  fi
}
