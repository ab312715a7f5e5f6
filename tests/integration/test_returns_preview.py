"""Returns: GET /v1/returns/{id}/resolution-preview, the figures the
merchant sees before confirming a resolution (the wp-admin Returns
screen). They come from the job's own computation on the service's copy
of the order, so the preview equals what the job then refunds; the
preview changes nothing."""

from aftersale_it import assert_problem
from returns_helpers import fake, shop, wait_for, woo_admin, woo_db, woo_svc  # noqa: F401
from test_returns_resolve import refunds_of, taxed_order


def preview(shop, rid, **q):
    r = shop.api.get(f"/v1/returns/{rid}/resolution-preview", params=q)
    assert r.status_code == 200, r.text
    return r.json()


def test_refund_preview_equals_what_the_job_refunds(shop):
    shop.settings(refund_method="manual")
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    shop.receive_all(ret, restock=True)
    p = preview(shop, ret["id"])
    mug_line = o["line_items"][0]["id"]
    assert p["resolution"] == "refund" and p["state"] == "received"
    assert p["amount"] == "3.96" and p["credit"] is None and p["basis"] == "snapshot"
    assert p["lines"] == [{"id": mug_line, "quantity": 1, "refund_total": "3.33",
                           "refund_tax": [{"id": 0, "refund_total": "0.63"}]}]
    assert shop.get(ret["id"])["state"] == "received"          # nothing changed
    assert refunds_of(shop, o["id"]) == []
    shop.act(ret["id"], "resolve")
    shop.wait_state(ret["id"], ("resolved",))
    (call,) = refunds_of(shop, o["id"])
    assert call["json"]["amount"] == p["amount"]
    assert call["json"]["line_items"][0]["refund_total"] == p["lines"][0]["refund_total"]


def test_store_credit_preview_has_the_bonus_and_the_fee(shop):
    shop.settings(restocking_fee_percent="10",
                  resolutions={"store_credit_bonus_percent": "10"})
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 1, "wrong_item")], resolution="store_credit")
    p = preview(shop, ret["id"])           # before inspection: the units asked for
    assert p["state"] == "requested" and p["resolution"] == "store_credit"
    assert p["amount"] == "3.57"           # 3.00 + 0.57 (docs/returns.md)
    assert p["credit"] == "3.93"           # 3.57 + 0.357 -> 3.93
    assert preview(shop, ret["id"], resolution="refund")["credit"] is None


def test_the_last_units_and_the_shipping(shop):
    shop.settings(refund_method="manual")
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 3, "wrong_item"), (1, 1, "wrong_item")])
    p = preview(shop, ret["id"])
    assert p["amount"] == "16.90"          # the whole order, to the cent
    with_ship = preview(shop, ret["id"], refund_shipping="true")
    assert with_ship["refund_shipping"] is True
    assert with_ship["amount"] == "16.90"  # the fake order has no shipping left to add


def test_refused_inputs(shop):
    o, _, _ = taxed_order(shop)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    r = shop.api.get(f"/v1/returns/{ret['id']}/resolution-preview", params={"resolution": "cash"})
    assert_problem(r, 400, "malformed", "resolution")
    r = shop.api.get(f"/v1/returns/{ret['id']}/resolution-preview",
                     params={"refund_shipping": "yes"})
    assert_problem(r, 400, "malformed", "refund_shipping")
    r = shop.api.get("/v1/returns/999999/resolution-preview")
    assert r.status_code == 404
