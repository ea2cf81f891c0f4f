# shellcheck shell=bash
# Offline Pulumi environment for itstack. Usage (after scripts/toolchain has run):
#   source scripts/pulumi-env.sh
# Puts the CLI bin dir (pulumi, pulumi-language-python[-exec], pulumi-resource-pulumi-python)
# first on PATH and points PULUMI_HOME at the plugin cache that scripts/toolchain fills.
# It sets no backend URL and no passphrase: each test lane sets those per stack.
_itstack_env=$("$(dirname "${BASH_SOURCE[0]}")/toolchain" --print-env) || return 1
eval "$_itstack_env"
unset _itstack_env
if ! [ -x "$(dirname "$(command -v pulumi 2>/dev/null || echo /nonexistent)")/pulumi-language-python" ]; then
  echo "pulumi-env.sh: the Pulumi toolchain is not built yet; run scripts/toolchain first" >&2
  return 1
fi
