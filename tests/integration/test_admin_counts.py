"""GET /v1/counts: what waits for the merchant (the badge of the plugin's
wp-admin menu): reviews pending moderation, returns whose next step is the
merchant's, survey detractors whose follow-up is still 'new'. Each count
follows the programme's own actions; another shop's are not counted; the
statement uses the indexes it was written for. Also the return rate the
returns report gained for the overview.

Fixtures: reviews_helpers.py (own service and database, SMTP sink, fake shop).
"""

from surveys_helpers import (create_survey, link_invitation, put_answers,  # noqa: F401
                             list_all, rshop, rv_admin, rv_db, rv_svc, sink, unique_email,
                             wfake)
from reviews_helpers import ReviewShop, token_of

ZERO = {"reviews_to_moderate": 0, "returns_to_handle": 0, "detractors_to_contact": 0, "total": 0}


def counts(shop):
    r = shop.api.get("/v1/counts")
    assert r.status_code == 200, r.text
    return r.json()


def _completed(shop, email, products):
    return shop.completed_order(products, email)


def test_counts_follow_reviews_returns_and_detractors(rshop, rv_svc, rv_admin, wfake, sink):
    shop = rshop
    assert counts(shop) == ZERO
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=4)
    a = shop.fake.add_product("Alpha", "5.00")["id"]
    b = shop.fake.add_product("Beta", "7.00")["id"]

    # Reviews: 1 and 2 stars wait for moderation, 5 stars is approved by the rule.
    email = unique_email("cnt")
    order = _completed(shop, email, [a, b])
    [mail] = shop.wait_mails(email)
    r = shop.submit(token_of(mail.review_link), [{"product_id": a, "rating": 1},
                                                 {"product_id": b, "rating": 2}])
    assert r.status_code == 201, r.text
    pending = [rv["id"] for rv in r.json()["reviews"]]
    assert counts(shop)["reviews_to_moderate"] == 2
    assert shop.api.post(f"/v1/reviews/{pending[0]}/reject").status_code == 200
    assert counts(shop)["reviews_to_moderate"] == 1

    # Returns: requested waits, approved does not (the customer sends it), received waits.
    shop.request_for_order(order["id"])
    lines = order["line_items"]
    assert len(lines) == 2
    made = []
    for line in lines:
        body = {"order_id": order["id"], "resolution": "refund",
                "lines": [{"line_item_id": line["id"], "quantity": 1, "reason": "changed_mind"}]}
        r = shop.api.post("/v1/returns", json=body)
        assert r.status_code == 201, r.text
        made.append(r.json())
    assert counts(shop)["returns_to_handle"] == 2
    r = shop.api.post(f"/v1/returns/{made[0]['id']}/approve", json={})
    assert r.status_code == 200, r.text
    assert counts(shop)["returns_to_handle"] == 1
    rl = made[0]["lines"][0]
    r = shop.api.post(f"/v1/returns/{made[0]['id']}/receive", json={"lines": [
        {"line_item_id": rl["line_item_id"], "quantity_received": 1, "condition": "resellable",
         "restock": True}]})
    assert r.status_code == 200, r.text
    assert counts(shop)["returns_to_handle"] == 2

    # Detractors (NPS 0-6) not yet contacted; a promoter is not one.
    s = create_survey(shop, status="active")
    for score in (3, 6, 9):
        o = _completed(shop, unique_email("nps"), [a])
        tok = link_invitation(shop, s["id"], o["id"])["token"]
        r = put_answers(shop, tok, {"nps": score})
        assert r.status_code == 201, r.text
    assert counts(shop)["detractors_to_contact"] == 2
    [three] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses", score_max=3)
    r = shop.api.patch(f"/v1/survey-responses/{three['id']}", json={"follow_up": "contacted"})
    assert r.status_code == 200, r.text
    assert counts(shop)["detractors_to_contact"] == 1
    # The survey's own threshold replaces NPS's 6.
    r = shop.api.patch(f"/v1/surveys/{s['id']}", json={"alert_threshold": 5})
    assert r.status_code == 200, r.text
    assert counts(shop)["detractors_to_contact"] == 0
    r = shop.api.patch(f"/v1/surveys/{s['id']}", json={"alert_threshold": 9})
    assert r.status_code == 200, r.text
    assert counts(shop)["detractors_to_contact"] == 2

    assert counts(shop) == {"reviews_to_moderate": 1, "returns_to_handle": 2,
                            "detractors_to_contact": 2, "total": 5}
    # Another shop sees none of it.
    other = ReviewShop(rv_svc, rv_admin, wfake, sink)
    try:
        assert counts(other) == ZERO
    finally:
        other.close()

    # The returns report counts the period's orders and gives the return rate.
    rep = shop.api.get("/v1/returns/report").json()
    assert rep["requests"] == 2 and rep["orders"] == 4
    assert rep["return_rate"] == 0.5
    assert shop.api.get("/v1/returns/report", params={"to": "2000-01-01"}).json()["return_rate"] \
        is None


def test_counts_statement_uses_the_indexes(rshop, pg, rv_db):
    """EXPLAIN of the predicates of the counts' statement (src/shops/counts.c):
    the three tables are read through their indexes (the survey responses
    through the partial index of sql/022), never by a sequential scan."""
    shop = rshop
    conn = pg.connect(rv_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute(
                "EXPLAIN SELECT"
                " (SELECT count(*) FROM reviews WHERE shop_id = %(s)s AND status = 'pending'),"
                " (SELECT count(*) FROM return_requests WHERE shop_id = %(s)s"
                "   AND state IN ('requested', 'received', 'resolution_failed')),"
                " (SELECT count(*) FROM survey_responses WHERE shop_id = %(s)s"
                "   AND follow_up = 'new' AND score IS NOT NULL)", {"s": shop.id})
            plan = "\n".join(row[0] for row in cur.fetchall())
    finally:
        conn.close()
    assert "Seq Scan" not in plan, plan
    assert "survey_responses_follow_up_new" in plan, plan
