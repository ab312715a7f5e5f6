"""Helpers and fixtures for the review-request integration tests (test_reviews*.py).

Import the fixtures by name so pytest registers them in the test module:

    from reviews_helpers import rv_admin, rv_db, rv_svc, sink, wfake, rshop  # noqa: F401

Isolation, as in woo_helpers: every test module gets its own service
(`rv_svc`) on its own freshly migrated database (`rv_db`) with the fast job
knobs (JOB_POLL_MS=100, JOB_BACKOFF_MS=50, JOB_BACKOFF_MAX_MS=200,
JOB_LEASE_S=5) and PUBLIC_URL set to itself, sending mail to a real SMTP
server: `sink` (tests/fakes/smtp_sink.py, aiosmtpd; run the tests with
/usr/bin/python3) through SMTP_HOST=127.0.0.1, SMTP_PORT=<sink port>,
SMTP_TLS=none, MAIL_FROM=shop@example.com. Every test gets its own fake
WooCommerce shop (`wfake`, with a WordPress user and Application Password
for replies) and its own aftersale shop (`rshop`), so settings, statistics
and the contact policy never leak between tests; every customer address is
unique to its test, so the module's shared sink can be read per address.

Everything started here is stopped: the fake at the end of its test, the
sink and the service at the end of the module (the service with its exit
code and sanitizer check, and a search of its log for every secret handed
to it, the WordPress application password included).

The contract check (openapi/openapi.yaml) is on unless WOO_IT_NO_OPENAPI=1
(see woo_helpers.py); the final run must have it on.
"""

import base64
import datetime as dt
import json
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from aftersale_it import ISSUED_SECRETS, Service, free_port
from loyalty_helpers import claims_for, mint
from woo_helpers import (REST_PREFIX, FakeWoo, assert_no_secrets_in_logs,  # noqa: F401
                         client, deliver, list_all, new_migrated_db, service_env, wait_for)

from fakes.smtp_sink import SmtpSink  # noqa: E402  (woo_helpers put tests/ on sys.path)

WP_USER = "shopmanager"
WP_APP_PASSWORD = "abcd efgh ijkl mnop qrst uvwx"
MAIL_FROM = "shop@example.com"

# Fast review settings for tests (seconds, not days).
FAST_SETTINGS = {"delay": "PT1S", "reminder_delay": "PT2S", "reminder_count": 1,
                 "expiry": "PT6S", "auto_approve_min_rating": 4,
                 "incentive": {"kind": "points"}}

REVIEW_JOB_KINDS = ("reviews.schedule", "reviews.cancel", "reviews.send", "reviews.expire",
                    "reviews.publish", "reviews.reply", "reviews.coupon")


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def sink():
    s = SmtpSink(port=0).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def rv_db(pg, base_env, migrated):
    return new_migrated_db(pg, base_env)


@pytest.fixture(scope="module")
def rv_svc(pg, base_env, rv_db, sink, workdir, request):
    port = free_port()
    env = dict(base_env)
    env.update(service_env(pg, rv_db, port, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port),
                           SMTP_TLS="none", MAIL_FROM=MAIL_FROM))
    name = "rv-" + request.module.__name__.rsplit(".", 1)[-1]
    svc = Service(env, workdir / "logs", name)
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        raise
    svc.db = rv_db
    svc.secrets = {WP_APP_PASSWORD, WP_APP_PASSWORD.replace(" ", "")}
    yield svc
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


@pytest.fixture(scope="module")
def rv_admin(rv_svc, admin_token):
    c = client(rv_svc.url, admin_token)
    yield c
    c.close()


@pytest.fixture
def wfake():
    """A fake WooCommerce shop that also has a WordPress user with an
    application password (for replies through /wp-json/wp/v2/comments)."""
    shop = FakeWoo("ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20),
                   wp_user=WP_USER, wp_app_password=WP_APP_PASSWORD,
                   wp_display_name="The Shop team").start()
    try:
        yield shop
    finally:
        shop.stop()


@pytest.fixture
def rshop(rv_svc, rv_admin, wfake, sink):
    shop = ReviewShop(rv_svc, rv_admin, wfake, sink)
    yield shop
    shop.close()


def unique_email(tag="ann"):
    return f"{tag}.{secrets.token_hex(4)}@example.com"


# --------------------------------------------------------------------------
# email


class Mail:
    """One message the sink received, with the parts the tests read."""

    def __init__(self, raw):
        self.raw = raw
        self.msg = raw["message"]
        self.to = raw["rcpt_tos"]
        self.subject = str(self.msg["Subject"])
        self.message_id = str(self.msg["Message-ID"])
        self.text = self._part("text/plain")
        self.html = self._part("text/html")

    def _part(self, ctype):
        part = self.msg.get_body(preferencelist=(ctype.split("/")[1],))
        assert part is not None and part.get_content_type() == ctype, \
            f"no {ctype} part in:\n{self.raw['data'][:3000]!r}"
        return part.get_content()

    def header(self, name):
        v = self.msg[name]
        return None if v is None else str(v)

    @property
    def review_link(self):
        """The link to the whole request (no product, no rating)."""
        links = re.findall(r"https?://[^\s\"'<>]+/review\?token=[A-Za-z0-9._-]+(?![&A-Za-z0-9._-])",
                           self.text)
        assert links, f"no review link in the text part:\n{self.text}"
        return links[0]

    @property
    def unsubscribe_url(self):
        v = self.header("List-Unsubscribe")
        assert v, "no List-Unsubscribe header"
        m = re.search(r"<(https?://[^>]+)>", v)
        assert m, v
        return m.group(1)


def token_of(url):
    return parse_qs(urlsplit(url).query)["token"][0]


def path_of(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def jwt_claims(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


# --------------------------------------------------------------------------
# the shop


class ReviewShop:
    """An aftersale shop linked to a fake WooCommerce shop, with the token
    secret kept (to mint customer tokens) and the review helpers."""

    def __init__(self, svc, admin_client, fake, sink, name=None):
        body = {"name": name or f"Review Shop {secrets.token_hex(3)}", "url": fake.base_url,
                "consumer_key": fake.consumer_key, "consumer_secret": fake.consumer_secret,
                "currency": "EUR", "timezone": "UTC"}
        r = admin_client.post("/v1/shops", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        self.svc = svc
        self.fake = fake
        self.sink = sink
        self.name = body["name"]
        self.id = created["id"]
        self.api_key = created["api_key"]
        self.secret = created["webhook_secret"]
        self.token_secret = created["token_secret"]
        self.api = client(svc.url, self.api_key)
        self.anon = client(svc.url)
        svc.secrets.update({fake.consumer_secret, self.token_secret})
        ISSUED_SECRETS.add(fake.consumer_secret)

    def close(self):
        self.api.close()
        self.anon.close()

    # -- settings
    def settings(self, **body):
        r = self.api.put("/v1/reviews/settings", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def loyalty_settings(self, **body):
        r = self.api.put("/v1/loyalty/settings", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    # -- orders in the fake, delivered by webhook
    def deliver_order(self, order_id, topic="order.updated"):
        r = deliver(self.svc.port, self.id, self.secret, topic,
                    self.fake.webhook_payload(topic, order_id))
        assert r.status_code == 200, r.text
        return r

    def order(self, products, email, first_name="Ann", status="processing", **kw):
        """An order in the fake with one line per product id (or (id, qty, total))."""
        items = [p if isinstance(p, tuple) else (p, 1, None) for p in products]
        o = self.fake.add_order(status=status, email=email, first_name=first_name, items=items,
                                **kw)
        self.deliver_order(o["id"])
        return o

    def complete(self, order_id):
        self.fake.complete_order(order_id)
        self.deliver_order(order_id)

    def completed_order(self, products, email, first_name="Ann", **kw):
        o = self.order(products, email, first_name, **kw)
        self.complete(o["id"])
        return o

    # -- jobs
    def jobs(self, **query):
        return list_all(self.api, "/v1/jobs", **query)

    def job(self, job_id):
        r = self.api.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def find_job(self, kind, pred=lambda j: True, timeout=10.0, what=None):
        return wait_for(lambda: next((j for j in self.jobs(kind=kind) if pred(j)), None),
                        timeout, interval=0.05, what=what or f"a {kind} job")

    def send_jobs(self, request_id):
        return [j for j in self.jobs(kind="reviews.send")
                if j["payload"].get("request_id") == request_id]

    def send_job(self, request_id, reminder=0, pred=lambda j: True, timeout=10.0, what=None):
        def find():
            return next((j for j in self.send_jobs(request_id)
                         if j["payload"].get("reminder", 0) == reminder and pred(j)), None)
        return wait_for(find, timeout, interval=0.05,
                        what=what or f"send job {reminder} of request {request_id}")

    def idle(self, kinds=REVIEW_JOB_KINDS + ("woo.delivery", "woo.order_fetch"), timeout=10.0):
        """No job of these kinds due now and pending, or running (jobs due later,
        like reminders and expiry, are not waited for)."""
        def quiet():
            now = time.time()
            busy = [j for j in self.jobs() if j["kind"] in kinds and (
                j["status"] == "running" or (j["status"] == "pending" and
                                             _epoch(j["run_at"]) <= now + 0.2))]
            return not busy
        wait_for(quiet, timeout, interval=0.05, what="the shop's review jobs to settle")

    # -- requests
    def request(self, request_id):
        r = self.api.get(f"/v1/review-requests/{request_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def request_for_order(self, order_id, timeout=10.0):
        """The review request of an order (found through the scheduling jobs'
        results: the API has no list of requests)."""
        def find():
            for j in self.jobs(kind="reviews.schedule"):
                rid = (j.get("result") or {}).get("request_id")
                if j["status"] == "done" and rid:
                    req = self.request(rid)
                    if req["order_id"] == order_id:
                        return req
            return None
        return wait_for(find, timeout, interval=0.05,
                        what=f"the review request of order {order_id}")

    def schedule_outcome(self, order_id, timeout=10.0):
        """The scheduling job's result for an order (also when no request was made)."""
        def find():
            evs = {e["id"] for e in list_all(self.api, "/v1/events", kind="order.completed",
                                             order_id=order_id)}
            return next((j["result"] for j in self.jobs(kind="reviews.schedule")
                         if j["status"] == "done" and j["payload"].get("event_id") in evs), None)
        return wait_for(find, timeout, interval=0.05, what=f"the scheduling of order {order_id}")

    def wait_status(self, request_id, status, timeout=10.0):
        return wait_for(lambda: (lambda q: q if q["status"] == status else None)(
            self.request(request_id)), timeout, interval=0.05,
            what=f"request {request_id} to be {status}")

    # -- mail
    def mails(self, email):
        return [Mail(m) for m in list(self.sink.messages) if email in m["rcpt_tos"]]

    def wait_mails(self, email, n=1, timeout=10.0):
        return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(self.mails(email)),
                        timeout, interval=0.05, what=f"{n} email(s) to {email}")

    # -- the customer's side
    def public(self, token):
        return self.anon.get(f"/v1/public/review-requests/{token}")

    def submit(self, token, items):
        return self.anon.post(f"/v1/public/review-requests/{token}/reviews", json=items)

    def page(self, token, **query):
        return self.anon.get("/review", params=dict(query, token=token))

    # -- reviews
    def reviews(self, **query):
        return list_all(self.api, "/v1/reviews", **query)

    def review(self, review_id):
        found = [r for r in self.reviews() if r["id"] == review_id]
        assert len(found) == 1, found
        return found[0]

    def wait_published(self, review_id, timeout=10.0):
        def published():
            r = self.review(review_id)
            return r if r["woo_review_id"] else None
        return wait_for(published, timeout, interval=0.05,
                        what=f"review {review_id} to be published")

    def fake_reviews(self, product_id=None):
        with self.fake._lock:
            return [dict(r) for r in self.fake.reviews.values()
                    if product_id is None or r["product_id"] == product_id]

    def review_posts(self):
        return self.fake.calls(path_prefix=REST_PREFIX + "/products/reviews", method="POST")

    # -- tokens minted here (for the refusal tests)
    def token(self, request_id, scope="review", secret=None, shop_id=None, **kw):
        claims = claims_for(shop_id or self.id, email=kw.pop("email", "x@example.com"), scope=scope,
                            **kw)
        claims["rid"] = request_id
        return mint(secret or self.token_secret, claims)

    # -- loyalty
    def ledger_for(self, email):
        accts = list_all(self.api, "/v1/loyalty/accounts", email=email)
        assert len(accts) == 1, accts
        return list(reversed(list_all(self.api, f"/v1/loyalty/accounts/{accts[0]['id']}/ledger")))


def _epoch(rfc3339):
    s = rfc3339.replace("Z", "+00:00")
    return dt.datetime.fromisoformat(s).timestamp()


def sent_request(shop, order, email, n=1, timeout=10.0):
    """Wait for the n-th email to `email` and the order's request; returns (request, mail)."""
    mails = shop.wait_mails(email, n, timeout)
    return shop.request_for_order(order["id"]), mails[n - 1]
