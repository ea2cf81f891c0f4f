"""Every one-way flow through the same scenarios, against fakes of the apps' documented APIs
(tests/sync/fakes.py) over real loopback HTTP, with the state in SQLite (the same SQL runs on
PostgreSQL in tests/containers/test_sync_postgres.py)."""
import json
import threading

import pytest

from itstack_sync.engine import Engine
from sync import cases
from sync.cases import CASES

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request, store):
    c = request.param(store)
    yield c
    c.close()


def run(case):
    return Engine(case.store).run(case.flow)


def writes(fake):
    if hasattr(fake, "models"):  # Odoo: every call is a POST; count the writing methods instead
        return fake.rpc_writes
    return sum(fake.calls[m] for m in WRITES)


def test_first_sync_then_second_changes_nothing(case):
    for i in range(5):
        case.add(i)
    r = run(case)
    assert (r.error, r.created, r.dead) == (None, 5, 0)
    assert case.target() == {i: case.expect(i, 0) for i in range(5)}
    before = writes(case.target_fake)
    r = run(case)
    assert (r.error, r.created, r.updated, r.deleted, r.dead) == (None, 0, 0, 0, 0)
    assert writes(case.target_fake) == before, "a second run with nothing changed wrote to the target"
    assert case.count() == 5


@pytest.mark.parametrize("case", [c for c in CASES if c.updates], ids=[c.name for c in CASES if c.updates],
                         indirect=True)
def test_update(case):
    for i in range(3):
        case.add(i)
    run(case)
    case.add(1, v=1)
    r = run(case)
    assert (r.error, r.created, r.updated) == (None, 0, 1)
    assert case.target() == {0: case.expect(0, 0), 1: case.expect(1, 1), 2: case.expect(2, 0)}
    assert case.count() == 3


@pytest.mark.parametrize("case", [c for c in CASES if c.deletes], ids=[c.name for c in CASES if c.deletes],
                         indirect=True)
def test_delete_or_close(case):
    for i in range(3):
        case.add(i)
    run(case)
    case.remove(1)
    r = run(case)
    assert r.error is None and r.deleted + r.updated == 1
    t = case.target()
    assert case.gone(t, 1) and t[0] == case.expect(0, 0) and t[2] == case.expect(2, 0)
    r = run(case)
    assert r.created + r.updated + r.deleted == 0


def test_event_replayed_by_the_source_creates_nothing(case):
    """For event streams (calls) 'second sync' is also the PBX sending the same call again."""
    case.add(0)
    run(case)
    case.add(0)
    r = run(case)
    assert r.created == 0 and case.count() == 1


def test_5xx_then_success_retries_with_backoff(case):
    for i in range(3):
        case.add(i)
    cases.SLEEPS.clear()
    case.target_fake.fail(503, 2)
    r = run(case)
    assert (r.error, r.created, r.dead) == (None, 3, 0)
    assert len(cases.SLEEPS) == 2, "each 503 should cost one backoff delay"
    assert case.target() == {i: case.expect(i, 0) for i in range(3)}


def test_5xx_that_persists_stops_the_run_and_loses_nothing(case):
    for i in range(3):
        case.add(i)
    case.target_fake.fail(502, 50)
    r = run(case)
    assert r.error and "502" in r.error
    assert case.store.dead_letters(case.name) == {}
    case.target_fake.failures.clear()
    r = run(case)
    assert r.error is None and case.target() == {i: case.expect(i, 0) for i in range(3)} and case.count() == 3


def test_4xx_is_not_retried(case):
    case.add(0)
    cases.SLEEPS.clear()
    case.target_fake.fail(422, 1)
    r = run(case)
    assert cases.SLEEPS == []
    assert r.error is None


def test_401_dead_letters_the_record_and_stops_until_fixed(case):
    for i in range(3):
        case.add(i)
    case.target_fake.revoke()
    r = run(case)
    dead = case.store.dead_letters(case.name)
    assert len(dead) == 1 and any(w in next(iter(dead.values())) for w in ("401", "refused"))
    assert r.error and any(w in r.error for w in ("401", "refused"))
    assert case.count() == 0 if case.source_fake is not case.target_fake else True
    case.target_fake.revoked = False
    r = run(case)
    assert r.error is None and case.target() == {i: case.expect(i, 0) for i in range(3)}
    assert case.store.dead_letters(case.name) == {}, "a record that synced keeps no dead letter"


def test_bad_input_goes_to_dead_letters_and_the_flow_goes_on(case):
    for i in range(4):
        case.add(i)
    case.rename(1)
    case.invalid(2)
    r = run(case)
    dead = case.store.dead_letters(case.name)
    if case.rename_stops_flow:
        # the field is gone from the model, so every read fails: the flow stops, says why, and
        # writes nothing; once the mapping follows the rename it goes on where it stopped
        assert r.error and "ValueError" in r.error and case.count() == 0 and dead == {}
        case.unrename()
        r = run(case)
        dead = case.store.dead_letters(case.name)
        assert r.error is None and len(dead) == 1
        assert case.target() == {i: case.expect(i, 0) for i in (0, 1, 3)}
        return
    assert r.error is None and len(dead) == 2
    reasons = sorted(dead.values())
    assert any("renamed" in x for x in reasons), reasons
    good = {0, 3} if case.bad_keys_are_records() else {0, 1, 2, 3}
    assert case.target() == {i: case.expect(i, 0) for i in good}
    # no credential and no record data in a reason
    for x in reasons:
        assert "s3cret" not in x and "Offer" not in x and "+49" not in x


def test_garbage_answer_dead_letters_then_the_record_flows_again(case):
    for i in range(3):
        case.add(i)
    case.target_fake.garbage(1)
    r = run(case)
    assert r.error is None
    dead = case.store.dead_letters(case.name)
    assert len(dead) <= 1
    assert all("answer" in x or "JSON" in x for x in dead.values()), dead
    for key in dead:
        case.retry(case.index(key))
    r = run(case)
    assert case.target() == {i: case.expect(i, 0) for i in range(3)} and case.count() == 3
    assert case.store.dead_letters(case.name) == {}


def test_killed_mid_batch_resumes_without_duplicates_or_loss(case, child, tmp_path):
    n = 60
    for i in range(n):
        case.add(i)
    seen = []
    killed = threading.Event()

    def on_create():
        seen.append(1)
        if len(seen) == 25:
            child.kill()  # the app made the record; the sync never hears of it
            killed.set()
    case.target_fake.on_create = on_create
    proc = child.start(json.dumps(case.spec()), case.store_path)
    proc.wait(timeout=60)
    assert killed.is_set() and proc.returncode == -9, proc.stderr.read()[-2000:]
    case.target_fake.on_create = None
    assert 25 <= case.count() < n
    r = run(case)
    assert r.error is None, r.error
    assert case.count() == n, "duplicates or losses after resuming"
    assert case.target() == {i: case.expect(i, 0) for i in range(n)}


def test_1000_records(case):
    for i in range(1000):
        case.add(i)
    r = run(case)
    assert (r.error, r.created, r.dead) == (None, 1000, 0)
    assert case.count() == 1000
    r = run(case)
    assert r.created + r.updated + r.deleted == 0


def test_logs_hold_no_credentials_or_personal_data(case, caplog):
    import logging
    caplog.set_level(logging.DEBUG, logger="itstack_sync")
    for i in range(3):
        case.add(i)
    case.invalid(1)
    case.rename(2)
    run(case)
    case.add(0, v=1)
    case.target_fake.fail(503, 1)
    case.target_fake.revoke()
    run(case)
    text = caplog.text
    assert "dead letter" in text  # the logs do say what happened ...
    for leak in ("s3cret", "+4930555", "Offer ", "Task ", "Laptop", "pc-", "Outage", "core switch", "contract", "offer"):
        assert leak not in text, f"{leak!r} in the logs"  # ... never with whose data or which password
