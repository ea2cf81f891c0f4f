"""Registers each application tier's deploy function with the composition root, in order:
mail first (the others send through it), then the tiers of the seed, monitoring and logging last
(they watch everything before them)."""
from stack import APP_TIERS, MAIL_TIER

import components.business as business
import components.collaboration as collaboration
import components.communications as communications
import components.infrastructure as infrastructure
import components.itmgmt as itmgmt

if communications.deploy_mail not in MAIL_TIER:
    MAIL_TIER.append(communications.deploy_mail)
for _deploy in (collaboration.deploy, communications.deploy, business.deploy, itmgmt.deploy, infrastructure.deploy):
    if _deploy not in APP_TIERS:
        APP_TIERS.append(_deploy)
