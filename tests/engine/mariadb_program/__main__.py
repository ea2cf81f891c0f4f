"""Two consumers' MariaDB databases, made by the program's own dynamic resource, with
pulumi_random passwords: the same code path as components/data/mariadb.py, minus the container
(the lane starts MariaDB from the local image and passes its admin endpoint as config)."""
import pulumi
import pulumi_random as random

# The lane runs this with PYTHONPATH at the project root, as the provider host needs too.
from components.data.mariadb_database import MariaDbDatabase

cfg = pulumi.Config()
for name in cfg.require_object("consumers"):
    pw = random.RandomPassword(f"{name}-password", length=32, special=False)
    db = MariaDbDatabase(
        f"mariadb-{name}",
        database=name,
        user=f"{name}_user",
        password=pw.result,
        admin_host=cfg.require("adminHost"),
        admin_port=cfg.require_int("adminPort"),
        admin_user="root",
        admin_password=cfg.require_secret("adminPassword"),
    )
    pulumi.export(f"{name}_password", pw.result)
    pulumi.export(f"{name}_database", db.database)
