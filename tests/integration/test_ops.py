"""Operations: health, readiness, metrics, request ids, logs, routing errors,
HTTP/1.0, graceful shutdown, database outages, migrations and start-up config."""

import http.client
import json
import re
import socket
import time
from pathlib import Path

import pytest
import requests

from aftersale_it import (
    MAX_BODY_BYTES,
    REPO,
    Client,
    PgCluster,
    assert_problem,
    openapi_check,
    make_response,
    read_http_response,
    raw_http,
    run_cli,
    shop_body,
)

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def migration_files():
    return sorted(Path(REPO / "sql").glob("[0-9][0-9][0-9]_*.sql"))


# --------------------------------------------------------------------------
# health and readiness


def test_healthz_returns_ok(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"status": "ok"}


def test_readyz_reports_ready_with_migration_count(anon):
    r = anon.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert isinstance(body["migrations"], int) and body["migrations"] >= 1
    files = migration_files()
    if files:
        assert body["migrations"] == len(files)


def test_readyz_migration_count_matches_schema_migrations(anon, pg, db_name):
    rows = pg.query(db_name, "SELECT count(*) FROM schema_migrations")
    assert anon.get("/readyz").json()["migrations"] == rows[0][0]


# --------------------------------------------------------------------------
# metrics


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] for every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = dict(LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def sample(samples, name, **labels):
    for n, l, v in samples:
        if n == name and all(l.get(k) == str(val) for k, val in labels.items()):
            return v
    return None


def get_metrics(anon):
    r = anon.get("/metrics")
    assert r.status_code == 200
    return r, parse_metrics(r.text)


def test_metrics_content_type_is_prometheus_text(anon):
    r, _ = get_metrics(anon)
    ctype = r.headers["Content-Type"]
    assert ctype.startswith("text/plain"), ctype
    assert "version=0.0.4" in ctype, ctype


def test_metrics_has_request_counter(anon):
    anon.get("/healthz")
    r, samples = get_metrics(anon)
    assert "# TYPE aftersale_http_requests_total counter" in r.text
    assert sample(samples, "aftersale_http_requests_total", route="/healthz", method="GET",
                  status="200") is not None, r.text[:3000]


def test_metrics_has_duration_histogram(anon):
    anon.get("/healthz")
    r, samples = get_metrics(anon)
    assert "# TYPE aftersale_http_request_duration_seconds histogram" in r.text
    buckets = [(l, v) for n, l, v in samples
               if n == "aftersale_http_request_duration_seconds_bucket" and l.get("route") == "/healthz"]
    assert len(buckets) >= 2, r.text[:3000]
    assert any(l.get("le") == "+Inf" for l, _ in buckets)
    # cumulative buckets are non-decreasing in le order
    finite = sorted((float(l["le"]), v) for l, v in buckets if l["le"] != "+Inf")
    values = [v for _, v in finite]
    assert values == sorted(values)
    inf = [v for l, v in buckets if l["le"] == "+Inf"][0]
    count = sample(samples, "aftersale_http_request_duration_seconds_count", route="/healthz")
    assert count == inf
    assert sample(samples, "aftersale_http_request_duration_seconds_sum", route="/healthz") is not None


def test_metrics_has_pool_gauges(anon):
    r, samples = get_metrics(anon)
    assert sample(samples, "aftersale_db_pool_connections", state="in_use") is not None, r.text[:3000]
    assert sample(samples, "aftersale_db_pool_connections", state="idle") is not None
    assert sample(samples, "aftersale_db_pool_waits_total") is not None
    assert sample(samples, "aftersale_db_pool_timeouts_total") is not None


def test_metrics_has_build_info(anon):
    r, samples = get_metrics(anon)
    info = [(l, v) for n, l, v in samples if n == "aftersale_build_info"]
    assert len(info) == 1, r.text[:3000]
    labels, value = info[0]
    assert value == 1
    assert "version" in labels and "commit" in labels


def test_metrics_counter_increases_after_requests(anon):
    _, before = get_metrics(anon)
    b = sample(before, "aftersale_http_requests_total", route="/healthz", method="GET", status="200") or 0
    for _ in range(3):
        assert anon.get("/healthz").status_code == 200
    _, after = get_metrics(anon)
    a = sample(after, "aftersale_http_requests_total", route="/healthz", method="GET", status="200")
    assert a is not None and a >= b + 3


def test_metrics_counts_error_statuses(admin):
    admin.get("/v1/shops/999999999")
    _, samples = get_metrics(admin)
    v = sample(samples, "aftersale_http_requests_total", route="/v1/shops/{id}", method="GET",
               status="404")
    assert v is not None and v >= 1


# --------------------------------------------------------------------------
# request ids


def test_request_id_is_echoed_when_given(anon):
    rid = "abc-123.X:y_z"
    r = anon.get("/healthz", headers={"X-Request-Id": rid})
    assert r.headers.get("X-Request-Id") == rid


def test_request_id_of_128_chars_is_echoed(anon):
    rid = "a" * 128
    r = anon.get("/healthz", headers={"X-Request-Id": rid})
    assert r.headers.get("X-Request-Id") == rid


def test_request_id_is_generated_when_absent(anon):
    r = anon.get("/healthz")
    assert HEX32.match(r.headers.get("X-Request-Id", "")), r.headers


def test_request_ids_generated_are_unique(anon):
    ids = {anon.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("bad", ["has space", "a" * 129, "slash/inside", "semi;colon", "\u00e9t\u00e9".encode().decode("latin-1"), ""],
                         ids=["space", "129chars", "slash", "semicolon", "non-ascii", "empty"])
def test_request_id_is_generated_when_invalid(anon, bad):
    r = anon.get("/healthz", headers={"X-Request-Id": bad})
    got = r.headers.get("X-Request-Id", "")
    assert got != bad
    assert HEX32.match(got), got


def test_problem_body_carries_the_request_id(anon):
    rid = "trace-problem-1"
    r = anon.get("/no/such/path", headers={"X-Request-Id": rid})
    body = assert_problem(r, 404, "not-found")
    assert body["request_id"] == rid


# --------------------------------------------------------------------------
# the access log


def wait_log_record(svc, rid, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for rec in svc.log_records():
            if rid in [str(v) for v in rec.values()]:
                return rec
        time.sleep(0.05)
    raise AssertionError(f"no JSON log line with request id {rid}:\n{svc.stdout()[-3000:]}")


def test_request_is_logged_as_json_line_on_stdout(service, new_shop):
    _, shop_client = new_shop()
    rid = "log-test-" + str(time.time_ns())
    r = shop_client.get("/v1/shop", headers={"X-Request-Id": rid})
    assert r.status_code == 200
    shop_id = r.json()["id"]
    # on stdout, as one JSON object per line
    deadline = time.monotonic() + 3
    line = None
    while time.monotonic() < deadline and line is None:
        for raw in service.stdout().splitlines():
            if rid in raw:
                line = raw
                break
        time.sleep(0.05)
    assert line is not None, "request not logged on stdout"
    rec = json.loads(line)
    assert rec.get("request_id") == rid, rec
    assert rec.get("method") == "GET", rec
    assert rec.get("route") == "/v1/shop", rec
    assert int(rec.get("status")) == 200, rec
    dur_keys = [k for k in rec if "dur" in k or k in ("ms", "elapsed_ms", "latency_ms")]
    assert dur_keys, f"no duration in {rec}"
    assert float(rec[dur_keys[0]]) >= 0
    shop_keys = [k for k in ("shop_id", "shop") if k in rec]
    assert shop_keys and int(rec[shop_keys[0]]) == shop_id, rec


def test_log_never_contains_credentials(service, admin, new_shop, admin_token):
    shop, shop_client = new_shop()
    shop_client.get("/v1/shop")
    admin.get(f"/v1/shops/{shop['id']}")
    key = admin.post(f"/v1/shops/{shop['id']}/api-keys").json()["api_key"]
    Client(service.url, key).get("/v1/shop")
    Client(service.url, "ask_" + "x" * 43).get("/v1/shop")  # a bad key is not logged either
    time.sleep(0.3)
    logs = service.logs()
    assert admin_token not in logs
    for secret in (shop["api_key"], key, "ask_" + "x" * 43, shop["webhook_secret"],
                   shop["token_secret"], shop["_input"]["consumer_secret"]):
        assert secret not in logs, f"{secret[:8]}... found in the log"


# --------------------------------------------------------------------------
# routing errors


def test_unknown_path_is_404_problem(anon):
    assert_problem(anon.get("/v1/nothing-here"), 404, "not-found")


def test_unknown_path_with_credentials_is_404_problem(admin):
    assert_problem(admin.get("/v1/shops/1/nothing"), 404, "not-found")


def test_wrong_method_is_405_with_allow_header(anon):
    r = anon.delete("/healthz")
    assert_problem(r, 405, "method-not-allowed")
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
    assert "GET" in allow and "DELETE" not in allow, r.headers


def test_wrong_method_on_collection_lists_its_methods(admin):
    r = admin.put("/v1/shops", json={})
    assert_problem(r, 405, "method-not-allowed")
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
    assert {"GET", "POST"} <= allow and "PUT" not in allow, r.headers


def test_wrong_method_on_shop_route_allows_get_and_patch(anon):
    r = anon.delete("/v1/shop")
    assert_problem(r, 405, "method-not-allowed")
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
    assert allow == {"GET", "PATCH"}, r.headers


def test_unknown_path_with_body_is_404_not_413(admin):
    r = admin.post("/v1/nothing", data=b"x" * (MAX_BODY_BYTES + 100),
                   headers={"Content-Type": "application/json"})
    assert_problem(r, 404, "not-found")


# --------------------------------------------------------------------------
# HTTP/1.0


class HTTP10Connection(http.client.HTTPConnection):
    _http_vsn = 10
    _http_vsn_str = "HTTP/1.0"


def test_http_1_0_request_works(service):
    conn = HTTP10Connection("127.0.0.1", service.port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        hr = conn.getresponse()
        body = hr.read()
        resp = make_response("GET", service.url + "/healthz", hr.status, hr.reason,
                             hr.getheaders(), body)
        openapi_check(resp)
        assert hr.status == 200
        assert json.loads(body) == {"status": "ok"}
    finally:
        conn.close()


def test_http_1_0_without_host_header_works(service):
    r = raw_http(service.port, b"GET /healthz HTTP/1.0\r\n\r\n", "GET", "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


# --------------------------------------------------------------------------
# graceful shutdown


def test_sigterm_finishes_in_flight_request_and_exits_0(service_factory, admin_token):
    svc = service_factory.start(name="sigterm")
    body = json.dumps(shop_body()).encode()
    head = (f"POST /v1/shops HTTP/1.1\r\nHost: 127.0.0.1:{svc.port}\r\n"
            f"Authorization: Bearer {admin_token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as s:
        s.sendall(head + body[:10])
        time.sleep(0.3)  # the request is now in flight (headers read, body incomplete)
        svc.terminate()
        time.sleep(0.3)
        s.sendall(body[10:])
        r = read_http_response(s, "POST", svc.url + "/v1/shops")
    assert r.status_code == 201, r.text
    rc = svc.wait_exit(10)
    assert rc == 0, f"exit code {rc}:\n{svc.stderr()[-3000:]}"
    svc.stop()  # sanitizer scan; the process is already gone


def test_sigterm_stops_idle_service_with_exit_0(service_factory):
    svc = service_factory.start(name="sigterm-idle")
    assert svc.stop() == 0


# --------------------------------------------------------------------------
# database outage (a separate cluster, so the session one stays up)


def test_database_outage_gives_503_and_service_recovers(base_env, service_factory):
    cluster = PgCluster()
    try:
        cluster.start()
        db = cluster.create_db("outage")
        env = {"DATABASE_URL": cluster.url(db)}
        p = run_cli(["migrate"], {**base_env, **env, "PORT": None})
        assert p.returncode == 0, p.stderr
        svc = service_factory.start(env=env, name="outage")
        admin = Client(svc.url, svc.admin_token)
        r = admin.post("/v1/shops", json=shop_body())
        assert r.status_code == 201, r.text
        shop = Client(svc.url, r.json()["api_key"])
        assert shop.get("/v1/shop").status_code == 200
        assert admin.get("/readyz").status_code == 200

        cluster.stop()

        r = admin.get("/readyz")
        assert_problem(r, 503, "unavailable")
        assert r.headers.get("Retry-After") == "1"
        for _ in range(3):  # also once the pool has noticed the broken connections
            r = shop.get("/v1/shop")
            assert_problem(r, 503, "unavailable")
            assert r.headers.get("Retry-After") == "1"
        r = admin.get("/v1/shops")
        assert_problem(r, 503, "unavailable")
        assert r.headers.get("Retry-After") == "1"
        assert admin.get("/healthz").status_code == 200  # never touches the database

        cluster.start()  # same port, same data

        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            status = admin.get("/readyz").status_code
            if status == 200:
                break
            assert status == 503
            time.sleep(0.2)
        assert status == 200, "readyz did not recover after the database came back"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = shop.get("/v1/shop")
            if r.status_code == 200:
                break
            assert r.status_code == 503, r.text
            time.sleep(0.2)
        assert r.status_code == 200, r.text
        assert admin.get("/v1/shops").status_code == 200
        assert svc.proc.poll() is None, "service died during the outage"
        assert all(s != 500 for _, _, s in admin.history + shop.history)
    finally:
        cluster.destroy()


def test_readyz_is_503_when_a_migration_is_missing(base_env, fresh_db, pg, service_factory):
    name, url = fresh_db
    assert run_cli(["migrate"], {**base_env, "DATABASE_URL": url, "PORT": None}).returncode == 0
    svc = service_factory.start(env={"DATABASE_URL": url}, name="half-migrated")
    c = Client(svc.url)
    assert c.get("/readyz").status_code == 200
    pg.query(name, "DELETE FROM schema_migrations WHERE ctid = (SELECT max(ctid) FROM schema_migrations)")
    assert_problem(c.get("/readyz"), 503, "unavailable")


# --------------------------------------------------------------------------
# migrations


def test_serve_refuses_unmigrated_database(base_env, fresh_db):
    _, url = fresh_db
    from aftersale_it import free_port
    try:
        p = run_cli(["serve"], {**base_env, "DATABASE_URL": url, "PORT": str(free_port())}, timeout=15)
    except Exception as exc:  # subprocess.TimeoutExpired: it served instead of refusing
        pytest.fail(f"serve did not refuse an unmigrated database: {exc}")
    assert p.returncode != 0
    assert "migrate" in p.stderr.lower(), p.stderr


def test_migrate_twice_is_a_noop(base_env, fresh_db, pg):
    name, url = fresh_db
    env = {**base_env, "DATABASE_URL": url, "PORT": None}
    p1 = run_cli(["migrate"], env)
    assert p1.returncode == 0, p1.stderr
    rows1 = pg.query(name, "SELECT * FROM schema_migrations ORDER BY 1")
    p2 = run_cli(["migrate"], env)
    assert p2.returncode == 0, p2.stderr
    rows2 = pg.query(name, "SELECT * FROM schema_migrations ORDER BY 1")
    assert rows1 == rows2
    assert len(rows1) >= 1


def test_migrate_applies_every_sql_file(base_env, fresh_db, pg):
    name, url = fresh_db
    p = run_cli(["migrate"], {**base_env, "DATABASE_URL": url, "PORT": None})
    assert p.returncode == 0, p.stderr
    files = migration_files()
    assert files, "no sql/NNN_*.sql files"
    assert pg.query(name, "SELECT count(*) FROM schema_migrations")[0][0] == len(files)


def test_migrate_refuses_changed_checksum(base_env, fresh_db, pg):
    name, url = fresh_db
    env = {**base_env, "DATABASE_URL": url, "PORT": None}
    assert run_cli(["migrate"], env).returncode == 0
    ctype = pg.query(name, "SELECT data_type FROM information_schema.columns "
                           "WHERE table_name = 'schema_migrations' AND column_name = 'checksum'")
    assert ctype, "schema_migrations has no checksum column"
    if ctype[0][0] == "bytea":
        newval = "set_byte(checksum, 0, (get_byte(checksum, 0) + 1) % 256)"
    else:  # hex text: rotate every digit, same length, different value
        newval = "translate(checksum, '0123456789abcdefABCDEF', '123456789abcdef0BCDEFA')"
    pg.query(name, f"UPDATE schema_migrations SET checksum = {newval} "
                   f"WHERE ctid = (SELECT min(ctid) FROM schema_migrations)")
    p = run_cli(["migrate"], env)
    assert p.returncode != 0
    out = (p.stderr + p.stdout).lower()
    assert any(w in out for w in ("checksum", "changed", "modified", "mismatch")), p.stderr


# --------------------------------------------------------------------------
# start-up configuration


@pytest.mark.parametrize("var,value", [
    ("PORT", "abc"),
    ("PORT", "70000"),
    ("THREADS", "0"),
    ("THREADS", "many"),
    ("MAX_BODY_BYTES", "-1"),
    ("MAX_BODY_BYTES", "12abc"),
    ("AFTERSALE_SECRET_KEY", "short"),
    ("AFTERSALE_SECRET_KEY", "z" * 64),
], ids=lambda v: v if len(v) < 20 else v[:6] + "...")
def test_bad_config_value_stops_startup(base_env, var, value):
    from aftersale_it import free_port
    env = {**base_env, "PORT": str(free_port()), var: value}
    try:
        p = run_cli(["serve"], env, timeout=15)
    except Exception as exc:  # subprocess.TimeoutExpired: it started anyway
        pytest.fail(f"serve started with {var}={value!r}: {exc}")
    assert p.returncode != 0
    assert var in p.stderr + p.stdout, f"message does not name {var}:\n{p.stderr}\n{p.stdout}"
