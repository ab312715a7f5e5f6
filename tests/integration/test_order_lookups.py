"""An order's review requests and survey responses, looked up by order id
(GET /v1/review-requests?order_id= and GET /v1/survey-responses?order_id=):
what the plugin's Aftersale box on the order screen shows.

Each list holds only the order's own items, of the calling shop: another
order's are left out, and another shop's key sees nothing for the same
order id. Both are paged like every list (limit, cursor).

Fixtures: reviews_helpers.py / surveys_helpers.py (own service and
database for the module, a fake WooCommerce shop, an aftersale shop per
test).
"""

from reviews_helpers import (FAST_SETTINGS, ReviewShop, rshop, rv_admin, rv_db, rv_svc,  # noqa: F401
                             sent_request, sink, token_of, unique_email, wfake)
from surveys_helpers import create_survey, link_invitation, put_answers
from woo_helpers import list_all
from aftersale_it import assert_problem


def _requests_of(shop, order_id, **query):
    r = shop.api.get("/v1/review-requests", params=dict(query, order_id=order_id))
    assert r.status_code == 200, r.text
    return r.json()


def _responses_of(shop, order_id, **query):
    r = shop.api.get("/v1/survey-responses", params=dict(query, order_id=order_id))
    assert r.status_code == 200, r.text
    return r.json()


def test_an_orders_review_request_with_its_reviews(rshop, rv_svc, rv_admin, wfake, sink):
    shop = rshop
    shop.settings(**FAST_SETTINGS)
    mug = shop.fake.add_product("Blue Mug", "12.00")["id"]
    pot = shop.fake.add_product("Tea Pot", "30.00")["id"]
    email = unique_email("box")
    order = shop.completed_order([mug, pot], email, first_name="Ann")
    other_order = shop.completed_order([mug], unique_email("other"))
    req, mail = sent_request(shop, order, email)
    r = shop.submit(token_of(mail.review_link),
                    [{"product_id": mug, "rating": 2, "title": "Chipped", "body": "A chip."},
                     {"product_id": pot, "rating": 5, "title": "Lovely", "body": "Great pot."}])
    assert r.status_code == 201, r.text
    low, high = r.json()["reviews"]
    high = shop.wait_published(high["id"])

    page = _requests_of(shop, order["id"])
    assert page["next_cursor"] is None
    [got] = page["items"]
    assert (got["id"], got["order_id"], got["status"], got["email"]) == \
        (req["id"], order["id"], "answered", email)
    assert got["sent_at"] and got["answered_at"]
    assert [(p["product_id"], p["reviewed"]) for p in got["products"]] == \
        sorted([(mug, True), (pot, True)])
    assert [(v["id"], v["product_id"], v["rating"], v["status"], v["woo_review_id"])
            for v in got["reviews"]] == \
        [(low["id"], mug, 2, "pending", None),
         (high["id"], pot, 5, "approved", high["woo_review_id"])]
    assert high["woo_review_id"] > 0

    # The other order: its own request, no reviews; an unknown order: none.
    other_req = shop.request_for_order(other_order["id"])
    [o] = _requests_of(shop, other_order["id"])["items"]
    assert (o["id"], o["order_id"], o["reviews"]) == (other_req["id"], other_order["id"], [])
    assert _requests_of(shop, 987654321) == {"items": [], "next_cursor": None}

    # Another shop's key sees nothing for the same order id.
    other = ReviewShop(rv_svc, rv_admin, wfake, sink)
    try:
        assert _requests_of(other, order["id"]) == {"items": [], "next_cursor": None}
    finally:
        other.close()

    # order_id is required and must be an id; paging is checked as everywhere.
    for bad in ({}, {"order_id": "abc"}, {"order_id": "0"}, {"order_id": "-3"}):
        assert_problem(shop.api.get("/v1/review-requests", params=bad), 400, "malformed",
                       "order_id")
    assert_problem(shop.api.get("/v1/review-requests",
                                params={"order_id": order["id"], "limit": "0"}), 400,
                   "malformed", "limit")
    assert shop.anon.get("/v1/review-requests", params={"order_id": order["id"]}).status_code \
        == 401


def _order(shop, email=None, country="SK"):
    mug = shop.fake.add_product("Mug", "20.00")["id"]
    o = shop.fake.add_order(status="processing", email=email or unique_email("s"),
                            first_name="Ann", items=[(mug, 1, "20.00")],
                            billing={"country": country})
    shop.deliver_order(o["id"])
    shop.complete(o["id"])
    return o


def test_an_orders_survey_responses_across_surveys(rshop, rv_svc, rv_admin, wfake, sink):
    shop = rshop
    nps = create_survey(shop, name="After delivery")
    csat = create_survey(shop, name="Packaging <check>")
    order, other_order = _order(shop), _order(shop)

    first = link_invitation(shop, nps["id"], order["id"])
    assert put_answers(shop, first["token"], {"nps": 3, "why": "Late"}).status_code == 201
    second = link_invitation(shop, csat["id"], order["id"])
    assert put_answers(shop, second["token"], {"nps": 9, "csat": 4}).status_code == 201
    elsewhere = link_invitation(shop, nps["id"], other_order["id"])
    assert put_answers(shop, elsewhere["token"], {"nps": 10}).status_code == 201
    # An invitation of the order that was never answered lists nothing.
    link_invitation(shop, create_survey(shop, name="Unanswered")["id"], order["id"])

    [r1] = list_all(shop.api, f"/v1/surveys/{nps['id']}/responses", q="Late")
    r = shop.api.patch(f"/v1/survey-responses/{r1['id']}", json={"follow_up": "contacted"})
    assert r.status_code == 200, r.text

    page = _responses_of(shop, order["id"])
    assert page["next_cursor"] is None
    assert [(x["survey_id"], x["survey_name"], x["score"], x["follow_up"], x["order_id"])
            for x in page["items"]] == \
        [(nps["id"], "After delivery", 3, "contacted", order["id"]),
         (csat["id"], "Packaging <check>", 9, "new", order["id"])]
    assert page["items"][0]["id"] == r1["id"] and page["items"][0]["answers"]["why"] == "Late"
    assert all(x["created_at"] for x in page["items"])

    # Paged: one a page, the cursor leads to the second and last.
    p1 = _responses_of(shop, order["id"], limit=1)
    assert [x["survey_id"] for x in p1["items"]] == [nps["id"]] and p1["next_cursor"]
    p2 = _responses_of(shop, order["id"], limit=1, cursor=p1["next_cursor"])
    assert [x["survey_id"] for x in p2["items"]] == [csat["id"]] and p2["next_cursor"] is None

    [x] = _responses_of(shop, other_order["id"])["items"]
    assert (x["score"], x["survey_name"]) == (10, "After delivery")
    assert _responses_of(shop, 987654321) == {"items": [], "next_cursor": None}

    other = ReviewShop(rv_svc, rv_admin, wfake, sink)
    try:
        assert _responses_of(other, order["id"]) == {"items": [], "next_cursor": None}
    finally:
        other.close()

    for bad in ({}, {"order_id": "x1"}, {"order_id": "0"}):
        assert_problem(shop.api.get("/v1/survey-responses", params=bad), 400, "malformed",
                       "order_id")
    assert shop.anon.get("/v1/survey-responses", params={"order_id": order["id"]}).status_code \
        == 401
