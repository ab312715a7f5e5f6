"""A burst of webhook deliveries: every one answered 2xx, every one stored once.

WooCommerce never retries a failed delivery (woocommerce-api.md §4.6): a 503
from the receive route loses that delivery until the next reconciliation. So
under a burst the receive route must not answer 503 for contention: not for
a lock held by job processing, not for a duplicate id being inserted at the
same moment, not for the pool.

The burst: BURST_DELIVERIES (200) deliveries, BURST_CONCURRENCY (32) at a
time, each on its own HTTP/1.0 connection like WC_Webhook::deliver(), for a
few orders only (many distinct snapshots of each, plus the action topic),
with most deliveries being exact replays (same body, same delivery id) of
another one. Job processing of the first deliveries runs while the burst is
still arriving, so the receive route and the workers touch the same orders.

Asserted: every answer is 2xx; every distinct body is stored exactly once
and processed by exactly one woo.delivery job; replays are answered as
duplicates. No timing assertion: the answer times and the causes of any
non-2xx answer (the service's "request failed" log lines) are printed as the
measurement (docs/reliability.md, "Webhook bursts").
"""

import os
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from aftersale_it import Service, free_port
from woo_helpers import (ACTION_COMPLETED, Linked, assert_no_secrets_in_logs, client,  # noqa: F401
                         delivery_headers, fake, linked, php_json, raw_post, service_env,
                         wait_for, woo_admin, woo_db)

DELIVERIES = int(os.environ.get("BURST_DELIVERIES") or 200)
CONCURRENCY = int(os.environ.get("BURST_CONCURRENCY") or 32)
ORDERS = 4
SNAPSHOTS = 8  # distinct order.updated bodies per order


def _start(pg, base_env, db, workdir, name, extra):
    port = free_port()
    env = dict(base_env)
    env.update(service_env(pg, db, port, **extra))
    svc = Service(env, workdir / "logs", name)
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        raise
    svc.db = db
    svc.secrets = set()
    return svc


@pytest.fixture(scope="module")
def woo_svc(pg, base_env, woo_db, workdir):
    """woo_helpers' service, plus BURST_SERVICE_ENV ("K=V,K=V") for measuring
    other settings (e.g. DB_LOCK_TIMEOUT_MS=1 makes every lock wait of a
    request a 503, to see which waits there are)."""
    extra = dict(kv.split("=", 1) for kv in
                 (os.environ.get("BURST_SERVICE_ENV") or "").split(",") if kv)
    svc = _start(pg, base_env, woo_db, workdir, "woo-burst", extra)
    yield svc
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


@pytest.fixture(scope="module")
def tight_svc(pg, base_env, woo_db, workdir):
    """The general request bounds at 1 ms: any request that waits for a pool
    connection or a lock at all passes DB_ACQUIRE_MS / DB_LOCK_TIMEOUT_MS.
    This is the loaded machine in compressed time: the receive route's waits
    must be bounded by its own WEBHOOK_DB_WAIT_MS, not by these."""
    svc = _start(pg, base_env, woo_db, workdir, "woo-burst-tight",
                 {"DB_ACQUIRE_MS": "1", "DB_LOCK_TIMEOUT_MS": "1"})
    yield svc
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


def _percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def _build_burst(linked, rng):
    """[(topic, body bytes, delivery id)]: distinct deliveries first in the
    list's multiset, then replays of them, all shuffled together."""
    fake = linked.fake
    distinct = []
    for n in range(ORDERS):
        oid = fake.add_order(status="processing", email=f"burst{n}@example.com")["id"]
        for k in range(SNAPSHOTS):
            fake.update_order(oid, customer_note=f"snapshot {k}")
            body = php_json(fake.webhook_payload("order.updated", oid)).strip().encode()
            distinct.append(("order.updated", body, secrets.token_hex(16)))
        fake.complete_order(oid)
        body = php_json(fake.webhook_payload(ACTION_COMPLETED, oid)).strip().encode()
        distinct.append((ACTION_COMPLETED, body, secrets.token_hex(16)))
    assert len({b for _, b, _ in distinct}) == len(distinct)  # really distinct
    sends = list(distinct)
    while len(sends) < DELIVERIES:
        sends.append(rng.choice(distinct))  # a replay: same body, same delivery id
    rng.shuffle(sends)
    return distinct, sends


def _pool_metrics(svc):
    """{name: value} of the aftersale_db_pool_* counters on /metrics."""
    import urllib.request
    with urllib.request.urlopen(svc.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return {k: float(v) for k, v in (line.split()[:2] for line in text.splitlines()
                                     if line.startswith("aftersale_db_pool_"))}


class WaitSampler:
    """Samples pg_stat_activity every 20 ms while the burst runs: which
    statements of the service wait, and on what (Lock/transactionid is a
    row or unique-index wait, Lock/object a NOTIFY commit, ...)."""

    def __init__(self, pg, db):
        self.conn = pg.connect(db)
        self.seen = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = time.monotonic() + 120  # bounded whatever happens
        while not self.stop.is_set() and time.monotonic() < deadline:
            with self.conn.cursor() as cur:
                cur.execute("SELECT wait_event_type || '/' || wait_event, left(a.query, 60)"
                            " || ' <- blocked by: ' || coalesce((SELECT b.state || ': '"
                            " || left(b.query, 50) FROM pg_stat_activity b"
                            " WHERE b.pid = (pg_blocking_pids(a.pid))[1]), '-')"
                            " FROM pg_stat_activity a WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid() AND state = 'active'"
                            " AND wait_event_type IN ('Lock', 'LWLock')")
                for row in cur.fetchall():
                    self.seen[row] = self.seen.get(row, 0) + 1
            self.stop.wait(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        self.conn.close()


class LockWaitLog:
    """With BURST_LOCK_WAITS=1: PostgreSQL logs every lock wait longer than
    2 ms (log_lock_waits, deadlock_timeout) during the burst; the waiting
    statements are counted from its log afterwards. Settings restored."""

    def __init__(self, pg):
        self.pg = pg
        self.on = os.environ.get("BURST_LOCK_WAITS") == "1"
        self.waits = {}

    def _set(self, sql):
        conn = self.pg.connect()
        try:
            with conn.cursor() as cur:
                for stmt in sql:
                    cur.execute(stmt)
                cur.execute("SELECT pg_reload_conf()")
        finally:
            conn.close()
        time.sleep(0.2)

    def __enter__(self):
        if self.on:
            self.mark = len(self.pg.log_text())
            self._set(["ALTER SYSTEM SET log_lock_waits = on",
                       "ALTER SYSTEM SET deadlock_timeout = '2ms'"])
        return self

    def __exit__(self, *exc):
        if not self.on:
            return
        self._set(["ALTER SYSTEM RESET log_lock_waits", "ALTER SYSTEM RESET deadlock_timeout"])
        lines = self.pg.log_text()[self.mark:].splitlines()
        for i, line in enumerate(lines):
            if "still waiting for" in line or "acquired " in line and " after " in line:
                if "acquired" in line:
                    continue
                what = line.split("still waiting for", 1)[1].split(" on ")[0].strip()
                stmt = next((l.split("STATEMENT:", 1)[1].strip()[:60] for l in lines[i + 1:i + 4]
                             if "STATEMENT:" in l), "?")
                self.waits[(what, stmt)] = self.waits.get((what, stmt), 0) + 1


def _failure_log_lines(svc):
    recs = [r for r in svc.log_records() if r.get("msg") == "request failed"]
    return [f"{r.get('kind')} {r.get('sqlstate')} {r.get('detail')}" for r in recs]


def test_burst_every_delivery_answered_2xx_and_stored_once(linked, woo_svc, pg):
    _burst(linked, woo_svc, pg)


def test_burst_under_tight_request_bounds_still_answers_2xx(tight_svc, admin_token, fake, pg):
    admin = client(tight_svc.url, admin_token)
    shop = Linked(tight_svc, admin, fake)
    try:
        _burst(shop, tight_svc, pg)
    finally:
        shop.close()
        admin.close()


def _burst(linked, woo_svc, pg):
    seed = int(os.environ.get("BURST_SEED") or random.SystemRandom().randrange(2 ** 32))
    print(f"BURST_SEED={seed} BURST_DELIVERIES={DELIVERIES} BURST_CONCURRENCY={CONCURRENCY}")
    rng = random.Random(seed)
    distinct, sends = _build_burst(linked, rng)
    failed_before = len(_failure_log_lines(woo_svc))
    start = threading.Barrier(min(CONCURRENCY, len(sends)))

    def send(item):
        topic, body, delivery_id = item
        if threading.get_ident() not in started:
            started.add(threading.get_ident())
            start.wait(timeout=30)  # all threads fire together: a burst, not a trickle
        headers = delivery_headers(topic, body, linked.secret, delivery_id=delivery_id)
        t0 = time.monotonic()
        r = raw_post(linked.svc.port, linked.hook_path, body, headers, timeout=60)
        return item, r, time.monotonic() - t0

    started = set()
    pool0 = _pool_metrics(woo_svc)
    with LockWaitLog(pg) as lockwaits, WaitSampler(pg, woo_svc.db) as waits, \
            ThreadPoolExecutor(CONCURRENCY) as ex:
        results = list(ex.map(send, sends))
    pool1 = _pool_metrics(woo_svc)

    statuses = [r.status_code for _, r, _ in results]
    times = [t for _, _, t in results]
    non2xx = [(r.status_code, r.text[:200]) for _, r, _ in results if not 200 <= r.status_code < 300]
    causes = _failure_log_lines(woo_svc)[failed_before:]
    print(f"answers: {len(results)}, non-2xx: {len(non2xx)}, "
          f"statuses: { {s: statuses.count(s) for s in set(statuses)} }, "
          f"p50 {_percentile(times, 50) * 1000:.0f} ms, p99 {_percentile(times, 99) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    print("pool: " + ", ".join(f"{k[len('aftersale_db_pool_'):]} +{pool1[k] - pool0.get(k, 0):g}"
                               for k in sorted(pool1) if k.endswith("_total")))
    for (ev, q), n in sorted(waits.seen.items(), key=lambda kv: -kv[1]):
        print(f"  waiting x{n} samples: {ev}: {q}")
    for (what, q), n in sorted(lockwaits.waits.items(), key=lambda kv: -kv[1]):
        print(f"  lock wait > 2 ms x{n}: {what}: {q}")
    for c in sorted(set(causes)):
        print(f"  cause x{causes.count(c)}: {c}")
    assert not non2xx, (f"{len(non2xx)} of {len(results)} deliveries not answered 2xx "
                        f"(WooCommerce never resends them): {non2xx[:5]}; causes: {causes[:5]}")

    # Each distinct body stored once; the first answer for it says so, every
    # other one is a duplicate of that same row.
    ids_by_body = {}
    for (topic, body, _), r, _ in results:
        j = r.json()
        assert j["status"] == "received", j
        if not j["duplicate"]:
            assert body not in ids_by_body, "a body was stored twice"
            ids_by_body[body] = j["id"]
    assert set(ids_by_body) == {b for _, b, _ in distinct}
    assert sum(1 for _, r, _ in results if r.json()["duplicate"]) == len(sends) - len(distinct)

    rows = pg.query(woo_svc.db, "SELECT id, body FROM webhook_deliveries WHERE shop_id = %s",
                    (linked.id,))
    stored = {bytes(b): i for i, b in rows}
    assert len(rows) == len(distinct) and stored == ids_by_body

    # Every stored delivery processed by exactly one woo.delivery job.
    def processed():
        n = pg.query(woo_svc.db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s"
                     " AND status = 'processed'", (linked.id,))[0][0]
        return n == len(distinct)
    wait_for(processed, timeout=60, what="every stored delivery to be processed")
    jobs = pg.query(woo_svc.db, "SELECT payload->>'delivery', count(*) FROM jobs"
                    " WHERE shop_id = %s AND kind = 'woo.delivery' GROUP BY 1", (linked.id,))
    assert sorted(int(d) for d, _ in jobs) == sorted(ids_by_body.values())
    assert all(n == 1 for _, n in jobs)

    def jobs_idle():
        return pg.query(woo_svc.db, "SELECT count(*) FROM jobs WHERE shop_id = %s AND status"
                        " IN ('pending', 'running') AND kind IN ('woo.delivery', 'woo.order_fetch')", (linked.id,))[0][0] == 0
    wait_for(jobs_idle, timeout=60, what="the shop's delivery and fetch jobs to finish")


def test_replay_is_answered_while_a_job_holds_the_delivery_row(linked, woo_svc, pg):
    """The woo.delivery job UPDATEs its delivery's row inside the
    transaction that does the per-order work. A replay of that delivery
    arriving meanwhile must be answered (200, duplicate) without waiting for
    that transaction; before, INSERT ... ON CONFLICT waited for it and, past
    the lock timeout, answered 503 (a lost delivery). Here a transaction of
    the test stands for the job: it holds the row's uncommitted UPDATE until
    the replay's answer is in."""
    o = linked.fake.add_order(status="processing")
    body = php_json(linked.fake.webhook_payload("order.updated", o["id"])).strip().encode()
    delivery_id = secrets.token_hex(16)
    first = raw_post(linked.svc.port, linked.hook_path, body,
                     delivery_headers("order.updated", body, linked.secret,
                                      delivery_id=delivery_id))
    assert first.status_code == 200 and first.json()["duplicate"] is False, first.text
    stored = first.json()["id"]
    linked.delivery_jobs_done(timeout=30)

    holder = pg.connect(woo_svc.db)
    holder.autocommit = False
    answers = {}
    try:
        with holder.cursor() as cur:
            cur.execute("UPDATE webhook_deliveries SET note = coalesce(note, '') WHERE shop_id = %s"
                        " AND id = %s", (linked.id, stored))
            assert cur.rowcount == 1

        def replay():
            answers["replay"] = raw_post(
                linked.svc.port, linked.hook_path, body,
                delivery_headers("order.updated", body, linked.secret, delivery_id=delivery_id),
                timeout=60)
        t = threading.Thread(target=replay, daemon=True)
        t.start()
        t.join(60)  # bounded; the holder stays open until the answer is in
        assert not t.is_alive(), "the replay got no answer within 60 s"
        open_while_answered = holder.get_transaction_status() != 0  # not idle: still open
    finally:
        holder.rollback()
        holder.close()
    r = answers["replay"]
    assert open_while_answered
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "received", "duplicate": True, "id": None}
    n = pg.query(woo_svc.db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s",
                 (linked.id,))[0][0]
    assert n == 1
