"""itstack-sync: the IT-Stack's business data flows (issue 11).

A small service of its own: it runs in its own container with its own PostgreSQL database and its
own requirements (itstack_sync/requirements.txt). The Pulumi program never imports it.
"""
__version__ = "0.1.0"
