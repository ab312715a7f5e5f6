"""POST /v1/loyalty/preview: the points a cart would earn.

The plugin calls it on every cart render, so it must agree with what the
order later earns (same rules: basis, rate, rounding, tiers, currency
rates), write nothing, and be quick. Each expectation here is checked
against the real earning of the same order where it matters.
"""

import time

from aftersale_it import assert_problem
from loyalty_helpers import (db_rows, fake, loyal, loyalty_verified, woo_admin, woo_db,  # noqa: F401
                             woo_svc)


def preview(shop, **body):
    r = shop.api.post("/v1/loyalty/preview", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def line(total, product_id=93, quantity=1):
    return {"product_id": product_id, "quantity": quantity, "total": total}


def test_preview_matches_what_the_order_then_earns(loyal):
    loyal.settings(points_per_unit="1.5", rounding="half_up")
    p = preview(loyal, currency="EUR", lines=[line("13.00", quantity=2), line("3.33")])
    # (13.00 + 3.33) * 1.5 = 24.495 -> half up 24
    assert p == {"points": 24, "amount": "16.33", "currency": "EUR", "tier": None,
                 "multiplier": "1.00", "basis": "subtotal", "currency_earns": True}
    loyal.completed_order("13.00", "3.33", email="same@example.com")
    acct = loyal.account_by_email("same@example.com")
    assert acct["balance"] == p["points"]


def test_tier_of_the_named_customer_applies(loyal):
    loyal.settings(points_per_unit="1", rounding="down",
                   tiers=[{"name": "Silver", "threshold": 100, "multiplier": "1.5"}])
    loyal.completed_order("100.00", email="tier@example.com", customer_id=4242)
    lines = [line("10.00")]
    assert preview(loyal, currency="EUR", lines=lines)["points"] == 10
    got = preview(loyal, currency="EUR", lines=lines, customer_id=4242)
    assert (got["points"], got["tier"], got["multiplier"]) == (15, "Silver", "1.50")
    # the guest preview by email finds no guest account (the account has a customer id)
    assert preview(loyal, currency="EUR", lines=lines, email="tier@example.com")["points"] == 10
    # and the order earns what was previewed
    loyal.completed_order("10.00", email="tier@example.com", customer_id=4242)
    acct = loyal.account_by_email("tier@example.com")
    assert acct["balance"] == 100 + got["points"]


def test_guest_tier_by_email(loyal):
    loyal.settings(points_per_unit="1", rounding="down",
                   tiers=[{"name": "Gold", "threshold": 50, "multiplier": "2"}])
    loyal.completed_order("60.00", email="Guest@Example.com")
    got = preview(loyal, currency="EUR", lines=[line("5.00")], email="  guest@example.COM ")
    assert (got["points"], got["tier"]) == (10, "Gold")


def test_currency_rates_and_total_basis(loyal):
    loyal.settings(points_per_unit="1", rounding="down", currency_rates={})
    got = preview(loyal, currency="USD", lines=[line("50.00")])
    assert got["points"] == 0 and got["currency_earns"] is False
    loyal.settings(currency_rates={"USD": "0.92"})
    got = preview(loyal, currency="USD", lines=[line("50.00")])
    assert got["points"] == 46 and got["currency_earns"] is True and got["amount"] == "50.00"
    loyal.settings(earn_basis="total")
    got = preview(loyal, currency="EUR", lines=[line("50.00")], total="61.50")
    assert (got["points"], got["basis"], got["amount"]) == (61, "total", "61.50")
    # without a total, the lines are the best estimate
    assert preview(loyal, currency="EUR", lines=[line("50.00")])["points"] == 50


def test_preview_writes_nothing(loyal, pg, woo_svc):
    def counts():
        return db_rows(pg, woo_svc.db,
                       "SELECT (SELECT count(*) FROM loyalty_accounts WHERE shop_id = %s),"
                       " (SELECT count(*) FROM loyalty_ledger WHERE shop_id = %s)",
                       (loyal.id, loyal.id))[0]
    before = counts()
    preview(loyal, currency="EUR", lines=[line("20.00")], customer_id=999001,
            email="nobody@example.com")
    preview(loyal, currency="EUR", lines=[], email="other@example.com")
    assert counts() == before


def test_preview_validates_its_input(loyal):
    api = loyal.api
    for body, field in (({"lines": []}, "currency"),
                        ({"currency": "eur", "lines": []}, "currency"),
                        ({"currency": "EUR"}, "lines"),
                        ({"currency": "EUR", "lines": [{"total": 5}]}, "lines[0].total"),
                        ({"currency": "EUR", "lines": [line("abc")]}, "lines[0].total"),
                        ({"currency": "EUR", "lines": [line("1.00"), line("-1.00")]},
                         "lines[1].total"),
                        ({"currency": "EUR", "lines": [dict(line("1"), price=3)]},
                         "lines[0].price"),
                        ({"currency": "EUR", "lines": [], "customer_id": -1}, "customer_id"),
                        ({"currency": "EUR", "lines": [line("1")] * 501}, "lines"),
                        ({"currency": "EUR", "lines": [], "coupon": "x"}, "coupon")):
        assert_problem(api.post("/v1/loyalty/preview", json=body), 422, "invalid-field",
                       field=field)
    assert_problem(loyal.anon.post("/v1/loyalty/preview", json={"currency": "EUR", "lines": []}),
                   401, "unauthorized")


def test_preview_is_quick(loyal):
    """Latency of 200 sequential previews of a 20-line cart for a customer
    with tiers, measured here and printed; bounded loosely (the box is
    shared, and this may run under ASan)."""
    loyal.settings(tiers=[{"name": "Silver", "threshold": 1, "multiplier": "1.5"}])
    loyal.completed_order("10.00", email="fast@example.com", customer_id=5150)
    body = {"currency": "EUR", "lines": [line("2.50", product_id=i) for i in range(20)],
            "customer_id": 5150}
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        r = loyal.api.post("/v1/loyalty/preview", json=body)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200 and r.json()["points"] == 75
    times.sort()
    p50, p95 = times[100] * 1000, times[190] * 1000
    print(f"preview latency over 200 calls: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    assert p95 < 500, (p50, p95)
