"""Signed outbound webhooks (/v1/webhook-endpoints, docs/webhooks.md).

A receiver in this file (a tiny HTTP server on 127.0.0.1, in a thread)
records every request and answers as the test scripts it: 200, 500, a
redirect, or a hang (bounded by a few seconds: the service's
WEBHOOK_TIMEOUT_MS is 1 s here). Signatures are checked with an
independent implementation of the Standard Webhooks spec (Python's hmac
and base64), never with the service's code.

The module service allows 127.0.0.0/8 (WEBHOOK_ALLOW_PRIVATE, as the
receiver lives there), retries fast (WEBHOOK_RETRY_BASE_MS=200) and gives
an endpoint WEBHOOK_DISABLE_AFTER_S=3 seconds of failures. The SSRF test
starts a second service, on its own database, with the default "off".
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aftersale_it import ISSUED_SECRETS, Service, assert_problem, free_port
from loyalty_helpers import LoyalShop
from returns_helpers import ReturnsShop
from reviews_helpers import FAST_SETTINGS, ReviewShop, token_of, unique_email
from woo_helpers import (client, fake, list_all, new_migrated_db, service_env,  # noqa: F401
                         wait_for)

from fakes.smtp_sink import SmtpSink

ALERT_TO = "alerts@merchant.example"


# --------------------------------------------------------------------------
# the receiver


class Receiver:
    """Records requests; answers from a script of actions, then `default`."""

    def __init__(self, default="ok"):
        self.requests = []
        self.script = []
        self.default = default
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                           "body": body, "at": time.time()})
                    action = outer.script.pop(0) if outer.script else outer.default
                if action == "hang":
                    outer.stop_event.wait(3.0)  # bounded; the service gives up after 1 s
                    return
                if action == "redirect":
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                code = 500 if action == "500" else 200
                out = b'{"ok":true}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.redirect_to = None
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()

    def got(self):
        with self.lock:
            return list(self.requests)

    def wait(self, n, timeout=15.0, pred=lambda r: True):
        return wait_for(lambda: (lambda rs: rs if len(rs) >= n else None)(
            [r for r in self.got() if pred(r)]), timeout, interval=0.05,
            what=f"{n} request(s) at the receiver")


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


# --------------------------------------------------------------------------
# an independent Standard Webhooks verifier


def expected_signature(secret, msg_id, ts, body):
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{msg_id}.{ts}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signatures(req):
    h = {k.lower(): v for k, v in req["headers"].items()}
    out = []
    for part in h["webhook-signature"].split(" "):
        version, _, sig = part.partition(",")
        assert version == "v1", part
        out.append(sig)
    return out


def verifies(secret, req):
    h = {k.lower(): v for k, v in req["headers"].items()}
    exp = expected_signature(secret, h["webhook-id"], h["webhook-timestamp"], req["body"])
    return any(hmac.compare_digest(exp, s) for s in signatures(req))


def hdr(req, name):
    return {k.lower(): v for k, v in req["headers"].items()}[name]


def event(req):
    return json.loads(req["body"])


# --------------------------------------------------------------------------
# the service


@pytest.fixture(scope="module")
def sink():
    s = SmtpSink(port=0).start()
    try:
        yield s
    finally:
        s.stop()


def start_service(pg, base_env, workdir, sink, name, **extra):
    db = new_migrated_db(pg, base_env)
    port = free_port()
    env = dict(base_env)
    env.update(service_env(pg, db, port, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port),
                           SMTP_TLS="none", MAIL_FROM="shop@example.com", **extra))
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
def hk_svc(pg, base_env, migrated, workdir, sink):
    svc = start_service(pg, base_env, workdir, sink, "hooks",
                        WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8", WEBHOOK_TIMEOUT_MS="1000",
                        WEBHOOK_RETRY_BASE_MS="200", WEBHOOK_DISABLE_AFTER_S="3")
    yield svc
    svc.stop(check=True)
    logs = svc.logs()
    leaked = [s for s in set(ISSUED_SECRETS) | svc.secrets if s and s in logs]
    assert not leaked, f"secrets in the service log: {[s[:8] for s in leaked]}"


@pytest.fixture(scope="module")
def hk_admin(hk_svc, admin_token):
    c = client(hk_svc.url, admin_token)
    yield c
    c.close()


@pytest.fixture
def shop(hk_svc, hk_admin, fake):  # noqa: F811
    s = LoyalShop(hk_svc, hk_admin, fake)
    yield s
    s.close()


def add_endpoint(shop, url, types, **kw):
    r = shop.api.post("/v1/webhook-endpoints", json=dict(url=url, event_types=types, **kw))
    assert r.status_code == 201, r.text
    ep = r.json()
    ISSUED_SECRETS.add(ep["secret"])
    shop.svc.secrets.add(ep["secret"])
    return ep


def log_of(shop, ep_id):
    return list_all(shop.api, f"/v1/webhook-endpoints/{ep_id}/deliveries")


def an_account(shop, email=None):
    """A loyalty account (a guest order of 1.00 earns it a point)."""
    email = email or f"ann.{secrets.token_hex(3)}@example.com"
    shop.settings(points_per_unit="1", rounding="down")
    shop.completed_order("1.00", email=email)
    return shop.account_by_email(email)


def adjustment(req):
    ev = event(req)
    return ev["type"] == "loyalty.points_changed" and ev["data"]["reason"] == "adjustment"


# --------------------------------------------------------------------------
# the API


def test_endpoint_crud_secret_shown_once_and_url_checked(shop):
    r = shop.api.post("/v1/webhook-endpoints",
                      json={"url": "https://hooks.example.com/in", "event_types": ["review.created"],
                            "description": "help desk"})
    assert r.status_code == 201, r.text
    ep = r.json()
    ISSUED_SECRETS.add(ep["secret"])
    assert ep["secret"].startswith("whsec_") and len(base64.b64decode(ep["secret"][6:])) == 32
    assert (ep["url"], ep["event_types"], ep["enabled"]) == (
        "https://hooks.example.com/in", ["review.created"], True)

    got = shop.api.get(f"/v1/webhook-endpoints/{ep['id']}")
    assert got.status_code == 200 and "secret" not in got.json()
    assert [e["id"] for e in list_all(shop.api, "/v1/webhook-endpoints")] == [ep["id"]]

    p = shop.api.patch(f"/v1/webhook-endpoints/{ep['id']}",
                       json={"event_types": ["*"], "enabled": False})
    assert p.status_code == 200, p.text
    assert (p.json()["event_types"], p.json()["enabled"]) == (["*"], False)
    assert "secret" not in p.json()

    for bad in ("ftp://hooks.example.com/", "http://", "https://user:pw@example.com/", "hooks",
                "http:///path"):
        assert_problem(shop.api.post("/v1/webhook-endpoints",
                                     json={"url": bad, "event_types": ["review.created"]}),
                       422, "invalid-field", field="url")
    assert_problem(shop.api.post("/v1/webhook-endpoints",
                                 json={"url": "https://x.example/", "event_types": ["nope"]}),
                   422, "invalid-field", field="event_types")
    assert_problem(shop.api.patch(f"/v1/webhook-endpoints/{ep['id']}", json={"url": "gopher://x"}),
                   422, "invalid-field", field="url")

    assert shop.api.delete(f"/v1/webhook-endpoints/{ep['id']}").status_code == 204
    assert shop.api.get(f"/v1/webhook-endpoints/{ep['id']}").status_code == 404
    assert shop.api.delete(f"/v1/webhook-endpoints/{ep['id']}").status_code == 404


def test_other_shops_endpoint_is_404(shop, hk_svc, hk_admin):
    ep = add_endpoint(shop, "https://hooks.example.com/a", ["*"])
    other = LoyalShop(hk_svc, hk_admin, shop.fake)
    o = other.api
    try:
        assert o.get(f"/v1/webhook-endpoints/{ep['id']}").status_code == 404
        assert o.get(f"/v1/webhook-endpoints/{ep['id']}/deliveries").status_code == 404
        assert o.delete(f"/v1/webhook-endpoints/{ep['id']}").status_code == 404
    finally:
        other.close()


# --------------------------------------------------------------------------
# deliveries


def test_loyalty_adjustment_is_delivered_signed(shop, receiver):
    ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
    acct = an_account(shop)
    shop.adjust(acct["id"], 25, reason="goodwill")
    [req] = receiver.wait(1, pred=adjustment)
    ev = event(req)
    assert ev["data"]["account_id"] == acct["id"] and ev["data"]["delta"] == 25
    assert ev["data"]["balance"] == acct["balance"] + 25
    assert hdr(req, "content-type") == "application/json"
    assert hdr(req, "webhook-id").startswith("msg_")
    assert abs(int(hdr(req, "webhook-timestamp")) - time.time()) < 60
    assert len(signatures(req)) == 1
    assert verifies(ep["secret"], req)
    # A wrong secret does not verify: the check above means something.
    assert not verifies("whsec_" + base64.b64encode(b"x" * 32).decode(), req)
    log = wait_for(lambda: [a for a in log_of(shop, ep["id"])
                            if a["webhook_id"] == hdr(req, "webhook-id")
                            and a["delivery_status"] == "succeeded"] or None)
    assert (log[0]["attempt"], log[0]["status_code"], log[0]["error"]) == (1, 200, None)
    assert log[0]["event_type"] == "loyalty.points_changed" and log[0]["duration_ms"] >= 0


def test_retry_after_500_keeps_the_webhook_id(shop, receiver):
    ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
    acct = an_account(shop)
    receiver.wait(1)  # the order's earning event
    receiver.script = ["500"]
    shop.adjust(acct["id"], 7, reason="retry me")
    first, second = receiver.wait(2, pred=adjustment)
    assert hdr(first, "webhook-id") == hdr(second, "webhook-id")
    assert first["body"] == second["body"]
    assert verifies(ep["secret"], first) and verifies(ep["secret"], second)
    time.sleep(0.5)
    # The receiver, deduplicating by webhook-id, processed the event once.
    assert len({hdr(r, "webhook-id") for r in receiver.got() if adjustment(r)}) == 1
    assert len([r for r in receiver.got() if adjustment(r)]) == 2
    log = [a for a in log_of(shop, ep["id"]) if a["webhook_id"] == hdr(first, "webhook-id")]
    assert [(a["attempt"], a["status_code"]) for a in log] == [(1, 500), (2, 200)]
    assert "500" in log[0]["error"] and log[1]["error"] is None


def test_retry_after_a_timeout(shop, receiver):
    ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
    acct = an_account(shop)
    receiver.wait(1)
    receiver.script = ["hang"]
    shop.adjust(acct["id"], 3, reason="slow receiver")
    first, second = receiver.wait(2, pred=adjustment)
    assert hdr(first, "webhook-id") == hdr(second, "webhook-id")
    log = [a for a in log_of(shop, ep["id"]) if a["webhook_id"] == hdr(first, "webhook-id")]
    assert log[0]["status_code"] is None and "timed out" in log[0]["error"].lower()
    assert 900 <= log[0]["duration_ms"] < 3000
    assert log[-1]["status_code"] == 200


def test_replay_sends_the_same_message_again(shop, receiver):
    ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
    acct = an_account(shop)
    shop.adjust(acct["id"], 5, reason="replay me")
    [req] = receiver.wait(1, pred=adjustment)
    att = wait_for(lambda: [a for a in log_of(shop, ep["id"])
                            if a["webhook_id"] == hdr(req, "webhook-id")] or None)
    r = shop.api.post(f"/v1/webhook-endpoints/{ep['id']}/deliveries/{att[0]['delivery_id']}/replay")
    assert r.status_code == 202, r.text
    assert r.json()["webhook_id"] == hdr(req, "webhook-id")
    assert r.headers["Location"] == f"/v1/jobs/{r.json()['job_id']}"
    _, again = receiver.wait(2, pred=adjustment)
    assert hdr(again, "webhook-id") == hdr(req, "webhook-id") and again["body"] == req["body"]
    assert verifies(ep["secret"], again)
    assert shop.api.post(f"/v1/webhook-endpoints/{ep['id']}/deliveries/999999/replay"
                         ).status_code == 404


def test_rotation_signs_with_both_secrets_during_the_overlap(shop, receiver):
    ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
    old = ep["secret"]
    r = shop.api.post(f"/v1/webhook-endpoints/{ep['id']}/rotate-secret")
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    ISSUED_SECRETS.add(new)
    shop.svc.secrets.add(new)
    assert new != old and new.startswith("whsec_")
    assert r.json()["previous_secret_expires_at"] is not None
    acct = an_account(shop)
    shop.adjust(acct["id"], 2, reason="rotated")
    [req] = receiver.wait(1, pred=adjustment)
    assert len(signatures(req)) == 2
    h = {k.lower(): v for k, v in req["headers"].items()}
    sigs = signatures(req)
    assert expected_signature(new, h["webhook-id"], h["webhook-timestamp"], req["body"]) == sigs[0]
    assert expected_signature(old, h["webhook-id"], h["webhook-timestamp"], req["body"]) == sigs[1]


def test_endpoint_failing_too_long_is_disabled_and_the_merchant_told(shop, receiver, sink):
    r = shop.api.put("/v1/messaging/settings", json={"alert_email": ALERT_TO})
    assert r.status_code == 200, r.text
    receiver.default = "500"
    ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
    an_account(shop)

    def disabled():
        e = shop.api.get(f"/v1/webhook-endpoints/{ep['id']}").json()
        return e if not e["enabled"] else None
    e = wait_for(disabled, timeout=20.0, what="the endpoint to be disabled")
    assert e["disabled_reason"] and e["failing_since"]
    mail = wait_for(lambda: [m for m in list(sink.messages) if ALERT_TO in m["rcpt_tos"]
                             and receiver.url in str(m["message"]["Subject"])] or None, timeout=10.0,
                    what="the alert email")
    assert "disabled" in mail[0]["message"]["Subject"]
    n = len(receiver.got())
    assert n >= 2  # it was retried before it was given up
    attempts = log_of(shop, ep["id"])
    assert all(a["status_code"] == 500 for a in attempts)
    # Disabled: a new event is not delivered.
    acct = an_account(shop)
    shop.adjust(acct["id"], 1, reason="after disable")
    time.sleep(1.0)
    assert len(receiver.got()) == n
    # Replaying to a disabled endpoint is refused; enabled again, it works.
    rp = f"/v1/webhook-endpoints/{ep['id']}/deliveries/{attempts[0]['delivery_id']}/replay"
    assert_problem(shop.api.post(rp), 409, "conflict")
    receiver.default = "ok"
    p = shop.api.patch(f"/v1/webhook-endpoints/{ep['id']}", json={"enabled": True})
    assert p.status_code == 200 and p.json()["failing_since"] is None, p.text
    assert shop.api.post(rp).status_code == 202
    again = receiver.wait(n + 1)[-1]
    assert hdr(again, "webhook-id") == attempts[0]["webhook_id"]


def test_redirect_is_not_followed(shop, receiver):
    target = Receiver()
    try:
        receiver.default = "redirect"
        receiver.redirect_to = target.url
        ep = add_endpoint(shop, receiver.url, ["loyalty.points_changed"])
        an_account(shop)
        receiver.wait(1)
        log = wait_for(lambda: log_of(shop, ep["id"]) or None)
        assert log[0]["status_code"] == 302 and "redirect" in log[0]["error"]
        time.sleep(0.5)
        assert target.got() == []
    finally:
        target.stop()


# --------------------------------------------------------------------------
# events from the programmes


def test_return_created_is_delivered(hk_svc, hk_admin, fake, receiver):  # noqa: F811
    shop = ReturnsShop(hk_svc, hk_admin, fake)
    ep = add_endpoint(shop, receiver.url, ["return.created", "return.state_changed"])
    order = shop.order([("Mug", "10.00", 2)])
    ret = shop.create(order, [(0, 1, "changed_mind")])
    reqs = receiver.wait(1, pred=lambda r: event(r)["type"] == "return.created")
    ev = event(reqs[0])
    assert ev["data"]["return_id"] == ret["id"] and ev["data"]["to_state"] == "requested"
    assert verifies(ep["secret"], reqs[0])
    shop.act(ret["id"], "approve")
    reqs = receiver.wait(1, pred=lambda r: event(r)["type"] == "return.state_changed"
                         and event(r)["data"]["to_state"] == "approved")
    assert event(reqs[0])["data"]["from_state"] == "requested"


def test_review_created_is_delivered(hk_svc, hk_admin, sink, receiver):
    from reviews_helpers import FakeWoo, WP_APP_PASSWORD, WP_USER
    wf = FakeWoo("ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20),
                 wp_user=WP_USER, wp_app_password=WP_APP_PASSWORD,
                 wp_display_name="The Shop team").start()
    hk_svc.secrets.update({WP_APP_PASSWORD, WP_APP_PASSWORD.replace(" ", "")})
    shop = ReviewShop(hk_svc, hk_admin, wf, sink)
    try:
        ep = add_endpoint(shop, receiver.url, ["review.created"])
        shop.settings(**FAST_SETTINGS)
        mug = shop.fake.add_product("Blue Mug", "12.00")["id"]
        email = unique_email()
        shop.completed_order([mug], email)
        [mail] = shop.wait_mails(email, 1, timeout=15.0)
        r = shop.submit(token_of(mail.review_link), [{"product_id": mug, "rating": 5,
                                                      "body": "Great mug!"}])
        assert r.status_code == 201, r.text
        [req] = receiver.wait(1)
        ev = event(req)
        assert ev["type"] == "review.created"
        assert ev["data"]["id"] == r.json()["reviews"][0]["id"]
        assert ev["data"]["product_id"] == mug and ev["data"]["rating"] == 5
        assert verifies(ep["secret"], req)
    finally:
        shop.close()
        wf.stop()


# --------------------------------------------------------------------------
# SSRF: the default refuses private targets without connecting


@pytest.fixture
def strict_svc(pg, base_env, migrated, workdir, sink):
    svc = start_service(pg, base_env, workdir, sink, "hooks-strict",
                        WEBHOOK_RETRY_BASE_MS="200", WEBHOOK_DISABLE_AFTER_S="60")
    yield svc
    svc.stop(check=True)


def test_private_targets_are_refused_and_never_contacted(strict_svc, admin_token, fake,  # noqa: F811
                                                         receiver):
    adm = client(strict_svc.url, admin_token)
    shop = LoyalShop(strict_svc, adm, fake)
    try:
        eps = [add_endpoint(shop, u, ["loyalty.points_changed"]) for u in (
            receiver.url, f"http://localhost:{receiver.port}/hook",
            f"http://[::ffff:127.0.0.1]:{receiver.port}/hook",
            f"http://0x7f000001:{receiver.port}/hook")]
        an_account(shop)
        for ep in eps:
            log = wait_for(lambda: log_of(shop, ep["id"]) or None, timeout=15.0,
                           what=f"an attempt to {ep['url']}")
            assert log[0]["status_code"] is None
            assert log[0]["error"].startswith("refused"), log[0]["error"]
            assert "WEBHOOK_ALLOW_PRIVATE" in log[0]["error"]
        time.sleep(0.5)
        assert receiver.got() == []
    finally:
        shop.close()
        adm.close()
