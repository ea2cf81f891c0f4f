"""The business tier's services: SuiteCRM (CRM), Odoo (ERP), OpenKM (documents).
`deploy(platform)` creates the enabled ones."""
from components.business import odoo, openkm, suitecrm

_SERVICES = (("suitecrm", suitecrm.deploy), ("odoo", odoo.deploy), ("openkm", openkm.deploy))


def deploy(platform) -> None:
    for name, create in _SERVICES:
        if platform.enabled(name):
            platform.components[name] = create(platform)
