"""The flows that matter, against a real WordPress 6.1 + WooCommerce 7.9.0.

Every order here is made and moved in the real shop through its REST API;
WooCommerce itself delivers the webhooks (synchronously, see
php/mu-plugin.php) to the service. Each test asserts on the data in the
service and in the shop.
"""

from real_helpers import (TOPICS, TOKEN_RE, WAIT_S, assert_verified, real,  # noqa: F401
                          real_admin, real_svc, unique_email, wait_for, woo_db)


def product(real, name):
    [p] = [p for p in real.shop.products if p["name"] == name]
    return p["id"]


def completed_order(real, email, items, first_name="Ann"):
    o = real.new_order(email, items, first_name=first_name)
    done = real.set_status(o["id"], "completed")
    assert done["status"] == "completed" and done["date_completed_gmt"]
    return done


def earn_entries(real, account_id, order_id):
    return [e for e in real.ledger(account_id) if e["reason"] == "earn"
            and e["order_id"] == order_id]


# --------------------------------------------------------------------------


def test_webhooks_installed_by_the_service_deliver_real_order_updates(real, pg, real_svc):
    job = real.webhooks_job
    assert job["status"] == "done" and job["attempts"] == 1, job
    assert sorted(c["topic"] for c in job["result"]["created"]) == sorted(TOPICS)
    assert job["result"]["existing"] == []
    hooks = real.shop_webhooks()
    assert sorted(h["topic"] for h in hooks) == sorted(TOPICS)  # one per topic, in the shop
    assert all(h["status"] == "active" for h in hooks), hooks
    # every create's ping reached the service (WooCommerce only clears pending_delivery on 200)
    [[pending]] = real.shop.sql(
        "SELECT count(*) FROM wp_wc_webhooks WHERE pending_delivery = 1 AND delivery_url = '%s'"
        % real.hook_url)
    assert pending == "0"

    email = unique_email("hook")
    o = real.new_order(email, [(product(real, "Mug"), 1)])
    real.set_status(o["id"], "completed")
    real.idle()
    rows = pg.query(real_svc.db,
                    "SELECT topic, status FROM webhook_deliveries WHERE shop_id = %s"
                    " AND resource_id = %s ORDER BY id", (real.id, o["id"]))
    topics = [t for t, _ in rows]
    assert "order.created" in topics and "order.updated" in topics, rows
    assert "action.woocommerce_order_status_completed" in topics, rows
    assert all(s == "processed" for _, s in rows), rows
    kinds = sorted(e["kind"] for e in real.order_events(o["id"]))
    assert kinds == ["order.completed", "order.paid"], kinds
    [ev] = real.order_events(o["id"], "order.completed")
    assert ev["payload"]["email"] == email and ev["payload"]["total"] == "13.00"
    assert ev["payload"]["items"][0]["product_id"] == product(real, "Mug")
    st = real.api.get("/v1/woocommerce/status").json()
    assert st["deliveries"]["received"] >= len(rows) and st["deliveries"]["failed"] == 0, st
    assert st["deliveries"]["last_received_at"] is not None


def test_an_order_completed_in_the_shop_earns_points_once(real, pg, real_svc):
    email = unique_email("earn")
    mug = product(real, "Mug")
    o = completed_order(real, email, [(mug, 2)])  # 26.00 at 10 points per EUR
    real.idle()
    acct = real.account_for(email)
    assert acct is not None, "no account for the customer"
    assert (acct["balance"], acct["lifetime_points"]) == (260, 260), acct
    [earn] = earn_entries(real, acct["id"], o["id"])
    assert earn["delta"] == 260 and earn["balance_after"] == 260
    # the shop changes the order again: more order.updated deliveries, no second earn
    real.shop.wc("PUT", f"/orders/{o['id']}", json_body={"meta_data": [
        {"key": "_aftersale_test", "value": "touched"}]}, expect=200)
    real.set_status(o["id"], "completed")
    real.idle()
    n = pg.query(real_svc.db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s AND"
                 " resource_id = %s AND topic = 'order.updated'", (real.id, o["id"]))[0][0]
    assert n >= 3, n  # created-as-processing, completed, touched
    assert len(earn_entries(real, acct["id"], o["id"])) == 1
    assert real.account(acct["id"])["balance"] == 260
    assert len(real.order_events(o["id"], "order.completed")) == 1


def test_partial_then_full_refund_in_the_shop_reverses_the_points(real, pg, base_env, real_svc):
    email = unique_email("refund")
    mug, pot = product(real, "Mug"), product(real, "Teapot")
    o = completed_order(real, email, [(mug, 2), (pot, 1)])  # 66.00 -> 660 points
    real.idle()
    acct = real.account_for(email)
    assert acct["balance"] == 660, acct
    mug_line = [li for li in o["line_items"] if li["product_id"] == mug][0]

    # one mug back: 13.00 of 66.00 -> round_half_up(660 * 13 / 66) = 130
    ref = real.refund(o["id"], "13.00", [{"id": mug_line["id"], "quantity": 1,
                                          "refund_total": "13.00"}])
    assert ref["amount"] == "13.00" and ref["refunded_payment"] is False
    real.idle()
    assert real.shop.wc("GET", f"/orders/{o['id']}", expect=200)["status"] == "completed"
    entries = [e for e in real.ledger(acct["id"]) if e["order_id"] == o["id"]]
    assert [(e["reason"], e["delta"]) for e in entries] == [("earn", 660), ("refund", -130)]
    assert real.account(acct["id"])["balance"] == 530
    [r1] = real.order_events(o["id"], "order.refunded")
    assert r1["payload"]["refund_id"] == ref["id"] and r1["payload"]["amount"] == "13.00"
    assert r1["payload"]["full"] is False

    # the rest: 53.00 -> the order is refunded in full, every remaining point goes
    real.refund(o["id"], "53.00")
    real.idle()
    assert real.shop.wc("GET", f"/orders/{o['id']}", expect=200)["status"] == "refunded"
    entries = [e for e in real.ledger(acct["id"]) if e["order_id"] == o["id"]]
    assert [(e["reason"], e["delta"]) for e in entries] == \
        [("earn", 660), ("refund", -130), ("refund", -530)], entries
    acct = real.account(acct["id"])
    assert acct["balance"] == 0, acct
    refunds = real.order_events(o["id"], "order.refunded")
    assert sorted(e["payload"]["full"] for e in refunds) == [False, True]
    assert_verified(pg, base_env, real_svc.db)


def test_a_redemption_creates_a_real_coupon(real, pg, real_svc):
    email = unique_email("redeem")
    completed_order(real, email, [(product(real, "Teapot"), 1)])  # 40.00 -> 400 points
    real.idle()
    acct = real.account_for(email)
    assert acct["balance"] == 400
    r = real.redeem(acct["id"], 300, headers={"Idempotency-Key": "real-" + email})
    assert r.status_code == 201, r.text
    red = r.json()
    assert (red["amount"], red["currency"], red["balance_after"]) == ("3.00", "EUR", 100)
    real.idle()
    wait_for(lambda: pg.query(real_svc.db, "SELECT status FROM loyalty_redemptions WHERE shop_id"
                              " = %s AND id = %s", (real.id, red["id"]))[0][0] == "created",
             WAIT_S, what="the redemption's coupon")
    [coupon] = real.shop.wc("GET", "/coupons", {"code": red["code"]}, expect=200)
    assert coupon["code"].lower() == red["code"].lower()
    assert coupon["amount"] == "3.00" and coupon["discount_type"] == "fixed_cart"
    assert coupon["usage_limit"] == 1 and coupon["usage_limit_per_user"] == 1
    assert coupon["email_restrictions"] == [email]
    assert coupon["date_expires"] and coupon["date_expires"].startswith(red["expires_on"])
    [[coupon_id]] = pg.query(real_svc.db, "SELECT coupon_id FROM loyalty_redemptions WHERE"
                             " shop_id = %s AND id = %s", (real.id, red["id"]))
    assert coupon_id == coupon["id"]
    assert real.account(acct["id"])["balance"] == 100


def test_review_request_as_customer_note_to_verified_review_and_reply(real):
    email = unique_email("review")
    towel = product(real, "Tea towel")
    o = completed_order(real, email, [(towel, 1)], first_name="Rita")
    # the request is due at once and goes out as a customer note on the order
    notes = wait_for(lambda: [n for n in real.shop.wc("GET", f"/orders/{o['id']}/notes",
                                                      {"type": "customer"}, expect=200)
                              if TOKEN_RE.search(n["note"])],
                     WAIT_S, interval=0.2, what="the review request's customer note")
    [note] = notes
    assert note["customer_note"] is True and "Rita" in note["note"] and "Tea towel" in note["note"]
    token = TOKEN_RE.search(note["note"]).group(1)
    pub = real.anon.get(f"/v1/public/review-requests/{token}")
    assert pub.status_code == 200, pub.text
    assert [p["product_id"] for p in pub.json()["products"]] == [towel]

    r = real.anon.post(f"/v1/public/review-requests/{token}/reviews",
                       json=[{"product_id": towel, "rating": 5, "title": "Soft",
                              "body": "Dries every cup in the house."}])
    assert r.status_code == 201, r.text
    [mine] = r.json()["reviews"]
    assert mine["status"] == "approved" and mine["reviewer_email"] == email

    def published():
        got = [x for x in list_reviews(real) if x["id"] == mine["id"]]
        return got[0] if got and got[0]["woo_review_id"] else None
    mine = wait_for(published, WAIT_S, interval=0.2, what="the review in WooCommerce")
    woo = real.shop.wc("GET", f"/products/reviews/{mine['woo_review_id']}", expect=200)
    assert woo["product_id"] == towel and woo["reviewer_email"] == email
    assert woo["rating"] == 5 and "Dries every cup" in woo["review"]
    assert woo["status"] == "approved"
    assert woo["verified"] is True  # WooCommerce decides: this email bought the towel
    assert mine["verified"] is True

    # the merchant's public reply, through wp/v2 with the Application Password
    s = real.reviews_settings(wordpress={"username": real.shop.admin_user,
                                         "application_password": real.shop.app_password})
    assert s["wordpress"] == {"username": "admin", "application_password_set": True}
    r = real.api.post(f"/v1/reviews/{mine['id']}/reply", json={"body": "Thank you, Rita!"})
    assert r.status_code == 200, r.text
    job = real.find_job("reviews.reply", lambda j: j["status"] in ("done", "dead"),
                        timeout=WAIT_S)
    assert job["status"] == "done", job
    status, comments = real.wp_get(f"/wp/v2/comments?parent={mine['woo_review_id']}"
                                   f"&context=edit")
    assert status == 200, comments
    [reply] = comments
    assert job["result"] == {"comment_id": reply["id"]}
    assert (reply["post"], reply["parent"], reply["author"]) == (towel, mine["woo_review_id"], 1)
    assert reply["status"] == "approved" and reply["content"]["raw"] == "Thank you, Rita!"


def list_reviews(real):
    r = real.api.get("/v1/reviews", params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_reconciliation_finds_an_order_whose_webhooks_were_paused(real, pg, real_svc):
    email = unique_email("sync")
    real.set_webhooks_status("paused")
    try:
        o = completed_order(real, email, [(product(real, "Mug"), 1)])
        real.idle()
        n = pg.query(real_svc.db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s"
                     " AND resource_id = %s", (real.id, o["id"]))[0][0]
        assert n == 0, "a paused webhook delivered"
        assert real.order_events(o["id"]) == [] and real.account_for(email) is None

        r = real.api.post("/v1/woocommerce/sync", json={})
        assert r.status_code == 202, r.text
        job = real.wait_job(r.json()["job_id"], ("done", "dead"), timeout=WAIT_S)
        assert job["status"] == "done", job
        assert job["result"]["orders"] >= 1
    finally:
        real.set_webhooks_status("active")
    real.idle()
    kinds = sorted(e["kind"] for e in real.order_events(o["id"]))
    assert kinds == ["order.completed", "order.paid"], kinds
    acct = real.account_for(email)
    assert acct is not None and acct["balance"] == 130, acct
    assert len(earn_entries(real, acct["id"], o["id"])) == 1
