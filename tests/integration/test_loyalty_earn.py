"""Loyalty: earning and taking back, with exact figures.

Rounding (down / half_up / up), tier multipliers, orders in another currency
(0 points with an entry saying why; converted with currency_rates), partial
and full refunds (proportional, then the rest), a refund after a redemption
(the balance stops at zero and the shortfall is kept in `uncollected`), a
cancellation after completion, and a completed order that arrives many
times, out of order, by the action topic and by sync: it pays once.
"""

from aftersale_it import assert_problem  # noqa: F401
from loyalty_helpers import (ACTION_COMPLETED, assert_ledger_consistent, fake,  # noqa: F401
                             loyal, loyalty_verified, redemption_row, wait_for, woo_admin,
                             woo_db, woo_svc)


def earn_entries(entries):
    return [e for e in entries if e["reason"] == "earn"]


def only_earn(shop, email):
    acct = shop.account_by_email(email)
    entries = shop.ledger(acct["id"])
    earns = earn_entries(entries)
    assert len(earns) == 1, entries
    return acct, earns[0]


# --------------------------------------------------------------------------
# rounding


def test_rounding_down_half_up_and_up(loyal, pg, woo_svc):
    # 1.5 points per 1.00: 7.00 -> 10.5 points, 6.99 -> 10.485 points
    cases = {"down": {"7.00": 10, "6.99": 10},
             "half_up": {"7.00": 11, "6.99": 10},
             "up": {"7.00": 11, "6.99": 11, "6.00": 9}}
    for rounding, figures in cases.items():
        s = loyal.settings(points_per_unit="1.5", rounding=rounding)
        assert s["rounding"] == rounding and s["points_per_unit"] == "1.5"
        for amount, points in figures.items():
            email = f"round-{rounding}-{amount}@example.com"
            o = loyal.completed_order(amount, email=email)
            acct, entry = only_earn(loyal, email)
            assert entry["delta"] == points, (rounding, amount, entry)
            assert entry["order_id"] == o["id"]
            assert entry["source"] == {"kind": "order", "id": str(o["id"])}
            assert acct["balance"] == points and acct["lifetime_points"] == points
            assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])


def test_subtotal_basis_sums_line_items(loyal):
    loyal.settings(points_per_unit="2", rounding="down")
    o = loyal.completed_order("12.34", "0.99", email="lines@example.com")
    assert o["total"] == "13.33"
    _, entry = only_earn(loyal, "lines@example.com")
    assert entry["delta"] == 26  # 13.33 * 2 = 26.66, down


# --------------------------------------------------------------------------
# tiers


def test_tier_multiplier_applies_from_the_next_order(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down",
                   tiers=[{"name": "Silver", "threshold": 100, "multiplier": "1.5"},
                          {"name": "Gold", "threshold": 200, "multiplier": "2"}])
    email = "tiers@example.com"
    loyal.completed_order("100.00", email=email)       # lifetime 0: x1 -> 100
    acct = loyal.account_by_email(email)
    assert acct["balance"] == 100 and acct["lifetime_points"] == 100
    assert acct["tier"]["name"] == "Silver"
    assert acct["next_tier"]["name"] == "Gold" and acct["next_tier"]["points_needed"] == 100
    loyal.completed_order("33.33", email=email)        # Silver: 49.995 -> 49
    loyal.completed_order("40.00", email=email)        # Silver: 60 -> lifetime 209
    acct = loyal.account(acct["id"])
    assert acct["lifetime_points"] == 209 and acct["tier"]["name"] == "Gold"
    assert acct["next_tier"] is None
    loyal.completed_order("10.00", email=email)        # Gold: x2 -> 20
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [e["delta"] for e in earn_entries(entries)] == [100, 49, 60, 20]
    assert acct["balance"] == 229 and acct["lifetime_points"] == 229


# --------------------------------------------------------------------------
# currency


def test_order_in_another_currency_earns_zero_then_converted_with_a_rate(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down", currency_rates={})
    email = "usd@example.com"
    o1 = loyal.completed_order("50.00", email=email, currency="USD")
    acct = loyal.account_by_email(email)
    entries = loyal.ledger(acct["id"])
    assert len(entries) == 1, entries
    e = entries[0]
    assert e["reason"] == "earn" and e["delta"] == 0 and e["order_id"] == o1["id"]
    assert "USD" in e["note"] and "EUR" in e["note"] and "rate" in e["note"], e["note"]
    assert acct["balance"] == 0

    s = loyal.settings(currency_rates={"USD": "0.92"})
    assert s["currency_rates"] == {"USD": "0.92"}
    loyal.completed_order("50.00", email=email, currency="USD")   # 46.00 EUR -> 46
    loyal.completed_order("33.33", email=email, currency="USD")   # 30.6636 EUR -> 30
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [x["delta"] for x in entries] == [0, 46, 30]
    assert acct["balance"] == 76


# --------------------------------------------------------------------------
# refunds and cancellations


def test_partial_refund_is_proportional_then_full_refund_takes_the_rest(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="10", rounding="down")
    email = "refund@example.com"
    o = loyal.completed_order("7.00", email=email)               # 70 points
    acct = loyal.account_by_email(email)
    assert acct["balance"] == 70
    r1 = loyal.refund(o["id"], "1.05", reason="scratched")     # 70 * 1.05 / 7 = 10.5 -> 11
    acct = loyal.account(acct["id"])
    assert acct["balance"] == 59
    r2 = loyal.refund(o["id"], "5.95", reason="returned")      # full: the rest, 59
    assert loyal.fake.get_order(o["id"])["status"] == "refunded"
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"], x["uncollected"]) for x in entries] == \
        [("earn", 70, 0), ("refund", -11, 0), ("refund", -59, 0)]
    assert entries[1]["source"] == {"kind": "refund", "id": str(r1["id"])}
    assert entries[2]["source"] == {"kind": "refund", "id": str(r2["id"])}
    assert all(x["order_id"] == o["id"] for x in entries)
    assert acct["balance"] == 0
    # lifetime points are what was earned: refunds do not lower them
    assert acct["lifetime_points"] == 70
    # replaying the refunded order changes nothing
    loyal.deliver_order(o["id"])
    loyal.loyalty_idle()
    assert len(loyal.ledger(acct["id"])) == 3


def test_refund_after_redemption_stops_at_zero_and_records_uncollected(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down",
                   redemption={"points_per_unit": 100, "min_points": 100})
    email = "spent@example.com"
    o = loyal.completed_order("200.00", email=email)              # 200 points
    acct = loyal.account_by_email(email)
    r = loyal.redeem(acct["id"], 150)
    assert r.status_code == 201, r.text
    red = r.json()
    assert red["amount"] == "1.50" and red["balance_after"] == 50
    wait_for(lambda: redemption_row(pg, woo_svc.db, loyal.id, red["id"])[0] == "created",
             what="the coupon to be created")
    loyal.refund(o["id"], "200.00", reason="all back")            # takes 200, only 50 left
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"], x["uncollected"]) for x in entries] == \
        [("earn", 200, 0), ("redeem", -150, 0), ("refund", -50, 150)]
    assert entries[-1]["balance_after"] == 0 and acct["balance"] == 0


def test_cancelled_after_completion_takes_the_points_back_once(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down")
    email = "cancel@example.com"
    o = loyal.completed_order("25.00", email=email)
    loyal.fake.update_order(o["id"], status="cancelled")
    for _ in range(2):
        loyal.deliver_order(o["id"])
    loyal.loyalty_idle()
    acct = loyal.account_by_email(email)
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"]) for x in entries] == [("earn", 25), ("cancel", -25)]
    assert acct["balance"] == 0


# --------------------------------------------------------------------------
# one order, many deliveries: it pays once


def test_completed_order_replayed_reordered_action_and_sync_pays_once(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down")
    f = loyal.fake
    email = "replay@example.com"
    o = loyal.order("42.00", email=email)
    processing = f.get_order(o["id"])
    completed = f.complete_order(o["id"])
    # the newer snapshot first, then the older one, then replays
    assert loyal.deliver("order.updated", completed).status_code == 200
    assert loyal.deliver("order.updated", processing).status_code == 200
    for i in range(3):
        assert loyal.deliver("order.updated", completed,
                             delivery_id=f"{i:032x}").status_code == 200
    assert loyal.deliver(ACTION_COMPLETED, {"action": "woocommerce_order_status_completed",
                                            "arg": o["id"]}).status_code == 200
    loyal.loyalty_idle()
    r = loyal.api.post("/v1/woocommerce/sync")
    assert r.status_code == 202, r.text
    loyal.wait_job(r.json()["job_id"])
    loyal.loyalty_idle()
    acct = loyal.account_by_email(email)
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"]) for x in entries] == [("earn", 42)], entries
    earn_jobs = [j for j in loyal.jobs(kind="loyalty.order")
                 if j["status"] == "done" and (j["result"] or {}).get("account_id") == acct["id"]]
    assert earn_jobs, loyal.jobs(kind="loyalty.order")


def test_order_seen_only_by_action_topic_and_sync_pays_once(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down")
    f = loyal.fake
    email = "action@example.com"
    o = loyal.order("17.00", email=email)
    f.complete_order(o["id"])
    for _ in range(2):
        r = loyal.deliver(ACTION_COMPLETED, {"action": "woocommerce_order_status_completed",
                                             "arg": o["id"]})
        assert r.status_code == 200, r.text
    loyal.loyalty_idle()
    r = loyal.api.post("/v1/woocommerce/sync")
    assert r.status_code == 202, r.text
    loyal.wait_job(r.json()["job_id"])
    loyal.loyalty_idle()
    acct = loyal.account_by_email(email)
    _, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"]) for x in entries] == [("earn", 17)]


def test_three_refunds_follow_the_documented_table(loyal, pg, woo_svc):
    """docs/loyalty.md: an order of 300.00 that earned 100, refunded 100.00 three
    times: 33, 33, then the rest (34) on the last, full refund; nothing more."""
    email = "table@example.com"
    # 300.00 earning 100: about 1/3 point per 1.00
    loyal.settings(points_per_unit="0.334", rounding="down")   # 300 * 0.334 = 100.2 -> 100
    o = loyal.completed_order("300.00", email=email)
    acct = loyal.account_by_email(email)
    assert acct["balance"] == 100
    for _ in range(3):
        loyal.refund(o["id"], "100.00")
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"]) for x in entries] == \
        [("earn", 100), ("refund", -33), ("refund", -33), ("refund", -34)]
    assert acct["balance"] == 0


def test_earn_basis_total_includes_shipping(loyal):
    loyal.settings(points_per_unit="1", rounding="down", earn_basis="total")
    o = loyal.order("10.00", email="basis.total@example.com")
    loyal.fake.update_order(o["id"], shipping_total="4.99", total="14.99")
    loyal.complete(o["id"])
    _, entry = only_earn(loyal, "basis.total@example.com")
    assert entry["delta"] == 14
    loyal.settings(earn_basis="subtotal")
    o = loyal.order("10.00", email="basis.sub@example.com")
    loyal.fake.update_order(o["id"], shipping_total="4.99", total="14.99")
    loyal.complete(o["id"])
    _, entry = only_earn(loyal, "basis.sub@example.com")
    assert entry["delta"] == 10


def test_earn_status_processing_pays_on_payment_once(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down", earn_status="processing")
    email = "paid@example.com"
    o = loyal.order("8.00", email=email, status="processing")
    loyal.deliver_order(o["id"])
    loyal.loyalty_idle()
    acct = loyal.account_by_email(email)
    assert acct["balance"] == 8
    loyal.complete(o["id"])                       # completion does not pay again
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(x["reason"], x["delta"]) for x in entries] == [("earn", 8)]
    loyal.settings(earn_status="completed")


def test_documented_currency_example(loyal):
    loyal.settings(points_per_unit="1", rounding="down", currency_rates={"USD": "0.92"})
    loyal.completed_order("10.01", email="usd.doc@example.com", currency="USD")
    _, entry = only_earn(loyal, "usd.doc@example.com")
    assert entry["delta"] == 9          # 10.01 USD -> 9.209 EUR -> 9
    loyal.completed_order("100.00", email="usd.doc2@example.com", currency="USD")
    _, entry = only_earn(loyal, "usd.doc2@example.com")
    assert entry["delta"] == 92
    loyal.settings(currency_rates={})
