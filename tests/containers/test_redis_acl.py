"""The Redis ACL file the program writes, loaded by a real redis-server (local image): each
consumer logs in with its own password only, and cannot run admin commands."""
import time

import pytest
import redis

from components.data.redis import ACL_FILE, _acl_line
from dockertools import docker, local_image, unique

RULES_ADMIN = "~* &* +@all"
RULES_CONSUMER = "~* &* +@all -@admin -@dangerous +info +select +keys"


@pytest.fixture
def server(tmp_path):
    acl = tmp_path / "users.acl"
    acl.write_text("\n".join([_acl_line("default", "admin-pw", RULES_ADMIN),
                              _acl_line("nextcloud", "nc-pw", RULES_CONSUMER),
                              _acl_line("zammad", "zm-pw", RULES_CONSUMER)]) + "\n")
    assert "nc-pw" not in acl.read_text(), "the ACL file holds hashes, never passwords"
    name = unique("itstack-redis-acl")
    docker("run", "-d", "--name", name, "-p", "127.0.0.1::6379", "-v", f"{acl}:{ACL_FILE}:ro",
           local_image("redis"), "redis-server", "--aclfile", ACL_FILE)
    try:
        port = int(docker("port", name, "6379/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])
        deadline = time.time() + 30
        while True:
            try:
                redis.Redis(port=port, username="default", password="admin-pw").ping()
                break
            except redis.exceptions.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.5)
        yield port
    finally:
        docker("rm", "-f", "-v", name, check=False)


def test_password_is_required(server):
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=server).ping()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=server, username="nextcloud", password="zm-pw").ping()


def test_consumer_uses_its_logical_database_but_no_admin_command(server):
    nc = redis.Redis(port=server, username="nextcloud", password="nc-pw", db=1)
    nc.set("k", "v")
    assert nc.get("k") == b"v" and nc.keys("*") == [b"k"]
    with pytest.raises(redis.exceptions.NoPermissionError):
        nc.config_get("*")
    with pytest.raises(redis.exceptions.NoPermissionError):
        nc.flushall()
