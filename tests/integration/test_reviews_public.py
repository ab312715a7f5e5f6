"""The customer's side of review requests: the link's token, submitting
reviews, escaping of names and texts in the email and the page, products
already reviewed, and publishing while WooCommerce is down.

Fixtures and helpers: reviews_helpers.py (own service and database per
module, a real SMTP sink, a fake shop per test).
"""

import re

from reviews_helpers import (jwt_claims, rshop, rv_admin, rv_db, rv_svc, sink,  # noqa: F401
                             token_of, unique_email, wfake)

from aftersale_it import assert_problem, shop_body


def _b64_flip(token):
    """Change one claim of the payload without re-signing (tampering)."""
    import base64
    import json
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["rid"] = claims["rid"] + 1
    raw = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{head}.{raw.decode()}.{sig}"


def test_tokens_tampered_expired_other_shop_and_wrong_scope_are_refused(rshop, rv_admin):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("tok")
    order = shop.completed_order([mug], email)
    [mail] = shop.wait_mails(email)
    good = token_of(mail.review_link)
    req = shop.request_for_order(order["id"])
    claims = jwt_claims(good)
    assert claims["scope"] == "review" and claims["rid"] == req["id"]
    assert claims["aud"] == f"shop:{shop.id}"
    # A token minted here the same way works (the helper is right).
    assert shop.public(shop.token(req["id"], email=email)).status_code == 200

    other = rv_admin.post("/v1/shops", json=shop_body()).json()
    bad = {
        "tampered": _b64_flip(good),
        "bad signature": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "expired": shop.token(req["id"], email=email, ttl=-10),
        "other shop's secret": shop.token(req["id"], email=email, secret=other["token_secret"]),
        "garbage": "not-a-token",
    }
    for what, tok in bad.items():
        r = shop.public(tok)
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert_problem(r, 401, "unauthorized")
        r = shop.submit(tok, [{"product_id": mug, "rating": 5}])
        assert r.status_code == 401, (what, r.status_code, r.text)
        page = shop.page(tok)
        assert page.status_code == 401 and "does not work" in page.text, (what, page.status_code)
    # A valid token of the other shop cannot reach this shop's request.
    r = shop.public(shop.token(req["id"], email=email, secret=other["token_secret"],
                               shop_id=other["id"]))
    assert r.status_code in (401, 404), r.text
    # A loyalty token (right shop, right signature) is not a review token.
    loyal = shop.token(req["id"], scope="loyalty", email=email)
    assert_problem(shop.public(loyal), 403, "forbidden")
    assert_problem(shop.submit(loyal, [{"product_id": mug, "rating": 5}]), 403, "forbidden")
    assert shop.reviews() == []


def test_submissions_are_checked_and_a_product_is_reviewed_once(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=None)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    pot = shop.fake.add_product("Pot", "19.00")["id"]
    stranger = shop.fake.add_product("Not bought", "1.00")["id"]
    email = unique_email("twice")
    order = shop.completed_order([mug, pot], email)
    token = token_of(shop.wait_mails(email)[0].review_link)

    assert_problem(shop.submit(token, []), 422, "invalid-field", field="reviews")
    assert_problem(shop.submit(token, {"product_id": mug, "rating": 5}), 422, "invalid-field",
                   field="reviews")
    assert_problem(shop.submit(token, [{"product_id": stranger, "rating": 5}]), 422,
                   "invalid-field", field="[0].product_id")
    assert_problem(shop.submit(token, [{"product_id": mug, "rating": 0}]), 422,
                   "invalid-field", field="[0].rating")
    assert_problem(shop.submit(token, [{"product_id": mug, "rating": 6}]), 422,
                   "invalid-field", field="[0].rating")
    assert_problem(shop.submit(token, [{"product_id": mug, "rating": 5},
                                       {"product_id": mug, "rating": 4}]), 422,
                   "invalid-field", field="[1].product_id")
    assert shop.reviews() == []

    r = shop.submit(token, [{"product_id": mug, "rating": 3, "body": "ok"}])
    assert r.status_code == 201 and r.json()["reviews"][0]["status"] == "pending", r.text
    # The same product again: 409, and nothing of that submission is kept.
    r = shop.submit(token, [{"product_id": pot, "rating": 5}, {"product_id": mug, "rating": 1}])
    assert_problem(r, 409, "conflict")
    assert [x["product_id"] for x in shop.reviews()] == [mug]
    req = shop.request_for_order(order["id"])
    assert {p["product_id"]: p["reviewed"] for p in req["products"]} == {mug: True, pot: False}
    # The page offers only what is left.
    page = shop.page(token)
    assert page.status_code == 200 and f'name="rating-{pot}"' in page.text
    assert f'name="rating-{mug}"' not in page.text
    r = shop.submit(token, [{"product_id": pot, "rating": 5}])
    assert r.status_code == 201, r.text
    assert_problem(shop.submit(token, [{"product_id": pot, "rating": 5}]), 409, "conflict")
    assert len(shop.reviews()) == 2


def test_names_and_texts_are_escaped_in_the_email_and_the_page(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    evil = shop.fake.add_product("<script>alert(1)</script>", "9.00")["id"]
    plain = shop.fake.add_product("Plain & \"Simple\"", "9.00")["id"]
    email = unique_email("esc")
    shop.completed_order([evil, plain], email, first_name="<b>Ann</b>")
    [mail] = shop.wait_mails(email)

    for where, html in (("email", mail.html), ("page", shop.page(token_of(mail.review_link)).text)):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, where
        assert "<script>alert(1)" not in html, where
        assert "&lt;b&gt;Ann&lt;/b&gt;" in html, where
        assert "<b>Ann</b>" not in html, where
        assert re.search(r"Plain &amp; &(quot|#34|#x22);Simple&(quot|#34|#x22);", html), where
    # The plain-text part is text: shown as written.
    assert "<script>alert(1)</script>" in mail.text and "<b>Ann</b>" in mail.text
    # The page's only scripts are its own (with the CSP nonce).
    page = shop.page(token_of(mail.review_link))
    assert page.text.count("<script") == 1 and "<script nonce=" in page.text
    assert "script-src 'nonce-" in page.headers["Content-Security-Policy"]

    # Markup in a review's title and text is data: stored as written, never
    # echoed raw into the page.
    token = token_of(mail.review_link)
    title, body = "<script>steal()</script>", "<img src=x onerror=alert(2)>"
    r = shop.submit(token, [{"product_id": evil, "rating": 5, "title": title, "body": body}])
    assert r.status_code == 201, r.text
    assert (r.json()["reviews"][0]["title"], r.json()["reviews"][0]["body"]) == (title, body)
    page = shop.page(token)
    assert page.status_code == 200
    assert "steal()" not in page.text and "onerror" not in page.text
    assert page.text.count("<script") == 1


def test_products_already_reviewed_by_that_email_are_left_out(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, contact_policy={"max_messages": 100,
                                                                  "period": "PT1S"})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    pot = shop.fake.add_product("Pot", "19.00")["id"]
    cup = shop.fake.add_product("Cup", "4.00")["id"]
    email = unique_email("again")
    first = shop.completed_order([mug, pot], email)
    token = token_of(shop.wait_mails(email)[0].review_link)
    assert shop.submit(token, [{"product_id": mug, "rating": 5}]).status_code == 201
    assert shop.request_for_order(first["id"])["status"] == "answered"

    # Same customer (the address in another case), the mug again and a cup: only the cup.
    second = shop.completed_order([mug, cup], email.upper())
    req = shop.request_for_order(second["id"])
    assert [p["product_id"] for p in req["products"]] == [cup], req
    mails = shop.wait_mails(email, 2)
    assert "Cup" in mails[1].text and "Mug" not in mails[1].text

    # Only the mug: nothing left to ask, so no request goes out.
    third = shop.completed_order([mug], email)
    outcome = shop.schedule_outcome(third["id"])
    assert outcome["outcome"].startswith("cancelled"), outcome
    if outcome["request_id"]:
        assert shop.request(outcome["request_id"])["status"] == "cancelled"
    shop.idle()
    assert len(shop.mails(email)) == 2
    # Someone else buying the mug is still asked about it.
    other = unique_email("other")
    o = shop.completed_order([mug], other)
    assert [p["product_id"] for p in shop.request_for_order(o["id"])["products"]] == [mug]


def test_woocommerce_down_then_back_publishes_once(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=4)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("down")
    shop.completed_order([mug], email)
    token = token_of(shop.wait_mails(email)[0].review_link)
    shop.idle()
    shop.fake.set_down(True)
    try:
        r = shop.submit(token, [{"product_id": mug, "rating": 5, "body": "Still great"}])
        assert r.status_code == 201, r.text
        review = r.json()["reviews"][0]
        failed = shop.find_job("reviews.publish",
                               lambda j: j["payload"].get("review_id") == review["id"]
                               and j["attempts"] >= 1 and j["last_error"],
                               what="a failed publishing attempt")
        # retrying: waiting for its next attempt, or already in it (50 ms backoff)
        assert failed["status"] in ("pending", "running"), failed
        assert shop.fake.reviews == {}
    finally:
        shop.fake.set_down(False)
    job = shop.find_job("reviews.publish", lambda j: j["payload"].get("review_id") == review["id"]
                        and j["status"] in ("done", "dead"))
    assert job["status"] == "done", job
    published = shop.wait_published(review["id"])
    [woo] = shop.fake_reviews(mug)
    assert woo["id"] == published["woo_review_id"] and woo["review"].startswith("Still great")
    assert len([c for c in shop.review_posts() if c["status"] == 201]) == 1
    assert any(c["outcome"] == "down" for c in shop.fake.calls(method="POST"))
