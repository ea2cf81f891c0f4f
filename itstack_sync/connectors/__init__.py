"""One connector per app API. Each module's docstring names the documented API and version it
follows, and whether its HTTP is hand-written (on `itstack_sync.http.Http`) or a PyPI client's."""
