"""Small helpers for the lanes that start containers from the local images (scripts/images)."""
import json
import os
import subprocess
import uuid
from pathlib import Path


def docker(*args, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


def local_image(name: str) -> str:
    images = json.loads((Path(os.environ.get("ITSTACK_CACHE", "/var/cache/itstack")) / "images.json").read_text())
    return images[name]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_healthcheck(container: str, tests: list[str]) -> bool:
    """Run a declared Docker health check in a running container exactly as the engine does:
    CMD-SHELL through `/bin/sh -c`, CMD as an argument vector."""
    kind, *args = tests
    argv = {"CMD-SHELL": ["/bin/sh", "-c", *args], "CMD": args}[kind]
    return docker("exec", container, *argv, check=False).returncode == 0
