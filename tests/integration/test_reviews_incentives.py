"""Review incentives and exclusions.

The coupon incentive: an approved review earns a single-use coupon whose
code is fixed at approval, created in the shop and announced to the
customer in an order note (which WooCommerce emails). Excluded categories:
an order's line items carry no categories, so the sending job asks the shop
for each product's categories and leaves the excluded ones out.
"""
from reviews_helpers import (FAST_SETTINGS, path_of, rshop, rv_admin, rv_db,  # noqa: F401
                             rv_svc, sink, token_of, unique_email, wait_for, wfake)

REST = "/wp-json/wc/v3"


def test_approved_review_earns_a_single_use_coupon_once(rshop):
    shop = rshop
    shop.settings(**dict(FAST_SETTINGS, incentive={"kind": "coupon", "coupon_amount": "5",
                                                   "coupon_validity_days": 10}))
    mug = shop.fake.add_product("Mug", "12.00")["id"]
    email = unique_email("coupon")
    order = shop.completed_order([mug], email, first_name="Cleo")
    [mail] = shop.wait_mails(email, 1)
    r = shop.submit(token_of(mail.review_link), [{"product_id": mug, "rating": 3}])
    assert r.status_code == 201, r.text
    review = r.json()["reviews"][0]
    assert review["status"] == "pending"            # 3 stars: moderated, no coupon yet
    assert shop.fake.calls(path_prefix=REST + "/coupons", method="POST") == []

    assert shop.api.post(f"/v1/reviews/{review['id']}/approve").status_code == 200
    job = shop.find_job("reviews.coupon", lambda j: j["status"] == "done")
    code = job["result"]["code"]
    assert code.startswith("RV-") and len(code) == 13
    [made] = shop.fake.calls(path_prefix=REST + "/coupons", method="POST")
    body = made["json"]
    assert made["status"] == 201
    assert (body["code"], body["amount"], body["discount_type"]) == (code, "5.00", "fixed_cart")
    assert body["usage_limit"] == 1 and body["email_restrictions"] == [email]
    notes = shop.fake.calls(path_prefix=f"{REST}/orders/{order['id']}/notes", method="POST")
    assert len(notes) == 1 and notes[0]["json"]["customer_note"] is True
    assert code in notes[0]["json"]["note"]
    # Approving again is refused and changes nothing.
    assert shop.api.post(f"/v1/reviews/{review['id']}/approve").status_code == 409
    shop.idle()
    assert len(shop.fake.calls(path_prefix=REST + "/coupons", method="POST")) == 1


def test_a_rating_without_text_is_published_with_a_short_text(rshop):
    shop = rshop
    shop.settings(**FAST_SETTINGS)
    mug = shop.fake.add_product("Plain Mug", "12.00")["id"]
    email = unique_email("plain")
    shop.completed_order([mug], email)
    [mail] = shop.wait_mails(email, 1)
    r = shop.submit(token_of(mail.review_link), [{"product_id": mug, "rating": 5}])
    assert r.status_code == 201, r.text
    published = shop.wait_published(r.json()["reviews"][0]["id"])
    [woo] = shop.fake_reviews(mug)
    assert woo["id"] == published["woo_review_id"] and "5 out of 5" in woo["review"]


def test_excluded_categories_leave_the_request(rshop):
    shop = rshop
    shop.settings(**dict(FAST_SETTINGS, excluded_category_ids=[77]))
    gift = shop.fake.add_product("Gift card", "25.00", categories=[77])["id"]
    mug = shop.fake.add_product("Striped Mug", "12.00", categories=[5])["id"]
    email = unique_email("cats")
    order = shop.completed_order([gift, mug], email)
    [mail] = shop.wait_mails(email, 1)
    assert "Striped Mug" in mail.text and "Gift card" not in mail.text
    req = shop.request_for_order(order["id"])
    assert [p["product_id"] for p in req["products"]] == [mug]
    # The shop was asked for the categories of both products.
    asked = {c["path"] for c in shop.fake.calls(path_prefix=REST + "/products/", method="GET")}
    assert {f"{REST}/products/{gift}", f"{REST}/products/{mug}"} <= asked


def test_only_excluded_products_cancel_the_request(rshop):
    shop = rshop
    shop.settings(**dict(FAST_SETTINGS, excluded_category_ids=[88]))
    gift = shop.fake.add_product("Voucher", "25.00", categories=[88])["id"]
    email = unique_email("onlygift")
    order = shop.completed_order([gift], email)
    req = shop.request_for_order(order["id"])
    wait_for(lambda: shop.request(req["id"])["status"] == "cancelled", 10.0, interval=0.05,
             what="the request to be cancelled")
    assert shop.request(req["id"])["cancel_reason"] == "every product is excluded"
    assert shop.mails(email) == []


def test_product_images_reach_the_email_escaped(rshop):
    shop = rshop
    shop.settings(**FAST_SETTINGS)
    url = 'https://shop.example/img/mug.jpg?v="2"&x=<y>'
    mug = shop.fake.add_product("Image Mug", "12.00", image=url)["id"]
    bare = shop.fake.add_product("Bare Mug", "12.00")["id"]
    email = unique_email("img")
    shop.completed_order([mug, bare], email)
    [mail] = shop.wait_mails(email, 1)
    escaped = "https://shop.example/img/mug.jpg?v=&quot;2&quot;&amp;x=&lt;y&gt;"
    assert f'src="{escaped}"' in mail.html
    assert url not in mail.html                 # never raw
    assert mail.html.count("<img") == 1         # the bare product has no broken image


def test_shop_down_sends_the_email_without_images(rshop):
    shop = rshop
    shop.settings(**FAST_SETTINGS)
    mug = shop.fake.add_product("Away Mug", "12.00", image="https://shop.example/a.jpg")["id"]
    email = unique_email("away")
    # only the sending job asks for products: fail those calls from the start
    shop.fake.fail_next(20, status=500, path_prefix=REST + "/products/")
    shop.completed_order([mug], email)
    [mail] = shop.wait_mails(email, 1)
    assert "Away Mug" in mail.text and "<img" not in mail.html


def test_wordpress_credentials_alone_on_a_new_shop(rshop):
    # The first PUT of this shop's review settings carries only the
    # credentials: the settings row must be made for them to be kept.
    shop = rshop
    r = shop.api.put("/v1/reviews/settings",
                     json={"wordpress": {"username": "manager", "application_password": "ab cd"}})
    assert r.status_code == 200, r.text
    assert r.json()["wordpress"] == {"username": "manager", "application_password_set": True}
    got = shop.api.get("/v1/reviews/settings").json()
    assert got["wordpress"] == {"username": "manager", "application_password_set": True}
    assert got["delay"] == "P7D"                 # the rest stays at its defaults
    r = shop.api.put("/v1/reviews/settings", json={"wordpress": None})
    assert r.status_code == 200 and r.json()["wordpress"] == {
        "username": None, "application_password_set": False}
