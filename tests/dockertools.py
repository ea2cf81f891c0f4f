"""Small helpers for the lanes that start containers from the local images (scripts/images)."""
import contextlib
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


@contextlib.contextmanager
def local_mariadb(prefix: str, root_password: str):
    """MariaDB from the local image on a free loopback port, answering a root login; removed after.
    Yields the port."""
    import time

    import pymysql

    name = unique(prefix)
    docker("run", "-d", "--name", name, "-e", f"MARIADB_ROOT_PASSWORD={root_password}", "-p", "127.0.0.1::3306",
           local_image("mariadb"))
    try:
        port = int(docker("port", name, "3306/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])
        deadline = time.time() + 120
        while True:
            try:
                pymysql.connect(host="127.0.0.1", port=port, user="root", password=root_password,
                                connect_timeout=3).close()
                break
            except pymysql.err.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(1)
        yield port
    finally:
        docker("rm", "-f", "-v", name, check=False)


def mariadb_login_ok(port: int, user: str, password: str, database: str | None) -> bool:
    """Whether `user` may open `database` on the loopback MariaDB at `port`."""
    import pymysql

    try:
        pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=database,
                        connect_timeout=5).close()
        return True
    except pymysql.err.OperationalError:
        return False
