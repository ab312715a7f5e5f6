"""Product categories against a real WordPress 6.1 + WooCommerce 7.9.0:
an order placed in the shop (its webhook delivered synchronously) makes the
woo.product_categories job ask GET /products?include=...&per_page=100 under
OAuth, and the cache holds each product's categories, a variation's line
its parent's. A product deleted in the shop is left out of the list (the
job caches it as gone) and later shows as product_id 0 on the order's
line (observed here), so nothing asks about it again."""

import secrets

from real_helpers import (WAIT_S, real, real_admin, real_svc, unique_email,  # noqa: F401
                          wait_for, woo_db)
from woo_helpers import db_query


def _cat_jobs(real, status=None):
    return [j for j in real.jobs(kind="woo.product_categories")
            if status is None or j["status"] == status]


def _cache(pg, real):
    return {r[0]: (list(r[1]), r[2]) for r in db_query(
        pg, real.svc.db, "SELECT product_id, category_ids, gone FROM product_categories"
                         " WHERE shop_id = %s", (real.id,))}


def test_categories_fetched_from_the_real_shop(real, pg):
    shop = real.shop
    tag = secrets.token_hex(3)
    kitchen = shop.wc("POST", "/products/categories", json_body={"name": f"Kitchen {tag}"},
                      expect=201)
    wear = shop.wc("POST", "/products/categories", json_body={"name": f"Wear {tag}"}, expect=201)
    pan = shop.wc("POST", "/products", expect=201, json_body={
        "name": f"Pan {tag}", "regular_price": "20.00", "categories": [{"id": kitchen["id"]}]})
    tee = shop.wc("POST", "/products", expect=201, json_body={
        "name": f"Tee {tag}", "type": "variable", "categories": [{"id": wear["id"]}],
        "attributes": [{"name": "Size", "options": ["S", "M"], "variation": True,
                        "visible": True}]})
    small = shop.wc("POST", f"/products/{tee['id']}/variations", expect=201, json_body={
        "regular_price": "9.00", "attributes": [{"name": "Size", "option": "S"}]})
    gone = shop.wc("POST", "/products", expect=201, json_body={
        "name": f"Gone {tag}", "regular_price": "3.00", "categories": [{"id": kitchen["id"]}]})

    body = {"status": "processing", "set_paid": True, "currency": "EUR",
            "billing": {"first_name": "Ann", "last_name": "Real", "email": unique_email("cat"),
                        "country": "ES"},
            "line_items": [{"product_id": pan["id"], "quantity": 1},
                           {"product_id": tee["id"], "variation_id": small["id"], "quantity": 1},
                           {"product_id": gone["id"], "quantity": 1}]}
    o = shop.wc("POST", "/orders", json_body=body, expect=201)
    lines = {li["product_id"]: li["variation_id"] for li in o["line_items"]}
    assert lines == {pan["id"]: 0, tee["id"]: small["id"], gone["id"]: 0}, lines

    done = wait_for(lambda: _cat_jobs(real, "done"), WAIT_S, what="the categories job")
    assert done[-1]["result"] == {"fetched": 3, "gone": []}, done
    cache = _cache(pg, real)
    assert cache[pan["id"]] == ([kitchen["id"]], False)
    assert cache[tee["id"]] == ([wear["id"]], False)          # the variation's parent
    assert small["id"] not in cache
    names = dict(db_query(pg, real.svc.db, "SELECT category_id, name FROM shop_categories"
                                           " WHERE shop_id = %s", (real.id,)))
    assert names[kitchen["id"]] == f"Kitchen {tag}" and names[wear["id"]] == f"Wear {tag}"

    # Deleted in the shop: WooCommerce's list leaves it out of an include
    # (what the job reads as gone, when a product is deleted between the
    # order and the job), and the order's line then reports product_id 0,
    # so later versions of the order ask nothing about it.
    shop.wc("DELETE", f"/products/{gone['id']}", {"force": "true"}, expect=200)
    listed = shop.wc("GET", "/products", {"include": f"{pan['id']},{gone['id']}",
                                          "per_page": "100"}, expect=200)
    assert [p["id"] for p in listed] == [pan["id"]]
    before = len(_cat_jobs(real))
    real.set_status(o["id"], "completed")
    ev = wait_for(lambda: real.order_events(o["id"], kind="order.completed"), WAIT_S,
                  what="the completion")
    assert sorted(i["product_id"] for i in ev[0]["payload"]["items"]) == \
        sorted([0, pan["id"], tee["id"]])
    real.idle()
    assert len(_cat_jobs(real)) == before
