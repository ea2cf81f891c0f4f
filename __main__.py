"""itstack: the IT-Stack as one Pulumi program. Settings first, then the resource graph."""
import pulumi

import components.tiers  # noqa: F401  (registers the application tiers)
from settings import ConfigError, read_pulumi_config
from stack import build, export_contract

try:
    settings = read_pulumi_config()
except ConfigError as err:
    # Fail before any resource is declared: nothing is half-created by a typo.
    pulumi.log.error(str(err))
    raise SystemExit(1) from None

export_contract(build(settings))
