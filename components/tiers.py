"""Registers each application tier's deploy function with the composition root, in order:
mail first (others send through it), then the tiers of the seed, monitoring last."""
from stack import APP_TIERS

# Filled in by the application tiers (collaboration, communications, business, itmgmt,
# infrastructure monitoring/logging) as they land.
TIER_MODULES: list[str] = []

for _name in TIER_MODULES:
    _module = __import__(f"components.{_name}", fromlist=["deploy"])
    if _module.deploy not in APP_TIERS:
        APP_TIERS.append(_module.deploy)
