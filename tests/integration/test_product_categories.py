"""Product categories (src/woo/products.c, sql/018): fetched from the fake
shop by the woo.product_categories job when an order arrives, cached per
shop, refreshed after the TTL, a deleted product cached as gone, a shop
that is down retried by the queue; and what uses them: survey audience
filters and the report's by_category, the returns policy's
excluded_categories and the returns report's return rate per category."""

import re
from urllib.parse import parse_qs, urlparse

from aftersale_it import assert_problem
from loyalty_helpers import claims_for, mint
from woo_helpers import client
from surveys_helpers import (create_survey, db, invitations, outcomes, put_answers,  # noqa: F401
                             list_all, rshop, rv_admin, rv_db, rv_svc, schedule_result, sink,
                             unique_email, wait_for, wfake)

KITCHEN = {"id": 10, "name": "Kitchen", "slug": "kitchen"}


def _product_calls(fake):
    """The include lists of the GET /products calls the fake answered."""
    out = []
    for c in fake.calls("/wp-json/wc/v3/products", "GET"):
        path = c.get("path", "")
        if path.rstrip("/").endswith("/products") and c.get("status") == 200:
            q = c.get("query") or parse_qs(urlparse(c.get("url", "")).query)
            inc = q.get("include")
            inc = inc[0] if isinstance(inc, list) else inc
            per = q.get("per_page")
            per = per[0] if isinstance(per, list) else per
            out.append((sorted(int(x) for x in inc.split(",")), per))
    return out


def _cat_jobs(shop, status=None):
    return [j for j in shop.jobs(kind="woo.product_categories")
            if status is None or j["status"] == status]


def _cache(pg, shop):
    return {r[0]: (list(r[1]), r[2]) for r in db(
        pg, shop, "SELECT product_id, category_ids, gone FROM product_categories"
                  " WHERE shop_id = %s ORDER BY product_id", (shop.id,))}


def _wait_cat_job_done(shop, n):
    return wait_for(lambda: len(_cat_jobs(shop, "done")) >= n and _cat_jobs(shop, "done"),
                    15.0, what=f"{n} woo.product_categories job(s) done")


def _completed(shop, items, email=None):
    o = shop.fake.add_order(status="processing", email=email or unique_email(), first_name="Ann",
                            items=items, billing={"country": "SK"})
    shop.deliver_order(o["id"])
    shop.complete(o["id"])
    return shop.fake.get_order(o["id"])


# --------------------------------------------------------------------------
# the job and the cache


def test_ingest_fetches_categories_by_job_caches_them_and_refreshes_after_ttl(rshop, pg):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00", categories=[KITCHEN, 11])["id"]
    tee = shop.fake.add_product("Tee", "20.00", categories=[12])["id"]
    old = shop.fake.add_product("Old", "5.00", categories=[13])["id"]
    o = shop.fake.add_order(status="processing", email=unique_email(),
                            items=[(mug, 1, "10.00"),
                                   {"product_id": tee, "quantity": 1, "total": "20.00",
                                    "variation_id": 4242},
                                   (old, 1, "5.00")])
    shop.fake.reset_calls()
    # The shop is down while the order arrives: the webhook is answered
    # without calling the shop, the job waits; the product is deleted
    # meanwhile, so the answer leaves it out.
    shop.fake.set_down(True)
    try:
        shop.deliver_order(o["id"])
        wait_for(lambda: [j for j in _cat_jobs(shop) if j["attempts"] >= 1 and j["last_error"]],
                 15.0, what="a failed attempt")
        shop.fake.delete_product(old)
    finally:
        shop.fake.set_down(False)
    [job] = _wait_cat_job_done(shop, 1)
    assert sorted(job["payload"]["product_ids"]) == sorted([mug, tee, old])
    assert job["result"] == {"fetched": 2, "gone": [old]}, job
    # One answered call: the parent product of the variation, per_page 100.
    answered = _product_calls(shop.fake)
    assert answered == [(sorted([mug, tee, old]), "100")], answered
    assert _cache(pg, shop) == {mug: ([10, 11], False), tee: ([12], False), old: ([], True)}
    names = db(pg, shop, "SELECT category_id, name, slug FROM shop_categories WHERE shop_id = %s"
                         " ORDER BY 1", (shop.id,))
    assert names[0] == (10, "Kitchen", "kitchen") and [n[0] for n in names] == [10, 11, 12]

    # Another order of the same products: fresh, so no job and no call.
    o2 = shop.order([mug, tee], unique_email())
    wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.paid", order_id=o2["id"]),
             what="the second order processed")
    shop.idle()
    assert len(_cat_jobs(shop)) == 1 and len(_product_calls(shop.fake)) == len(answered), o2

    # Past the TTL (moved back in the cache): the next order asks again and
    # the shop's new category replaces the old ones.
    shop.fake.set_product_categories(mug, [14])
    db(pg, shop, "UPDATE product_categories SET fetched_at = now() - interval '2 days'"
                 " WHERE shop_id = %s AND product_id = %s RETURNING 1", (shop.id, mug))
    shop.order([mug, tee], unique_email())
    done = sorted(_wait_cat_job_done(shop, 2), key=lambda j: j["id"])
    assert done[-1]["payload"]["product_ids"] == [mug], done
    assert _product_calls(shop.fake)[-1] == ([mug], "100")
    assert _cache(pg, shop)[mug] == ([14], False)


def test_shop_down_then_back_the_job_retries_and_fills_the_cache(rshop, pg):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00", categories=[KITCHEN])["id"]
    shop.fake.set_down(True)
    try:
        shop.order([mug], unique_email())
        job = wait_for(lambda: next((j for j in _cat_jobs(shop)
                                     if j["attempts"] >= 2 and j["last_error"]), None),
                       15.0, what="a failed attempt of the categories job")
        assert job["status"] in ("pending", "running"), job
        assert _cache(pg, shop) == {}
    finally:
        shop.fake.set_down(False)
    [done] = _wait_cat_job_done(shop, 1)
    assert done["id"] == job["id"] and done["result"]["fetched"] == 1
    assert _cache(pg, shop) == {mug: ([10], False)}


# --------------------------------------------------------------------------
# surveys


def test_survey_category_filters_known_and_decided_when_sending(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00", categories=[KITCHEN])["id"]
    tee = shop.fake.add_product("Tee", "20.00", categories=[12])["id"]
    inc = create_survey(shop, name="Kitchen only", status="active",
                        trigger={"event": "order.completed", "delay": "PT3S"},
                        audience={"include_categories": [10]}, recontact_days=0)
    exc = create_survey(shop, name="No kitchen", status="active",
                        trigger={"event": "order.completed", "delay": "PT3S"},
                        audience={"exclude_categories": [10]}, recontact_days=0)
    assert inc["audience"]["include_categories"] == [10]
    assert inc["audience"]["exclude_categories"] == []
    # Warm the cache with a paid (not completed) order: no survey yet.
    shop.order([mug, tee], unique_email())
    _wait_cat_job_done(shop, 1)

    # Known at scheduling: decided at once.
    o1 = _completed(shop, [(mug, 1, "10.00")])
    o2 = _completed(shop, [(tee, 1, "20.00")])
    assert outcomes(schedule_result(shop, o1["id"])) == {
        inc["id"]: "scheduled", exc["id"]: "order has a product of an excluded category"}
    assert outcomes(schedule_result(shop, o2["id"])) == {
        inc["id"]: "order has no product of the included categories", exc["id"]: "scheduled"}

    # Unknown at scheduling (the shop is down): both scheduled, and the
    # sending job decides with the categories the shop gave in between.
    pan = shop.fake.add_product("Pan", "30.00", categories=[KITCHEN])["id"]
    shop.fake.set_down(True)
    try:
        o3 = _completed(shop, [(pan, 1, "30.00")])
        deferred = "scheduled (categories checked when sending)"
        assert outcomes(schedule_result(shop, o3["id"])) == {inc["id"]: deferred,
                                                             exc["id"]: deferred}
    finally:
        shop.fake.set_down(False)
    _wait_cat_job_done(shop, 2)

    def status(sid, oid):
        got = invitations(shop, sid, order_id=oid)
        return got and got[0]["status"] != "scheduled" and got[0]
    sent = wait_for(lambda: status(inc["id"], o3["id"]), 20.0, what="the kitchen invitation")
    cancelled = wait_for(lambda: status(exc["id"], o3["id"]), 20.0, what="the other invitation")
    assert sent["status"] == "sent", sent
    assert (cancelled["status"], cancelled["cancel_reason"]) == \
        ("cancelled", "order has a product of an excluded category"), cancelled
    # Validation: the same shape as products, 422 naming the path.
    r = shop.api.patch(f"/v1/surveys/{inc['id']}",
                       json={"audience": {"include_categories": [10, 0]}})
    assert_problem(r, 422, "invalid-field", "audience.include_categories[1]")


def test_survey_report_breaks_down_by_category(rshop, pg):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00", categories=[KITCHEN, 11])["id"]
    tee = shop.fake.add_product("Tee", "20.00", categories=[12])["id"]
    pan = shop.fake.add_product("Pan", "30.00", categories=[KITCHEN])["id"]
    s = create_survey(shop, name="NPS", status="active")
    orders = [_completed(shop, [(mug, 1, "10.00"), (pan, 1, "30.00")]),
              _completed(shop, [(tee, 1, "20.00")]),
              _completed(shop, [(pan, 2, "60.00")])]
    _wait_cat_job_done(shop, 1)
    wait_for(lambda: not [j for j in _cat_jobs(shop) if j["status"] != "done"],
             what="every categories job done")
    tokens = []
    for o, score in zip(orders, (9, 4, 7)):
        r = shop.api.post(f"/v1/surveys/{s['id']}/invitations", json={"order_id": o["id"]})
        assert r.status_code in (200, 201), r.text
        tokens.append(r.json()["token"])
        a = put_answers(shop, tokens[-1], {"nps": score})
        assert a.status_code in (200, 201), a.text
    # A changed answer (4 -> 3) moves the category counts with it.
    a = put_answers(shop, tokens[1], {"nps": 3})
    assert a.status_code == 200, a.text
    r = shop.api.get(f"/v1/surveys/{s['id']}/report")
    assert r.status_code == 200, r.text
    by = {c["category_id"]: c for c in r.json()["by_category"]}
    assert set(by) == {10, 11, 12}
    # Kitchen: orders 1 (mug + pan: once) and 3: 9 and 7 -> 1 promoter, 1 passive.
    k = by[10]
    assert (k["category_name"], k["invitations_sent"], k["responses"]) == ("Kitchen", 2, 2)
    assert (k["nps"]["score"], k["nps"]["promoters"], k["nps"]["passives"],
            k["nps"]["detractors"]) == (50.0, 1, 1, 0)
    assert (by[11]["responses"], by[11]["nps"]["score"]) == (1, 100.0)
    assert (by[12]["category_name"], by[12]["responses"], by[12]["nps"]["score"]) == \
        ("Category 12", 1, -100.0)
    assert by[12]["response_rate"] == 1.0
    q12 = next(q for q in by[12]["questions"] if q["id"] == "nps")
    assert q12["distribution"]["3"] == 1 and q12["distribution"]["4"] == 0, q12
    # The aggregate equals a recount from the rows (the UPDATE moved only
    # the facets that changed, and moved them right).
    kept = db(pg, shop, "SELECT category_id, facet, sum(n)::int FROM survey_daily_categories"
                        " WHERE shop_id = %s AND survey_id = %s GROUP BY 1, 2 HAVING sum(n) <> 0"
                        " ORDER BY 1, 2", (shop.id, s["id"]))
    recount = db(pg, shop, "SELECT c, f, count(*)::int FROM ("
                           " SELECT c, f FROM survey_responses r,"
                           "  unnest(r.categories) c, unnest(r.facets || '#response'::text) f"
                           "  WHERE r.shop_id = %s AND r.survey_id = %s"
                           " UNION ALL SELECT c, '#sent' FROM survey_invitations i,"
                           "  unnest(i.categories) c"
                           "  WHERE i.shop_id = %s AND i.survey_id = %s AND i.sent_at IS NOT NULL) x"
                           " GROUP BY 1, 2 ORDER BY 1, 2", (shop.id, s["id"], shop.id, s["id"]))
    assert kept == recount


# --------------------------------------------------------------------------
# returns


def _return_body(order, index, qty=1, reason="changed_mind"):
    return {"order_id": order["id"], "resolution": "refund",
            "lines": [{"line_item_id": order["line_items"][index]["id"], "quantity": qty,
                       "reason": reason}]}


def test_return_refused_for_an_excluded_category_and_unknown_categories_retryable(rshop):
    shop = rshop
    knife = shop.fake.add_product("Knife", "15.00", categories=[{"id": 20, "name": "Blades"}])
    tee = shop.fake.add_product("Tee", "20.00", categories=[12])
    r = shop.api.put("/v1/returns/settings", json={"excluded_categories": [20]})
    assert r.status_code == 200 and r.json()["excluded_categories"] == [20], r.text
    o = _completed(shop, [(knife["id"], 2, "30.00"),
                          {"product_id": tee["id"], "quantity": 1, "total": "20.00",
                           "variation_id": 777}])
    _wait_cat_job_done(shop, 1)

    r = shop.api.post("/v1/returns", json=_return_body(o, 0))
    assert_problem(r, 422, "invalid-field", "lines[0].line_item_id")
    detail = r.json()["detail"]
    assert str(o["line_items"][0]["id"]) in detail and "category 20" in detail, detail
    ok = shop.api.post("/v1/returns", json=_return_body(o, 1))      # the variation's parent: 12
    assert ok.status_code == 201, ok.text

    # A product whose categories the service never learnt: the shop is down,
    # so the creation is refused as retryable, naming the line.
    cap = shop.fake.add_product("Cap", "8.00", categories=[12])
    shop.fake.set_down(True)
    try:
        o2 = _completed(shop, [(cap["id"], 1, "8.00")])
        wait_for(lambda: list(shop.api.get("/v1/returns", params={"order_id": o2["id"]})
                              .json()["items"]) == [], what="the order known")
        r = shop.api.post("/v1/returns", json=_return_body(o2, 0))
        assert_problem(r, 503, "unavailable", "lines[0].line_item_id")
        assert r.headers["Retry-After"] == "30"
        assert "not known yet" in r.json()["detail"] and \
            str(o2["line_items"][0]["id"]) in r.json()["detail"]
        # The customer API answers the same to the order's customer, and
        # another customer learns nothing (as for an unknown order).
        body = _return_body(o2, 0)
        owner = client(shop.svc.url, mint(shop.token_secret, claims_for(
            shop.id, email=o2["billing"]["email"], scope="returns")))
        other = client(shop.svc.url, mint(shop.token_secret, claims_for(
            shop.id, email=unique_email("eve"), scope="returns")))
        assert_problem(owner.post("/v1/me/returns", json=body), 503, "unavailable",
                       "lines[0].line_item_id")
        assert_problem(other.post("/v1/me/returns", json=body), 422, "invalid-field", "order_id")
        owner.close()
        other.close()
        # The portal: the same refusal as a page, with Retry-After.
        q = {"shop": shop.id}
        r = shop.anon.post("/returns", params=q,
                           data={"order": str(o2["id"]), "email": o2["billing"]["email"]})
        token = re.search(r'name="token" value="([^"]*)"', r.text).group(1)
        line = o2["line_items"][0]["id"]
        r = shop.anon.post("/returns", params=q, data={
            "token": token, "order": str(o2["id"]), f"qty_{line}": "1",
            f"reason_{line}": "changed_mind", "resolution": "refund"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "30", r.text[:300]
        # in the customer's words (locales/*.json), not the API's English detail
        assert r.headers["Content-Type"].startswith("text/html")
        assert "We cannot check your items just yet" in r.text and "product" not in r.text
    finally:
        shop.fake.set_down(False)
    wait_for(lambda: shop.api.post("/v1/returns", json=_return_body(o2, 0)).status_code == 201,
             20.0, what="the retried request accepted once the shop answered")


def test_returns_report_return_rate_per_category(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00", categories=[KITCHEN, 11])["id"]
    tee = shop.fake.add_product("Tee", "20.00", categories=[12])["id"]
    o1 = _completed(shop, [(mug, 4, "40.00"), (tee, 1, "20.00")])
    o2 = _completed(shop, [(mug, 1, "10.00")])
    wait_for(lambda: len(_cat_jobs(shop, "done")) >= 1 and
             not [j for j in _cat_jobs(shop) if j["status"] != "done"],
             what="every categories job done")
    assert shop.api.post("/v1/returns", json=_return_body(o1, 0, qty=2)).status_code == 201
    rej = shop.api.post("/v1/returns", json=_return_body(o2, 0)).json()
    assert shop.api.post(f"/v1/returns/{rej['id']}/reject", json={}).status_code == 200
    r = shop.api.get("/v1/returns/report")
    assert r.status_code == 200, r.text
    by = {c["category_id"]: c for c in r.json()["by_category"]}
    # Kitchen: 5 mugs sold, 2 coming back (the rejected one gives its unit back).
    assert (by[10]["category_name"], by[10]["items_sold"], by[10]["items_returned"],
            by[10]["return_rate"]) == ("Kitchen", 5, 2, 0.4)
    assert (by[11]["items_sold"], by[11]["items_returned"]) == (5, 2)
    assert (by[12]["items_sold"], by[12]["items_returned"], by[12]["return_rate"]) == (1, 0, 0.0)
