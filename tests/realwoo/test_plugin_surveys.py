"""The plugin's customer pages for surveys and reviews, its webhook receiver,
and WordPress's own privacy tools, in the real shop (issue 11 items 6 and 8,
issue 12 item 9).

WordPress 6.1 + WooCommerce 7.9.0 (fixture `real_shop`) with the plugin
copied in, activated and configured by writing its options (as
test_plugin_returns.py). The service is this module's own (`real_svc`
below): as real_helpers' but with WEBHOOK_ALLOW_PRIVATE=127.0.0.0/8, since
the shop it sends webhooks to listens on 127.0.0.1.

1. The admin opens wp-admin: the plugin registers the site's REST route as
   an endpoint of the service's outbound webhooks (every event type).
2. The shop has an active survey of channel `link` shown on the thank-you
   page (template post_purchase_nps, trigger order.placed). In Chromium a
   customer puts the Teapot in the cart, checks out (cash on delivery,
   enabled for the test), lands on the thank-you page, sees the NPS
   question as a form of 11 scores posting to the service, picks 9 and
   lands on the service's thank-you; the service holds the response.
3. The order completes: the review request (sent at once as an order note)
   is listed in My Account > Reviews with its products and a "Write a
   review" link that opens the service's review page.
4. Webhooks arrived signed and were accepted (the delivery log says 200):
   the loyalty events moved the plugin's cache generation; a return
   request made at the service shows as a notice in wp-admin.
5. The admin exports and erases the customer in Tools > Export / Erase
   Personal Data (driven in Chromium). The email confirmation step is not
   bypassed by a trick: WordPress 5.7+ records a request as confirmed when
   the admin unticks "Send personal data ... confirmation email", which is
   what a merchant does for a request received by other means. The export
   file holds aftersale's groups; after the erasure the service's export
   has no trace of the address or the names, `aftersale loyalty verify` is
   clean.

Screenshots: build/artifacts/screenshots/survey-thankyou.png,
survey-answered.png, review-requests.png, privacy-export.png,
privacy-erase.png.
"""

import json
import secrets
import zipfile

import pytest

from browser_helpers import SHOTS
from real_helpers import (WAIT_S, assert_no_php_messages, browser_steps, link_real_shop,  # noqa: F401
                          plugin_installed, product_id, real_admin, start_real_svc, unique_email,
                          wait_for, woo_db)
from loyalty_helpers import assert_verified, claims_for, loyalty_verified, mint  # noqa: F401
from test_privacy import dump_hits


@pytest.fixture(scope="module")
def real_svc(pg, base_env, woo_db, workdir):  # noqa: F811
    """real_helpers' service, allowed to deliver webhooks to 127.0.0.1."""
    yield from start_real_svc(pg, base_env, woo_db, workdir, "realwoo-surveys",
                              WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8", WEBHOOK_RETRY_BASE_MS="500")


@pytest.fixture(scope="module")
def real(real_svc, real_admin, real_shop):  # noqa: F811
    yield from link_real_shop(real_svc, real_admin, real_shop)


@pytest.fixture(scope="module")
def browser():
    with browser_steps("plugin_surveys.mjs", "aftersale-surveys-chromium-") as run:
        yield run


@pytest.fixture(scope="module")
def plugged(real):  # noqa: F811
    """The plugin installed, activated and configured for `real`'s shop."""
    with plugin_installed(real, "aftersale-plugin-surveys") as link:
        yield link


def option(shop, name):
    rows = shop.sql(f"SELECT option_value FROM wp_options WHERE option_name = '{name}'")
    return rows[0][0] if rows else None


@pytest.fixture
def checkout(plugged):
    shop = plugged.shop
    ship = shop.wc("GET", "/settings/general/woocommerce_ship_to_countries", expect=200)["value"]
    shop.wc("PUT", "/payment_gateways/cod", json_body={"enabled": True}, expect=200)
    shop.wc("PUT", "/settings/general/woocommerce_ship_to_countries",
            json_body={"value": "disabled"}, expect=200)
    try:
        yield
    finally:
        shop.wc("PUT", "/payment_gateways/cod", json_body={"enabled": False}, expect=200)
        shop.wc("PUT", "/settings/general/woocommerce_ship_to_countries",
                json_body={"value": ship}, expect=200)


def test_survey_reviews_webhooks_and_privacy(plugged, browser, checkout, pg, base_env):
    link, shop = plugged, plugged.shop
    assert link.activation["active"] is True, link.activation
    admin = (shop.admin_user, shop.admin_password)

    # 1. The first wp-admin page of a merchant registers the webhook endpoint.
    out = browser("admin", *admin, base=shop.url, path="/wp-admin/index.php")
    [ep] = link.api.get("/v1/webhook-endpoints").json()["items"]
    assert ep["url"] == f"{shop.url}/wp-json/aftersale/v1/events", ep
    assert ep["event_types"] == ["*"] and ep["enabled"] is True, ep
    assert option(shop, "aftersale_webhook_endpoint_id") == str(ep["id"])
    assert (option(shop, "aftersale_webhook_secret") or "").startswith("whsec_")
    generation0 = int(option(shop, "aftersale_cache_generation") or 0)

    # 2. The thank-you survey.
    r = link.api.post("/v1/surveys", json={
        "template": "post_purchase_nps", "name": "Thank-you NPS", "status": "active",
        "channel": "link", "trigger": {"event": "order.placed", "delay": "PT0S"}})
    assert r.status_code == 201, r.text
    survey = r.json()
    email = unique_email("tina")
    password = secrets.token_urlsafe(12)
    login = "tina-" + secrets.token_hex(3)
    cid = shop.create_customer(login, email, password)
    teapot = product_id(shop, "Teapot")
    first = "Tina" + secrets.token_hex(3)
    # Cash on delivery and no shipping, so that a browser can check out in the
    # test shop (it has no shipping zone); put back by the fixture `checkout`.
    billing = {"first_name": first, "last_name": "Real", "address_1": "Carrer 1",
               "city": "Barcelona", "postcode": "08001", "country": "ES", "state": "B",
               "phone": "600000000", "email": email}
    out = browser("thankyou", login, password, base=shop.url, product=teapot, billing=billing,
                  score=9, shot=str(SHOTS / "survey-thankyou.png"),
                  shot_answered=str(SHOTS / "survey-answered.png"))
    assert out["checkout_notices"] == [], out
    o = shop.wc("GET", f"/orders/{out['order']}", expect=200)
    assert (o["customer_id"], o["billing"]["email"], o["payment_method"]) == (cid, email, "cod"), o
    assert [li["product_id"] for li in o["line_items"]] == [teapot], o
    assert out["survey_title"] == "A quick question", out
    assert out["legend"] == "How likely are you to recommend us to a friend or colleague?", out
    assert out["scores"] == [str(n) for n in range(11)] and out["q"] == "nps", out
    assert out["form_method"] == "post" and out["form_action"].startswith(f"{link.svc.url}/s/"), out
    assert out["scripts_in_survey"] == 0, out
    # The score is recorded at once; the service's page then asks the rest of
    # the template's questions (the one-click step, docs/surveys.md).
    assert out["answered_status"] == 200, out
    assert out["answered_h1"].endswith("would like your opinion"), out
    assert "Your answer (9) is recorded" in out["answered_text"], out
    assert out["after"].startswith("Thank you for your answer."), out
    [resp] = link.api.get(f"/v1/surveys/{survey['id']}/responses").json()["items"]
    assert (resp["answers"], resp["order_id"], resp["email"]) == ({"nps": 9}, o["id"], email), resp
    [inv] = link.api.get(f"/v1/surveys/{survey['id']}/invitations").json()["items"]
    assert (inv["channel"], inv["status"], inv["order_id"]) == ("link", "answered", o["id"]), inv

    # 3. Completed: the review request, in My Account > Reviews.
    link.set_status(o["id"], "completed")
    token = mint(link.token_secret, claims_for(link.id, sub=cid, scope="reviews"))
    mine = wait_for(lambda: link.anon.with_token(token).get("/v1/me/review-requests").json()["items"],
                    WAIT_S, what="the customer's review request")
    assert [x["order_id"] for x in mine] == [o["id"]], mine
    out = browser("reviews", login, password, base=shop.url, shot=str(SHOTS / "review-requests.png"))
    assert "Reviews" in out["menu"], out["menu"]
    [req] = out["requests"]
    assert req["order"] == o["id"] and "Teapot" in req["text"], out
    assert req["link"].startswith(f"{link.svc.url}/review?token="), req
    assert out["review_page_status"] == 200 and "Teapot" in out["review_page"], out

    # 4. The webhooks: signed deliveries accepted by the plugin.
    def delivered():
        items = link.api.get(f"/v1/webhook-endpoints/{ep['id']}/deliveries").json()["items"]
        return items if any(a.get("status_code") == 200 for a in items) else None
    attempts = wait_for(delivered, WAIT_S, what="a delivery to the plugin")
    assert all(a["status_code"] == 200 for a in attempts if a["status_code"] is not None), attempts
    wait_for(lambda: int(option(shop, "aftersale_cache_generation") or 0) > generation0, WAIT_S,
             what="a loyalty event to reach the plugin")
    rtoken = mint(link.token_secret, claims_for(link.id, sub=cid, scope="returns"))
    line = o["line_items"][0]["id"]
    r = link.anon.with_token(rtoken).post("/v1/me/returns", json={
        "order_id": o["id"], "resolution": "refund",
        "lines": [{"line_item_id": line, "quantity": 1, "reason": "damaged"}]})
    assert r.status_code == 201, r.text
    ret = r.json()
    wait_for(lambda: option(shop, "aftersale_admin_notices"), WAIT_S,
             what="the return.created event at the plugin")
    out = browser("admin", *admin, base=shop.url, path="/wp-admin/index.php")
    assert out["events_notice"].startswith(f"Aftersale: a new return request (#{ret['id']}) waits for you."), out

    # 5. WordPress's privacy tools.
    exports = shop.content / "uploads" / "wp-personal-data-exports"
    before = set(exports.glob("*.zip")) if exports.is_dir() else set()
    out = browser("privacy", *admin, base=shop.url, email=email,
                  shot_export=str(SHOTS / "privacy-export.png"),
                  shot_erase=str(SHOTS / "privacy-erase.png"))
    assert out["export_status"] == "Confirmed" and out["erase_status"] == "Confirmed", out
    assert out["export_done"] is True and out["erase_done"] is True, out
    [zpath] = set(exports.glob("*.zip")) - before
    with zipfile.ZipFile(zpath) as z:
        html = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                       if n.endswith((".html", ".json")))
    assert "Aftersale: loyalty (ledger)" in html and "Aftersale: reviews (requests)" in html, \
        html[:2000]
    assert any("Aftersale kept the amounts" in m for m in out["erase_results"]), out

    export = link.api.get("/v1/customers/export", params={"email": email})
    assert export.status_code == 200, export.text
    held = export.json()
    assert held.pop("customer") == {"email": email, "customer_id": None}  # the query, echoed
    text = json.dumps(held).lower()
    assert email.lower() not in text and first.lower() not in text, text[:3000]
    [inv] = held["surveys"]["invitations"]
    assert inv["email"].endswith("@erased.invalid") and inv["first_name"] == "", inv
    # Nowhere in the service's database (every text, JSON and bytea column).
    assert dump_hits(pg, link.svc.db, link.id, [email, first]) == []
    assert_verified(pg, base_env, link.svc.db)


def test_no_php_message_from_the_plugin(plugged):
    """Every request of this module ran with E_ALL into plugged.error_log."""
    assert_no_php_messages(plugged)
