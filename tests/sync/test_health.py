"""The per-flow health endpoint (for Zabbix) and the webhook trigger, over real HTTP on loopback."""
import time

import pytest
import requests

from itstack_sync.engine import Engine
from itstack_sync.health import HealthServer
from sync.cases import AssetsCase

TOKEN = "s3cret-trigger"


@pytest.fixture
def served(store):
    case = AssetsCase(store)
    woken = []
    srv = HealthServer(store.health, [case.name, "never_ran"], woken.append, TOKEN, host="127.0.0.1", port=0,
                       max_lag=60).start()
    yield case, f"http://127.0.0.1:{srv.port}", woken
    srv.stop()
    case.close()


def test_health_reports_last_success_lag_and_dead_letters(served):
    case, url, _ = served
    case.add(0)
    case.add(1)
    case.invalid(1)
    Engine(case.store).run(case.flow)
    r = requests.get(f"{url}/health/{case.name}", timeout=5)
    body = r.json()
    assert r.status_code == 200 and body["ok"] and body["dead_letters"] == 1
    assert 0 <= body["lag_seconds"] < 5 and body["last_success"] <= time.time()
    # a flow that never ran is unhealthy, and so is the whole service
    assert requests.get(f"{url}/health/never_ran", timeout=5).status_code == 503
    whole = requests.get(f"{url}/health", timeout=5)
    assert whole.status_code == 503 and whole.json()["flows"][case.name]["ok"]
    # a failed run: unhealthy with the reason, which names no credential
    case.target_fake.revoke()
    case.add(2)
    Engine(case.store).run(case.flow)
    body = requests.get(f"{url}/health/{case.name}", timeout=5).json()
    assert not body["ok"] and "401" in body["last_error"] and "s3cret" not in str(body)


def test_trigger_needs_the_token_and_ignores_the_body(served):
    case, url, woken = served
    assert requests.post(f"{url}/trigger/{case.name}", timeout=5).status_code == 401
    assert requests.post(f"{url}/trigger/{case.name}", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
    r = requests.post(f"{url}/trigger/{case.name}", headers={"Authorization": f"Bearer {TOKEN}"},
                      json={"anything": "the app sends"}, timeout=5)
    assert r.status_code == 202
    assert requests.post(f"{url}/trigger/{case.name}/{TOKEN}", timeout=5).status_code == 202
    assert requests.post(f"{url}/trigger/unknown/{TOKEN}", timeout=5).status_code == 404
    assert woken == [case.name, case.name]
