"""Server reliability: a PostgreSQL restart, slow requests beside fast ones,
bounded statements, one instance per port, and the access-log switch.

Each test starts its own service (service_factory) so that its settings
(THREADS, pool size, timeouts, ACCESS_LOG) are known; the restart test also
uses its own PostgreSQL cluster so the session one stays up.
"""

import concurrent.futures as cf
import json
import secrets
import time

import psycopg2
import pytest
import requests

from aftersale_it import Client, PgCluster, assert_problem, free_port, run_cli, shop_body


def make_shop(svc):
    r = Client(svc.url, svc.admin_token).post("/v1/shops", json=shop_body())
    assert r.status_code == 201, r.text
    return r.json()


def burst(url, key, n=40, timeout=10):
    """n concurrent GET /v1/shop, each on its own connection; the statuses."""
    def one(_):
        try:
            return Client(url, key).get("/v1/shop", timeout=timeout).status_code
        except requests.RequestException as exc:
            return repr(exc)
    with cf.ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(one, range(n)))


def new_account(pg, db, shop_id):
    email = f"slow-{secrets.token_hex(4)}@example.com"
    rows = pg.query(db, "INSERT INTO loyalty_accounts (shop_id, email) VALUES (%s, %s) RETURNING id",
                    (shop_id, email))
    return rows[0][0]


def hold_row_lock(pg, db, shop_id, account_id):
    """A transaction holding the account row FOR UPDATE; close() releases it."""
    conn = psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname=db,
                            connect_timeout=10)
    cur = conn.cursor()
    cur.execute("SELECT id FROM loyalty_accounts WHERE shop_id = %s AND id = %s FOR UPDATE",
                (shop_id, account_id))
    assert cur.fetchone() is not None
    return conn


def adjust(url, key, account_id, timeout=30):
    """The adjustment, its response checked against openapi.yaml."""
    return Client(url, key).post(f"/v1/loyalty/accounts/{account_id}/adjustments",
                                 json={"points": 5, "reason": "reliability test"},
                                 timeout=timeout)


# --------------------------------------------------------------------------
# item 5: a PostgreSQL restart must not cost requests once it is back


def test_no_503_after_postgresql_restart(base_env, service_factory):
    cluster = PgCluster()
    try:
        cluster.start()
        db = cluster.create_db("restart")
        env = {"DATABASE_URL": cluster.url(db), "THREADS": "4", "DB_POOL_SIZE": "10",
               "WORKERS": "0"}
        p = run_cli(["migrate"], {**base_env, **env, "PORT": None})
        assert p.returncode == 0, p.stderr
        svc = service_factory.start(env=env, name="restart")
        key = make_shop(svc)["api_key"]
        # every pooled connection open and recently used
        assert burst(svc.url, key) == [200] * 40

        cluster.stop()
        cluster.start()  # same port, same data

        right_after = burst(svc.url, key)
        time.sleep(2)
        later = burst(svc.url, key)
        assert right_after == [200] * 40, f"right after the restart: {right_after}"
        assert later == [200] * 40, f"2 s after the restart: {later}"
        assert svc.proc.poll() is None
    finally:
        cluster.destroy()


# --------------------------------------------------------------------------
# item 6: requests waiting on the database do not stall the others


def probe(client, path):
    t0 = time.monotonic()
    r = client.get(path, timeout=5)
    return r.status_code, time.monotonic() - t0


def test_slow_requests_do_not_stall_health_metrics_or_other_shops(pg, db_name, service_factory):
    threads = 4
    svc = service_factory.start(env={"THREADS": str(threads), "DB_POOL_SIZE": "20",
                                     "WORKERS": "0", "DB_LOCK_TIMEOUT_MS": "20000"},
                                name="slow")
    slow_shop, other_shop = make_shop(svc), make_shop(svc)
    account = new_account(pg, db_name, slow_shop["id"])
    # the adjustment works when nothing holds the row
    r = adjust(svc.url, slow_shop["api_key"], account)
    assert r.status_code == 201, r.text

    lock = hold_row_lock(pg, db_name, slow_shop["id"], account)
    slow_results = []
    try:
        nslow = threads + 2
        with cf.ThreadPoolExecutor(max_workers=nslow) as ex:
            futures = [ex.submit(adjust, svc.url, slow_shop["api_key"], account)
                       for _ in range(nslow)]
            time.sleep(0.5)  # they are all waiting on the lock now
            assert not any(f.done() for f in futures), "adjustments did not wait on the lock"
            timings = {"healthz": [], "metrics": [], "other shop": []}
            clients = {"healthz": Client(svc.url), "metrics": Client(svc.url),
                       "other shop": Client(svc.url, other_shop["api_key"])}
            t_end = time.monotonic() + 3.0
            n = 0
            while time.monotonic() < t_end or n < 100:
                for name, path in (("healthz", "/healthz"), ("metrics", "/metrics"),
                                   ("other shop", "/v1/shop")):
                    status, secs = probe(clients[name], path)
                    assert status == 200, (name, status)
                    timings[name].append(secs)
                n += 1
                if n >= 300:
                    break
            still_waiting = sum(not f.done() for f in futures)
            lock.close()  # releases the row
            lock = None
            slow_results = [f.result() for f in futures]
    finally:
        if lock is not None:
            lock.close()
    assert still_waiting == nslow, "the slow requests stopped waiting before the probes ended"
    for name, ts in timings.items():
        ts.sort()
        assert len(ts) >= 100
        assert ts[-1] < 0.5, f"{name}: slowest probe {ts[-1]:.3f} s while requests waited"
        assert ts[len(ts) // 2] < 0.1, f"{name}: median probe {ts[len(ts) // 2]:.3f} s"
    assert [r.status_code for r in slow_results] == [201] * len(slow_results), \
        [(r.status_code, r.text) for r in slow_results]


def assert_failure_logged(svc, resp, sqlstate, setting):
    """The 503's log line names the SQLSTATE and the setting to look at."""
    rid = resp.headers["X-Request-Id"]
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        recs = [rec for rec in svc.log_records()
                if rec.get("msg") == "request failed" and rec.get("request_id") == rid]
        if recs:
            assert recs[0]["sqlstate"] == sqlstate, recs
            assert setting in recs[0]["detail"], recs
            return
        time.sleep(0.05)
    raise AssertionError(f"no 'request failed' line for {rid}:\n{svc.stdout()[-3000:]}")


def test_lock_wait_longer_than_lock_timeout_is_503_and_service_stays_healthy(
        pg, db_name, service_factory):
    svc = service_factory.start(env={"DB_LOCK_TIMEOUT_MS": "700", "WORKERS": "0"},
                                name="locktimeout")
    shop = make_shop(svc)
    account = new_account(pg, db_name, shop["id"])
    lock = hold_row_lock(pg, db_name, shop["id"], account)
    try:
        t0 = time.monotonic()
        r = adjust(svc.url, shop["api_key"], account)
        took = time.monotonic() - t0
    finally:
        lock.close()
    assert_problem(r, 503, "unavailable")
    assert r.headers.get("Retry-After") == "1"
    assert_failure_logged(svc, r, "55P03", "DB_LOCK_TIMEOUT_MS")
    assert 0.6 < took < 5, took
    # nothing was written, and the next try works
    r = adjust(svc.url, shop["api_key"], account)
    assert r.status_code == 201, r.text
    assert Client(svc.url).get("/healthz").status_code == 200
    assert Client(svc.url).get("/readyz").status_code == 200
    rows = pg.query(db_name, "SELECT count(*) FROM loyalty_ledger WHERE shop_id = %s AND "
                    "account_id = %s", (shop["id"], account))
    assert rows[0][0] == 1


def test_statement_running_longer_than_statement_timeout_is_503(pg, db_name, service_factory):
    # lock_timeout off: the wait on the lock counts against statement_timeout
    svc = service_factory.start(env={"DB_LOCK_TIMEOUT_MS": "0", "DB_STATEMENT_TIMEOUT_MS": "700",
                                     "WORKERS": "0"}, name="stmttimeout")
    shop = make_shop(svc)
    account = new_account(pg, db_name, shop["id"])
    lock = hold_row_lock(pg, db_name, shop["id"], account)
    try:
        t0 = time.monotonic()
        r = adjust(svc.url, shop["api_key"], account)
        took = time.monotonic() - t0
    finally:
        lock.close()
    assert_problem(r, 503, "unavailable")
    assert_failure_logged(svc, r, "57014", "DB_STATEMENT_TIMEOUT_MS")
    assert 0.6 < took < 5, took
    assert adjust(svc.url, shop["api_key"], account).status_code == 201


@pytest.mark.parametrize("var,value", [("DB_LOCK_TIMEOUT_MS", "-1"),
                                       ("DB_STATEMENT_TIMEOUT_MS", "soon"),
                                       ("ACCESS_LOG", "loud")])
def test_bad_timeout_or_access_log_value_stops_startup(base_env, var, value):
    p = run_cli(["serve"], {**base_env, "PORT": str(free_port()), var: value}, timeout=15)
    assert p.returncode != 0
    assert var in p.stderr + p.stdout


# --------------------------------------------------------------------------
# item 8: one instance per port


def test_second_instance_on_a_busy_port_fails_and_first_keeps_serving(service_factory):
    first = service_factory.start(name="first")
    port = first.port
    t0 = time.monotonic()
    second = service_factory.start(env={"PORT": str(port), "THREADS": "2", "LOG_LEVEL": "debug"},
                                   wait=False, name="second")
    rc = second.wait_exit(10)
    took = time.monotonic() - t0
    assert rc is not None, "a second instance on the same port kept running"
    assert rc != 0
    assert took < 5, took
    out = second.logs()
    assert str(port) in out and "in use" in out, out
    second.stopped = True
    # every request still reaches the first instance
    client = Client(first.url)
    for _ in range(50):
        assert client.get("/healthz", timeout=5).status_code == 200
    assert first.proc.poll() is None


# --------------------------------------------------------------------------
# item 18: ACCESS_LOG


def access_lines(svc, prefix):
    return [rec for rec in svc.log_records()
            if rec.get("msg") == "request" and str(rec.get("request_id", "")).startswith(prefix)]


@pytest.mark.parametrize("mode,log_level,expected", [
    ("on", "info", {200: 4, 404: 2, 401: 1}),
    ("on", "warn", {200: 4, 404: 2, 401: 1}),  # its own switch: LOG_LEVEL does not hide it
    ("errors", "info", {404: 2, 401: 1}),
    ("off", "info", {}),
])
def test_access_log_modes(service_factory, mode, log_level, expected):
    svc = service_factory.start(env={"ACCESS_LOG": mode, "LOG_LEVEL": log_level, "WORKERS": "0"},
                                name=f"access-{mode}-{log_level}")
    prefix = f"acc-{secrets.token_hex(4)}-"
    n = 0

    client = Client(svc.url)

    def get(path):
        nonlocal n
        n += 1
        return client.get(path, headers={"X-Request-Id": f"{prefix}{n}"}, timeout=5)

    for _ in range(3):
        assert get("/healthz").status_code == 200
    assert get("/metrics").status_code == 200
    assert get("/nowhere").status_code == 404
    assert get("/v1/nothing-here").status_code == 404
    assert get("/v1/shop").status_code == 401
    time.sleep(0.3)
    svc.stop()
    lines = access_lines(svc, prefix)
    counts = {}
    for rec in lines:
        counts[rec["status"]] = counts.get(rec["status"], 0) + 1
    assert counts == expected, json.dumps(lines, indent=1)
    for rec in lines:  # one line per request, with what it always had
        assert rec["method"] == "GET" and "duration_ms" in rec and "route" in rec
        assert rec["level"] == ("info" if rec["status"] < 400 else "warn")
