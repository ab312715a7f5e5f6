"""GET /v1/loyalty/report: a period's points for the merchant's overview.

Its figures are sums of the ledger: checked against the ledger rows
themselves (the database is the point here) and against the numbers the
test wrote (earned, adjusted both ways, redeemed, taken back by a refund);
the period bounds the entries but not the points held now; another shop's
entries are not counted; the liability is the points held at the
redemption rate.
"""

import datetime as dt

from aftersale_it import assert_problem
from loyalty_helpers import (LoyalShop, client, fake, loyal, loyalty_verified,  # noqa: F401
                             woo_admin, woo_db, woo_svc)


def _ledger_figures(pg, db, shop_id):
    """The report's figures computed here from the ledger rows."""
    rows = pg.query(db, "SELECT reason, delta FROM loyalty_ledger WHERE shop_id = %s", (shop_id,))
    by_reason = {}
    for reason, delta in rows:
        by_reason[reason] = by_reason.get(reason, 0) + delta
    issued = sum(d for r, d in rows if r in ("earn", "bonus") or (r == "adjustment" and d > 0))
    return {
        "issued": issued,
        "redeemed": -sum(d for r, d in rows if r in ("redeem", "redemption_refund")),
        "expired": -sum(d for r, d in rows if r == "expiry"),
        "reversed": -sum(d for r, d in rows if r in ("refund", "cancel")),
        "adjusted_out": -sum(d for r, d in rows if r == "adjustment" and d < 0),
        "net": sum(d for _, d in rows),
        "entries": len(rows),
        "by_reason": by_reason,
    }


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_report_figures_equal_the_ledger(loyal, pg, woo_db, woo_svc, woo_admin):  # noqa: F811
    shop = loyal
    shop.settings(points_per_unit="1", rounding="down",
                  redemption={"points_per_unit": 50, "min_points": 100})
    empty = shop.api.get("/v1/loyalty/report")
    assert empty.status_code == 200, empty.text
    assert (empty.json()["issued"], empty.json()["outstanding"], empty.json()["liability"]) == \
        (0, 0, "0.00")

    first = shop.completed_order("120.00", email="rep1@example.com")     # earn 120
    acct = shop.account_by_email("rep1@example.com")
    shop.adjust(acct["id"], 400, reason="goodwill")                      # +400
    shop.adjust(acct["id"], -20, reason="typo")                          # -20
    r = shop.redeem(acct["id"], 200)                                     # -200
    assert r.status_code == 201, r.text
    shop.refund(first["id"], "60.00")                                    # -60 (half the order)
    shop.completed_order("33.00", email="rep2@example.com")              # earn 33
    shop.loyalty_idle()

    # Another shop's points are not this shop's.
    other = LoyalShop(woo_svc, woo_admin, shop.fake)
    try:
        other.settings(points_per_unit="1")
        other.completed_order("999.00", email="else@example.com")
    finally:
        other.close()

    r = shop.api.get("/v1/loyalty/report")
    assert r.status_code == 200, r.text
    rep = r.json()
    want = _ledger_figures(pg, woo_db, shop.id)
    assert {k: rep[k] for k in want} == want
    # ... and those are the points this test moved.
    assert (rep["issued"], rep["redeemed"], rep["reversed"], rep["adjusted_out"], rep["expired"]) \
        == (553, 200, 60, 20, 0)
    assert rep["net"] == 273 and rep["by_reason"]["earn"] == 153
    held = sum(a["balance"] for a in shop.accounts())
    assert rep["outstanding"] == held == 273
    assert (rep["redemption_points_per_unit"], rep["liability"], rep["currency"]) == \
        (50, "5.46", "EUR")

    # The period bounds the entries, not the points held now.
    now = dt.datetime.now(dt.timezone.utc)
    later = shop.api.get("/v1/loyalty/report",
                         params={"from": _iso(now + dt.timedelta(hours=1)),
                                 "to": _iso(now + dt.timedelta(hours=2))}).json()
    assert (later["issued"], later["entries"], later["by_reason"], later["outstanding"]) == \
        (0, 0, {}, 273)
    assert later["from"] == _iso(now + dt.timedelta(hours=1))
    window = shop.api.get("/v1/loyalty/report",
                          params={"from": _iso(now - dt.timedelta(hours=1)),
                                  "to": _iso(now + dt.timedelta(minutes=5))}).json()
    assert window["issued"] == 553 and window["entries"] == want["entries"]

    assert_problem(shop.api.get("/v1/loyalty/report", params={"from": "yesterday"}), 400,
                   "malformed", "from")
    assert_problem(shop.api.get("/v1/loyalty/report", params={"to": "2026-02-30T00:00:00Z"}),
                   400, "malformed", "to")
    r = client(woo_svc.url).get("/v1/loyalty/report")
    assert r.status_code == 401
