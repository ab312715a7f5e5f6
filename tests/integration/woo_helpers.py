"""Helpers and fixtures for the WooCommerce-link integration tests.

Used by test_webhooks.py, test_events.py, test_jobs.py and test_sync.py:
import the fixtures by name (`from woo_helpers import woo_svc, fake, linked`)
so pytest registers them in the test module.

Isolation: these tests run their own service instance (`woo_svc`) on their
own database (`woo_db`, migrated here), never the session database, so the
session `service` (with its slow default JOB_* settings and its own workers)
can never claim one of these jobs. Knobs are small so retries and polling
are quick: JOB_POLL_MS=100, JOB_BACKOFF_MS=50, JOB_BACKOFF_MAX_MS=200.

Every fake shop (tests/fakes/fake_woo.py, in-process) is stopped at the end
of its test; every service at the end of its module (or test, for
service_factory instances).

WOO_IT_NO_OPENAPI=1 skips the contract check (only while the spec for the
WooCommerce routes is not written yet); by default every response of the
service is checked against openapi/openapi.yaml as everywhere else.
"""

import http.client
import os
import secrets
import socket
import sys
import time
from pathlib import Path

import pytest

from aftersale_it import (HTTP_TIMEOUT, ISSUED_SECRETS, RFC3339_UTC, Client, Service, free_port,
                          make_response, openapi_check, run_cli)

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from fakes.fake_woo import (HOOKSHOT_UA, REST_PREFIX, FakeWoo, _Resp, oauth_sign,  # noqa: E402,F401
                            php_json, wc_error_bare, webhook_signature)

RFC3339 = RFC3339_UTC
CHECK_OPENAPI = os.environ.get("WOO_IT_NO_OPENAPI") != "1"

# The eight topics aftersale subscribes to (src/woo/link.c, docs/api.md).
TOPICS = ["order.created", "order.updated", "order.deleted", "order.restored",
          "customer.created", "customer.updated", "customer.deleted",
          "action.woocommerce_order_status_completed"]
ACTION_COMPLETED = "action.woocommerce_order_status_completed"

# Fast job settings for every instance started here.
FAST_ENV = {
    "WORKERS": "2",
    "JOB_POLL_MS": "100",
    "JOB_BACKOFF_MS": "50",
    "JOB_BACKOFF_MAX_MS": "200",
    "JOB_LEASE_S": "5",
    "WOO_TIMEOUT_MS": "5000",
    "WOO_CONNECT_TIMEOUT_MS": "1000",
    # alerts of one-click survey scores at the click (test_surveys_alert_hold.py holds them)
    "SURVEY_ALERT_HOLD_S": "0",
}


# --------------------------------------------------------------------------
# polling


def wait_for(fn, timeout=10.0, interval=0.05, what="condition"):
    """Call fn() every `interval` s until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# database and service


def new_migrated_db(pg, base_env):
    name = pg.create_db()
    env = dict(base_env)
    env.pop("PORT", None)
    env["DATABASE_URL"] = pg.url(name)
    p = run_cli(["migrate"], env)
    assert p.returncode == 0, f"migrate failed:\n{p.stderr}\n{p.stdout}"
    return name


def service_env(pg, db, port, **extra):
    """Env overrides for service_factory / Service: our db, fast jobs, PUBLIC_URL = itself."""
    env = dict(FAST_ENV)
    env["DATABASE_URL"] = pg.url(db)
    env["PORT"] = str(port)
    env["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    env.update({k: v for k, v in extra.items()})
    return env


def client(url, token=None):
    return Client(url, token, check=CHECK_OPENAPI)


def assert_no_secrets_in_logs(svc, extra=()):
    logs = svc.logs()
    leaked = [s for s in set(ISSUED_SECRETS) | set(extra) if s and s in logs]
    assert not leaked, f"secrets found in the service log: {[s[:8] + '...' for s in leaked]}"


@pytest.fixture(scope="module")
def woo_db(pg, base_env, migrated):
    return new_migrated_db(pg, base_env)


@pytest.fixture(scope="module")
def woo_svc(pg, base_env, woo_db, workdir, request):
    """One service on woo_db with fast job settings and PUBLIC_URL set to itself."""
    port = free_port()
    env = dict(base_env)
    env.update(service_env(pg, woo_db, port))
    name = "woo-" + request.module.__name__.rsplit(".", 1)[-1]
    svc = Service(env, workdir / "logs", name)
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        raise
    svc.db = woo_db
    svc.secrets = set()  # consumer secrets given to this service
    yield svc
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


@pytest.fixture(scope="module")
def woo_admin(woo_svc, admin_token):
    c = client(woo_svc.url, admin_token)
    yield c
    c.close()


@pytest.fixture
def fake():
    """A fake WooCommerce shop with fresh keys, stopped after the test."""
    shop = FakeWoo("ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)).start()
    try:
        yield shop
    finally:
        shop.stop()


class Linked:
    """A shop in aftersale whose url is a fake WooCommerce shop."""

    def __init__(self, svc, admin_client, fake, name=None):
        body = {"name": name or f"Woo {secrets.token_hex(3)}", "url": fake.base_url,
                "consumer_key": fake.consumer_key, "consumer_secret": fake.consumer_secret,
                "currency": "EUR", "timezone": "UTC"}
        r = admin_client.post("/v1/shops", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        self.svc = svc
        self.fake = fake
        self.id = created["id"]
        self.api_key = created["api_key"]
        self.secret = created["webhook_secret"]
        self.api = client(svc.url, self.api_key)
        self.hook_path = f"/v1/webhooks/woocommerce/{self.id}"
        self.hook_url = svc.url + self.hook_path
        if hasattr(svc, "secrets"):
            svc.secrets.add(fake.consumer_secret)
        ISSUED_SECRETS.add(fake.consumer_secret)

    # -- deliveries
    def deliver(self, topic, payload=None, **kw):
        return deliver(self.svc.port, self.id, self.secret, topic, payload, **kw)

    def deliver_order(self, order_id, topic="order.updated", **kw):
        """Deliver the fake's current state of the order (or the action payload)."""
        return self.deliver(topic, self.fake.webhook_payload(topic, order_id), **kw)

    # -- reading state through the API
    def job(self, job_id):
        r = self.api.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_job(self, job_id, statuses=("done",), timeout=10.0):
        def check():
            j = self.job(job_id)
            return j if j["status"] in statuses else None
        return wait_for(check, timeout, what=f"job {job_id} to be {'/'.join(statuses)}")

    def jobs(self, **query):
        return list_all(self.api, "/v1/jobs", **query)

    def events(self, **query):
        return list_all(self.api, "/v1/events", **query)

    def find_job(self, kind, pred=lambda j: True, timeout=10.0):
        return wait_for(lambda: next((j for j in self.jobs(kind=kind) if pred(j)), None),
                        timeout, what=f"a {kind} job")

    def delivery_jobs_done(self, timeout=10.0):
        """Wait until no woo.delivery / woo.order_fetch job of this shop is pending or running."""
        def idle():
            busy = [j for j in self.jobs() if j["kind"] in ("woo.delivery", "woo.order_fetch")
                    and j["status"] in ("pending", "running")]
            return not busy
        wait_for(idle, timeout, what="the shop's delivery jobs to finish")

    def close(self):
        self.api.close()


@pytest.fixture
def linked(woo_svc, woo_admin, fake):
    shop = Linked(woo_svc, woo_admin, fake)
    yield shop
    shop.close()


def list_all(api, path, **query):
    """Every item of a paged list (follows next_cursor)."""
    items, params = [], {k: v for k, v in query.items() if v is not None}
    params.setdefault("limit", 100)
    for _ in range(1000):
        r = api.get(path, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if not body["next_cursor"]:
            return items
        params["cursor"] = body["next_cursor"]
    raise AssertionError("list does not end")


# --------------------------------------------------------------------------
# deliveries, sent like WC_Webhook::deliver() (HTTP/1.0, raw socket) but with
# every header under the test's control, and the response contract-checked.


def delivery_headers(topic, body, secret, webhook_id=1, delivery_id=None, signature=...,
                     source="http://127.0.0.1/"):
    resource, _, event = topic.partition(".")
    if delivery_id is None:
        delivery_id = secrets.token_hex(16)
    h = [("User-Agent", HOOKSHOT_UA),
         ("Content-Type", "application/json"),
         ("X-WC-Webhook-Source", source),
         ("X-WC-Webhook-Topic", topic),
         ("X-WC-Webhook-Resource", resource),
         ("X-WC-Webhook-Event", event)]
    sig = webhook_signature(secret, body) if signature is ... else signature
    if sig is not None:
        h.append(("X-WC-Webhook-Signature", sig))
    h += [("X-WC-Webhook-ID", str(webhook_id)), ("X-WC-Webhook-Delivery-ID", delivery_id)]
    return h


def raw_post(port, path, body, headers, http_version="1.0", timeout=HTTP_TIMEOUT):
    """POST over a raw socket; returns the (contract-checked) response and
    whether the server closed the connection after it."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = [f"POST {path} HTTP/{http_version}", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines += [f"Content-Length: {len(body)}", "", ""]
    data = "\r\n".join(lines).encode("latin-1") + body
    url = f"http://127.0.0.1:{port}{path}"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        hr = http.client.HTTPResponse(s, method="POST")
        hr.begin()
        payload = hr.read()
        resp = make_response("POST", url, hr.status, hr.reason, hr.getheaders(), payload)
        resp.raw_version = hr.version
        resp.closed_after = None
        if http_version == "1.0" or ("Connection", "close") in headers:
            s.settimeout(2.0)  # the server must close: don't wait on a kept-alive one
            try:
                resp.closed_after = s.recv(1) == b""
            except socket.timeout:
                resp.closed_after = False
    if CHECK_OPENAPI:
        openapi_check(resp)
    return resp


def deliver(port, shop_id, secret, topic, payload=None, body=None, **kw):
    """Send one signed delivery; payload is PHP-json-encoded unless body (bytes/str) is given."""
    http_version = kw.pop("http_version", "1.0")
    if body is None:
        body = php_json(payload).strip()
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = delivery_headers(topic, body, secret, **kw)
    return raw_post(port, f"/v1/webhooks/woocommerce/{shop_id}", body, headers, http_version)


# --------------------------------------------------------------------------
# database


def db_query(pg, db, sql, params=None):
    return pg.query(db, sql, params)


def deliveries_count(pg, db, shop_id):
    return db_query(pg, db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s",
                    (shop_id,))[0][0]


def order_row(pg, db, shop_id, order_id):
    rows = db_query(pg, db,
                    "SELECT status, to_char(date_modified_gmt AT TIME ZONE 'UTC',"
                    " 'YYYY-MM-DD\"T\"HH24:MI:SS'), refunded_total::text, deleted"
                    " FROM orders WHERE shop_id = %s AND order_id = %s", (shop_id, order_id))
    return rows[0] if rows else None


# --------------------------------------------------------------------------
# the fake shop: things its API lacks, done here


def fake_order_answers(fake, order_id, resp):
    """Make the fake answer GET /orders/{order_id} with `resp` (a fake _Resp).

    The fake has no switch for this; its route table dispatches through
    getattr(self, handler), so an instance attribute wraps the handler.
    """
    orig = fake._order_get

    def patched(oid, params, query, body):
        if oid == order_id:
            return resp
        return orig(oid, params, query, body)
    fake._order_get = patched


def fake_fail_nth_webhook_create(fake, n):
    """The n-th POST /webhooks (1-based) answers 500 before creating anything.

    fail_next(path_prefix=...) cannot tell GET /webhooks from POST /webhooks.
    """
    orig = fake._webhook_create
    count = {"n": 0}

    def patched(params, query, body):
        count["n"] += 1
        if count["n"] == n:
            return _Resp(500, {"code": "internal_server_error", "message": "boom",
                               "data": {"status": 500}})
        return orig(params, query, body)
    fake._webhook_create = patched


def answered(calls):
    return [c for c in calls if c["outcome"] == "answered" and c["status"] and c["status"] < 300]


def order_calls(fake, order_id):
    """GET /orders/{id} calls the fake recorded."""
    return [c for c in fake.calls(method="GET") if c["path"] == f"{REST_PREFIX}/orders/{order_id}"]

