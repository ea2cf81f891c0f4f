"""What can go wrong talking to an app, sorted by what the engine does about it."""


class SyncError(Exception):
    """Base. `reason` is safe to store and log: it never holds a credential or a record's data."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Transient(SyncError):
    """5xx, timeouts, refused connections: retried with backoff; if it persists the run stops and the
    cursor stays where it was, so the next run picks the same records up again."""


class Permanent(SyncError):
    """4xx and answers the app gives on purpose: never retried; the record goes to dead letters."""


class AuthFailed(Permanent):
    """401/403 or a refused login: never retried; dead letter with the reason."""


class Invalid(Permanent):
    """The record cannot be mapped (missing or renamed field, failed validation) or the app's answer
    makes no sense (garbage). Dead letter; the flow goes on with the next record."""
