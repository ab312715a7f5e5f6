"""Self-test of openapi_check against hand-made responses; no server needed.

Also holds the spec to a few house rules that a linter does not know:
every example fits its schema, every response carries X-Request-Id, every
operation documents 500.
"""

import json
import sys
from pathlib import Path

import pytest
import requests
from requests.structures import CaseInsensitiveDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openapi_check  # noqa: E402
from openapi_check import check, load_spec, spec_routes  # noqa: E402

BASE = "http://127.0.0.1:8080"
RID = "4b1d9f0c2e8a4c7b9d3e5f60718293a4"

SHOP = {
    "id": 1,
    "name": "Demo",
    "url": "https://shop.example",
    "consumer_key_hint": "\u20269a0b",
    "currency": "EUR",
    "timezone": "Europe/Bratislava",
    "created_at": "2026-11-22T06:26:33Z",
    "updated_at": "2026-11-22T06:26:33Z",
}

CREATED = dict(
    SHOP,
    api_key="ask_" + "A" * 40 + "-_9",
    api_key_id=1,
    webhook_secret="w" * 40,
    token_secret="T0" * 32,
)


def fake(method, path, status, body=None, *, raw=None, ctype=None, headers=None):
    """A requests.Response as the service would send it (X-Request-Id set)."""
    r = requests.Response()
    r.status_code = status
    r.request = requests.Request(method, BASE + path).prepare()
    r.url = r.request.url
    h = {"X-Request-Id": RID}
    if body is not None:
        r._content = json.dumps(body).encode()
        h["Content-Type"] = ctype or "application/json"
    else:
        r._content = raw if raw is not None else b""
        if ctype:
            h["Content-Type"] = ctype
    for k, v in (headers or {}).items():
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    r.headers = CaseInsensitiveDict(h)
    r.encoding = "utf-8"
    return r


def problem(status, type_, field=None, **headers):
    body = {
        "type": "/problems/" + type_,
        "title": type_.replace("-", " ").capitalize(),
        "status": status,
        "detail": "something about it",
        "request_id": RID,
    }
    if field:
        body["field"] = field
    return body, "application/problem+json", headers


def fails(response, *needles):
    with pytest.raises(AssertionError) as exc:
        check(response)
    text = str(exc.value)
    for needle in needles:
        assert needle in text, text
    return text


# --- valid responses pass ----------------------------------------------------


def test_valid_shop_passes():
    check(fake("GET", "/v1/shops/1", 200, SHOP))
    check(fake("GET", "/v1/shop", 200, SHOP))
    check(fake("PATCH", "/v1/shop", 200, SHOP, ctype="application/json; charset=utf-8"))


def test_valid_created_shop_with_location_passes():
    check(fake("POST", "/v1/shops", 201, CREATED, headers={"Location": "/v1/shops/1"}))


def test_valid_lists_pass_with_query_string():
    page = {"items": [SHOP, dict(SHOP, id=2)], "next_cursor": "eyJpZCI6Mn0"}
    check(fake("GET", "/v1/shops?limit=2", 200, page))
    keys = {
        "items": [
            {"id": 1, "prefix": "ask_AbCd", "created_at": SHOP["created_at"],
             "revoked_at": "2026-11-23T08:00:00Z"},
            {"id": 2, "prefix": "ask_x-_9", "created_at": SHOP["created_at"], "revoked_at": None},
        ],
        "next_cursor": None,
    }
    check(fake("GET", "/v1/shops/1/api-keys", 200, keys))


def test_new_api_key_passes():
    key = {"id": 2, "api_key": CREATED["api_key"], "prefix": "ask_AAAA",
           "created_at": SHOP["created_at"], "revoked_at": None}
    check(fake("POST", "/v1/shops/1/api-keys", 201, key,
               headers={"Location": "/v1/shops/1/api-keys/2"}))
    fails(fake("POST", "/v1/shops/1/api-keys", 201, key), "missing required header Location")


def test_probes_pass():
    check(fake("GET", "/healthz", 200, {"status": "ok"}))
    check(fake("GET", "/readyz", 200, {"status": "ready", "migrations": 3}))
    text = b'aftersale_build_info{version="0.1.0",commit="abc"} 1\n'
    check(fake("GET", "/metrics", 200, raw=text, ctype="text/plain; version=0.0.4; charset=utf-8"))


def test_head_is_checked_as_get_without_body():
    check(fake("HEAD", "/healthz", 200, raw=b"", ctype="application/json"))
    check(fake("HEAD", "/v1/shops/1", 200, raw=b"", ctype="application/json"))
    fails(fake("HEAD", "/v1/shops/1", 200, raw=b"", ctype="text/html"), "Content-Type")


def test_empty_segment_is_no_route():
    body, ct, _ = problem(404, "not-found")
    check(fake("PUT", "/v1/shops/", 404, body, ctype=ct))
    check(fake("GET", "/v1/shops//api-keys", 404, body, ctype=ct))


def test_204_without_body_passes():
    check(fake("DELETE", "/v1/shops/1/api-keys/2", 204))


def test_documented_problems_pass():
    body, ct, _ = problem(422, "invalid-field", field="name")
    check(fake("POST", "/v1/shops", 422, body, ctype=ct))
    body, ct, _ = problem(403, "admin-disabled")
    check(fake("GET", "/v1/shops", 403, body, ctype=ct))
    body, ct, _ = problem(401, "unauthorized")
    check(fake("GET", "/v1/shop", 401, body, ctype=ct,
               headers={"WWW-Authenticate": 'Bearer realm="aftersale"'}))
    body, ct, _ = problem(503, "unavailable")
    check(fake("GET", "/readyz", 503, body, ctype=ct, headers={"Retry-After": "1"}))


def test_bad_path_id_still_matches_its_route():
    body, ct, _ = problem(400, "malformed", field="id")
    check(fake("GET", "/v1/shops/abc", 400, body, ctype=ct))
    check(fake("DELETE", "/v1/shops/1/api-keys/99999999999999999999", 400, body, ctype=ct))


def test_unknown_path_404_passes():
    body, ct, _ = problem(404, "not-found")
    check(fake("GET", "/v1/nope", 404, body, ctype=ct))
    check(fake("GET", "/v1/shops/1/api-keys/2/extra", 404, body, ctype=ct))


def test_other_method_405_with_allow_passes():
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("DELETE", "/v1/shop", 405, body, ctype=ct, headers={"Allow": "GET, PATCH"}))
    check(fake("GET", "/v1/shops/1/api-keys/2", 405, body, ctype=ct, headers={"Allow": "DELETE"}))


# --- the WooCommerce link routes ----------------------------------------------

JOB = {
    "id": 31,
    "kind": "woo.sync",
    "status": "done",
    "payload": {"manual": True, "from": "2026-11-01T00:00:00Z"},
    "attempts": 1,
    "max_attempts": 8,
    "run_at": "2026-11-22T06:30:00Z",
    "last_error": None,
    "result": {"from": "2026-11-01T00:00:00", "orders": 12, "skipped": 0, "pages": 1},
    "dedupe_key": None,
    "created_at": "2026-11-22T06:30:00Z",
    "updated_at": "2026-11-22T06:30:02Z",
    "finished_at": "2026-11-22T06:30:02Z",
}

ORDER_PAYLOAD = {
    "order_id": 1042, "status": "completed", "customer_id": 0, "email": "ann@example.com",
    "first_name": "Ann", "currency": "EUR", "total": "42.50", "shipping_country": "SK",
    "date_modified_gmt": "2026-11-22T06:20:11", "date_completed_gmt": None,
    "items": [{"line_item_id": 311, "product_id": 27, "variation_id": 0, "name": "Mug",
               "quantity": 2, "subtotal": "40.00", "total": "40.00"}],
}

EVENT = {"id": 7, "kind": "order.completed", "order_id": 1042, "customer_id": None,
         "payload": ORDER_PAYLOAD, "created_at": "2026-11-22T06:20:12Z"}

WOO_STATUS = {
    "sync": {"interval_s": 600, "watermark": "2026-11-22T06:20:11Z", "last_started_at": None,
             "last_finished_at": None, "last_error": None, "last_orders": 0},
    "deliveries": {"last_received_at": None, "received": 0, "ignored": 0, "failed": 0},
    "jobs": {"pending": 1, "dead": 0, "last_error": None},
}

HOOK = "/v1/webhooks/woocommerce/1"


def test_webhook_pong_and_receipts_pass():
    check(fake("POST", HOOK, 200, {"status": "pong"}))
    for status in ("received", "ignored", "failed"):
        check(fake("POST", HOOK, 200, {"status": status, "duplicate": False, "id": 12}))
        check(fake("POST", HOOK, 200, {"status": status, "duplicate": True, "id": None}))


def test_webhook_receipt_must_be_consistent():
    fails(fake("POST", HOOK, 200, {"status": "received", "duplicate": True, "id": 12}),
          "$.id: 12 is not of type 'null'")
    fails(fake("POST", HOOK, 200, {"status": "received", "duplicate": False, "id": None}),
          "$.id: None is not of type 'integer'")
    fails(fake("POST", HOOK, 200, {"status": "processed", "duplicate": False, "id": 1}),
          "$.status: 'processed' is not one of")
    fails(fake("POST", HOOK, 200, {"status": "pong", "duplicate": False, "id": 1}),
          "$.status: 'pong' is not one of")
    fails(fake("POST", HOOK, 200, {"status": "received", "duplicate": False}),
          "'id' is a required property")


def test_webhook_errors():
    body, ct, _ = problem(401, "unauthorized")
    check(fake("POST", HOOK, 401, body, ctype=ct,
               headers={"WWW-Authenticate": 'Bearer realm="aftersale"'}))
    body, ct, _ = problem(400, "malformed", field="shop_id")
    check(fake("POST", "/v1/webhooks/woocommerce/0", 400, body, ctype=ct))
    body, ct, _ = problem(404, "not-found")
    check(fake("POST", "/v1/webhooks/woocommerce/99", 404, body, ctype=ct))
    body, ct, _ = problem(413, "too-large")
    check(fake("POST", HOOK, 413, body, ctype=ct))
    # Any media type is accepted there: a 415 would be a bug.
    body, ct, _ = problem(415, "unsupported-media-type")
    fails(fake("POST", HOOK, 415, body, ctype=ct), "status 415 is not documented")
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("GET", HOOK, 405, body, ctype=ct, headers={"Allow": "POST"}))


def test_202_needs_a_job_location():
    accepted = {"job_id": 31, "kind": "woo.sync", "status": "pending"}
    check(fake("POST", "/v1/woocommerce/sync", 202, accepted, headers={"Location": "/v1/jobs/31"}))
    setup = dict(accepted, kind="woo.webhooks_setup")
    check(fake("POST", "/v1/woocommerce/webhooks", 202, setup,
               headers={"Location": "/v1/jobs/31"}))
    fails(fake("POST", "/v1/woocommerce/sync", 202, accepted), "missing required header Location")
    fails(fake("POST", "/v1/woocommerce/sync", 202, accepted,
               headers={"Location": "/v1/shops/31"}), "header Location")
    fails(fake("POST", "/v1/woocommerce/sync", 202, dict(accepted, status="done"),
               headers={"Location": "/v1/jobs/31"}), "$.status")
    fails(fake("POST", "/v1/woocommerce/sync", 200, accepted), "status 200 is not documented")


def test_jobs_pass_with_any_payload_and_result():
    check(fake("GET", "/v1/jobs/31", 200, JOB))
    check(fake("GET", "/v1/jobs/31", 200, dict(JOB, payload=[1, "x"], result="text")))
    dead = dict(JOB, status="dead", result=None, last_error="shop answered 500",
                dedupe_key="delivery:9")
    check(fake("GET", "/v1/jobs?status=dead", 200, {"items": [dead], "next_cursor": None}))
    check(fake("POST", "/v1/jobs/31/retry", 200,
               dict(dead, status="pending", attempts=0, finished_at=None)))


def test_bad_jobs_fail():
    fails(fake("GET", "/v1/jobs/31", 200, {k: v for k, v in JOB.items() if k != "result"}),
          "'result' is a required property")
    fails(fake("GET", "/v1/jobs/31", 200, dict(JOB, status="failed")), "$.status")
    fails(fake("GET", "/v1/jobs/31", 200, dict(JOB, run_at="2026-11-22 06:30:00")), "$.run_at")
    fails(fake("GET", "/v1/jobs/31", 200, dict(JOB, shop_id=1)), "Additional properties")


def test_job_problems():
    body, ct, _ = problem(409, "conflict")
    check(fake("POST", "/v1/jobs/31/retry", 409, body, ctype=ct))
    fails(fake("GET", "/v1/jobs/31", 409, body, ctype=ct), "status 409 is not documented")
    body, ct, _ = problem(404, "not-found")
    check(fake("GET", "/v1/jobs/31", 404, body, ctype=ct))
    body, ct, _ = problem(400, "malformed", field="status")
    check(fake("GET", "/v1/jobs?status=nope", 400, body, ctype=ct))


def test_events_pass_with_growing_payloads():
    refund = dict(ORDER_PAYLOAD, refund_id=1050, amount="5.00", reason="", refunded_total="5.00",
                  order_total="42.50", full=False, something_new={"x": 1})
    customer = {"id": 9, "kind": "customer.created", "order_id": None, "customer_id": 16,
                "payload": {"customer_id": 16, "email": "", "first_name": "", "last_name": ""},
                "created_at": "2026-11-22T06:25:40Z"}
    page = {"items": [EVENT, dict(EVENT, id=8, kind="order.refunded", payload=refund), customer],
            "next_cursor": "eyJpZCI6OX0"}
    check(fake("GET", "/v1/events?kind=order.refunded&order_id=1042", 200, page))


def test_order_paid_event_passes():
    paid = dict(EVENT, id=6, kind="order.paid",
                payload={k: v for k, v in ORDER_PAYLOAD.items() if k != "date_completed_gmt"})
    check(fake("GET", "/v1/events?kind=order.paid", 200, {"items": [paid], "next_cursor": None}))


def test_bad_events_fail():
    page = {"items": [dict(EVENT, kind="order.shipped")], "next_cursor": None}
    fails(fake("GET", "/v1/events", 200, page), "$.items[0].kind")
    page = {"items": [dict(EVENT, payload=dict(ORDER_PAYLOAD, customer_id="15"))],
            "next_cursor": None}
    fails(fake("GET", "/v1/events", 200, page), "$.items[0].payload.customer_id")
    page = {"items": [dict(EVENT, order_id=0)], "next_cursor": None}
    fails(fake("GET", "/v1/events", 200, page), "$.items[0].order_id")
    page = {"items": [dict(EVENT, dedupe_key="x")], "next_cursor": None}
    fails(fake("GET", "/v1/events", 200, page), "Additional properties")


def test_woo_status_and_settings():
    check(fake("GET", "/v1/woocommerce/status", 200, WOO_STATUS))
    fails(fake("GET", "/v1/woocommerce/status", 200,
               dict(WOO_STATUS, sync=dict(WOO_STATUS["sync"], watermark=None))), "$.sync.watermark")
    check(fake("GET", "/v1/woocommerce/settings", 200,
               {"sync_interval_s": 600, "delivered_status": None}))
    check(fake("PATCH", "/v1/woocommerce/settings", 200,
               {"sync_interval_s": 10, "delivered_status": "delivered"}))
    fails(fake("PATCH", "/v1/woocommerce/settings", 200,
               {"sync_interval_s": 5, "delivered_status": None}), "$.sync_interval_s")
    fails(fake("GET", "/v1/woocommerce/settings", 200, {"sync_interval_s": 600}),
          "delivered_status")
    body, ct, _ = problem(422, "invalid-field", field="sync_interval_s")
    check(fake("PATCH", "/v1/woocommerce/settings", 422, body, ctype=ct))
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("DELETE", "/v1/woocommerce/settings", 405, body, ctype=ct,
               headers={"Allow": "GET, PATCH"}))


# --- the loyalty routes -------------------------------------------------------

SETTINGS = {
    "points_per_unit": "1", "rounding": "down", "earn_basis": "subtotal",
    "earn_status": "completed",
    "bonuses": {"signup": 0, "review": 0, "survey": 0, "birthday": 0, "anniversary": 0,
                "referrer": 0, "referee": 0},
    "redemption": {"points_per_unit": 100, "min_points": 100, "max_discount": None,
                   "coupon_validity_days": 90},
    "expiry_months": 0, "tiers": [], "currency_rates": {},
    "email_tokens_reach_registered": False,
}

ACCOUNT = {
    "id": 3, "customer_id": 15, "email": "ann@example.com", "balance": 420,
    "lifetime_points": 1270,
    "tier": {"name": "Silver", "threshold": 500, "multiplier": "1.00"},
    "next_tier": {"name": "Gold", "threshold": 2000, "points_needed": 730},
    "expiring_soon": {"points": 0, "first_expiry": None},
    "birthday": None, "merged_into": None, "created_at": "2026-11-22T06:20:13Z",
}

NO_ACCOUNT = dict(ACCOUNT, id=None, customer_id=None, email="guest@example.com", balance=0,
                  lifetime_points=0, tier=None, next_tier=None, created_at=None)

ENTRY = {
    "id": 57, "delta": 150, "reason": "adjustment",
    "source": {"kind": "adjustment", "id": "9f2c4e1a7b3d5f6e8a0c2b4d"}, "order_id": None,
    "balance_after": 570, "uncollected": 0, "expires_at": None, "note": "sorry",
    "actor": "api_key:1", "created_at": "2026-11-22T07:10:00Z",
}

REDEMPTION = {
    "id": 7, "account_id": 3, "points": 500, "amount": "5.00", "currency": "EUR",
    "code": "AS-7K2M9Q4X1B", "status": "pending", "expires_on": "2027-02-20",
    "created_at": "2026-11-22T07:15:00Z", "balance_after": 70,
}

ACCT = "/v1/loyalty/accounts/3"


def test_loyalty_settings_pass():
    check(fake("GET", "/v1/loyalty/settings", 200, SETTINGS))
    rich = dict(SETTINGS, points_per_unit="1.25", expiry_months=12,
                redemption=dict(SETTINGS["redemption"], max_discount="50.00"),
                tiers=[{"name": "Silver", "threshold": 500, "multiplier": "1"},
                       {"name": "Gold", "threshold": 2000, "multiplier": "1.5"}],
                currency_rates={"USD": "0.92", "CZK": "0.041"})
    check(fake("PUT", "/v1/loyalty/settings", 200, rich))
    fails(fake("GET", "/v1/loyalty/settings", 200, dict(SETTINGS, rounding="nearest")),
          "$.rounding")
    fails(fake("GET", "/v1/loyalty/settings", 200, dict(SETTINGS, points_per_unit=1.5)),
          "$.points_per_unit")
    fails(fake("GET", "/v1/loyalty/settings", 200, dict(SETTINGS, currency_rates={"usd": "1"})),
          "$.currency_rates")
    fails(fake("GET", "/v1/loyalty/settings", 200,
               {k: v for k, v in SETTINGS.items() if k != "tiers"}), "'tiers' is a required")
    body, ct, _ = problem(422, "invalid-field", field="tiers[1].multiplier")
    check(fake("PUT", "/v1/loyalty/settings", 422, body, ctype=ct))
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("PATCH", "/v1/loyalty/settings", 405, body, ctype=ct,
               headers={"Allow": "GET, PUT"}))


def test_loyalty_accounts_pass():
    summary = {k: ACCOUNT[k] for k in ("id", "customer_id", "email", "balance",
                                       "lifetime_points", "created_at")}
    guest = dict(summary, id=4, customer_id=None, email="guest@example.com")
    check(fake("GET", "/v1/loyalty/accounts?email=ann%40example.com", 200,
               {"items": [summary, guest], "next_cursor": None}))
    fails(fake("GET", "/v1/loyalty/accounts", 200, {"items": [ACCOUNT], "next_cursor": None}),
          "Additional properties")
    check(fake("GET", ACCT, 200, ACCOUNT))
    check(fake("GET", ACCT, 200, dict(ACCOUNT, tier=None, birthday={"month": 2, "day": 29},
                                      merged_into=9)))
    fails(fake("GET", ACCT, 200, dict(ACCOUNT, balance=-1)), "$.balance")
    fails(fake("GET", ACCT, 200, dict(ACCOUNT, id=None)), "$.id")
    body, ct, _ = problem(404, "not-found")
    check(fake("GET", "/v1/loyalty/accounts/99", 404, body, ctype=ct))
    body, ct, _ = problem(400, "malformed", field="account")
    check(fake("GET", "/v1/loyalty/accounts/x/ledger", 400, body, ctype=ct))
    check(fake("PUT", ACCT + "/birthday", 200, ACCOUNT))


def test_loyalty_ledger_passes():
    earn = dict(ENTRY, id=41, delta=42, reason="earn", source={"kind": "order", "id": "1042"},
                order_id=1042, expires_at="2027-11-22T06:20:13Z", note="", actor="job:88")
    clamped = dict(ENTRY, id=60, delta=0, reason="refund", uncollected=12, balance_after=0)
    page = {"items": [clamped, ENTRY, earn], "next_cursor": "eyJpZCI6NDF9"}
    check(fake("GET", ACCT + "/ledger?limit=3", 200, page))
    check(fake("GET", "/v1/me/loyalty/ledger", 200, {"items": [], "next_cursor": None}))
    fails(fake("GET", ACCT + "/ledger", 200,
               {"items": [dict(ENTRY, reason="gift")], "next_cursor": None}), "$.items[0].reason")


def test_loyalty_adjustment_passes_and_may_replay():
    entry = dict(ENTRY, account_id=3)
    check(fake("POST", ACCT + "/adjustments", 201, entry))
    check(fake("POST", ACCT + "/adjustments", 201, entry,
               headers={"Idempotent-Replayed": "true"}))
    fails(fake("POST", ACCT + "/adjustments", 201, entry,
               headers={"Idempotent-Replayed": "yes"}), "header Idempotent-Replayed")
    fails(fake("POST", ACCT + "/adjustments", 201, ENTRY), "'account_id' is a required")
    fails(fake("POST", ACCT + "/adjustments", 200, entry), "status 200 is not documented")
    body, ct, _ = problem(409, "conflict", field="points")
    check(fake("POST", ACCT + "/adjustments", 409, body, ctype=ct))
    body, ct, _ = problem(409, "conflict")
    check(fake("POST", ACCT + "/adjustments", 409, body, ctype=ct))
    body, ct, _ = problem(400, "malformed", field="Idempotency-Key")
    check(fake("POST", ACCT + "/adjustments", 400, body, ctype=ct))


def test_loyalty_redemptions_and_referrals_pass():
    for path in (ACCT + "/redemptions", "/v1/me/loyalty/redemptions"):
        check(fake("POST", path, 201, REDEMPTION))
        check(fake("POST", path, 201, dict(REDEMPTION, amount="0.125"),
                   headers={"Idempotent-Replayed": "true"}))
        fails(fake("POST", path, 201, dict(REDEMPTION, amount=5)), "$.amount")
        fails(fake("POST", path, 201, dict(REDEMPTION, code="as-1")), "$.code")
        body, ct, _ = problem(422, "invalid-field", field="points")
        check(fake("POST", path, 422, body, ctype=ct))
    referral = {"id": 5, "referrer_email": "ann@example.com", "referee_email": "bob@example.com",
                "status": "pending", "created_at": "2026-11-22T07:12:00Z"}
    check(fake("POST", "/v1/loyalty/referrals", 201, referral))
    body, ct, _ = problem(409, "conflict", field="referee_email")
    check(fake("POST", "/v1/loyalty/referrals", 409, body, ctype=ct))


def test_customer_routes():
    check(fake("GET", "/v1/me/loyalty", 200, ACCOUNT))
    check(fake("GET", "/v1/me/loyalty", 200, NO_ACCOUNT))
    fails(fake("GET", "/v1/me/loyalty", 200, dict(NO_ACCOUNT, balance=5)), "$")
    body, ct, _ = problem(401, "unauthorized")
    check(fake("GET", "/v1/me/loyalty", 401, body, ctype=ct,
               headers={"WWW-Authenticate": 'Bearer realm="aftersale"'}))
    body, ct, _ = problem(403, "forbidden")
    check(fake("GET", "/v1/me/loyalty/ledger", 403, body, ctype=ct))
    fails(fake("GET", ACCT, 403, body, ctype=ct), "status 403 is not documented")
    body, ct, _ = problem(404, "not-found")
    fails(fake("GET", "/v1/me/loyalty", 404, body, ctype=ct), "status 404 is not documented")
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("DELETE", "/v1/me/loyalty", 405, body, ctype=ct, headers={"Allow": "GET"}))


# --- the review routes -----------------------------------------------------------

REVIEW_SETTINGS = {
    "delay": "P7D", "reminder_delay": "P5D", "reminder_count": 1, "expiry": "P30D",
    "channel": "email", "excluded_product_ids": [], "excluded_category_ids": [],
    "auto_approve_min_rating": 4, "sender_name": "", "sender_email": "", "link_base_url": "",
    "locale": "", "country_delays": {},
    "incentive": {"kind": "none", "coupon_amount": None, "coupon_validity_days": 30},
    "templates": [],
    "wordpress": {"username": None, "application_password_set": False},
}

REVIEW_REQUEST = {
    "id": 9, "order_id": 1042, "email": "ann@example.com", "first_name": "Ann",
    "status": "scheduled", "due_at": "2026-11-29T06:20:11Z", "sent_at": None,
    "reminders_sent": 0, "expires_at": None, "answered_at": None, "cancel_reason": None,
    "created_at": "2026-11-22T06:20:13Z",
    "products": [{"product_id": 27, "name": "Mug", "reviewed": False}],
}

REVIEW = {
    "id": 12, "request_id": 9, "order_id": 1042, "product_id": 27, "rating": 2,
    "title": "", "body": "", "reviewer_name": "Ann", "reviewer_email": "ann@example.com",
    "status": "pending", "woo_review_id": None, "verified": None, "published_at": None,
    "reply": None, "replied_at": None, "created_at": "2026-11-30T09:12:00Z",
    "moderated_at": None,
}

DIST = {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}

STATS = {
    "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "requests_sent": 2,
    "reminders_sent": 0, "reviews_received": 2, "requests_answered": 1,
    "conversion_rate": 0.5, "average_rating": 3.5, "distribution": DIST,
    "products": [{"product_id": 27, "reviews": 2, "average_rating": 3.5, "distribution": DIST}],
}

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6InJldmlldyJ9.c2ln"
PUBLIC = "/v1/public/review-requests/" + TOKEN

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'nonce-abc123'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
HTML = "text/html; charset=utf-8"


def page(method, path, status, text="<!doctype html><p>x</p>", ctype=HTML, **overrides):
    headers = dict(PAGE_HEADERS, **overrides)
    return fake(method, path, status, raw=text.encode(), ctype=ctype, headers=headers)


def test_review_settings_pass():
    check(fake("GET", "/v1/reviews/settings", 200, REVIEW_SETTINGS))
    rich = dict(REVIEW_SETTINGS, delay="P1DT12H", reminder_count=3, channel="order_note",
                excluded_product_ids=[3, 99], auto_approve_min_rating=None,
                country_delays={"US": "P14D", "DE": "PT0S"},
                incentive={"kind": "coupon", "coupon_amount": "5.00",
                           "coupon_validity_days": 90},
                templates=[{"locale": "pt_BR", "subject": "Oi {{first_name}}", "text": None,
                            "html": None}],
                wordpress={"username": "acme", "application_password_set": True})
    check(fake("PUT", "/v1/reviews/settings", 200, rich))
    fails(fake("GET", "/v1/reviews/settings", 200, dict(REVIEW_SETTINGS, delay="P2W")),
          "$.delay")
    fails(fake("GET", "/v1/reviews/settings", 200, dict(REVIEW_SETTINGS, delay="P1M")),
          "$.delay")
    fails(fake("GET", "/v1/reviews/settings", 200,
               dict(REVIEW_SETTINGS, country_delays={"us": "P1D"})), "$.country_delays")
    leak = dict(REVIEW_SETTINGS, wordpress={"username": "acme", "application_password_set": True,
                                            "application_password": "abcd"})
    fails(fake("GET", "/v1/reviews/settings", 200, leak), "Additional properties")
    fails(fake("GET", "/v1/reviews/settings", 200,
               {k: v for k, v in REVIEW_SETTINGS.items() if k != "wordpress"}),
          "'wordpress' is a required")
    body, ct, _ = problem(422, "invalid-field", field="country_delays.us")
    check(fake("PUT", "/v1/reviews/settings", 422, body, ctype=ct))
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("PATCH", "/v1/reviews/settings", 405, body, ctype=ct,
               headers={"Allow": "GET, PUT"}))


def test_review_requests_pass():
    check(fake("POST", "/v1/review-requests", 201, REVIEW_REQUEST,
               headers={"Location": "/v1/review-requests/9"}))
    fails(fake("POST", "/v1/review-requests", 201, REVIEW_REQUEST),
          "missing required header Location")
    fails(fake("POST", "/v1/review-requests", 201, REVIEW_REQUEST,
               headers={"Location": "/v1/jobs/9"}), "header Location")
    sent = dict(REVIEW_REQUEST, status="sent", sent_at="2026-11-29T06:20:14Z",
                expires_at="2026-12-29T06:20:14Z")
    check(fake("GET", "/v1/review-requests/9", 200, sent))
    cancelled = dict(REVIEW_REQUEST, status="cancelled", cancel_reason="already reviewed")
    check(fake("GET", "/v1/review-requests/9", 200, cancelled))
    fails(fake("GET", "/v1/review-requests/9", 200, dict(REVIEW_REQUEST, status="done")),
          "$.status")
    fails(fake("GET", "/v1/review-requests/9", 200, dict(REVIEW_REQUEST, shop_id=1)),
          "Additional properties")
    for status, type_ in ((409, "conflict"), (422, "invalid-field")):
        body, ct, _ = problem(status, type_, field="order_id")
        check(fake("POST", "/v1/review-requests", status, body, ctype=ct))
    body, ct, _ = problem(404, "not-found")
    check(fake("GET", "/v1/review-requests/99", 404, body, ctype=ct))
    body, ct, _ = problem(400, "malformed", field="id")
    check(fake("GET", "/v1/review-requests/x", 400, body, ctype=ct))


def test_reviews_list_and_moderation_pass():
    approved = dict(REVIEW, id=13, rating=5, status="approved", woo_review_id=845,
                    verified=True, published_at="2026-11-30T09:12:05Z",
                    moderated_at="2026-11-30T09:12:00Z", reply="Thanks!",
                    replied_at="2026-11-30T10:00:00Z")
    check(fake("GET", "/v1/reviews?status=pending&product_id=27&rating=2", 200,
               {"items": [REVIEW, approved], "next_cursor": "eyJpZCI6MTN9"}))
    fails(fake("GET", "/v1/reviews", 200,
               {"items": [dict(REVIEW, rating=0)], "next_cursor": None}), "$.items[0].rating")
    fails(fake("GET", "/v1/reviews", 200,
               {"items": [dict(REVIEW, status="spam")], "next_cursor": None}),
          "$.items[0].status")
    for action in ("approve", "reject", "reply"):
        check(fake("POST", f"/v1/reviews/12/{action}", 200, approved))
        body, ct, _ = problem(409, "conflict")
        check(fake("POST", f"/v1/reviews/12/{action}", 409, body, ctype=ct))
        body, ct, _ = problem(404, "not-found")
        check(fake("POST", f"/v1/reviews/12/{action}", 404, body, ctype=ct))
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("GET", "/v1/reviews/12/approve", 405, body, ctype=ct, headers={"Allow": "POST"}))
    body, ct, _ = problem(404, "not-found")
    check(fake("GET", "/v1/reviews/12", 404, body, ctype=ct))  # no such route


def test_review_stats_pass():
    check(fake("GET", "/v1/reviews/stats?from=2026-11-01T00:00:00Z", 200, STATS))
    empty = dict(STATS, requests_sent=0, reviews_received=0, requests_answered=0,
                 conversion_rate=0, average_rating=None,
                 distribution={k: 0 for k in DIST}, products=[])
    check(fake("GET", "/v1/reviews/stats", 200, empty))
    fails(fake("GET", "/v1/reviews/stats", 200, dict(STATS, conversion_rate="0.5")),
          "$.conversion_rate")
    fails(fake("GET", "/v1/reviews/stats", 200, dict(STATS, distribution={"1": 0})),
          "$.distribution")
    body, ct, _ = problem(400, "malformed", field="to")
    check(fake("GET", "/v1/reviews/stats?to=yesterday", 400, body, ctype=ct))


def test_public_review_routes_pass():
    view = {"request_id": 9, "shop_name": "Demo", "first_name": "", "status": "sent",
            "expires_at": "2026-12-29T06:20:14Z",
            "products": [{"product_id": 27, "name": "Mug", "reviewed": True}]}
    check(fake("GET", PUBLIC, 200, view))
    fails(fake("GET", PUBLIC, 200, dict(view, email="ann@example.com")), "Additional properties")
    approved = dict(REVIEW, rating=5, status="approved", moderated_at=REVIEW["created_at"])
    # The request body is a JSON array; the answer is an object.
    check(fake("POST", PUBLIC + "/reviews", 201, {"reviews": [REVIEW, approved]}))
    fails(fake("POST", PUBLIC + "/reviews", 201, [REVIEW]), "is not of type 'object'")
    fails(fake("POST", PUBLIC + "/reviews", 201, {"reviews": []}), "$.reviews")
    body, ct, _ = problem(401, "unauthorized")
    for path in (PUBLIC, PUBLIC + "/reviews"):
        check(fake("GET" if path == PUBLIC else "POST", path, 401, body, ctype=ct,
                   headers={"WWW-Authenticate": 'Bearer realm="aftersale"'}))
    body, ct, _ = problem(403, "forbidden")
    check(fake("POST", PUBLIC + "/reviews", 403, body, ctype=ct))
    for field in ("[1].product_id", None):
        body, ct, _ = problem(409, "conflict", field=field)
        check(fake("POST", PUBLIC + "/reviews", 409, body, ctype=ct))
    for field in ("reviews", "[0].rating", "[2].product_id"):
        body, ct, _ = problem(422, "invalid-field", field=field)
        check(fake("POST", PUBLIC + "/reviews", 422, body, ctype=ct))
    body, ct, _ = problem(409, "conflict")
    fails(fake("GET", PUBLIC, 409, body, ctype=ct), "status 409 is not documented")
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("GET", PUBLIC + "/reviews", 405, body, ctype=ct, headers={"Allow": "POST"}))


def test_review_pages_pass_as_html():
    for status in (200, 401, 404, 410, 503):
        check(page("GET", "/review?token=" + TOKEN + "&product=27&rating=5", status))
    check(page("HEAD", "/review?token=x", 200, text=""))
    for status in (200, 401, 503):
        check(page("GET", "/unsubscribe?token=x", status))
        check(page("POST", "/unsubscribe?token=x", status))
    check(page("GET", "/review", 200, ctype="text/html"))


def test_review_pages_must_be_html_with_their_headers():
    fails(page("GET", "/review?token=x", 200, ctype="application/json"),
          "Content-Type 'application/json' is not documented")
    fails(page("GET", "/review?token=x", 401, ctype="text/plain"), "Content-Type 'text/plain'")
    fails(page("GET", "/review?token=x", 200, text=""), "HtmlDocument")
    fails(page("GET", "/review?token=x", 200, **{"Content-Security-Policy": None}),
          "missing required header Content-Security-Policy")
    fails(page("GET", "/unsubscribe?token=x", 200,
               **{"Content-Security-Policy": "default-src *"}), "header Content-Security-Policy")
    fails(page("POST", "/unsubscribe?token=x", 200, **{"Cache-Control": "max-age=60"}),
          "header Cache-Control")
    fails(page("GET", "/unsubscribe?token=x", 404), "status 404 is not documented")
    fails(page("POST", "/unsubscribe?token=x", 410), "status 410 is not documented")
    body, ct, _ = problem(401, "unauthorized")
    fails(fake("GET", "/review?token=x", 401, body, ctype=ct,
               headers=dict(PAGE_HEADERS, **{"WWW-Authenticate": 'Bearer realm="aftersale"'})),
          "Content-Type 'application/problem+json' is not documented")
    # Problems still fit where the server, not the page, answers.
    body, ct, _ = problem(413, "too-large")
    check(fake("POST", "/unsubscribe?token=x", 413, body, ctype=ct))
    body, ct, _ = problem(500, "internal")
    check(fake("GET", "/review?token=x", 500, body, ctype=ct))
    body, ct, _ = problem(405, "method-not-allowed")
    check(fake("POST", "/review", 405, body, ctype=ct, headers={"Allow": "GET"}))
    check(fake("DELETE", "/unsubscribe", 405, body, ctype=ct, headers={"Allow": "GET, POST"}))


# --- invalid responses fail, saying why -------------------------------------


def test_shop_missing_field_fails():
    shop = {k: v for k, v in SHOP.items() if k != "updated_at"}
    fails(fake("GET", "/v1/shops/1", 200, shop),
          "GET /v1/shops/1 -> 200", "GET /v1/shops/{id}", "'updated_at' is a required property")


def test_shop_leaking_a_secret_fails():
    fails(fake("GET", "/v1/shops/1", 200, dict(SHOP, consumer_secret="cs_x")),
          "Additional properties", "consumer_secret")


def test_shop_with_wrong_types_fails():
    fails(fake("GET", "/v1/shops/1", 200, dict(SHOP, id="1")), "$.id", "not of type 'integer'")
    fails(fake("GET", "/v1/shop", 200, dict(SHOP, created_at="2026-11-22 06:26:33+01:00")),
          "$.created_at")
    fails(fake("GET", "/v1/shop", 200, dict(SHOP, currency="eur")), "$.currency")


def test_undocumented_status_fails():
    body, ct, _ = problem(409, "conflict")
    fails(fake("GET", "/v1/shops/1", 409, body, ctype=ct),
          "status 409 is not documented", "GET /v1/shops/1 -> 409")
    fails(fake("GET", "/healthz", 201, {"status": "ok"}), "status 201 is not documented")


def test_problem_of_the_wrong_type_fails():
    body, ct, _ = problem(404, "unauthorized")
    fails(fake("GET", "/v1/shops/7", 404, body, ctype=ct), "/problems/not-found")


def test_problem_status_and_request_id_must_agree():
    body, ct, _ = problem(404, "not-found")
    fails(fake("GET", "/v1/shops/7", 404, dict(body, request_id="other"), ctype=ct),
          "request_id")
    body, ct, _ = problem(422, "invalid-field", field="x")
    fails(fake("PATCH", "/v1/shop", 422, dict(body, status=400), ctype=ct), "status")


def test_422_without_field_fails():
    body, ct, _ = problem(422, "invalid-field")
    fails(fake("PATCH", "/v1/shop", 422, body, ctype=ct), "'field' is a required property")


def test_missing_required_headers_fail():
    fails(fake("GET", "/v1/shop", 200, SHOP, headers={"X-Request-Id": None}),
          "missing required header X-Request-Id")
    fails(fake("POST", "/v1/shops", 201, CREATED), "missing required header Location")
    body, ct, _ = problem(401, "unauthorized")
    fails(fake("GET", "/v1/shop", 401, body, ctype=ct), "WWW-Authenticate")
    body, ct, _ = problem(503, "unavailable")
    fails(fake("GET", "/v1/shop", 503, body, ctype=ct), "Retry-After")
    fails(fake("GET", "/v1/shop", 503, body, ctype=ct, headers={"Retry-After": "soon"}),
          "header Retry-After")


def test_wrong_media_type_fails():
    fails(fake("GET", "/v1/shop", 200, SHOP, ctype="text/html"), "Content-Type 'text/html'")
    fails(fake("GET", "/metrics", 200, {"a": 1}), "application/json")
    body, ct, _ = problem(404, "not-found")
    fails(fake("GET", "/v1/shops/7", 404, body), "Content-Type 'application/json'")
    fails(fake("GET", "/v1/shop", 200, raw=b"{}"), "no Content-Type")


def test_bad_json_fails():
    fails(fake("GET", "/healthz", 200, raw=b"{not json", ctype="application/json"),
          "not valid JSON")
    dup = b'{"status":"ok","status":"ok"}'
    fails(fake("GET", "/healthz", 200, raw=dup, ctype="application/json"), "duplicate keys")


def test_204_with_body_fails():
    fails(fake("DELETE", "/v1/shops/1/api-keys/2", 204, raw=b"{}"), "documented without a body")


def test_unknown_path_must_be_404():
    fails(fake("GET", "/v1/nope", 200, {"status": "ok"}), "only 404 is expected")
    body, ct, _ = problem(404, "not-found")
    fails(fake("GET", "/v1/nope", 404, {"error": "x"}, ctype=ct), "not a 404 problem")


def test_other_method_must_be_405_with_exact_allow():
    body, ct, _ = problem(405, "method-not-allowed")
    fails(fake("DELETE", "/v1/shop", 404, problem(404, "not-found")[0], ctype=ct),
          "only 405 is expected")
    fails(fake("DELETE", "/v1/shop", 405, body, ctype=ct), "Allow header")
    fails(fake("DELETE", "/v1/shop", 405, body, ctype=ct, headers={"Allow": "GET"}),
          "Allow: 'GET'", "PATCH")


def test_created_key_must_not_be_revoked():
    key = {"id": 2, "api_key": CREATED["api_key"], "prefix": "ask_AAAA",
           "created_at": SHOP["created_at"], "revoked_at": SHOP["created_at"]}
    fails(fake("POST", "/v1/shops/1/api-keys", 201, key,
               headers={"Location": "/v1/shops/1/api-keys/2"}), "$.revoked_at")


# --- the spec itself -----------------------------------------------------------


def test_spec_routes():
    assert spec_routes() == {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/v1/shops"),
        ("POST", "/v1/shops"),
        ("GET", "/v1/shops/{id}"),
        ("PATCH", "/v1/shops/{id}"),
        ("GET", "/v1/shops/{id}/api-keys"),
        ("POST", "/v1/shops/{id}/api-keys"),
        ("DELETE", "/v1/shops/{id}/api-keys/{key_id}"),
        ("GET", "/v1/shop"),
        ("PATCH", "/v1/shop"),
        ("GET", "/v1/counts"),
        ("GET", "/v1/events"),
        ("GET", "/v1/jobs"),
        ("GET", "/v1/jobs/{id}"),
        ("POST", "/v1/jobs/{id}/retry"),
        ("POST", "/v1/woocommerce/sync"),
        ("GET", "/v1/woocommerce/status"),
        ("GET", "/v1/woocommerce/settings"),
        ("PATCH", "/v1/woocommerce/settings"),
        ("POST", "/v1/woocommerce/webhooks"),
        ("POST", "/v1/woocommerce/auth-requests"),
        ("POST", "/v1/woocommerce/auth-callback/{state}"),
        ("GET", "/v1/loyalty/settings"),
        ("PUT", "/v1/loyalty/settings"),
        ("GET", "/v1/loyalty/accounts"),
        ("GET", "/v1/loyalty/accounts/{account}"),
        ("GET", "/v1/loyalty/accounts/{account}/ledger"),
        ("POST", "/v1/loyalty/accounts/{account}/adjustments"),
        ("POST", "/v1/loyalty/accounts/{account}/redemptions"),
        ("PUT", "/v1/loyalty/accounts/{account}/birthday"),
        ("POST", "/v1/loyalty/referrals"),
        ("POST", "/v1/loyalty/preview"),
        ("GET", "/v1/loyalty/report"),
        ("GET", "/v1/me/loyalty"),
        ("GET", "/v1/me/loyalty/ledger"),
        ("POST", "/v1/me/loyalty/redemptions"),
        ("GET", "/v1/customers/export"),
        ("POST", "/v1/customers/erase"),
        ("GET", "/v1/messaging/settings"),
        ("PUT", "/v1/messaging/settings"),
        ("POST", "/v1/messaging/test-email"),
        ("GET", "/v1/messaging/contact-status"),
        ("GET", "/v1/returns/settings"),
        ("PUT", "/v1/returns/settings"),
        ("POST", "/v1/returns"),
        ("GET", "/v1/returns"),
        ("GET", "/v1/returns/{id}"),
        ("POST", "/v1/webhook-endpoints"),
        ("GET", "/v1/webhook-endpoints"),
        ("GET", "/v1/webhook-endpoints/{id}"),
        ("PATCH", "/v1/webhook-endpoints/{id}"),
        ("DELETE", "/v1/webhook-endpoints/{id}"),
        ("POST", "/v1/webhook-endpoints/{id}/rotate-secret"),
        ("GET", "/v1/webhook-endpoints/{id}/deliveries"),
        ("POST", "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/replay"),
        ("GET", "/v1/returns/report"),
        ("GET", "/returns"),
        ("POST", "/returns"),
        ("GET", "/returns/photos/{photo_id}"),
        ("GET", "/returns/requests/{id}"),
        ("POST", "/returns/requests/{id}/cancel"),
        ("POST", "/v1/returns/{id}/approve"),
        ("POST", "/v1/returns/{id}/reject"),
        ("POST", "/v1/returns/{id}/receive"),
        ("POST", "/v1/returns/{id}/resolve"),
        ("POST", "/v1/returns/{id}/cancel"),
        ("POST", "/v1/returns/{id}/close"),
        ("POST", "/v1/returns/{id}/photos"),
        ("GET", "/v1/returns/{id}/photos/{photo_id}"),
        ("GET", "/v1/returns/{id}/resolution-preview"),
        ("POST", "/v1/me/returns"),
        ("GET", "/v1/me/returns"),
        ("GET", "/v1/me/returns/{id}"),
        ("POST", "/v1/me/returns/{id}/cancel"),
        ("POST", "/v1/me/returns/{id}/photos"),
        ("GET", "/v1/me/returns/{id}/photos/{photo_id}"),
        ("GET", "/v1/reviews/settings"),
        ("PUT", "/v1/reviews/settings"),
        ("POST", "/v1/review-requests"),
        ("GET", "/v1/review-requests/{id}"),
        ("GET", "/v1/review-requests"),
        ("GET", "/v1/reviews"),
        ("GET", "/v1/reviews/stats"),
        ("POST", "/v1/reviews/{id}/approve"),
        ("POST", "/v1/reviews/{id}/reject"),
        ("POST", "/v1/reviews/{id}/reply"),
        ("GET", "/v1/public/review-requests/{token}"),
        ("POST", "/v1/public/review-requests/{token}/reviews"),
        ("GET", "/review"),
        ("GET", "/unsubscribe"),
        ("POST", "/unsubscribe"),
        ("POST", "/v1/webhooks/woocommerce/{shop_id}"),
        ("GET", "/v1/survey-templates"),
        ("POST", "/v1/surveys"),
        ("GET", "/v1/surveys"),
        ("GET", "/v1/surveys/{id}"),
        ("PATCH", "/v1/surveys/{id}"),
        ("DELETE", "/v1/surveys/{id}"),
        ("GET", "/v1/surveys/{id}/invitations"),
        ("POST", "/v1/surveys/{id}/invitations"),
        ("GET", "/v1/surveys/{id}/responses"),
        ("GET", "/v1/surveys/{id}/responses.csv"),
        ("POST", "/v1/orders/{order_id}/delivered"),
        ("POST", "/v1/orders/{order_id}/survey-link"),
        ("GET", "/v1/me/review-requests"),
        ("GET", "/v1/surveys/{id}/report"),
        ("PATCH", "/v1/survey-responses/{id}"),
        ("GET", "/v1/survey-responses"),
        ("GET", "/v1/public/survey-invitations/{token}"),
        ("PUT", "/v1/public/survey-invitations/{token}"),
        ("GET", "/s/{token}"),
        ("POST", "/s/{token}"),
    }


def test_load_spec_is_cached_and_keeps_timestamps_as_strings():
    spec = load_spec()
    assert spec is load_spec()
    assert spec["openapi"] == "3.1.0"
    example = spec["components"]["schemas"]["Timestamp"]["example"]
    assert isinstance(example, str)


def _walk(node, pointer=""):
    yield node, pointer
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{pointer}/{openapi_check._esc(k)}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{pointer}/{i}")


def _examples():
    spec = load_spec()
    for node, pointer in _walk(spec):
        if not isinstance(node, dict):
            continue
        if "schema" in node and isinstance(node.get("examples"), dict):
            # media type, parameter or header with named Example Objects
            for name, ex in node["examples"].items():
                ex, expt = openapi_check._deref(
                    spec, ex, f"{pointer}/examples/{openapi_check._esc(name)}")
                if "value" in ex:
                    yield expt + "/value", pointer + "/schema", ex["value"]
        if "example" not in node:
            continue
        if "schema" in node:  # media type, parameter or header
            yield pointer, pointer + "/schema", node["example"]
        elif pointer.startswith("/components/schemas/"):  # a schema, maybe nested
            yield pointer, pointer, node["example"]


@pytest.mark.parametrize("where,schema_ptr,example", list(_examples()), ids=lambda x: str(x)[:60])
def test_every_example_fits_its_schema(where, schema_ptr, example):
    spec = load_spec()
    why = openapi_check._validate(spec, openapi_check._schema_at(schema_ptr), example)
    assert why is None, f"{where}: {why}"


def _operations():
    spec = load_spec()
    for template, item in spec["paths"].items():
        for method in openapi_check.HTTP_METHODS:
            if method in item:
                yield template, method, item[method]


@pytest.mark.parametrize("template,method,op", list(_operations()),
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_202_has_a_location(template, method, op):
    spec = load_spec()
    for code, resp in op["responses"].items():
        if str(code) == "202":
            resp, _ = openapi_check._deref(spec, resp, "")
            assert "Location" in resp.get("headers", {}), f"{method.upper()} {template}: 202"


@pytest.mark.parametrize("template,method,op", list(_operations()),
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_operation_documents_500_and_request_ids(template, method, op):
    spec = load_spec()
    assert op.get("operationId") and op.get("summary") and op.get("tags")
    assert "500" in op["responses"], f"{method.upper()} {template}: no 500"
    for code, resp in op["responses"].items():
        resp, _ = openapi_check._deref(spec, resp, "")
        headers = {k.lower() for k in resp.get("headers", {})}
        assert "x-request-id" in headers, f"{method.upper()} {template} {code}: no X-Request-Id"
