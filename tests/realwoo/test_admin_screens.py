"""The merchant's screens of the plugin in a real shop (issue 12, items 2-4
and its browser test): wp-admin > Aftersale > Reviews, Returns and Surveys,
in headless Chromium, on WordPress 6.1 + WooCommerce 7.9.0 (`real_shop`)
with the plugin installed and configured by its options (as
test_plugin_returns.py does), linked to a service (`real`: webhooks
installed, reviews by order note at once, auto-approved from 4 stars).

- Reviews: a 2-star review (held for moderation, its text holding a
  <script>) is in the queue, printed as text; the admin approves it inline;
  WooCommerce then has it as a product review; the statistics tab shows
  its charts, each with a table.
- Returns: a request for one line of a completed order; the admin opens it
  from the queue, approves it with instructions, receives it (the
  quantities proposed are those asked for), reads the refund the service
  computes (GET /v1/returns/{id}/resolution-preview) and confirms; the shop
  then holds a refund of exactly that amount, tagged with the RMA; the
  report shows the reasons' chart and the products returned most.
- Surveys: the admin creates a survey from the post_purchase_nps template;
  three customers answer it (invitations by link, answered through the
  public API: 10, 9 and 3); the report shows NPS over time with its margin
  band and the score distribution as bars, and the figures the API reports.

No console errors, no PHP message, nothing run from the shop's or the
customers' text. Screenshots of each screen to build/artifacts/screenshots/
(admin-*.png). Until the admin menu (class Aftersale_Admin_Menu) is in the
plugin, a test-only must-use plugin registers the three screens under the
same slugs; with the menu present it does nothing.
"""

import secrets
from decimal import Decimal

import pytest

from browser_helpers import SHOTS
from real_helpers import (TOKEN_RE, WAIT_S, assert_no_php_messages, browser_steps,  # noqa: F401
                          plugin_installed, product_id, real, real_admin, real_svc, unique_email,
                          wait_for, woo_db)
from test_plugin_returns import tiny_png


MU_MENU = "aftersale-admin-screens-menu.php"

# Registers the three screens when the plugin has no admin menu of its own
# (a branch built before it); with Aftersale_Admin_Menu it does nothing.
MENU_FALLBACK = """<?php
/*
 * Plugin Name: aftersale admin screens (tests/realwoo/test_admin_screens.py)
 * Description: the Reviews, Returns and Surveys screens without the admin menu. Test shop only.
 */
add_action('plugins_loaded', function () {
\tif (! is_admin() || class_exists('Aftersale_Admin_Menu') || ! defined('AFTERSALE_DIR')
\t\t|| file_exists(AFTERSALE_DIR . 'includes/admin/class-aftersale-admin-menu.php')) {
\t\treturn;
\t}
\t$screens = array();
\tforeach (array('reviews' => 'Reviews', 'returns' => 'Returns', 'surveys' => 'Surveys') as $f => $c) {
\t\trequire_once AFTERSALE_DIR . 'includes/admin/class-aftersale-admin-' . $f . '.php';
\t\t$class = 'Aftersale_Admin_' . $c;
\t\t$screens[$f] = new $class();
\t\t$screens[$f]->register();
\t}
\tadd_action('admin_menu', function () use ($screens) {
\t\tadd_menu_page('Aftersale', 'Aftersale', 'manage_woocommerce', 'aftersale-reviews', array($screens['reviews'], 'render'));
\t\tforeach ($screens as $f => $s) {
\t\t\tadd_submenu_page('aftersale-reviews', ucfirst($f), ucfirst($f), 'manage_woocommerce', 'aftersale-' . $f, array($s, 'render'));
\t\t}
\t});
}, 20);
"""


@pytest.fixture(scope="module")
def browser():
    """run(step, shop, **spec): a step of admin_screens.mjs as the shop's admin,
    its screenshots into SHOTS."""
    with browser_steps("admin_screens.mjs", "aftersale-admin-chromium-") as run_as:
        def run(step, shop, **spec):
            return run_as(step, shop.admin_user, shop.admin_password, base=shop.url,
                          shots=str(SHOTS), **spec)
        yield run


@pytest.fixture(scope="module")
def plugged(real):  # noqa: F811
    """The plugin installed, activated and configured for `real`'s shop."""
    with plugin_installed(real, "aftersale-admin-screens",
                          more_mu_plugins=[(MU_MENU, MENU_FALLBACK)]) as link:
        yield link


def completed_order(link, email, items, first_name="Ann"):
    o = link.new_order(email, items, first_name=first_name)
    done = link.set_status(o["id"], "completed")
    assert done["status"] == "completed"
    return done


def test_the_admin_moderates_a_review(plugged, browser):
    link, shop = plugged, plugged.shop
    assert link.activation["active"] is True, link.activation
    towel = product_id(shop, "Tea towel")
    email = unique_email("mona")
    o = completed_order(link, email, [(towel, 1)], first_name="Mona")
    notes = wait_for(lambda: [n for n in shop.wc("GET", f"/orders/{o['id']}/notes",
                                                 {"type": "customer"}, expect=200)
                              if TOKEN_RE.search(n["note"])],
                     WAIT_S, interval=0.2, what="the review request's customer note")
    token = TOKEN_RE.search(notes[0]["note"]).group(1)
    body = 'Frayed after one wash <script>window.__aftersale_xss=1</script>'
    r = link.anon.post(f"/v1/public/review-requests/{token}/reviews",
                       json=[{"product_id": towel, "rating": 2, "title": "Frayed", "body": body}])
    assert r.status_code == 201, r.text
    [review] = r.json()["reviews"]
    assert review["status"] == "pending", review      # under auto_approve_min_rating 4

    out = browser("moderate", shop, review=review["id"])
    assert out["row"] and "Tea towel" in out["row"] and "Frayed" in out["row"], out
    assert body in out["row"], out["row"]              # the text as text
    assert "<script" not in out["row_html"] and out["scripts_in_queue"] == 0, out["row_html"]
    assert out["notices"] == ["1 review updated."], out
    assert out["still_queued"] == 0, out
    assert out["scripts_run"] == 0, out

    def published():
        got = link.api.get("/v1/reviews", params={"status": "approved", "limit": 100}).json()["items"]
        mine = [x for x in got if x["id"] == review["id"]]
        return mine[0] if mine and mine[0]["woo_review_id"] else None
    mine = wait_for(published, WAIT_S, interval=0.3, what="the review in WooCommerce")
    woo = shop.wc("GET", f"/products/reviews/{mine['woo_review_id']}", expect=200)
    assert woo["product_id"] == towel and woo["rating"] == 2 and woo["status"] == "approved", woo
    assert woo["reviewer_email"] == email

    # the statistics: a chart per figure, each with its table; the figures the API gives
    assert out["stats_notices"] == [], out["stats_notices"]
    charts = out["stats_charts"]
    assert [c["role"] for c in charts] == ["img"] * len(charts) and len(charts) == 3, charts
    assert all(c["rows"] > 0 and c["marks"] > 0 for c in charts), charts


def test_the_admin_handles_a_return_from_request_to_refund(plugged, browser):
    link, shop = plugged, plugged.shop
    r = link.api.put("/v1/returns/settings", json={"refund_method": "manual"})
    assert r.status_code == 200, r.text
    teapot, mug = product_id(shop, "Teapot"), product_id(shop, "Mug")
    email = unique_email("rene")
    o = completed_order(link, email, [(teapot, 1), (mug, 2)], first_name="Rene")
    link.idle()
    lines = {li["product_id"]: li["id"] for li in o["line_items"]}
    r = link.api.post("/v1/returns", json={
        "order_id": o["id"], "resolution": "refund",
        "lines": [{"line_item_id": lines[mug], "quantity": 1, "reason": "wrong_item",
                   "note": "Blue, not <b>green</b>"}]})
    assert r.status_code == 201, r.text
    ret = r.json()
    r = link.api.post(f"/v1/returns/{ret['id']}/photos", data=tiny_png(),
                      headers={"Content-Type": "image/png"})
    assert r.status_code == 201, r.text

    out = browser("return", shop, **{"return": ret["id"]})
    [photo] = out["photos"]
    assert photo["loaded"] and photo["width"] == 2, photo          # the 2x2 PNG, shown
    assert (photo["status"], photo["type"]) == (200, "image/png"), photo
    assert "no-store" in photo["cache"], photo
    assert photo["src"].startswith(shop.url + "/wp-admin/admin-post.php?action=aftersale_return_photo"), photo
    assert link.svc.url not in photo["src"] and link.api_key not in photo["src"], photo
    assert any(ret["rma"] in row for row in out["queue"]), out["queue"]
    assert out["title"].startswith(f"Return {ret['rma']} of order #{o['id']}"), out
    assert out["after_approve"] == ["The return was approved."], out
    assert out["receive_quantities"] == ["1"], out
    assert out["after_receive"] == ["The items were recorded as received."], out
    # 13.00 a mug, no tax in the test shop: one mug is 13.00
    assert out["preview_amount"] == "13.00 EUR", out
    assert out["confirm"] == "Confirm: Refund", out
    assert out["after_resolve"] == ["The resolution was started: the shop carries it out in a moment."], out
    assert out["report_notices"] == [], out["report_notices"]
    assert [c["title"] for c in out["report_charts"]] == ["Units returned by reason", "Requests by state"], out
    assert any("Mug" in row for row in out["top_products"]), out["top_products"]

    done = wait_for(lambda: (lambda g: g if g["state"] in ("resolved", "resolution_failed") else None)(
        link.api.get(f"/v1/returns/{ret['id']}").json()), WAIT_S, interval=0.3, what="the resolution")
    assert done["state"] == "resolved", done
    refunds = shop.wc("GET", f"/orders/{o['id']}/refunds", expect=200)
    assert len(refunds) == 1, refunds
    assert Decimal(refunds[0]["amount"]) == Decimal("13.00"), refunds
    assert f"[{ret['rma']}]" in refunds[0]["reason"], refunds
    assert [(li["product_id"], li["quantity"]) for li in refunds[0]["line_items"]] == [(mug, -1)], refunds
    approved = [h for h in done["history"] if h["to"] == "approved"]
    assert approved and approved[0]["changes"].get("note") == "Send it back in its box please", approved
    page = browser("return_page", shop, **{"return": ret["id"]})
    assert "Resolved" in page["title"], page


def test_the_admin_creates_a_survey_and_reads_its_report(plugged, browser):
    link, shop = plugged, plugged.shop
    name = "After purchase " + secrets.token_hex(3)
    made = browser("survey_new", shop, name=name)
    assert "post_purchase_nps" in made["templates"], made
    assert made["notices"] == ["The survey was created."], made
    assert made["title"] == name, made
    [survey] = [s for s in link.api.get("/v1/surveys", params={"limit": 100}).json()["items"]
                if s["name"] == name]
    assert survey["status"] == "active" and [q["id"] for q in survey["questions"]][0] == "nps", survey

    mug = product_id(shop, "Mug")
    for score in (10, 9, 3):
        o = completed_order(link, unique_email("nps"), [(mug, 1)])
        link.idle()
        r = link.api.post(f"/v1/surveys/{survey['id']}/invitations", json={"order_id": o["id"]})
        assert r.status_code in (200, 201), r.text
        token = r.json()["token"]
        a = link.anon.put(f"/v1/public/survey-invitations/{token}",
                          json={"answers": {"nps": score}, "partial": False})
        assert a.status_code in (200, 201), a.text

    report = link.api.get(f"/v1/surveys/{survey['id']}/report", params={"interval": "week"}).json()
    nps = report["totals"]["nps"]
    assert (nps["promoters"], nps["detractors"], nps["n"]) == (2, 1, 3), nps
    out = browser("survey_report", shop, survey=survey["id"])
    assert out["title"] == name, out
    assert out["report_notices"] == [], out["report_notices"]
    titles = [c["title"] for c in out["charts"]]
    assert titles == ["NPS over time, with its 95% margin of error", "Scores of nps"], out["charts"]
    line, bars = out["charts"]
    assert line["band"] and line["marks"] >= 1 and line["rows"] >= 1, line
    # every score 0-10 in the table; one answer each for 3, 9 and 10
    assert {c[0]: c[1] for c in bars["cells"]} == {str(k): "1" if k in (3, 9, 10) else "0"
                                                   for k in range(11)}, bars
    # the figures as the API reports them
    shown = dict(out["figures"])
    assert shown["Responses"] == "3", shown

    def fig(v):
        return f"{v:.0f}" if abs(v - round(v)) < 0.005 else f"{v:.2f}"
    assert shown["NPS"] == f"{fig(nps['score'])} ± {fig(nps['margin_of_error'])}", (shown, nps)
    rate = report["totals"]["response_rate"]
    assert shown["Response rate"] == f"{fig(100 * rate)} %", (shown, report["totals"])
    assert out["responses"] == 3, out
    assert any(name in row for row in out["list"]), out["list"]


def test_no_php_message_from_the_plugin(plugged):
    """Every request of this module ran with E_ALL into plugged.error_log."""
    assert_no_php_messages(plugged)
