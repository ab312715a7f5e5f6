"""The plugin's wp-admin screens in the real shop: Aftersale > Overview and
Aftersale > Loyalty (wordpress/aftersale, issue 12 items 1, 5 and 6).

WordPress 6.1 + WooCommerce 7.9.0 (fixture `real_shop`) with the plugin
copied in, activated and configured by writing its options; the service
(`real_svc`, plain http on 127.0.0.1) linked to the shop by `real` (its
webhooks installed, 10 points per EUR, review requests as order notes).

Data is made through the shop and the service first: a completed order
(points earned through WooCommerce's webhooks, a review request sent), a
return request for one of its lines, an active NPS survey answered 4 (a
detractor). Then, in Chromium, the admin opens Aftersale > Overview: the
menu's bubble is GET /v1/counts' total; every figure equals what the
service's report routes answer for the period the page shows (its bounds
are on the page); the NPS trend is an SVG of role img named by its title,
with a table of the report's values; no console error. On Aftersale >
Loyalty the admin finds the customer by email, adds points with a note
holding markup: the notice gives the new balance, the ledger's first row
is the entry the service wrote, the note printed as text. The settings
saved unchanged come back from the service identical. With the service
stopped the Overview says so and still loads. No PHP message from the
plugin (E_ALL into a log of its own). About a minute.

Screenshots (build/artifacts/screenshots/): admin-overview.png,
admin-loyalty-account.png, admin-loyalty-settings.png, admin-overview-down.png.
"""

import datetime as dt

import pytest

from browser_helpers import SHOTS
from real_helpers import (WAIT_S, assert_no_php_messages, browser_steps, plugin_installed,  # noqa: F401
                          product_id, real, real_admin, real_svc, unique_email, wait_for, woo_db)
from surveys_helpers import questions


@pytest.fixture(scope="module")
def browser():
    with browser_steps("admin_overview.mjs", "aftersale-admin-chromium-") as run:
        yield run


@pytest.fixture(scope="module")
def plugged(real):  # noqa: F811
    """The plugin installed, activated and configured for `real`'s shop."""
    with plugin_installed(real, "aftersale-admin-overview") as link:
        yield link


def same(shown, api):
    """A figure's data-value (PHP's string of the service's value) against the API's."""
    if api is None:
        return shown == ""
    if isinstance(api, str):
        return shown == api
    return float(shown) == float(api)


def test_overview_shows_the_services_figures_and_loyalty_adjusts(plugged, browser):
    link, shop = plugged, plugged.shop
    assert link.activation["active"] is True, link.activation
    tz = shop.sql("SELECT option_value FROM wp_options WHERE option_name IN "
                  "('timezone_string', 'gmt_offset') ORDER BY option_name")
    assert [r[0] for r in tz] in (["0", ""], ["0", "UTC"], ["", "UTC"]), tz  # survey days below

    # -- data, through the shop and the service
    email = unique_email("olga")
    teapot, mug = product_id(shop, "Teapot"), product_id(shop, "Mug")
    o = link.new_order(email, [(teapot, 1), (mug, 2)])
    done = link.set_status(o["id"], "completed")
    assert done["status"] == "completed"
    link.idle()
    acct = wait_for(lambda: link.account_for(email), WAIT_S, what="the customer's account")
    assert acct["balance"] == 660, acct
    lines = {li["product_id"]: li["id"] for li in done["line_items"]}
    r = link.api.post("/v1/returns", json={"order_id": o["id"], "resolution": "refund", "lines": [
        {"line_item_id": lines[mug], "quantity": 1, "reason": "changed_mind"}]})
    assert r.status_code == 201, r.text
    r = link.api.post("/v1/surveys", json={"name": "After delivery", "status": "active",
                                           "questions": questions()})
    assert r.status_code == 201, r.text
    survey = r.json()
    r = link.api.post(f"/v1/surveys/{survey['id']}/invitations", json={"order_id": o["id"]})
    assert r.status_code in (200, 201), r.text
    r = link.anon.put(f"/v1/public/survey-invitations/{r.json()['token']}", json={"answers": {"nps": 4}})
    assert r.status_code == 201, r.text
    link.idle()
    counts = link.api.get("/v1/counts").json()
    assert counts["returns_to_handle"] == 1 and counts["detractors_to_contact"] == 1, counts

    # -- Aftersale > Overview
    out = browser("overview", shop.admin_user, shop.admin_password, base=shop.url, query="&range=30",
                  shot=str(SHOTS / "admin-overview.png"))
    assert out["title"] == "Aftersale overview" and out["error"] is None, out
    assert out["bubble"] == str(counts["total"]), (out["menu"], counts)
    assert [s.split("\n")[0].strip() for s in out["submenu"]][:1] == ["Overview"], out["submenu"]
    assert any(s.startswith("Loyalty") for s in out["submenu"]), out["submenu"]
    assert out["styles"] == 1, "admin.css is enqueued on the screen"
    period = out["period"]
    days = (dt.datetime.fromisoformat(period["to"][:-1]) - dt.datetime.fromisoformat(period["from"][:-1])).days
    assert days == 30, period
    cur = {"from": period["from"], "to": period["to"]}
    prev = {"from": period["prev_from"], "to": period["from"]}
    rv = [link.api.get("/v1/reviews/stats", params=q).json() for q in (cur, prev)]
    rt = [link.api.get("/v1/returns/report", params=q).json() for q in (cur, prev)]
    ly = [link.api.get("/v1/loyalty/report", params=q).json() for q in (cur, prev)]
    last_day = (dt.datetime.fromisoformat(period["to"][:-1]) - dt.timedelta(days=1)).date().isoformat()
    sv = link.api.get(f"/v1/surveys/{survey['id']}/report",
                      params={"from": period["from"][:10], "to": last_day, "interval": "day"}).json()
    want = {
        "review-requests": rv[0]["requests_sent"], "review-conversion": rv[0]["conversion_rate"],
        "review-rating": rv[0]["average_rating"], "nps": sv["totals"]["nps"]["score"],
        "csat": (sv["totals"]["csat"] or {}).get("score"),
        "return-rate": rt[0]["return_rate"], "refunded": rt[0]["refunded"], "credited": rt[0]["credited"],
        "points-issued": ly[0]["issued"], "points-redeemed": ly[0]["redeemed"],
        "points-expired": ly[0]["expired"], "points-outstanding": ly[0]["outstanding"],
        "points-liability": ly[0]["liability"],
    }
    figures = {f["id"]: f for f in out["figures"]}
    assert set(figures) == set(want), (sorted(figures), sorted(want))
    for fid, api in want.items():
        assert same(figures[fid]["value"], api), (fid, figures[fid], api)
    # what this test made is in them
    assert rv[0]["requests_sent"] >= 1 and ly[0]["issued"] >= 660 and rt[0]["requests"] >= 1, (rv, ly, rt)
    assert sv["totals"]["nps"]["score"] == -100.0, sv["totals"]
    assert figures["points-outstanding"]["text"] == f"{ly[0]['outstanding']:,}", figures
    assert figures["points-issued"]["previous"] == f"Previous period: {ly[1]['issued']:,}", figures
    for fid, screen in (("review-requests", "aftersale-reviews"), ("nps", "aftersale-surveys"),
                        ("return-rate", "aftersale-returns"), ("points-liability", "aftersale-loyalty")):
        assert f"page={screen}" in figures[fid]["href"], figures[fid]
    # the NPS trend: an image named by its title, its table the report's days
    charts = {c["id"]: c for c in out["charts"]}
    nps = charts["aftersale-chart-nps-trend"]
    assert nps["role"] == "img" and nps["name"] == "NPS over time (After delivery)", nps
    assert nps["width"] > 200 and nps["lines"] >= 1, nps
    rows = {row[0]: row[1] for row in nps["rows"]}
    answered = [p for p in sv["over_time"] if p["nps"]]
    assert answered and all(rows[p["period"]] == f"{p['nps']['score']:.1f}" for p in answered), (rows, answered)
    assert len(nps["rows"]) == len(sv["over_time"]), nps["rows"]
    assert (SHOTS / "admin-overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # -- Aftersale > Loyalty: find the customer, adjust with a note
    before = link.account(acct["id"])["balance"]
    note = "Goodwill <b>gesture</b> & thanks"
    adj = browser("adjust", shop.admin_user, shop.admin_password, base=shop.url, email=email,
                  points=37, note=note, shot=str(SHOTS / "admin-loyalty-account.png"))
    assert adj["found"] == [acct["id"]], adj
    assert adj["notices"] == [f"Added 37 points. The balance is now {before + 37:,}."], adj
    assert f"account={acct['id']}" in adj["final_url"], adj
    newest = link.api.get(f"/v1/loyalty/accounts/{acct['id']}/ledger", params={"limit": 1}).json()["items"][0]
    assert (newest["reason"], newest["delta"]) == ("adjustment", 37), newest
    assert newest["note"] == "Goodwill gesture & thanks", newest  # WordPress's sanitize_textarea_field
    assert adj["ledger"][0]["id"] == newest["id"] and adj["ledger"][0]["delta"] == 37, adj["ledger"]
    assert adj["ledger"][0]["note"] == newest["note"], adj["ledger"]
    assert "<b>" not in adj["ledger"][0]["note_html"], adj["ledger"]
    assert link.account(acct["id"])["balance"] == before + 37

    # -- the settings form saved unchanged writes back what it read
    doc = link.api.get("/v1/loyalty/settings").json()
    saved = browser("settings", shop.admin_user, shop.admin_password, base=shop.url,
                    shot=str(SHOTS / "admin-loyalty-settings.png"))
    assert saved["points_per_unit"] == doc["points_per_unit"] == "10", saved
    assert saved["notices"] == ["Loyalty settings saved."], saved
    assert link.api.get("/v1/loyalty/settings").json() == doc
    plugged.state = True


def test_overview_says_when_the_service_is_down(plugged, browser):
    assert getattr(plugged, "state", None), "needs the previous test"
    plugged.svc.terminate()
    assert plugged.svc.wait_exit(timeout=15) == 0
    out = browser("overview", plugged.shop.admin_user, plugged.shop.admin_password,
                  base=plugged.shop.url, shot=str(SHOTS / "admin-overview-down.png"))
    assert out["title"] == "Aftersale overview", out
    assert out["error"].startswith("The figures cannot be shown: the aftersale service did not answer"), out
    assert out["figures"] == [] and out["charts"] == [], out


def test_no_php_message_from_the_plugin(plugged):
    """Every request of this module ran with E_ALL into plugged.error_log."""
    assert_no_php_messages(plugged)
