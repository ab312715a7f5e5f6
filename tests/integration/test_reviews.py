"""Review requests end to end: the whole path, moderation and statistics.

A completed order (signed webhook from the fake shop) -> a request due a
second later -> an email in a real SMTP server with a working link ->
reviews sent with that link -> the low one held, the high one published in
WooCommerce under the buyer's billing email (verified as WooCommerce
computes it) -> a merchant reply published as a WordPress comment under the
review -> the loyalty bonus paid once per review.

Fixtures and helpers: reviews_helpers.py (own service and database per
module, SMTP sink, fake shop with a WordPress user).
"""

import datetime as dt

import requests

from reviews_helpers import (FAST_SETTINGS, WP_APP_PASSWORD, WP_USER, path_of,  # noqa: F401
                             rshop, rv_admin, rv_db, rv_svc, sink, token_of, unique_email, wait_for,
                             wfake)
from aftersale_it import assert_problem


def test_whole_path_from_completed_order_to_published_reply_and_bonus(rshop, sink):
    shop = rshop
    s = shop.settings(**FAST_SETTINGS)
    assert (s["delay"], s["expiry"], s["incentive"]["kind"]) == ("PT1S", "PT6S", "points")
    shop.loyalty_settings(bonuses={"review": 50})
    mug = shop.fake.add_product("Blue Mug", "12.00")["id"]
    pot = shop.fake.add_product("Tea Pot", "30.00")["id"]
    email = unique_email("buyer")

    order = shop.completed_order([mug, pot], email, first_name="Ann")
    req = shop.request_for_order(order["id"])
    assert req["status"] == "scheduled" and req["email"] == email and req["first_name"] == "Ann"
    assert [p["product_id"] for p in req["products"]] == sorted([mug, pot])
    assert not any(p["reviewed"] for p in req["products"])
    # Due one second (the delay) after completion (date_completed_gmt of the fake's order).
    completed = dt.datetime.fromisoformat(shop.fake.get_order(order["id"])["date_completed_gmt"])
    due = completed + dt.timedelta(seconds=1)
    assert req["due_at"] == due.strftime("%Y-%m-%dT%H:%M:%SZ"), (req["due_at"], completed)

    # The email: from MAIL_FROM with the shop's name, to the billing address,
    # both parts, unsubscribe headers, a link to the service's own page.
    [mail] = shop.wait_mails(email, 1)
    assert mail.to == [email]
    assert "shop@example.com" in mail.header("From") and shop.name in mail.header("From")
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert "Blue Mug" in mail.text and "Tea Pot" in mail.html
    link = mail.review_link
    assert link.startswith(shop.svc.url + "/review?token=")
    req = shop.wait_status(req["id"], "sent")
    assert req["sent_at"] and req["expires_at"] and req["expires_at"] > req["sent_at"]

    # The link works: the page and the public API name the request.
    page = shop.anon.get(path_of(link))
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Blue Mug" in page.text and "Tea Pot" in page.text and "Ann" in page.text
    token = token_of(link)
    pub = shop.public(token)
    assert pub.status_code == 200, pub.text
    assert pub.json()["request_id"] == req["id"] and pub.json()["shop_name"] == shop.name

    r = shop.submit(token, [{"product_id": mug, "rating": 2, "title": "Chipped",
                             "body": "Arrived with a chip."},
                            {"product_id": pot, "rating": 5, "title": "Lovely",
                             "body": "Best pot I ever had."}])
    assert r.status_code == 201, r.text
    low, high = r.json()["reviews"]
    assert (low["product_id"], low["rating"], low["status"]) == (mug, 2, "pending")
    assert (high["product_id"], high["rating"], high["status"]) == (pot, 5, "approved")
    assert low["reviewer_email"] == email and low["reviewer_name"] == "Ann"
    assert shop.request(req["id"])["status"] == "answered"

    # Only the approved one reaches WooCommerce, with the billing email.
    high = shop.wait_published(high["id"])
    [posted] = [c for c in shop.review_posts() if c["status"] == 201]
    assert posted["json"]["product_id"] == pot and posted["json"]["reviewer_email"] == email
    assert posted["json"]["rating"] == 5 and "Best pot I ever had." in posted["json"]["review"]
    [woo] = shop.fake_reviews(pot)
    assert woo["id"] == high["woo_review_id"] and woo["reviewer_email"] == email
    # WooCommerce marks it verified because that email bought the product.
    assert woo["verified"] is True and high["verified"] is True
    assert shop.fake_reviews(mug) == []
    assert shop.review(low["id"])["woo_review_id"] is None

    # Merchant reply through WordPress: needs the application password first.
    s = shop.settings(wordpress={"username": WP_USER, "application_password": WP_APP_PASSWORD})
    assert s["wordpress"] == {"username": WP_USER, "application_password_set": True}
    got = shop.api.get("/v1/reviews/settings").json()
    assert got["wordpress"] == {"username": WP_USER, "application_password_set": True}
    assert WP_APP_PASSWORD not in shop.api.get("/v1/reviews/settings").text
    r = shop.api.post(f"/v1/reviews/{high['id']}/reply", json={"body": "Thank you, Ann!"})
    assert r.status_code == 200, r.text
    assert r.json()["reply"] == "Thank you, Ann!" and r.json()["replied_at"]
    reply_job = shop.find_job("reviews.reply", lambda j: j["status"] == "done")
    [comment] = wait_for(lambda: shop.fake.replies(high["woo_review_id"]), 10,
                         what="the reply in WordPress")
    assert reply_job["result"] == {"comment_id": comment["id"]}
    assert (comment["post"], comment["parent"]) == (pot, high["woo_review_id"])
    assert comment["content"]["raw"] == "Thank you, Ann!" and comment["status"] == "approved"
    [call] = [c for c in shop.fake.calls(path_prefix="/wp-json/wp/v2/comments", method="POST")]
    assert call["json"] == {"post": pot, "parent": high["woo_review_id"],
                            "content": "Thank you, Ann!"}   # no author_name (docs/reviews.md)
    assert call["headers"]["Authorization"].startswith("Basic ")
    # One reply per review.
    r = shop.api.post(f"/v1/reviews/{high['id']}/reply", json={"body": "again"})
    assert_problem(r, 409, "conflict")
    # A pending review cannot be answered publicly.
    r = shop.api.post(f"/v1/reviews/{low['id']}/reply", json={"body": "Sorry!"})
    assert_problem(r, 409, "conflict")

    # Loyalty bonus: once per approved review, whatever is clicked twice.
    r = shop.api.post(f"/v1/reviews/{high['id']}/approve")
    assert_problem(r, 409, "conflict")
    r = shop.api.post(f"/v1/reviews/{low['id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    r = shop.api.post(f"/v1/reviews/{low['id']}/approve")
    assert_problem(r, 409, "conflict")
    shop.wait_published(low["id"])
    shop.idle()
    bonuses = [e for e in shop.ledger_for(email) if e["reason"] == "bonus"]
    assert sorted((e["source"]["kind"], e["source"]["id"], e["delta"]) for e in bonuses) == sorted(
        [("review", str(high["id"]), 50), ("review", str(low["id"]), 50)]), bonuses
    assert len(shop.fake_reviews(mug)) == 1 and len(shop.fake_reviews(pot)) == 1

    # The request never gets a reminder: it was answered.
    rem = shop.send_job(req["id"], reminder=1, pred=lambda j: j["status"] == "done", timeout=6)
    assert rem["result"] == {"skipped": "answered"}, rem
    assert len(shop.mails(email)) == 1


def test_moderation_list_filters_and_rejection(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=4)
    a = shop.fake.add_product("Alpha", "5.00")["id"]
    b = shop.fake.add_product("Beta", "5.00")["id"]
    c = shop.fake.add_product("Gamma", "5.00")["id"]
    ids = {}
    for n, ratings in enumerate([(1, 4, 5), (3, 2, 5)]):
        email = unique_email(f"mod{n}")
        o = shop.completed_order([a, b, c], email)
        [mail] = shop.wait_mails(email)
        r = shop.submit(token_of(mail.review_link), [
            {"product_id": p, "rating": rt, "body": f"{p}/{rt} by {n}"}
            for p, rt in zip((a, b, c), ratings)])
        assert r.status_code == 201, r.text
        for rv in r.json()["reviews"]:
            ids[(n, rv["product_id"])] = rv["id"]
        shop.request_for_order(o["id"])

    def listed(**q):
        return [r["id"] for r in shop.reviews(**q)]
    pending = listed(status="pending")
    assert pending == sorted([ids[(0, a)], ids[(1, a)], ids[(1, b)]])
    assert all(r["status"] == "pending" for r in shop.reviews(status="pending"))
    assert listed(status="approved") == sorted([ids[(0, b)], ids[(0, c)], ids[(1, c)]])
    assert listed(product_id=c) == sorted([ids[(0, c)], ids[(1, c)]])
    assert listed(rating=5) == sorted([ids[(0, c)], ids[(1, c)]])
    assert listed(status="pending", product_id=a, rating=3) == [ids[(1, a)]]
    assert listed(status="rejected") == []
    # Paging: one at a time, in id order, no repeats.
    r = shop.api.get("/v1/reviews", params={"limit": 1})
    assert r.status_code == 200 and len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    assert listed(limit=1) == sorted(ids.values())

    r = shop.api.post(f"/v1/reviews/{ids[(1, b)]}/reject")
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert_problem(shop.api.post(f"/v1/reviews/{ids[(1, b)]}/approve"), 409, "conflict")
    assert_problem(shop.api.post(f"/v1/reviews/{ids[(1, b)]}/reject"), 409, "conflict")
    assert listed(status="rejected") == [ids[(1, b)]]
    assert_problem(shop.api.post("/v1/reviews/999999/approve"), 404, "not-found")

    # Bad filters are refused, naming the parameter.
    assert_problem(shop.api.get("/v1/reviews", params={"status": "spam"}), 400, "malformed",
                   field="status")
    assert_problem(shop.api.get("/v1/reviews", params={"rating": "6"}), 400, "malformed",
                   field="rating")
    assert_problem(shop.api.get("/v1/reviews", params={"product_id": "x"}), 400, "malformed",
                   field="product_id")

    # A rejected review is never published; approved ones are, once each.
    shop.idle()
    published = {r["product_id"]: r for r in shop.fake_reviews()}
    assert sorted(r["rating"] for r in shop.fake_reviews()) == [4, 5, 5]
    assert set(published) == {b, c}


def test_stats_exact_figures(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_delay="PT1S", reminder_count=1, expiry="PT30S",
                  auto_approve_min_rating=None)
    a = shop.fake.add_product("Stat A", "5.00")["id"]
    b = shop.fake.add_product("Stat B", "5.00")["id"]
    empty = shop.api.get("/v1/reviews/stats")
    assert empty.status_code == 200, empty.text
    e = empty.json()
    assert (e["requests_sent"], e["reminders_sent"], e["reviews_received"]) == (0, 0, 0)
    assert e["conversion_rate"] == 0 and e["average_rating"] is None
    assert e["products"] == [] and e["distribution"] == {str(k): 0 for k in range(1, 6)}

    # Three requests: two answered at once, one left for its reminder.
    emails = [unique_email(f"st{n}") for n in range(3)]
    orders = [shop.completed_order([a, b], em) for em in emails]
    tokens = [token_of(shop.wait_mails(em)[0].review_link) for em in emails]
    assert shop.submit(tokens[0], [{"product_id": a, "rating": 5}, {"product_id": b, "rating": 4}]
                       ).status_code == 201
    assert shop.submit(tokens[1], [{"product_id": a, "rating": 2}]).status_code == 201
    shop.wait_mails(emails[2], 2)       # the reminder
    req = shop.request_for_order(orders[2]["id"])
    wait_for(lambda: shop.request(req["id"])["reminders_sent"] == 1, 5, what="the reminder count")

    st = shop.api.get("/v1/reviews/stats").json()
    assert st["requests_sent"] == 3
    assert st["reminders_sent"] == 1
    assert st["reviews_received"] == 3
    assert st["requests_answered"] == 2
    assert st["conversion_rate"] == round(2 / 3, 4)
    assert st["average_rating"] == round((5 + 4 + 2) / 3, 2)
    assert st["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert st["products"] == [
        {"product_id": a, "reviews": 2, "average_rating": 3.5,
         "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}},
        {"product_id": b, "reviews": 1, "average_rating": 4,
         "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}]
    # A range that ends before everything counts nothing.
    r = shop.api.get("/v1/reviews/stats", params={"from": "2020-01-01T00:00:00Z",
                                                  "to": "2020-02-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["requests_sent"] == 0, r.text
    assert r.json()["from"] == "2020-01-01T00:00:00Z"
    assert_problem(shop.api.get("/v1/reviews/stats", params={"from": "yesterday"}), 400,
                   "malformed", field="from")



def test_review_already_in_woocommerce_gets_its_id_so_replies_work(rshop):
    """The customer had already left the same review in WooCommerce itself
    (same product, name, email and text: WordPress's duplicate rule), so the
    POST answers 409 woocommerce_rest_comment_duplicate. aftersale treats that
    as published, which is right, but it must then know the WooCommerce
    review's id: without it the review reads as published with no id and a
    merchant reply can never be posted (its parent is that id)."""
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=4,
                  wordpress={"username": WP_USER, "application_password": WP_APP_PASSWORD})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("dup")
    shop.completed_order([mug], email, first_name="Sam")
    earlier = requests.post(shop.fake.signed_url("POST", "products/reviews"), timeout=10,
                            json={"product_id": mug, "review": "Great mug!", "reviewer": "Sam",
                                  "reviewer_email": email, "rating": 5})
    assert earlier.status_code == 201, earlier.text
    shop.fake.reset_calls()
    token = token_of(shop.wait_mails(email)[0].review_link)
    r = shop.submit(token, [{"product_id": mug, "rating": 5, "body": "Great mug!"}])
    assert r.status_code == 201, r.text
    review = r.json()["reviews"][0]
    job = shop.find_job("reviews.publish", lambda j: j["status"] in ("done", "dead"))
    assert [c["status"] for c in shop.review_posts()] == [409]
    got = shop.review(review["id"])
    assert got["woo_review_id"] == earlier.json()["id"], (
        f"published without the WooCommerce id after a 409 duplicate: {got}; job {job}")
