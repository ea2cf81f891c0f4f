# missing_plugins NAME... : prints "NAME VERSION" for each provider plugin the program's pinned SDK
# asks for (the venv's pulumi_<name>/pulumi-plugin.json) that is not installed in the Pulumi home
# the lanes use (scripts/toolchain --print-env). Source after `eval "$(scripts/toolchain --print-env)"`.
missing_plugins() {
  local name version
  for name in "$@"; do
    version=$(.venv/bin/python -c "import json, pulumi_$name, pathlib; print(json.loads((pathlib.Path(pulumi_$name.__file__).parent / 'pulumi-plugin.json').read_text())['version'])")
    if ! pulumi plugin ls --json 2>/dev/null | .venv/bin/python -c "
import json, sys
have = {(p['name'], p['version']) for p in json.load(sys.stdin) or [] if p.get('kind') == 'resource'}
sys.exit(0 if ('$name', '$version') in have else 1)"; then
      echo "$name $version"
    fi
  done
}

# lane_without_plugins LANE SWITCH_VAR MISSING : what a lane does when plugins are missing. It never
# passes silently: it fails, unless the switch is set to 'optional', and then it says it did not run.
lane_without_plugins() {
  local lane=$1 var=$2 missing=$3
  echo "$lane lane DID NOT RUN: these provider plugins are not installed in $PULUMI_HOME:"
  echo "$missing" | sed 's/^/   pulumi-resource-/'
  echo "   With internet: pulumi plugin install resource <name> <version> (for each line above)."
  echo "   Here the Go module proxy refuses their modules (docs/toolchain.md, 'Refused by the proxy')."
  if [ "${!var:-}" = optional ]; then
    echo "   $var=optional: reported, not failed. ${ITSTACK_LANE_OFF_REASON:-}"
    return 0
  fi
  echo "   Failing: set $var=optional to report this instead (as .ci/run does, saying why)." >&2
  return 1
}
