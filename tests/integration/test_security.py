"""Customer tokens reach only what they should.

* An email-only token (a guest's) does not reach the registered customer's
  account with that email, unless the shop opts in
  (loyalty settings `email_tokens_reach_registered`).
* Idempotency-Keys of the customer routes are per customer: another
  customer's key is neither a replay nor a 409; the shop routes keep one
  key space per shop.
"""

from aftersale_it import assert_problem
from loyalty_helpers import (LoyalShop, claims_for, fake, loyal, loyalty_verified,  # noqa: F401
                             mint, woo_admin, woo_db, woo_svc)


def registered_account(shop, customer_id, email, points):
    shop.settings(points_per_unit="1", rounding="down",
                  redemption={"points_per_unit": 100, "min_points": 100})
    shop.completed_order("1.00", email=email, customer_id=customer_id)
    acct = shop.account_by_email(email)
    assert acct["customer_id"] == customer_id
    shop.adjust(acct["id"], points - 1, reason="opening balance")
    return shop.account(acct["id"])


def guest_account(shop, email, points):
    shop.completed_order("1.00", email=email, customer_id=0)
    acct = shop.account_by_email(email)
    assert acct["customer_id"] is None
    shop.adjust(acct["id"], points - 1, reason="opening balance")
    return shop.account(acct["id"])


# --------------------------------------------------------------------------
# item 11: email-only tokens


def test_email_only_token_does_not_reach_a_registered_account(loyal):
    reg = registered_account(loyal, 777, "reg777@example.com", 300)
    me = loyal.me(loyal.token(email="reg777@example.com"))

    r = me.get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["id"] is None and got["balance"] == 0 and got["customer_id"] is None, got

    r = me.get("/v1/me/loyalty/ledger")
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []

    r = me.post("/v1/me/loyalty/redemptions", json={"points": 100})
    assert_problem(r, 409, "conflict", field="points")

    # the registered customer's own token still sees and spends them
    after = loyal.account(reg["id"])
    assert after["balance"] == 300
    mine = loyal.me(loyal.token(sub=777)).get("/v1/me/loyalty")
    assert mine.status_code == 200 and mine.json()["balance"] == 300, mine.text


def test_email_only_token_reaches_a_guest_account(loyal):
    registered_account(loyal, 778, "someone-else@example.com", 100)
    guest = guest_account(loyal, "guest@example.com", 250)
    me = loyal.me(loyal.token(email="Guest@Example.com"))
    r = me.get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == guest["id"] and r.json()["balance"] == 250
    r = me.post("/v1/me/loyalty/redemptions", json={"points": 100})
    assert r.status_code == 201, r.text
    assert loyal.account(guest["id"])["balance"] == 150


def test_shop_opt_in_lets_email_tokens_reach_registered_accounts(loyal):
    reg = registered_account(loyal, 779, "reg779@example.com", 300)
    body = loyal.settings(email_tokens_reach_registered=True)
    assert body["email_tokens_reach_registered"] is True
    me = loyal.me(loyal.token(email="reg779@example.com"))
    r = me.get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == reg["id"] and r.json()["balance"] == 300

    # and back off
    assert loyal.settings(email_tokens_reach_registered=False)[
        "email_tokens_reach_registered"] is False
    assert me.get("/v1/me/loyalty").json()["id"] is None


def test_opt_in_must_be_a_boolean(loyal):
    r = loyal.api.put("/v1/loyalty/settings", json={"email_tokens_reach_registered": "yes"})
    assert_problem(r, 422, "invalid-field", field="email_tokens_reach_registered")
    assert loyal.api.get("/v1/loyalty/settings").json()["email_tokens_reach_registered"] is False


# --------------------------------------------------------------------------
# item 12: Idempotency-Keys of the customer routes are per customer


def test_customer_idempotency_keys_are_per_customer(loyal):
    a = registered_account(loyal, 801, "a801@example.com", 500)
    b = registered_account(loyal, 802, "b802@example.com", 500)
    me_a = loyal.me(loyal.token(sub=801))
    me_b = loyal.me(loyal.token(sub=802))
    key = {"Idempotency-Key": "redeem-1"}

    ra = me_a.post("/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    assert ra.status_code == 201, ra.text

    # same key, same body, another customer: a fresh redemption of their own
    rb = me_b.post("/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    assert rb.status_code == 201, rb.text
    assert rb.headers.get("Idempotent-Replayed") is None
    assert rb.json()["id"] != ra.json()["id"]
    assert rb.json()["account_id"] == b["id"]
    # another body with that key: still theirs, not a 409 caused by A
    rb2 = me_b.post("/v1/me/loyalty/redemptions", json={"points": 200},
                    headers={"Idempotency-Key": "redeem-2"})
    assert rb2.status_code == 201, rb2.text
    me_a_2 = me_a.post("/v1/me/loyalty/redemptions", json={"points": 200}, headers={
        "Idempotency-Key": "redeem-2"})
    assert me_a_2.status_code == 201, me_a_2.text

    # A replaying K gets A's first answer
    again = me_a.post("/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == ra.json()
    # and a different body under A's own key is A's 409
    r = me_a.post("/v1/me/loyalty/redemptions", json={"points": 300}, headers=key)
    assert_problem(r, 409, "conflict")

    assert loyal.account(a["id"])["balance"] == 200
    assert loyal.account(b["id"])["balance"] == 200


def test_guest_idempotency_keys_are_per_email(loyal):
    g1 = guest_account(loyal, "g1@example.com", 300)
    g2 = guest_account(loyal, "g2@example.com", 300)
    key = {"Idempotency-Key": "same-key"}
    r1 = loyal.me(loyal.token(email="g1@example.com")).post(
        "/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    r2 = loyal.me(loyal.token(email="g2@example.com")).post(
        "/v1/me/loyalty/redemptions", json={"points": 100}, headers=key)
    assert r1.status_code == 201 and r2.status_code == 201, (r1.text, r2.text)
    assert r2.headers.get("Idempotent-Replayed") is None
    assert loyal.account(g1["id"])["balance"] == 200
    assert loyal.account(g2["id"])["balance"] == 200


def test_shop_route_keys_stay_per_shop(loyal):
    a = registered_account(loyal, 811, "a811@example.com", 500)
    b = registered_account(loyal, 812, "b812@example.com", 500)
    key = {"Idempotency-Key": "shop-key"}
    r = loyal.redeem(a["id"], 100, headers=key)
    assert r.status_code == 201, r.text
    # the same key for another account of the same shop is a conflict
    r = loyal.redeem(b["id"], 100, headers=key)
    assert_problem(r, 409, "conflict")
    # and a customer's key of the same name is not the shop's
    r = loyal.me(loyal.token(sub=812)).post("/v1/me/loyalty/redemptions", json={"points": 100},
                                            headers=key)
    assert r.status_code == 201, r.text
    assert r.headers.get("Idempotent-Replayed") is None
