"""Item 5 of the returns issue: an item under a return (requested,
approved, received, resolving, resolved, closed; not rejected or
cancelled) gets no review request, a scheduled request whose every product
is returned is cancelled, and no review incentive is paid for it.

Fixtures: reviews_helpers (own service with SMTP to the sink, a fake shop
per test).
"""
from reviews_helpers import (FAST_SETTINGS, rshop, rv_admin, rv_db, rv_svc, sink,  # noqa: F401
                             token_of, unique_email, wait_for, wfake)

REST = "/wp-json/wc/v3"


def return_lines(shop, order, indexes, resolution="refund"):
    body = {"order_id": order["id"], "resolution": resolution,
            "lines": [{"line_item_id": order["line_items"][i]["id"], "quantity": 1,
                       "reason": "wrong_item"} for i in indexes]}
    r = shop.api.post("/v1/returns", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def review_mails(shop, email, n=1, timeout=10):
    """The review requests to `email` (the return's own messages go there too)."""
    return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(
        [m for m in shop.mails(email) if "/review?token=" in m.text]), timeout,
        what=f"{n} review request(s) to {email}")


def test_a_returned_item_is_left_out_of_the_review_request(rshop):
    shop = rshop
    shop.settings(**dict(FAST_SETTINGS, delay="PT4S"))  # the return comes first
    mug = shop.fake.add_product("Returned Mug", "12.00")["id"]
    plate = shop.fake.add_product("Kept Plate", "8.00")["id"]
    email = unique_email("partial")
    order = shop.completed_order([mug, plate], email)
    req = shop.request_for_order(order["id"])
    assert req["status"] == "scheduled"
    return_lines(shop, order, [0])
    [mail] = review_mails(shop, email)
    assert "Kept Plate" in mail.text and "Returned Mug" not in mail.text
    job = shop.send_job(req["id"], pred=lambda j: j["status"] == "done")
    assert job["result"]["products"] == 1, job


def test_every_item_returned_cancels_the_scheduled_request(rshop):
    shop = rshop
    shop.settings(**dict(FAST_SETTINGS, delay="PT4S"))  # the return comes first
    mug = shop.fake.add_product("Only Mug", "12.00")["id"]
    email = unique_email("all")
    order = shop.completed_order([mug], email)
    req = shop.request_for_order(order["id"])
    ret = return_lines(shop, order, [0])
    assert shop.api.post(f"/v1/returns/{ret['id']}/approve").status_code == 200
    req = shop.wait_status(req["id"], "cancelled")
    assert req["cancel_reason"] == "items returned"
    job = shop.send_job(req["id"], pred=lambda j: j["status"] == "done")
    assert job["result"] == {"skipped": "items returned"}, job
    assert not [m for m in shop.mails(email) if "/review?token=" in m.text]


def test_a_rejected_or_cancelled_return_gives_the_item_back(rshop):
    shop = rshop
    # due in 5 s: both returns are rejected / cancelled before it is sent
    # (even under the sanitizers)
    shop.settings(**dict(FAST_SETTINGS, delay="PT5S"))
    mug = shop.fake.add_product("Back Mug", "12.00")["id"]
    plate = shop.fake.add_product("Back Plate", "8.00")["id"]
    email = unique_email("back")
    order = shop.completed_order([mug, plate], email)
    # the request is scheduled once the order's delivery was processed:
    # before that aftersale does not know the order and refuses a return
    req = shop.request_for_order(order["id"])
    rejected = return_lines(shop, order, [0])
    assert shop.api.post(f"/v1/returns/{rejected['id']}/reject").status_code == 200
    cancelled = return_lines(shop, order, [1])
    assert shop.api.post(f"/v1/returns/{cancelled['id']}/cancel").status_code == 200
    req = shop.request(req["id"])
    assert req["status"] == "scheduled", req
    [mail] = review_mails(shop, email, timeout=20)
    assert "Back Mug" in mail.text and "Back Plate" in mail.text


def test_no_incentive_for_a_review_of_a_returned_item(rshop):
    shop = rshop
    shop.settings(**dict(FAST_SETTINGS, auto_approve_min_rating=None,
                         incentive={"kind": "coupon", "coupon_amount": "5",
                                    "coupon_validity_days": 10}))
    mug = shop.fake.add_product("Paid Mug", "12.00")["id"]
    vase = shop.fake.add_product("Kept Vase", "20.00")["id"]
    email = unique_email("incent")
    order = shop.completed_order([mug, vase], email)
    [mail] = review_mails(shop, email)
    r = shop.submit(token_of(mail.review_link), [{"product_id": mug, "rating": 5},
                                                 {"product_id": vase, "rating": 5}])
    assert r.status_code == 201, r.text
    by_product = {v["product_id"]: v for v in r.json()["reviews"]}
    # The mug goes back after the review was written, before it is approved.
    return_lines(shop, order, [0])
    assert shop.api.post(f"/v1/reviews/{by_product[mug]['id']}/approve").status_code == 200
    assert shop.api.post(f"/v1/reviews/{by_product[vase]['id']}/approve").status_code == 200
    done = shop.find_job("reviews.coupon", lambda j: j["status"] == "done")
    assert done["payload"]["review_id"] == by_product[vase]["id"]
    shop.idle()
    coupons = [j for j in shop.jobs(kind="reviews.coupon")]
    assert [j["payload"]["review_id"] for j in coupons] == [by_product[vase]["id"]], coupons
    assert len(shop.fake.calls(path_prefix=REST + "/coupons", method="POST")) == 1
    # Both reviews are still published: only the incentive is withheld.
    for v in by_product.values():
        shop.wait_published(v["id"])
