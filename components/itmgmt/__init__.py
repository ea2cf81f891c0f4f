"""The itmgmt tier's services. `deploy(platform)` creates the enabled ones."""


def deploy(platform) -> None:
    """Placeholder until the tier's services land (issue 3)."""
