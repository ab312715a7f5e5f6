"""Returns: the resolution carried out in WooCommerce by the
returns.resolve job, exactly once: refunds (proportional lines and tax
after a discount, restock as inspected, the RMA in the reason, caps by
what was refunded by hand, a timeout after the shop created the refund,
a gateway's refusal and the retry), store credit (a coupon with the
bonus) and exchanges (a new order, stock checked), each with one private
note on the original order."""

from decimal import Decimal

from aftersale_it import assert_problem
from returns_helpers import fake, shop, wait_for, woo_admin, woo_db, woo_svc  # noqa: F401


def taxed_order(shop, qty=3, managed_stock=None):
    """docs/returns.md's figures: 3 mugs, 12.00 before a 2.00 discount ->
    10.00, 19% tax 1.90 (rate 1, unrounded 1.9); and a plate at 5.00."""
    mug = shop.fake.add_product("Mug", "4.00")
    plate = shop.fake.add_product("Plate", "5.00")
    if managed_stock is not None:
        with shop.fake._lock:
            shop.fake.products[mug["id"]].update(manage_stock=True, stock_quantity=managed_stock)
    o = shop.fake.add_order(status="completed", email="ann@example.com", items=[
        {"product_id": mug["id"], "quantity": qty, "total": "10.00", "subtotal": "12.00",
         "tax": "1.90", "tax_raw": "1.9", "tax_rate_id": 1},
        {"product_id": plate["id"], "quantity": 1, "total": "5.00"}])
    assert o["total"] == "16.90"
    r = shop.deliver_order(o["id"])
    assert r.status_code == 200, r.text
    shop.delivery_jobs_done()
    return o, mug, plate


def refunds_of(shop, order_id):
    return [c for c in shop.fake.calls(path_prefix=f"/wp-json/wc/v3/orders/{order_id}/refunds",
                                       method="POST") if c["outcome"] in ("answered", "timeout")]


def private_notes(shop, order_id, rma):
    o = shop.fake.get_order(order_id)
    notes = [n for (oid, n) in shop.fake.notes.values() if oid == o["id"]]
    return [n for n in notes if f"[{rma}]" in n["note"] and not n["customer_note"]]


def resolve_to(shop, ret, state, body=None):
    shop.act(ret["id"], "resolve", body)
    return shop.wait_state(ret["id"], (state,))


def test_refund_one_line_exactly_as_computed(shop):
    shop.settings(refund_method="manual")
    o, mug, _ = taxed_order(shop, managed_stock=7)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret, restock=True)
    done = resolve_to(shop, ret, "resolved")
    refunds = shop.fake.get_order(o["id"])["refunds"]
    assert len(refunds) == 1
    refund = shop.fake.refunds[refunds[0]["id"]]
    assert refund["amount"] == "3.96"              # 3.33 + 0.63
    assert f"[{ret['rma']}]" in refund["reason"]
    (call,) = refunds_of(shop, o["id"])
    sent = call["json"]
    assert sent["amount"] == "3.96" and sent["api_refund"] is False and sent["api_restock"] is True
    assert sent["line_items"] == [{"id": o["line_items"][0]["id"], "quantity": 1,
                                   "refund_total": "3.33",
                                   "refund_tax": [{"id": 1, "refund_total": "0.63"}]}]
    assert shop.fake.products[mug["id"]]["stock_quantity"] == 8   # restocked
    assert done["result"]["kind"] == "refund"
    assert done["result"]["refund_ids"] == [refund["id"]] and done["result"]["amounts"] == ["3.96"]
    assert [h["to"] for h in done["history"]][-2:] == ["resolving", "resolved"]
    assert len(private_notes(shop, o["id"], ret["rma"])) == 1
    assert shop.act(ret["id"], "close")["state"] == "closed"


def test_mixed_restock_makes_two_refunds_and_the_rest_is_the_remainder(shop):
    shop.settings(refund_method="manual", restocking_fee_percent="0")
    o, mug, _ = taxed_order(shop, managed_stock=0)
    first = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(first["id"], "approve")
    shop.receive_all(first)
    resolve_to(shop, first, "resolved")
    # the last two mugs (one resellable, one damaged) and the plate
    ret = shop.create(o, [(0, 2, "damaged"), (1, 1, "wrong_item")])
    r = shop.api.post(f"/v1/returns/{ret['id']}/approve")
    assert_problem(r, 422, "invalid-field", "photos")   # "damaged" needs a photo
    shop.settings(reasons=[{"code": "damaged", "labels": {"en": "Damaged"}, "note_required": False,
                            "photo_required": False, "customer_pays_shipping": False},
                           {"code": "wrong_item", "labels": {"en": "Wrong"}, "note_required": False,
                            "photo_required": False, "customer_pays_shipping": False}])
    shop.act(ret["id"], "approve")
    mug_line, plate_line = o["line_items"][0]["id"], o["line_items"][1]["id"]
    shop.act(ret["id"], "receive", {"lines": [
        {"line_item_id": mug_line, "quantity_received": 2, "condition": "damaged", "restock": False},
        {"line_item_id": plate_line, "quantity_received": 1, "condition": "resellable",
         "restock": True}]})
    done = resolve_to(shop, ret, "resolved")
    sent = [c["json"] for c in refunds_of(shop, o["id"])][1:]
    assert len(sent) == 2
    by_restock = {s["api_restock"]: s for s in sent}
    assert by_restock[True]["line_items"] == [{"id": plate_line, "quantity": 1,
                                               "refund_total": "5.00", "refund_tax": []}]
    assert f"[{ret['rma']} restock]" in by_restock[True]["reason"]
    assert by_restock[False]["line_items"] == [{"id": mug_line, "quantity": 2,
                                                "refund_total": "6.67",
                                                "refund_tax": [{"id": 1, "refund_total": "1.27"}]}]
    assert by_restock[False]["amount"] == "7.94"
    # everything was paid back: 3.96 + 5.00 + 7.94 = 16.90
    total = sum(Decimal(r["amount"]) for r in shop.fake.refunds.values()
                if any(x["id"] == r["id"] for x in shop.fake.get_order(o["id"])["refunds"]))
    assert total == Decimal("16.90")
    assert shop.fake.products[mug["id"]]["stock_quantity"] == 1   # only the first mug
    assert len(done["result"]["refund_ids"]) == 2


def test_restocking_fee_and_a_refund_made_by_hand(shop):
    shop.settings(refund_method="manual", restocking_fee_percent="10")
    o, _, _ = taxed_order(shop)
    shop.fake.refund_order(o["id"], "15.00", reason="goodwill, by hand")  # 1.90 left
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret)
    resolve_to(shop, ret, "resolved")
    (call,) = refunds_of(shop, o["id"])
    # 3.33 - 10% = 3.00 and 0.63 - 10% = 0.57: 3.57, capped to the 1.90 left
    assert call["json"]["amount"] == "1.90"
    assert call["json"]["line_items"][0]["refund_total"] == "1.90"


def test_timeout_after_the_shop_created_the_refund_makes_no_second_one(shop):
    shop.settings(refund_method="manual")
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret)
    shop.fake.timeout_seconds = 7          # longer than WOO_TIMEOUT_MS (5 s)
    shop.fake.fail_next(1, "timeout_after", path_prefix=f"/orders/{o['id']}/refunds",
                        method="POST")
    done = resolve_to(shop, ret, "resolved")
    assert len(shop.fake.get_order(o["id"])["refunds"]) == 1
    posts = refunds_of(shop, o["id"])
    assert [c["outcome"] for c in posts] == ["timeout"]   # the retry found it, posted nothing
    job = next(j for j in shop.jobs(kind="returns.resolve"))
    assert job["attempts"] == 2 and job["status"] == "done"
    assert done["result"]["refund_ids"] == [shop.fake.get_order(o["id"])["refunds"][0]["id"]]
    assert len(private_notes(shop, o["id"], ret["rma"])) == 1


def test_gateway_refusal_is_visible_and_retryable(shop):
    o, _, _ = taxed_order(shop)   # refund_method api_refund (default); bacs cannot refund
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret)
    failed = resolve_to(shop, ret, "resolution_failed")
    assert "does not support automatic refunds" in failed["failure_message"]
    assert failed["history"][-1]["changes"]["message"] == failed["failure_message"]
    assert shop.fake.get_order(o["id"])["refunds"] == []
    assert private_notes(shop, o["id"], ret["rma"]) == []
    assert_problem(shop.api.post(f"/v1/returns/{ret['id']}/close"), 409, "conflict", "state")
    shop.settings(refund_method="manual")
    done = resolve_to(shop, ret, "resolved")
    assert done["failure_message"] is None or done["state"] == "resolved"
    assert len(shop.fake.get_order(o["id"])["refunds"]) == 1


def test_store_credit_coupon_with_bonus(shop):
    shop.settings(resolutions={"store_credit_bonus_percent": "10"})
    o, mug, _ = taxed_order(shop, managed_stock=4)
    ret = shop.create(o, [(0, 1, "wrong_item")], resolution="store_credit")
    shop.act(ret["id"], "approve")
    shop.receive_all(ret, restock=True)
    done = resolve_to(shop, ret, "resolved")
    # no money back; the restock goes through a refund of 0.00 with the line
    (call,) = refunds_of(shop, o["id"])
    assert call["json"]["amount"] == "0.00" and call["json"]["api_restock"] is True
    assert call["json"]["api_refund"] is False
    assert call["json"]["line_items"] == [{"id": o["line_items"][0]["id"], "quantity": 1,
                                           "refund_total": "0.00"}]
    assert f"[{ret['rma']} restock-only]" in call["json"]["reason"]
    assert shop.fake.products[mug["id"]]["stock_quantity"] == 5
    coupons = list(shop.fake.coupons.values())
    assert len(coupons) == 1
    c = coupons[0]
    assert c["amount"] == "4.36"           # 3.96 + 10% (0.396 -> 0.40)
    assert c["usage_limit"] == 1 and c["email_restrictions"] == ["ann@example.com"]
    assert ret["rma"] in c["description"]
    assert done["result"] == {"kind": "store_credit", "coupon_id": c["id"], "code": c["code"],
                              "amount": "4.36"}
    assert len(private_notes(shop, o["id"], ret["rma"])) == 1


def test_exchange_new_order_and_stock_check(shop):
    o, _, _ = taxed_order(shop)
    cheap = shop.fake.add_product("Mug, blue", "3.00")
    gone = shop.fake.add_product("Mug, red", "3.00")
    with shop.fake._lock:
        shop.fake.products[gone["id"]].update(manage_stock=True, stock_quantity=0,
                                              stock_status="outofstock")
    ret = shop.create(o, [(0, 1, "wrong_item", {"exchange_product_id": gone["id"]})],
                      resolution="exchange")
    shop.act(ret["id"], "approve")
    shop.receive_all(ret, restock=False)
    failed = resolve_to(shop, ret, "resolution_failed")
    assert "out of stock" in failed["failure_message"]
    other = shop.create(o, [(0, 1, "wrong_item", {"exchange_product_id": cheap["id"]})],
                        resolution="exchange")
    shop.act(other["id"], "approve")
    shop.receive_all(other, restock=False)
    done = resolve_to(shop, other, "resolved")
    new = shop.fake.get_order(done["result"]["order_id"])
    assert new["parent_id"] == o["id"] and new["total"] == "0.00"
    assert [(li["product_id"], li["quantity"]) for li in new["line_items"]] == [(cheap["id"], 1)]
    # paid 10.00 / 3 = 3.33 for the mug (net), the blue one costs 3.00
    assert {"_aftersale_rma": other["rma"], "_aftersale_exchange_for": str(o["id"]),
            "_aftersale_difference": "0.33"} == {m["key"]: m["value"] for m in new["meta_data"]}
    assert len(private_notes(shop, o["id"], other["rma"])) == 1
    assert len(private_notes(shop, new["id"], other["rma"])) == 1
    # "refuse" (the default): the difference is not refunded
    assert shop.fake.get_order(o["id"])["refunds"] == []
    assert done["result"]["difference_refunded"] == "0.00"


def test_exchange_refunds_the_difference_when_the_policy_says_so(shop):
    shop.settings(refund_method="manual", resolutions={"exchange_price_difference":
                                                       "refund_difference"})
    o, _, _ = taxed_order(shop)
    cheap = shop.fake.add_product("Mug, green", "3.00")
    ret = shop.create(o, [(0, 1, "wrong_item", {"exchange_product_id": cheap["id"]})],
                      resolution="exchange")
    shop.act(ret["id"], "approve")
    shop.receive_all(ret, restock=False)
    done = resolve_to(shop, ret, "resolved")
    assert done["result"]["difference_refunded"] == "0.33"
    (call,) = refunds_of(shop, o["id"])
    assert call["json"]["amount"] == "0.33" and call["json"]["line_items"] == []
    assert f"[{ret['rma']} difference]" in call["json"]["reason"]
    assert call["json"]["api_refund"] is False


def test_refund_with_shipping_when_the_merchant_asks(shop):
    shop.settings(refund_method="manual", restocking_fee_percent="10")
    lamp = shop.fake.add_product("Lamp", "10.00")
    o = shop.fake.add_order(status="completed", email="ann@example.com",
                            items=[(lamp["id"], 1, "10.00")], shipping_total="4.90",
                            total="14.90",
                            shipping_lines=[{"id": 7001, "method_id": "flat_rate", "total": "4.90",
                                             "total_tax": "0.00", "taxes": []}])
    assert shop.deliver_order(o["id"]).status_code == 200
    shop.delivery_jobs_done()
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret)
    r = shop.api.post(f"/v1/returns/{ret['id']}/resolve", json={"refund_shipping": "yes"})
    assert_problem(r, 422, "invalid-field", "refund_shipping")
    done = resolve_to(shop, ret, "resolved", {"refund_shipping": True})
    (call,) = refunds_of(shop, o["id"])
    # 10.00 - 10% fee = 9.00, and the shipping whole (no fee): 13.90
    assert call["json"]["amount"] == "13.90"
    assert call["json"]["line_items"][1] == {"id": 7001, "refund_total": "4.90", "refund_tax": []}
    assert done["history"][-2]["changes"]["refund_shipping"] is True


def test_report_counts_and_money(shop):
    shop.settings(refund_method="manual", resolutions={"store_credit_bonus_percent": "10"})
    o, _, _ = taxed_order(shop)
    a = shop.create(o, [(0, 1, "wrong_item")])
    b = shop.create(o, [(0, 1, "changed_mind")], resolution="store_credit")
    c = shop.create(o, [(1, 1, "wrong_item")])
    for ret in (a, b):
        shop.act(ret["id"], "approve")
        shop.receive_all(ret)
        resolve_to(shop, ret, "resolved")
    shop.act(c["id"], "cancel")
    r = shop.api.get("/v1/returns/report")
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["requests"] == 3 and rep["from"] is None
    assert rep["by_state"] == {"resolved": 2, "cancelled": 1}
    assert rep["by_resolution"] == {"refund": 2, "store_credit": 1}
    assert rep["by_reason"] == [{"reason": "wrong_item", "lines": 2, "units": 2},
                                {"reason": "changed_mind", "lines": 1, "units": 1}]
    assert rep["refunded"] == "3.96" and rep["credited"] == "4.36" and rep["exchanges"] == 0
    assert rep["median_hours_to_resolve"] is not None and rep["median_hours_to_resolve"] >= 0
    empty = shop.api.get("/v1/returns/report", params={"from": "2999-01-01"}).json()
    assert empty["requests"] == 0 and empty["refunded"] == "0" and empty["by_state"] == {}
    assert empty["median_hours_to_resolve"] is None
    assert shop.api.get("/v1/returns/report", params={"to": "soon"}).status_code == 400


def test_a_shop_that_never_answers_ends_in_resolution_failed(shop):
    shop.settings(refund_method="manual")
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret)
    shop.fake.fail_next(100, 500, path_prefix=f"/orders/{o['id']}")
    failed = resolve_to(shop, ret, "resolution_failed")
    assert "did not answer" in failed["failure_message"]
    job = next(j for j in shop.jobs(kind="returns.resolve"))
    assert job["status"] == "dead"
    assert shop.fake.get_order(o["id"])["refunds"] == []
    with shop.fake._lock:  # the injected failures left over
        shop.fake._failures = []
    assert resolve_to(shop, ret, "resolved")["result"]["kind"] == "refund"


def test_each_customer_facing_transition_records_one_message(shop, pg, woo_svc):
    shop.settings(refund_method="manual")
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret)
    resolve_to(shop, ret, "resolved")
    shop.act(ret["id"], "close")
    rows = pg.query(woo_svc.db, "SELECT to_state, email, status FROM return_outbox"
                    " WHERE shop_id = %s AND request_id = %s ORDER BY id", (shop.id, ret["id"]))
    # resolving and closed are not the customer's business; this service has no
    # SMTP server, so the rows stay pending (sending: test_returns_notify.py)
    assert rows == [("requested", "ann@example.com", "pending"),
                    ("approved", "ann@example.com", "pending"),
                    ("received", "ann@example.com", "pending"),
                    ("resolved", "ann@example.com", "pending")]
