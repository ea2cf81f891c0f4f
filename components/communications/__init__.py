"""The communications tier's services."""


def deploy_mail(platform) -> None:
    """Creates iRedMail (sets platform.mail) before every other application tier."""


def deploy(platform) -> None:
    """Zammad and FreePBX (placeholder until they land, issue 3)."""
