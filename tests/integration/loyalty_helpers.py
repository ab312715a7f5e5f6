"""Helpers and fixtures for the loyalty integration tests (test_loyalty_*.py).

Import the fixtures by name so pytest registers them in the test module:

    from loyalty_helpers import (fake, woo_admin, woo_db, woo_svc,  # noqa: F401
                                 loyal, loyalty_verified)

Every test module gets its own service on its own freshly migrated database
(woo_svc / woo_db from woo_helpers) with the fast job knobs
(JOB_POLL_MS=100, JOB_BACKOFF_MS=50, JOB_BACKOFF_MAX_MS=200, JOB_LEASE_S=5),
and `loyalty_verified` (autouse once imported) runs
`$AFTERSALE_BIN loyalty verify` against that database when the module ends:
the ledger must be clean after everything the module did.

`loyal` is a shop linked to a fake WooCommerce shop (tests/fakes/fake_woo.py)
that also keeps its token_secret, so tests can mint customer tokens (JWT
HS256, minted here with hmac + base64url, no PyJWT).

The contract check (openapi/openapi.yaml) is on unless WOO_IT_NO_OPENAPI=1
(see woo_helpers.py); the final run must have it on.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time

import pytest

from aftersale_it import ISSUED_SECRETS, run_cli
from woo_helpers import (ACTION_COMPLETED, Linked, client, fake, list_all,  # noqa: F401
                         wait_for, woo_admin, woo_db, woo_svc)

LOYALTY_JOB_KINDS = ("loyalty.order", "loyalty.earn", "loyalty.reverse", "loyalty.signup",
                     "loyalty.coupon")


# --------------------------------------------------------------------------
# customer tokens


def b64url(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(secret, claims, alg="HS256", header=None, sign=True):
    """A JWT: header.payload.signature; HS256/HS384/HS512 with `secret`, or
    alg "none" (empty signature)."""
    h = {"alg": alg, "typ": "JWT"}
    if header:
        h.update(header)
    head = b64url(json.dumps(h, separators=(",", ":")))
    body = b64url(json.dumps(claims, separators=(",", ":")))
    signing_input = f"{head}.{body}".encode("ascii")
    if alg == "none" or not sign:
        return f"{head}.{body}."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(secret.encode("utf-8"), signing_input, digest).digest()
    return f"{head}.{body}.{b64url(sig)}"


def claims_for(shop_id, sub=None, email=None, scope="loyalty", ttl=300, **extra):
    c = {"aud": f"shop:{shop_id}", "exp": int(time.time()) + ttl, "iat": int(time.time()),
         "scope": scope}
    if sub is not None:
        c["sub"] = str(sub)
    if email is not None:
        c["email"] = email
    c.update(extra)
    return c


# --------------------------------------------------------------------------
# the shop


class LoyalShop(Linked):
    """Linked (woo_helpers) plus the token secret and loyalty helpers."""

    def __init__(self, svc, admin_client, fake, timezone="UTC", currency="EUR"):  # noqa: F811
        body = {"name": f"Loyal {secrets.token_hex(3)}", "url": fake.base_url,
                "consumer_key": fake.consumer_key, "consumer_secret": fake.consumer_secret,
                "currency": currency, "timezone": timezone}
        r = admin_client.post("/v1/shops", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        self.svc = svc
        self.fake = fake
        self.id = created["id"]
        self.api_key = created["api_key"]
        self.secret = created["webhook_secret"]
        self.token_secret = created["token_secret"]
        self.timezone = timezone
        self.currency = currency
        self.api = client(svc.url, self.api_key)
        self.anon = client(svc.url)
        self.hook_path = f"/v1/webhooks/woocommerce/{self.id}"
        self.hook_url = svc.url + self.hook_path
        if hasattr(svc, "secrets"):
            svc.secrets.update({fake.consumer_secret, self.token_secret})
        ISSUED_SECRETS.add(fake.consumer_secret)
        self._product = None

    def close(self):
        self.api.close()
        self.anon.close()

    # -- settings
    def settings(self, **body):
        r = self.api.put("/v1/loyalty/settings", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    # -- orders through the fake shop and webhooks
    def product(self):
        if self._product is None:
            self._product = self.fake.add_product("Loyal Mug", "10.00")
        return self._product["id"]

    def order(self, *totals, email="ann@example.com", customer_id=0, currency="EUR",
              status="processing"):
        """An order in the fake with one line item per total ("12.50")."""
        items = [(self.product(), 1, t) for t in totals] if totals else None
        return self.fake.add_order(status=status, customer_id=customer_id, email=email,
                                   currency=currency, items=items)

    def complete(self, order_id, wait=True):
        """Complete the order in the fake, deliver it, wait for the earn job."""
        self.fake.complete_order(order_id)
        r = self.deliver_order(order_id, "order.updated")
        assert r.status_code == 200, r.text
        if wait:
            self.loyalty_idle()

    def completed_order(self, *totals, **kw):
        o = self.order(*totals, **kw)
        self.complete(o["id"])
        return o

    def refund(self, order_id, amount, reason=""):
        ref = self.fake.refund_order(order_id, amount, reason=reason)
        r = self.deliver_order(order_id, "order.updated")
        assert r.status_code == 200, r.text
        self.loyalty_idle()
        return ref

    def customer_created(self, customer_id, email, **extra):
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        cust = {"id": customer_id, "email": email, "first_name": "Cus", "last_name": "Tomer",
                "date_created_gmt": now, "date_modified_gmt": now}
        cust.update(extra)
        r = self.deliver("customer.created", cust)
        assert r.status_code == 200, r.text
        self.loyalty_idle()
        return cust

    # -- jobs
    def loyalty_idle(self, timeout=10.0):
        """No delivery / fetch / loyalty job of this shop pending or running
        (the periodic loyalty.daily and woo.sync jobs are always pending: not counted)."""
        kinds = ("woo.delivery", "woo.order_fetch") + LOYALTY_JOB_KINDS

        def idle():
            busy = [j for j in self.jobs() if j["kind"] in kinds
                    and j["status"] in ("pending", "running")]
            return not busy
        wait_for(idle, timeout, what="the shop's loyalty jobs to finish")

    # -- accounts and ledger
    def accounts(self, **query):
        return list_all(self.api, "/v1/loyalty/accounts", **query)

    def account_by_email(self, email):
        found = self.accounts(email=email)
        assert len(found) == 1, f"{len(found)} accounts for {email}: {found}"
        return self.account(found[0]["id"])

    def account(self, account_id):
        r = self.api.get(f"/v1/loyalty/accounts/{account_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def ledger(self, account_id):
        """Every entry, oldest first."""
        return list(reversed(list_all(self.api, f"/v1/loyalty/accounts/{account_id}/ledger")))

    def adjust(self, account_id, points, reason="test credit", **kw):
        r = self.api.post(f"/v1/loyalty/accounts/{account_id}/adjustments",
                          json={"points": points, "reason": reason}, **kw)
        assert r.status_code == 201, r.text
        return r.json()

    def redeem(self, account_id, points, **kw):
        return self.api.post(f"/v1/loyalty/accounts/{account_id}/redemptions",
                             json={"points": points}, **kw)

    # -- customer tokens
    def token(self, sub=None, email=None, **kw):
        return mint(self.token_secret, claims_for(self.id, sub=sub, email=email, **kw))

    def me(self, token):
        return self.anon.with_token(token)


@pytest.fixture
def loyal(woo_svc, woo_admin, fake):  # noqa: F811
    shop = LoyalShop(woo_svc, woo_admin, fake)
    yield shop
    shop.close()


# --------------------------------------------------------------------------
# database


def db_rows(pg, db, sql, params=None):
    return pg.query(db, sql, params)


def ledger_sum(pg, db, shop_id, account_id):
    return db_rows(pg, db, "SELECT coalesce(sum(delta), 0) FROM loyalty_ledger"
                           " WHERE shop_id = %s AND account_id = %s", (shop_id, account_id))[0][0]


def redemption_row(pg, db, shop_id, redemption_id):
    rows = db_rows(pg, db, "SELECT status, coupon_id, code, amount::text, currency,"
                           " to_char(expires_on, 'YYYY-MM-DD') FROM loyalty_redemptions"
                           " WHERE shop_id = %s AND id = %s", (shop_id, redemption_id))
    return rows[0] if rows else None


def daily_job(pg, db, shop_id):
    rows = db_rows(pg, db, "SELECT id, status, attempts, result::text, run_at > now() + interval"
                           " '30 minutes' FROM jobs WHERE shop_id = %s AND kind = 'loyalty.daily'",
                   (shop_id,))
    assert len(rows) == 1, rows
    return rows[0]


def run_daily_now(pg, db, shop_id, timeout=10.0):
    """Make the hourly loyalty.daily job of the shop due now (run_at = now(),
    NOTIFY aftersale_jobs) and wait until it has run and rescheduled itself
    an hour ahead. Returns its result."""
    job_id = daily_job(pg, db, shop_id)[0]
    conn = pg.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE jobs SET run_at = now(), result = NULL WHERE shop_id = %s AND id = %s"
                        " AND status = 'pending'", (shop_id, job_id))
            assert cur.rowcount == 1, "the daily job is not pending"
            cur.execute("NOTIFY aftersale_jobs")
    finally:
        conn.close()

    def ran():
        _, status, _, result, later = daily_job(pg, db, shop_id)
        return json.loads(result) if (status == "pending" and later and result) else None
    return wait_for(ran, timeout, what="the loyalty.daily job to run")


# --------------------------------------------------------------------------
# aftersale loyalty verify


def loyalty_verify(pg, base_env, db):
    env = dict(base_env)
    env.pop("PORT", None)
    env["DATABASE_URL"] = pg.url(db)
    return run_cli(["loyalty", "verify"], env)


def assert_verified(pg, base_env, db):
    p = loyalty_verify(pg, base_env, db)
    assert p.returncode == 0, f"loyalty verify found problems ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert '"problems":0' in p.stdout, p.stdout


@pytest.fixture(scope="module", autouse=True)
def loyalty_verified(pg, base_env, woo_db):  # noqa: F811
    """At the end of the module: `aftersale loyalty verify` exits 0 on its database."""
    yield
    assert_verified(pg, base_env, woo_db)


def assert_ledger_consistent(shop, pg, db, account_id):
    """Balance >= 0, equals the sum of the ledger, each balance_after a running sum."""
    acct = shop.account(account_id)
    entries = shop.ledger(account_id)
    running = 0
    for en in entries:
        running += en["delta"]
        assert en["balance_after"] == running, entries
    assert acct["balance"] >= 0
    assert acct["balance"] == running == ledger_sum(pg, db, shop.id, account_id), (acct, entries)
    return acct, entries
