"""The plugin's returns in the real shop: My Account > Returns and the
order screen's Aftersale box (wordpress/aftersale, issue 11 item 5 and 7).

WordPress 6.1 + WooCommerce 7.9.0 (fixture `real_shop`) with the plugin
copied in and activated, configured by writing its options (the settings
screen and Connect are test_plugin_shop.py's); the service (`real_svc`, plain
http on 127.0.0.1: nothing here needs WooCommerce's https-only app
authorisation) is linked to the shop by `real` (its webhooks installed, 10
points per EUR).

A customer's completed order of two lines: a request is first made for the
second line straight at the service (POST /v1/me/returns, as the portal
could) with a note made of HTML and script; then, in Chromium, the customer
opens My Account > Orders, follows "Request a return", asks to return one
unit of the first line as damaged with a note holding a <script> and a PNG
photo, and lands on My Account > Returns: both requests `requested`, every
note printed as text, no script run. The service holds the request with the
photo's bytes. The order's review request was answered first (the teapot
approved and published in WooCommerce, the mug held) and a survey answered
and followed up. The admin opens the order in wp-admin: the Aftersale box
lists the two requests, the points the order earned, the review request with
its two reviews and the survey response with its score; each links on (the
Returns, Surveys, Loyalty screens and the WooCommerce review), and each link
opens on its item. Every PHP message of the
module goes to a log of its own (test_plugin_shop.py's must-use plugin);
none may come from the plugin. About a minute; bounded by NODE_TIMEOUT_S per
browser step and WAIT_S per wait.

Then the service is stopped: My Account > Orders, Returns and the form
still load (200), say the returns cannot be shown or requested now, and no
order offers a return; the order screen's box says the service cannot be
reached.

Screenshot: build/artifacts/screenshots/returns.png (My Account > Returns
after the request), returns-admin.png (the order screen), returns-down.png.
"""

import re
import secrets
import struct
import urllib.parse
import zlib

import pytest

from browser_helpers import SHOTS
from real_helpers import (TOKEN_RE, WAIT_S, RealLinked, assert_no_php_messages, browser_steps,  # noqa: F401
                          plugin_installed, product_id, real, real_admin, real_svc, unique_email,
                          wait_for, woo_db)
from loyalty_helpers import claims_for, mint


def tiny_png():
    """A valid 2x2 RGB PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def browser():
    with browser_steps("plugin_returns.mjs", "aftersale-returns-chromium-") as run:
        yield run


@pytest.fixture(scope="module")
def plugged(real):  # noqa: F811
    """The plugin installed, activated and configured for `real`'s shop."""
    with plugin_installed(real, "aftersale-plugin-returns") as link:
        yield link


def test_a_customer_requests_a_return_and_the_admin_sees_it(plugged, browser, tmp_path):
    link, shop = plugged, plugged.shop
    assert link.activation["active"] is True, link.activation
    email = unique_email("rosa")
    password = secrets.token_urlsafe(12)
    login = "rosa-" + secrets.token_hex(3)
    cid = shop.create_customer(login, email, password)
    teapot, mug = product_id(shop, "Teapot"), product_id(shop, "Mug")
    o = link.new_order(email, [(teapot, 1), (mug, 2)])
    done = shop.wc("PUT", f"/orders/{o['id']}", json_body={"customer_id": cid, "status": "completed"},
                   expect=200)
    assert done["status"] == "completed" and done["customer_id"] == cid
    link.idle()
    acct = wait_for(lambda: link.account_for(email), WAIT_S, what="the customer's account")
    assert acct["customer_id"] == cid and acct["balance"] > 0, acct
    lines = {li["product_id"]: li["id"] for li in done["line_items"]}

    # the order's review request (sent as a customer note: real's settings)
    # answered: the teapot 5 stars (approved, published in WooCommerce), the
    # mug 2 (held for moderation)
    notes = wait_for(lambda: [n for n in shop.wc("GET", f"/orders/{o['id']}/notes",
                                                 {"type": "customer"}, expect=200)
                              if TOKEN_RE.search(n["note"])],
                     WAIT_S, interval=0.2, what="the review request's customer note")
    r = link.anon.post(f"/v1/public/review-requests/{TOKEN_RE.search(notes[0]['note']).group(1)}/reviews",
                       json=[{"product_id": teapot, "rating": 5, "title": "Lovely", "body": "Keeps it hot."},
                             {"product_id": mug, "rating": 2, "title": "Chipped", "body": "A chip."}])
    assert r.status_code == 201, r.text
    reviewed = {v["product_id"]: v for v in r.json()["reviews"]}
    assert (reviewed[teapot]["status"], reviewed[mug]["status"]) == ("approved", "pending"), reviewed

    def published():
        got = link.api.get("/v1/reviews", params={"status": "approved", "limit": 100}).json()["items"]
        mine = [x for x in got if x["id"] == reviewed[teapot]["id"] and x["woo_review_id"]]
        return mine[0] if mine else None
    reviewed[teapot] = wait_for(published, WAIT_S, interval=0.3, what="the review in WooCommerce")
    # the order's survey response (a name with markup), followed up
    r = link.api.post("/v1/surveys", json={"name": "After <i>delivery</i>", "questions": [
        {"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend us?"}}]})
    assert r.status_code == 201, r.text
    survey = r.json()
    r = link.api.post(f"/v1/surveys/{survey['id']}/invitations", json={"order_id": o["id"]})
    assert r.status_code in (200, 201), r.text
    r = link.anon.put(f"/v1/public/survey-invitations/{r.json()['token']}", json={"answers": {"nps": 4}})
    assert r.status_code == 201, r.text
    [response] = link.api.get("/v1/survey-responses", params={"order_id": o["id"]}).json()["items"]
    r = link.api.patch(f"/v1/survey-responses/{response['id']}", json={"follow_up": "contacted"})
    assert r.status_code == 200, r.text

    # a request made elsewhere (as the portal could), its note HTML and script
    token = mint(link.token_secret, claims_for(link.id, sub=cid, scope="returns"))
    hostile = '<script>window.__aftersale_xss=1</script><img src=x onerror="window.__aftersale_xss=2">'
    r = link.anon.with_token(token).post("/v1/me/returns", json={
        "order_id": o["id"], "resolution": "refund",
        "lines": [{"line_item_id": lines[mug], "quantity": 1, "reason": "changed_mind", "note": hostile}]})
    assert r.status_code == 201, r.text
    first = r.json()

    photo = tmp_path / "crack.png"
    photo.write_bytes(tiny_png())
    note = "Cracked lid <script>window.__aftersale_xss=3</script> on arrival"
    out = browser("request", login, password, base=shop.url, order=o["id"], reason="damaged",
                  note=note, photo=str(photo), shot=str(SHOTS / "returns.png"))
    assert "Returns" in out["menu"], out["menu"]
    assert "Request a return" in out["order_actions"], out
    assert out["form_title"] == f"Request a return for order #{o['id']}", out
    # the teapot: 1 bought, none returned yet -> 0..1
    assert out["quantity_options"] == ["0", "1"], out
    assert out["resolutions"] == ["refund", "store_credit"], out
    assert out["form_error"] is None, out
    final = urllib.parse.urlsplit(out["final_url"])
    assert final.path.rstrip("/").endswith("/my-account/returns"), out
    assert re.fullmatch(r"aftersale_requested=\d+", final.query), out
    assert any(re.search(r"Your return R-\d+ was requested\.", m) for m in out["messages"]), \
        (out["messages"], out["returns"], out["visited"])
    assert out["states"] == ["requested", "requested"], out
    # the notes are text on the page: the markup shown, escaped, never run
    assert hostile in out["notes"], out["notes"]
    assert out["scripts_in_returns"] == 0 and out["scripts_run"] == 0, out
    assert all("<script" not in h and "<img" not in h for h in out["note_html"]), out["note_html"]
    assert (SHOTS / "returns.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the service holds the request, with the photo's bytes
    mine = link.api.get(f"/v1/returns?order_id={o['id']}").json()["items"]
    assert [x["id"] for x in mine][0] == first["id"] and len(mine) == 2, mine
    req = mine[1]
    assert req["state"] == "requested" and req["customer_id"] == cid, req
    assert req["created_by"].startswith("customer"), req
    assert [(ln["line_item_id"], ln["quantity"], ln["reason"]) for ln in req["lines"]] == \
        [(lines[teapot], 1, "damaged")], req
    # the plugin sanitises the note (WordPress's sanitize_textarea_field)
    assert req["lines"][0]["note"].startswith("Cracked lid") and "<script" not in req["lines"][0]["note"], req
    assert len(req["photos"]) == 1 and req["photos"][0]["media_type"] == "image/png", req
    got = link.api.get(f"/v1/returns/{req['id']}/photos/{req['photos'][0]['id']}")
    assert got.status_code == 200 and got.content == tiny_png(), got.status_code

    # the admin's order screen: the Aftersale box (posts or HPOS, as the shop has it)
    hpos = shop.sql("SELECT option_value FROM wp_options WHERE option_name = "
                    "'woocommerce_custom_orders_table_enabled'")
    path = (f"/wp-admin/admin.php?page=wc-orders&action=edit&id={o['id']}"
            if hpos and hpos[0][0] == "yes" else f"/wp-admin/post.php?post={o['id']}&action=edit")
    screen = shop.url + "/wp-admin/admin.php?page="
    woo_review = f"{shop.url}/wp-admin/comment.php?action=editcomment&c={reviewed[teapot]['woo_review_id']}"
    response_link = (f"{screen}aftersale-surveys&view=responses&survey={survey['id']}"
                     f"#aftersale-response-{response['id']}")
    box = browser("admin_order", shop.admin_user, shop.admin_password, base=shop.url, path=path,
                  shot=str(SHOTS / "returns-admin.png"),
                  follow=[{"href": f"{screen}aftersale-returns&return={req['id']}", "selector": ".wrap"},
                          {"href": response_link, "selector": f"#aftersale-response-{response['id']}"},
                          {"href": f"{screen}aftersale-loyalty&account={acct['id']}", "selector": ".wrap"},
                          {"href": woo_review, "selector": "h1", "value": "textarea#content"}])
    assert box["box_title"] == "Aftersale", box
    assert box["returns"] == ["requested", "requested"], box
    assert first["rma"] in box["box"] and req["rma"] in box["box"], box["box"]
    assert box["scripts_in_box"] == 0, box
    earned = [e["delta"] for e in link.api.get(f"/v1/loyalty/accounts/{acct['id']}/ledger").json()["items"]
              if e["order_id"] == o["id"]]
    assert earned and box["points"] == earned, (box["points"], earned)
    # ... the review request, its reviews, the survey response, and the links on
    [rq] = box["requests"]
    assert rq["status"] == "answered" and rq["text"].startswith("Answered"), rq
    assert "Sent " in rq["text"] and rq["link"] == f"{screen}aftersale-reviews&tab=stats", rq
    by_id = {v["id"]: v for v in box["reviews"]}
    assert set(by_id) == {reviewed[teapot]["id"], reviewed[mug]["id"]}, box["reviews"]
    hot, chipped = by_id[reviewed[teapot]["id"]], by_id[reviewed[mug]["id"]]
    assert (hot["status"], hot["stars"]) == ("approved", "5 of 5 stars"), hot
    assert hot["links"] == [f"{screen}aftersale-reviews&tab=published", woo_review], hot
    assert (chipped["status"], chipped["stars"]) == ("pending", "2 of 5 stars"), chipped
    assert chipped["links"] == [f"{screen}aftersale-reviews"], chipped
    [resp] = box["responses"]
    assert (resp["id"], resp["follow_up"], resp["link"]) == (response["id"], "contacted", response_link), resp
    assert resp["text"].startswith("After <i>delivery</i>: score 4") and "Contacted" in resp["text"], resp
    assert sorted(box["return_links"]) == sorted(f"{screen}aftersale-returns&return={x['id']}" for x in mine)
    assert box["account_link"] == [f"{screen}aftersale-loyalty&account={acct['id']}"], box
    # each screen the box links to opens on the item
    ret, srow, loyal, woo = box["followed"]
    assert ret["status"] == 200 and req["rma"] in ret["text"], ret
    assert srow["status"] == 200 and srow["text"] and "Order #" in srow["text"], srow
    assert loyal["status"] == 200 and f"Account #{acct['id']} ({email})" in loyal["text"], loyal
    assert woo["status"] == 200 and woo["value"] and "Keeps it hot." in woo["value"], woo
    plugged.state = {"customer": (login, password), "order": o["id"], "admin_path": path}


def test_my_account_keeps_working_when_the_service_is_stopped(plugged, browser):
    assert getattr(plugged, "state", None), "needs the customer of the previous test"
    login, password = plugged.state["customer"]
    plugged.svc.terminate()
    assert plugged.svc.wait_exit(timeout=15) == 0
    out = browser("pages", login, password, base=plugged.shop.url, shot=str(SHOTS / "returns-down.png"),
                  pages={"orders": "/my-account/orders/", "returns": "/my-account/returns/",
                         "form": f"/my-account/returns/?aftersale_return_order={plugged.state['order']}"})
    pages = out["pages"]
    assert {k: v["status"] for k, v in pages.items()} == dict.fromkeys(pages, 200), pages
    # the orders are listed, none offers a return it cannot take now
    assert pages["orders"]["orders"] >= 1 and pages["orders"]["return_links"] == 0, pages
    assert pages["returns"]["unavailable"] == \
        "Your returns cannot be shown right now. Please try again later.", pages
    assert pages["form"]["unavailable"] == \
        "Returns cannot be requested right now. Please try again later.", pages
    box = browser("admin_order", plugged.shop.admin_user, plugged.shop.admin_password,
                  base=plugged.shop.url, path=plugged.state["admin_path"])
    assert box["box"] == "The aftersale service cannot be reached right now.", box


def test_no_php_message_from_the_plugin(plugged):
    """Every request of this module ran with E_ALL into plugged.error_log."""
    assert_no_php_messages(plugged)
