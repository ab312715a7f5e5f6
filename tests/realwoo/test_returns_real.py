"""Returns against a real WordPress 6.1 + WooCommerce 7.9.0.

An order with two items (taxed at 21 %, stock managed for the mug), a
return of one mug approved, received with restock and resolved by refund:
the shop ends with exactly one refund for the right line, quantity, tax
and amount, the mug back in stock, one private note, and the loyalty
points reversed once for the refund that came back as order.updated.

Taxes are switched on in the shop for this module only (the other flows
expect untaxed totals) and switched off again at the end.
"""

from real_helpers import (WAIT_S, real, real_admin, real_svc, taxed, unique_email,  # noqa: F401
                          wait_for, woo_db)


def product(real, name):
    [p] = [p for p in real.shop.products if p["name"] == name]
    return p["id"]


def test_return_resolved_by_refund_in_the_real_shop(real, taxed):
    shop = real.shop
    mug, pot = product(real, "Mug"), product(real, "Teapot")
    shop.wc("PUT", f"/products/{mug}", json_body={"manage_stock": True, "stock_quantity": 10},
            expect=200)
    r = real.api.put("/v1/returns/settings", json={"refund_method": "manual"})
    assert r.status_code == 200, r.text

    email = unique_email("return")
    o = real.new_order(email, [(mug, 1), (pot, 1)])
    o = real.set_status(o["id"], "completed")
    assert o["total"] == "64.13", o["total"]    # (13.00 + 40.00) * 1.21
    mug_line = [li for li in o["line_items"] if li["product_id"] == mug][0]
    assert mug_line["total_tax"] == "2.73"
    assert shop.wc("GET", f"/products/{mug}", expect=200)["stock_quantity"] == 9
    real.idle()
    acct = real.account_for(email)
    assert acct["balance"] == 530, acct          # 53.00 net at 10 points per EUR

    r = real.api.post("/v1/returns", json={
        "order_id": o["id"], "resolution": "refund",
        "lines": [{"line_item_id": mug_line["id"], "quantity": 1, "reason": "wrong_item"}]})
    assert r.status_code == 201, r.text
    ret = r.json()
    rid, rma = ret["id"], ret["rma"]
    assert real.api.post(f"/v1/returns/{rid}/approve").status_code == 200
    r = real.api.post(f"/v1/returns/{rid}/receive", json={"lines": [
        {"line_item_id": mug_line["id"], "quantity_received": 1, "condition": "resellable",
         "restock": True}]})
    assert r.status_code == 200, r.text
    assert real.api.post(f"/v1/returns/{rid}/resolve").status_code == 200

    def resolved():
        g = real.api.get(f"/v1/returns/{rid}").json()
        return g if g["state"] in ("resolved", "resolution_failed") else None
    done = wait_for(resolved, WAIT_S, interval=0.2, what="the return to be resolved")
    assert done["state"] == "resolved", done

    refunds = shop.wc("GET", f"/orders/{o['id']}/refunds", expect=200)
    assert len(refunds) == 1, refunds
    (refund,) = refunds
    assert refund["amount"] == "15.73"           # 13.00 + 2.73
    assert f"[{rma}]" in refund["reason"]
    assert done["result"]["refund_ids"] == [refund["id"]]
    (item,) = refund["line_items"]
    assert item["product_id"] == mug and item["quantity"] == -1
    assert item["total"] == "-13.00" and item["total_tax"] == "-2.73"
    assert [t["id"] for t in item["taxes"]] == [taxed["id"]]
    assert shop.wc("GET", f"/products/{mug}", expect=200)["stock_quantity"] == 10  # restocked
    notes = shop.wc("GET", f"/orders/{o['id']}/notes", expect=200)
    mine = [n for n in notes if f"[{rma}]" in n["note"]]
    assert len(mine) == 1 and mine[0]["customer_note"] is False, notes

    # the refund came back as order.updated: loyalty takes its share once
    real.idle()
    entries = [e for e in real.ledger(acct["id"]) if e["order_id"] == o["id"]]
    refunds_taken = [e for e in entries if e["reason"] == "refund"]
    assert len(refunds_taken) == 1, entries
    assert refunds_taken[0]["delta"] < 0
    # a second resolve is refused; the shop still has one refund
    r = real.api.post(f"/v1/returns/{rid}/resolve")
    assert r.status_code == 409
    assert len(shop.wc("GET", f"/orders/{o['id']}/refunds", expect=200)) == 1


def test_store_credit_and_exchange_in_the_real_shop(real, taxed):
    shop = real.shop
    mug, pot, towel = product(real, "Mug"), product(real, "Teapot"), product(real, "Tea towel")
    shop.wc("PUT", f"/products/{mug}", json_body={"manage_stock": True, "stock_quantity": 20},
            expect=200)
    r = real.api.put("/v1/returns/settings", json={
        "refund_method": "manual",
        "resolutions": {"store_credit_bonus_percent": "10",
                        "exchange_price_difference": "refuse"}})
    assert r.status_code == 200, r.text
    email = unique_email("credit")
    o = real.new_order(email, [(mug, 2), (pot, 1)])
    o = real.set_status(o["id"], "completed")
    mug_line = [li for li in o["line_items"] if li["product_id"] == mug][0]
    real.idle()

    def run(body, receive_qty, restock=False):
        r = real.api.post("/v1/returns", json=body)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert real.api.post(f"/v1/returns/{rid}/approve").status_code == 200
        r = real.api.post(f"/v1/returns/{rid}/receive", json={"lines": [
            {"line_item_id": mug_line["id"], "quantity_received": receive_qty,
             "condition": "resellable", "restock": restock}]})
        assert r.status_code == 200, r.text
        assert real.api.post(f"/v1/returns/{rid}/resolve").status_code == 200
        return wait_for(lambda: (lambda g: g if g["state"] in ("resolved", "resolution_failed")
                                 else None)(real.api.get(f"/v1/returns/{rid}").json()),
                        WAIT_S, interval=0.2, what="the return to end")

    stock = shop.wc("GET", f"/products/{mug}", expect=200)["stock_quantity"]
    credit = run({"order_id": o["id"], "resolution": "store_credit", "lines": [
        {"line_item_id": mug_line["id"], "quantity": 1, "reason": "changed_mind"}]}, 1,
        restock=True)
    assert credit["state"] == "resolved", credit
    # restocked through a refund of 0.00 with the line: stock back, no money
    assert shop.wc("GET", f"/products/{mug}", expect=200)["stock_quantity"] == stock + 1
    (zero,) = shop.wc("GET", f"/orders/{o['id']}/refunds", expect=200)
    assert zero["amount"] == "0.00" and f"[{credit['rma']} restock-only]" in zero["reason"]
    assert zero["line_items"][0]["quantity"] == -1
    # 13.00 + 21% = 15.73, + 10% bonus = 17.303 -> 17.30
    assert credit["result"]["amount"] == "17.30"
    coupon = shop.wc("GET", f"/coupons/{credit['result']['coupon_id']}", expect=200)
    assert coupon["amount"] == "17.30" and coupon["email_restrictions"] == [email]
    assert coupon["usage_limit"] == 1 and credit["rma"] in coupon["description"]

    # the tea towel (7.50) for the other mug (13.00 paid): cheaper, exchanged
    ex = run({"order_id": o["id"], "resolution": "exchange", "lines": [
        {"line_item_id": mug_line["id"], "quantity": 1, "reason": "wrong_item",
         "exchange_product_id": towel}]}, 1)
    assert ex["state"] == "resolved", ex
    new = shop.wc("GET", f"/orders/{ex['result']['order_id']}", expect=200)
    assert new["parent_id"] == o["id"] and new["total"] == "0.00"
    assert [(li["product_id"], li["quantity"]) for li in new["line_items"]] == [(towel, 1)]
    meta = {m["key"]: m["value"] for m in new["meta_data"]}
    assert meta["_aftersale_rma"] == ex["rma"] and meta["_aftersale_exchange_for"] == str(o["id"])
    listed = shop.wc("GET", "/orders", {"parent": str(o["id"])}, expect=200)
    assert [x["id"] for x in listed] == [new["id"]]
    notes = shop.wc("GET", f"/orders/{o['id']}/notes", expect=200)
    assert len([n for n in notes if f"[{credit['rma']}]" in n["note"]]) == 1
    assert len([n for n in notes if f"[{ex['rma']}]" in n["note"]]) == 1
