"""Loyalty: redemptions, coupons, manual adjustments and Idempotency-Key.

Concurrent redemptions never overspend; a redemption creates its coupon in
the shop (fixed_cart, amount string, email restriction, single use, expiry
date); a coupon that cannot be created gives the points back when its job
goes dead; Idempotency-Key replays the first answer and refuses a different
body; adjustments need a reason and cannot take the balance below zero.
"""

import datetime as dt
import threading
import zoneinfo

from aftersale_it import assert_problem
from loyalty_helpers import (assert_ledger_consistent, client, fake, loyal,  # noqa: F401
                             loyalty_verified, redemption_row, wait_for, woo_admin, woo_db,
                             woo_svc)


def new_account(shop, email, points):
    """An account with `points` (a guest order of 1.00, then an adjustment)."""
    shop.settings(points_per_unit="1", rounding="down")
    shop.completed_order("1.00", email=email)
    acct = shop.account_by_email(email)
    shop.adjust(acct["id"], points - 1, reason="opening balance")
    acct = shop.account(acct["id"])
    assert acct["balance"] == points
    return acct


def coupon_posts(fake):  # noqa: F811
    return [c for c in fake.calls(path_prefix="/coupons", method="POST")]


# --------------------------------------------------------------------------
# concurrency


def test_parallel_redemptions_never_overspend(loyal, pg, woo_svc):
    loyal.settings(redemption={"points_per_unit": 100, "min_points": 100})
    acct = new_account(loyal, "rush@example.com", 550)   # affords 5 x 100
    n = 20
    results = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        c = client(woo_svc.url, loyal.api_key)
        try:
            barrier.wait(10)
            # a long timeout: every request must get its answer, however slow
            r = c.post(f"/v1/loyalty/accounts/{acct['id']}/redemptions", json={"points": 100},
                       timeout=90)
            results[i] = (r.status_code, r.json())
        except Exception as exc:  # noqa: BLE001 (reported by the assertions below)
            results[i] = ("exception", {"type": "exception", "detail": repr(exc)})
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert all(r is not None for r in results), results
    codes = [r[0] for r in results]
    refusals = [body for status, body in results if status != 201]
    # every refusal is "not enough points", not a database error passed on
    assert all(b["type"] == "/problems/conflict" and "not enough points" in b["detail"]
               for b in refusals), [b.get("detail") for b in refusals]
    assert codes.count(201) == 5 and codes.count(409) == 15, codes
    ok = [body for status, body in results if status == 201]
    assert sorted(b["balance_after"] for b in ok) == [50, 150, 250, 350, 450]
    assert len({b["code"] for b in ok}) == 5
    loyal.loyalty_idle()
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert acct["balance"] == 50
    assert [x["delta"] for x in entries if x["reason"] == "redeem"] == [-100] * 5
    rows = pg.query(woo_svc.db, "SELECT count(*) FROM loyalty_redemptions WHERE shop_id = %s"
                                " AND account_id = %s", (loyal.id, acct["id"]))
    assert rows[0][0] == 5


# --------------------------------------------------------------------------
# coupons


def test_redemption_creates_the_coupon_in_the_shop(loyal, pg, woo_svc):
    loyal.settings(redemption={"points_per_unit": 100, "min_points": 100,
                               "coupon_validity_days": 30})
    acct = new_account(loyal, "Coupon.Buyer@Example.com", 400)
    r = loyal.redeem(acct["id"], 250)
    assert r.status_code == 201, r.text
    red = r.json()
    assert red["points"] == 250 and red["amount"] == "2.50" and red["currency"] == "EUR"
    assert red["status"] == "pending" and red["account_id"] == acct["id"]
    assert red["balance_after"] == 150 and red["code"].startswith("AS-")
    today = dt.datetime.now(zoneinfo.ZoneInfo(loyal.timezone)).date()
    assert red["expires_on"] == (today + dt.timedelta(days=30)).isoformat()
    wait_for(lambda: redemption_row(pg, woo_svc.db, loyal.id, red["id"])[0] == "created",
             what="the redemption to be created")
    status, coupon_id, code, amount, currency, expires = redemption_row(
        pg, woo_svc.db, loyal.id, red["id"])
    posts = [c for c in coupon_posts(loyal.fake) if c["status"] == 201]
    assert len(posts) == 1, posts
    body = posts[0]["json"]
    assert body["code"] == red["code"]
    assert body["discount_type"] == "fixed_cart"
    assert body["amount"] == "2.50" and isinstance(body["amount"], str)
    assert body["email_restrictions"] == ["coupon.buyer@example.com"]
    assert body["usage_limit"] == 1
    assert body["date_expires"] == red["expires_on"]
    made = loyal.fake.coupons[coupon_id]
    assert made["code"] == red["code"].lower() and made["amount"] == "2.50"
    assert made["usage_limit"] == 1
    # the ledger entry names the redemption
    _, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    redeem = [x for x in entries if x["reason"] == "redeem"]
    assert len(redeem) == 1 and redeem[0]["delta"] == -250
    assert redeem[0]["source"] == {"kind": "redemption", "id": str(red["id"])}


def test_coupon_that_cannot_be_created_gives_the_points_back(loyal, pg, woo_svc):
    loyal.settings(redemption={"points_per_unit": 100, "min_points": 100})
    acct = new_account(loyal, "unlucky@example.com", 300)
    loyal.fake.fail_next(100, 500, path_prefix="/coupons")
    r = loyal.redeem(acct["id"], 200)
    assert r.status_code == 201, r.text
    red = r.json()
    assert red["balance_after"] == 100
    job = loyal.find_job("loyalty.coupon",
                         lambda j: j["payload"].get("redemption_id") == red["id"])
    job = loyal.wait_job(job["id"], statuses=("dead",), timeout=20)
    assert job["attempts"] == job["max_attempts"]
    assert len(coupon_posts(loyal.fake)) == job["attempts"]
    wait_for(lambda: redemption_row(pg, woo_svc.db, loyal.id, red["id"])[0] == "failed",
             what="the redemption to be failed")
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert acct["balance"] == 300
    back = [x for x in entries if x["reason"] == "redemption_refund"]
    assert len(back) == 1 and back[0]["delta"] == 200, entries
    assert back[0]["source"]["id"] == str(red["id"])
    assert loyal.fake.coupons == {}


# --------------------------------------------------------------------------
# redemption rules


def test_redemption_validation(loyal):
    loyal.settings(redemption={"points_per_unit": 1000, "min_points": 200,
                               "max_discount": "5.00"})
    acct = new_account(loyal, "rules@example.com", 10000)
    url = f"/v1/loyalty/accounts/{acct['id']}/redemptions"
    for points in (100, 205, 6000, 0, -10):
        assert_problem(loyal.api.post(url, json={"points": points}), 422, "invalid-field",
                       field="points")
    assert_problem(loyal.api.post(url, json={"points": "300"}), 422, "invalid-field",
                   field="points")
    r = loyal.api.post(url, json={"points": 5000})
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == "5.00"
    assert_problem(loyal.api.post("/v1/loyalty/accounts/999999/redemptions",
                                  json={"points": 300}), 404, "not-found")
    loyal.loyalty_idle()


def test_redemption_beyond_the_balance_is_409(loyal, pg, woo_svc):
    loyal.settings(redemption={"points_per_unit": 100, "min_points": 100})
    acct = new_account(loyal, "poor@example.com", 150)
    assert_problem(loyal.redeem(acct["id"], 200), 409, "conflict")
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert acct["balance"] == 150 and not [x for x in entries if x["reason"] == "redeem"]


# --------------------------------------------------------------------------
# Idempotency-Key


def test_idempotency_replay_and_conflict(loyal, pg, woo_svc):
    loyal.settings(redemption={"points_per_unit": 100, "min_points": 100})
    acct = new_account(loyal, "idem@example.com", 500)
    url = f"/v1/loyalty/accounts/{acct['id']}/adjustments"
    h = {"Idempotency-Key": "adj-0001"}
    r1 = loyal.api.post(url, json={"points": 25, "reason": "goodwill"}, headers=h)
    assert r1.status_code == 201, r1.text
    assert r1.headers.get("Idempotent-Replayed") is None
    r2 = loyal.api.post(url, json={"points": 25, "reason": "goodwill"}, headers=h)
    assert r2.status_code == 201, r2.text
    assert r2.headers.get("Idempotent-Replayed") == "true"
    assert r2.json() == r1.json()
    assert_problem(loyal.api.post(url, json={"points": 26, "reason": "goodwill"}, headers=h),
                   409, "conflict")
    # redemptions too: one redemption, one coupon, one entry
    rurl = f"/v1/loyalty/accounts/{acct['id']}/redemptions"
    hk = {"Idempotency-Key": "red-0001"}
    a = loyal.api.post(rurl, json={"points": 100}, headers=hk)
    b = loyal.api.post(rurl, json={"points": 100}, headers=hk)
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert b.headers.get("Idempotent-Replayed") == "true" and a.json() == b.json()
    assert_problem(loyal.api.post(rurl, json={"points": 200}, headers=hk), 409, "conflict")
    loyal.loyalty_idle()
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [x["delta"] for x in entries if x["reason"] == "adjustment"] == [499, 25]
    assert [x["delta"] for x in entries if x["reason"] == "redeem"] == [-100]
    assert acct["balance"] == 425
    assert_problem(loyal.api.post(url, json={"points": 1, "reason": "x"},
                                  headers={"Idempotency-Key": "bad key"}), 400, "malformed")


# --------------------------------------------------------------------------
# manual adjustments


def test_adjustments_need_a_reason_and_cannot_go_below_zero(loyal, pg, woo_svc):
    acct = new_account(loyal, "adjust@example.com", 40)
    url = f"/v1/loyalty/accounts/{acct['id']}/adjustments"
    assert_problem(loyal.api.post(url, json={"points": 10}), 422, "invalid-field", field="reason")
    assert_problem(loyal.api.post(url, json={"points": 10, "reason": ""}), 422, "invalid-field",
                   field="reason")
    assert_problem(loyal.api.post(url, json={"points": 0, "reason": "zero"}), 422,
                   "invalid-field", field="points")
    assert_problem(loyal.api.post(url, json={"points": -41, "reason": "too much"}), 409,
                   "conflict")
    e = loyal.adjust(acct["id"], -40, reason="fraud cleanup")
    assert e["delta"] == -40 and e["balance_after"] == 0 and e["reason"] == "adjustment"
    assert e["note"] == "fraud cleanup" and e["actor"].startswith("api_key:")
    assert_problem(loyal.api.post("/v1/loyalty/accounts/999999/adjustments",
                                  json={"points": 5, "reason": "x"}), 404, "not-found")
    acct, _ = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert acct["balance"] == 0


def test_parallel_requests_with_one_idempotency_key_write_once(loyal, pg, woo_svc):
    acct = new_account(loyal, "idem.rush@example.com", 10)
    n = 10
    results = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        c = client(woo_svc.url, loyal.api_key)
        try:
            barrier.wait(10)
            r = c.post(f"/v1/loyalty/accounts/{acct['id']}/adjustments",
                       json={"points": 7, "reason": "once"},
                       headers={"Idempotency-Key": "rush-1"}, timeout=60)
            results[i] = (r.status_code, r.json())
        except Exception as exc:  # noqa: BLE001 (reported by the assertions below)
            results[i] = ("exception", repr(exc))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(70)
    assert [r[0] for r in results] == [201] * n, results
    assert len({r[1]["id"] for r in results}) == 1
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert acct["balance"] == 17 and [e["delta"] for e in entries].count(7) == 1


def test_coupon_created_but_answer_lost_is_not_created_twice(loyal, pg, woo_svc):
    """The shop creates the coupon but the answer is lost (500 after creating):
    the retry finds the code already there and counts it as created."""
    from woo_helpers import _Resp
    f = loyal.fake
    orig = f._coupon_create
    state = {"n": 0}

    def lossy(params, query, body):
        state["n"] += 1
        resp = orig(params, query, body)
        if state["n"] == 1:
            return _Resp(500, {"code": "internal_server_error", "message": "lost",
                               "data": {"status": 500}})
        return resp
    f._coupon_create = lossy
    loyal.settings(redemption={"points_per_unit": 100, "min_points": 100})
    acct = new_account(loyal, "lossy@example.com", 200)
    r = loyal.redeem(acct["id"], 100)
    assert r.status_code == 201, r.text
    red = r.json()
    wait_for(lambda: redemption_row(pg, woo_svc.db, loyal.id, red["id"])[0] == "created",
             what="the redemption to be created")
    job = loyal.find_job("loyalty.coupon", lambda j: j["payload"].get("redemption_id") == red["id"])
    job = loyal.wait_job(job["id"])
    assert job["attempts"] >= 2
    assert [c["code"] for c in f.coupons.values()] == [red["code"].lower()]
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert acct["balance"] == 100
    assert not [e for e in entries if e["reason"] == "redemption_refund"]
