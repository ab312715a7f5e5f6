"""The returns portal against a real WordPress 6.1 + WooCommerce 7.9.0,
the customer's part in headless Chromium (tests/browser/returns_portal.mjs).

An order of two items (mug 13.00 and teapot 40.00, taxed at 21 %, stock
managed for the mug) placed and completed in the real shop reaches the
service by webhook. A guest opens the service's portal (GET /returns?shop=),
finds the order by its number and billing email, asks to return the mug as
damaged with a photo chosen in the line's file input, and gets the request
page. The merchant then approves, receives (resellable, restock) and
resolves by refund through the API. The real shop must then hold exactly
one refund of that line (quantity 1, 13.00 + 2.73 tax, amount 15.73, the
RMA in its reason), the mug's stock back up by one, one private order note
of the resolution, and the loyalty ledger one reversal of the mug's share
(130 of 530 points), still one after a further order.updated. The photo's
bytes are stored on the mug's line. Screenshot:
build/artifacts/screenshots/returns-portal-real.png.
"""

import shutil
import tempfile
from pathlib import Path

from browser_helpers import SHOTS, assert_png, png, require_browser, run_browser_script
from real_helpers import (WAIT_S, product_id, real, real_admin, real_svc, taxed,  # noqa: F401
                          unique_email, wait_for, woo_db)

SCRIPT = "returns_portal.mjs"
BROWSER_TIMEOUT_S = 90   # the script bounds itself at 45 s


def test_guest_returns_in_the_portal_and_the_refund_lands_in_the_real_shop(real, taxed, pg, real_svc):
    node = require_browser()
    shop = real.shop
    mug, pot = product_id(shop, "Mug"), product_id(shop, "Teapot")
    shop.wc("PUT", f"/products/{mug}", json_body={"manage_stock": True, "stock_quantity": 10},
            expect=200)
    r = real.api.put("/v1/returns/settings", json={
        "refund_method": "manual", "restocking_fee_percent": "0",
        "resolutions": {"refund": True, "store_credit": False, "exchange": False}})
    assert r.status_code == 200, r.text

    email = unique_email("portal")
    o = real.new_order(email, [(mug, 1), (pot, 1)])
    o = real.set_status(o["id"], "completed")
    assert o["total"] == "64.13", o["total"]    # (13.00 + 40.00) * 1.21
    [mug_line] = [li for li in o["line_items"] if li["product_id"] == mug]
    [pot_line] = [li for li in o["line_items"] if li["product_id"] == pot]
    assert mug_line["total"] == "13.00" and mug_line["total_tax"] == "2.73", mug_line
    assert shop.wc("GET", f"/products/{mug}", expect=200)["stock_quantity"] == 9
    real.idle()
    acct = real.account_for(email)
    assert acct["balance"] == 530, acct          # 53.00 net at 10 points per EUR

    # -- the customer, in headless Chromium on the service's portal
    photo = png(64, 48)
    tmp = Path(tempfile.mkdtemp(prefix="aftersale-portal-real-"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "returns-portal-real.png"
    try:
        (tmp / "mug.png").write_bytes(photo)
        _, out = run_browser_script(node, SCRIPT, f"{real.svc.url}/returns?shop={real.id}", shot,
                                    o["id"], email, mug_line["id"], tmp / "mug.png",
                                    timeout=BROWSER_TIMEOUT_S)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert out["ok"] and out["errors"] == [] and out["failed"] == [], out
    # no console message but the 404 of the favicon Chromium asks for itself
    assert [c for c in out["console"] if "status of 404" not in c] == [], out
    assert out["state"] == "requested" and out["title"] == "Return requested", out
    assert [(i["width"], i["alt"]) for i in out["images"]] == [(64, "Photo 1: Mug")], out
    # the browser talked to the service only: the form, two posts, the photo
    paths = [r.split(" ", 1)[1] for r in out["requests"] if r != "GET /favicon.ico"]
    assert paths[:3] == ["/returns", "/returns", "/returns"], out
    assert [p for p in paths[3:] if not p.startswith("/returns/photos/")] == [], out
    assert_png(shot)

    # the shop API sees the customer's request: the mug alone, the photo's bytes on it
    [ret] = real.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"]
    rid, rma = ret["id"], ret["rma"]
    assert rma == out["rma"] and ret["created_by"] == "customer" and ret["state"] == "requested"
    assert ret["resolution"] == "refund", ret
    assert [(ln["line_item_id"], ln["quantity"], ln["reason"]) for ln in ret["lines"]] == \
        [(mug_line["id"], 1, "damaged")], ret
    [ph] = ret["photos"]
    assert ph["line_item_id"] == mug_line["id"] and ph["media_type"] == "image/png", ph
    got = real.api.get(f"/v1/returns/{rid}/photos/{ph['id']}")
    assert got.status_code == 200 and got.content == photo

    # -- the merchant: approve, receive with restock, resolve by refund
    r = real.api.post(f"/v1/returns/{rid}/approve")
    assert r.status_code == 200, r.text
    r = real.api.post(f"/v1/returns/{rid}/receive", json={"lines": [
        {"line_item_id": mug_line["id"], "quantity_received": 1, "condition": "resellable",
         "restock": True}]})
    assert r.status_code == 200, r.text
    r = real.api.post(f"/v1/returns/{rid}/resolve")
    assert r.status_code == 200, r.text

    def ended():
        g = real.api.get(f"/v1/returns/{rid}").json()
        return g if g["state"] in ("resolved", "resolution_failed") else None
    done = wait_for(ended, WAIT_S, interval=0.2, what="the return to be resolved")
    assert done["state"] == "resolved", done

    # -- the real shop: one refund of the mug's line, with its tax
    refunds = shop.wc("GET", f"/orders/{o['id']}/refunds", expect=200)
    assert len(refunds) == 1, refunds
    (refund,) = refunds
    assert refund["amount"] == "15.73", refund   # 13.00 + 2.73
    assert f"[{rma}]" in refund["reason"], refund["reason"]
    assert done["result"]["refund_ids"] == [refund["id"]]
    (item,) = refund["line_items"]
    assert item["product_id"] == mug and item["quantity"] == -1, item
    assert item["total"] == "-13.00" and item["total_tax"] == "-2.73", item
    assert [(t["id"], t["total"]) for t in item["taxes"]] == [(taxed["id"], "-2.73")], item
    # the refund's line points at the order's mug line (WooCommerce's own meta)
    meta = {m["key"]: m["value"] for m in item["meta_data"]}
    assert str(meta.get("_refunded_item_id")) == str(mug_line["id"]), item["meta_data"]
    # the teapot untouched
    order = shop.wc("GET", f"/orders/{o['id']}", expect=200)
    [pot_now] = [li for li in order["line_items"] if li["id"] == pot_line["id"]]
    assert pot_now["quantity"] == 1 and order["status"] == "completed", order
    # restocked
    assert shop.wc("GET", f"/products/{mug}", expect=200)["stock_quantity"] == 10
    # one private note of the resolution
    notes = shop.wc("GET", f"/orders/{o['id']}/notes", expect=200)
    private = [n for n in notes if f"[{rma}]" in n["note"] and not n["customer_note"]]
    assert len(private) == 1, notes

    # -- loyalty: the refund came back as order.updated; the mug's share taken once
    real.idle()

    def reversals():
        return [e for e in real.ledger(acct["id"])
                if e["order_id"] == o["id"] and e["reason"] == "refund"]
    taken = reversals()
    assert [e["delta"] for e in taken] == [-130], taken    # 530 * 15.73 / 64.13
    assert real.account(acct["id"])["balance"] == 400
    [ev] = real.order_events(o["id"], "order.refunded")
    assert ev["payload"]["refund_id"] == refund["id"] and ev["payload"]["amount"] == "15.73", ev

    # one more order.updated from the shop (a note on the order) changes nothing
    def updates():
        return pg.query(real_svc.db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s"
                        " AND resource_id = %s AND topic = 'order.updated'",
                        (real.id, o["id"]))[0][0]
    before = updates()
    shop.wc("PUT", f"/orders/{o['id']}", json_body={"customer_note": "thanks"}, expect=200)
    real.idle()
    assert updates() > before
    assert len(real.order_events(o["id"], "order.refunded")) == 1
    assert [e["delta"] for e in reversals()] == [-130]
    assert real.account(acct["id"])["balance"] == 400
    # and a second resolve is refused; the shop still has one refund
    r = real.api.post(f"/v1/returns/{rid}/resolve")
    assert r.status_code == 409, r.text
    assert len(shop.wc("GET", f"/orders/{o['id']}/refunds", expect=200)) == 1
