"""Loyalty: the customer API and its tokens; reading accounts; settings.

Customer tokens are JWT HS256 signed with the shop's token_secret (claims
aud "shop:<id>", exp, sub or email, scope "loyalty"), minted here with hmac
and base64url. Expired tokens, tokens for another shop, signed with another
key, alg none, HS384/HS512, without exp: 401; another scope: 403. A valid
token reads GET /v1/me/loyalty and its ledger and redeems.
Also: the account list searched by email, ledger paging, 404s, and settings
validation (422 naming the field).
"""

import time

import pytest

from aftersale_it import assert_problem
from loyalty_helpers import (LoyalShop, assert_ledger_consistent, claims_for, fake,  # noqa: F401
                             list_all, loyal, loyalty_verified, mint, redemption_row, wait_for,
                             woo_admin, woo_db, woo_svc)
from woo_helpers import FakeWoo


def customer_account(shop, customer_id, email, points):
    shop.settings(points_per_unit="1", rounding="down",
                  redemption={"points_per_unit": 100, "min_points": 100})
    shop.completed_order("1.00", email=email, customer_id=customer_id)
    acct = shop.account_by_email(email)
    assert acct["customer_id"] == customer_id
    if points > 1:
        shop.adjust(acct["id"], points - 1, reason="opening balance")
    return shop.account(acct["id"])


# --------------------------------------------------------------------------
# tokens that are refused


def test_bad_customer_tokens_are_refused(loyal, woo_svc, woo_admin):
    acct = customer_account(loyal, 801, "tok@example.com", 300)
    other_fake = FakeWoo("ck_other0000000000000000000000000000000000",
                         "cs_other0000000000000000000000000000000000").start()
    try:
        other = LoyalShop(woo_svc, woo_admin, other_fake)
        try:
            good = claims_for(loyal.id, sub=801)
            bad = {
                "expired": mint(loyal.token_secret, dict(good, exp=int(time.time()) - 5)),
                "expires now": mint(loyal.token_secret, dict(good, exp=int(time.time()))),
                "aud of another shop": mint(loyal.token_secret, dict(good, aud=f"shop:{other.id}")),
                "the other shop's token": None,  # checked below: valid there, not here
                "aud of no shop": mint(loyal.token_secret, dict(good, aud="shop:999999")),
                "aud missing": mint(loyal.token_secret,
                                    {k: v for k, v in good.items() if k != "aud"}),
                "another key": mint("x" * 64, good),
                "the other shop's key": mint(other.token_secret, good),
                "alg none": mint(loyal.token_secret, good, alg="none"),
                "alg none, signed": mint(loyal.token_secret, good, header={"alg": "none"}),
                "HS384": mint(loyal.token_secret, good, alg="HS384"),
                "HS512": mint(loyal.token_secret, good, alg="HS512"),
                "no exp": mint(loyal.token_secret,
                               {k: v for k, v in good.items() if k != "exp"}),
                "exp as a string": mint(loyal.token_secret, dict(good, exp=str(good["exp"]))),
                "no scope": mint(loyal.token_secret,
                                 {k: v for k, v in good.items() if k != "scope"}),
                "no sub nor email": mint(loyal.token_secret,
                                         {k: v for k, v in good.items() if k != "sub"}),
                "not valid yet (nbf)": mint(loyal.token_secret,
                                            dict(good, nbf=int(time.time()) + 600)),
                "crit header": mint(loyal.token_secret, good, header={"crit": ["exp"]}),
                "garbage": "not.a.token",
                "two segments": ".".join(mint(loyal.token_secret, good).split(".")[:2]),
                "tampered payload": tamper(mint(loyal.token_secret, good),
                                           dict(good, sub="802")),
            }
            bad.pop("the other shop's token")
            for name, token in bad.items():
                me = loyal.me(token)
                for path in ("/v1/me/loyalty", "/v1/me/loyalty/ledger"):
                    r = me.get(path)
                    assert r.status_code == 401, (name, path, r.status_code, r.text)
                    assert_problem(r, 401, "unauthorized")
                    assert token not in r.text
                r = me.post("/v1/me/loyalty/redemptions", json={"points": 100})
                assert r.status_code == 401, (name, r.status_code, r.text)
            # a valid token of another scope: known customer, not allowed
            for scope in ("review", "LOYALTY", "loyalty admin"):
                r = loyal.me(loyal.token(sub=801, scope=scope)).get("/v1/me/loyalty")
                assert_problem(r, 403, "forbidden")
            # a token of the other shop reads the other shop's (empty) account only
            r = loyal.me(other.token(sub=801)).get("/v1/me/loyalty")
            assert r.status_code == 200, r.text
            assert r.json()["balance"] == 0 and r.json()["id"] is None
            # no Authorization at all; a shop API key is not a customer token
            assert_problem(loyal.anon.get("/v1/me/loyalty"), 401, "unauthorized")
            assert_problem(loyal.me(loyal.api_key).get("/v1/me/loyalty"), 401, "unauthorized")
        finally:
            other.close()
    finally:
        other_fake.stop()
    # nothing was spent by any of them
    assert loyal.account(acct["id"])["balance"] == 300


def tamper(token, claims):
    import base64
    import json
    head, _, sig = token.split(".")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{body}.{sig}"


# --------------------------------------------------------------------------
# a valid token


def test_valid_token_reads_the_account_and_ledger_and_redeems(loyal, pg, woo_svc):
    acct = customer_account(loyal, 811, "me@example.com", 350)
    me = loyal.me(loyal.token(sub=811))
    r = me.get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["id"] == acct["id"] and mine["customer_id"] == 811
    assert mine["balance"] == 350 and mine["email"] == "me@example.com"
    r = me.get("/v1/me/loyalty/ledger")
    assert r.status_code == 200, r.text
    assert [e["delta"] for e in r.json()["items"]] == [349, 1]   # newest first
    # sub as a JSON integer is accepted too
    r = loyal.me(mint(loyal.token_secret, dict(claims_for(loyal.id), sub=811))).get(
        "/v1/me/loyalty")
    assert r.status_code == 200 and r.json()["id"] == acct["id"], r.text
    r = me.post("/v1/me/loyalty/redemptions", json={"points": 300})
    assert r.status_code == 201, r.text
    red = r.json()
    assert red["account_id"] == acct["id"] and red["amount"] == "3.00"
    assert red["balance_after"] == 50
    assert_problem(me.post("/v1/me/loyalty/redemptions", json={"points": 100}), 409, "conflict")
    wait_for(lambda: redemption_row(pg, woo_svc.db, loyal.id, red["id"])[0] == "created",
             what="the coupon")
    coupon = loyal.fake.calls(path_prefix="/coupons", method="POST")[-1]["json"]
    assert coupon["email_restrictions"] == ["me@example.com"]
    r = me.get("/v1/me/loyalty/ledger", params={"limit": 1})
    assert r.status_code == 200
    page = r.json()
    assert len(page["items"]) == 1 and page["items"][0]["reason"] == "redeem"
    assert page["next_cursor"]
    assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])


def test_guest_token_by_email_and_a_customer_with_no_account(loyal):
    loyal.settings(points_per_unit="1", rounding="down")
    loyal.completed_order("12.00", email="guest.me@example.com")
    r = loyal.me(loyal.token(email="Guest.Me@example.com")).get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    assert r.json()["balance"] == 12 and r.json()["customer_id"] is None
    r = loyal.me(loyal.token(sub=899)).get("/v1/me/loyalty")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["balance"] == 0 and body["customer_id"] == 899 and body["id"] is None
    r = loyal.me(loyal.token(sub=899)).get("/v1/me/loyalty/ledger")
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    assert_problem(loyal.me(loyal.token(sub=899)).post("/v1/me/loyalty/redemptions",
                                                       json={"points": 100}), 409, "conflict")


# --------------------------------------------------------------------------
# reading accounts


def test_account_list_search_by_email_and_ledger_paging(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down")
    for email in ("list.a@example.com", "list.b@example.com"):
        loyal.completed_order("2.00", email=email)
    a = loyal.account_by_email("list.a@example.com")
    found = loyal.accounts(email="  LIST.A@example.com ")
    assert [x["id"] for x in found] == [a["id"]]
    assert set(found[0]) == {"id", "customer_id", "email", "balance", "lifetime_points",
                             "created_at"}
    assert loyal.accounts(email="nobody@example.com") == []
    assert_problem(loyal.api.get("/v1/loyalty/accounts", params={"email": ""}), 400, "malformed")
    every = loyal.accounts()
    assert {"list.a@example.com", "list.b@example.com"} <= {x["email"] for x in every}
    # paging of the account list
    r = loyal.api.get("/v1/loyalty/accounts", params={"limit": 1})
    assert r.status_code == 200 and len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    # 7 entries, pages of 3: newest first, no gaps, no repeats
    for i in range(6):
        loyal.adjust(a["id"], i + 1, reason=f"entry {i}")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = loyal.api.get(f"/v1/loyalty/accounts/{a['id']}/ledger", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert len(body["items"]) <= 3
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 7
    assert [e["delta"] for e in seen] == [6, 5, 4, 3, 2, 1, 2]
    assert_problem(loyal.api.get(f"/v1/loyalty/accounts/{a['id']}/ledger",
                                 params={"cursor": "not-a-cursor"}), 400, "malformed")
    assert_problem(loyal.api.get(f"/v1/loyalty/accounts/{a['id']}/ledger",
                                 params={"limit": 0}), 400, "malformed")


def test_unknown_account_is_404(loyal):
    for path in ("/v1/loyalty/accounts/999999", "/v1/loyalty/accounts/999999/ledger"):
        assert_problem(loyal.api.get(path), 404, "not-found")
    assert_problem(loyal.api.put("/v1/loyalty/accounts/999999/birthday",
                                 json={"month": 1, "day": 1}), 404, "not-found")


def test_accounts_of_another_shop_are_404(loyal, woo_svc, woo_admin):
    loyal.settings(points_per_unit="1", rounding="down")
    loyal.completed_order("2.00", email="mine@example.com")
    acct = loyal.account_by_email("mine@example.com")
    other_fake = FakeWoo("ck_" + "b" * 40, "cs_" + "b" * 40).start()
    try:
        other = LoyalShop(woo_svc, woo_admin, other_fake)
        try:
            assert_problem(other.api.get(f"/v1/loyalty/accounts/{acct['id']}"), 404, "not-found")
            assert_problem(other.api.get(f"/v1/loyalty/accounts/{acct['id']}/ledger"), 404,
                           "not-found")
            assert_problem(other.api.post(f"/v1/loyalty/accounts/{acct['id']}/adjustments",
                                          json={"points": 5, "reason": "x"}), 404, "not-found")
            assert other.accounts(email="mine@example.com") == []
        finally:
            other.close()
    finally:
        other_fake.stop()


def test_birthday_validation(loyal):
    loyal.settings(points_per_unit="1", rounding="down")
    loyal.completed_order("2.00", email="bd@example.com")
    acct = loyal.account_by_email("bd@example.com")
    url = f"/v1/loyalty/accounts/{acct['id']}/birthday"
    for body, field in (({"month": 13, "day": 1}, "month"), ({"month": 0, "day": 1}, "month"),
                        ({"month": 2, "day": 30}, "day"), ({"month": 4, "day": 31}, "day"),
                        ({"month": 1}, "day"), ({"month": "1", "day": 1}, "month")):
        assert_problem(loyal.api.put(url, json=body), 422, "invalid-field", field=field)
    r = loyal.api.put(url, json={"month": 2, "day": 29})
    assert r.status_code == 200 and r.json()["birthday"] == {"month": 2, "day": 29}


# --------------------------------------------------------------------------
# settings


def test_settings_defaults_and_round_trip(loyal):
    r = loyal.api.get("/v1/loyalty/settings")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["points_per_unit"] == "1" and s["rounding"] == "down"
    assert s["earn_basis"] == "subtotal" and s["earn_status"] == "completed"
    assert s["expiry_months"] == 0 and s["tiers"] == [] and s["currency_rates"] == {}
    assert s["redemption"] == {"points_per_unit": 100, "min_points": 100, "max_discount": None,
                               "coupon_validity_days": 90}
    assert set(s["bonuses"]) == {"signup", "review", "survey", "birthday", "anniversary",
                                 "referrer", "referee"}
    new = loyal.settings(points_per_unit="2.5", rounding="half_up",
                         tiers=[{"name": "Gold", "threshold": 500, "multiplier": "1.25"}],
                         currency_rates={"USD": "0.92", "CZK": "0.04"})
    assert new["points_per_unit"] == "2.5" and new["tiers"][0]["multiplier"] == "1.25"
    assert new["currency_rates"] == {"CZK": "0.04", "USD": "0.92"}
    assert loyal.api.get("/v1/loyalty/settings").json() == new


@pytest.mark.parametrize("body, field", [
    ({"tiers": [{"name": "Gold", "threshold": 100, "multiplier": "0.5"}]}, "tiers[0].multiplier"),
    ({"tiers": [{"name": "Gold", "threshold": 100, "multiplier": 1.5}]}, "tiers[0].multiplier"),
    ({"tiers": [{"name": "A", "threshold": 100}, {"name": "B", "threshold": 50}]},
     "tiers[1].threshold"),
    ({"tiers": [{"name": "Gold", "threshold": 1}, {"name": "gold", "threshold": 2}]},
     "tiers[1].name"),
    ({"tiers": [{"name": "Gold", "threshold": 1, "bonus": 2}]}, "tiers[0].bonus"),
    ({"tiers": {}}, "tiers"),
    ({"rounding": "nearest"}, "rounding"),
    ({"earn_basis": "gross"}, "earn_basis"),
    ({"points_per_unit": "-1"}, "points_per_unit"),
    ({"points_per_unit": "1.2345"}, "points_per_unit"),
    ({"points_per_unit": 0.1}, "points_per_unit"),
    ({"bonuses": {"signup": -5}}, "bonuses.signup"),
    ({"bonuses": {"birthday": "10"}}, "bonuses.birthday"),
    ({"bonuses": {"wedding": 10}}, "bonuses.wedding"),
    ({"redemption": {"min_points": 0}}, "redemption.min_points"),
    ({"redemption": {"max_discount": "0.01", "min_points": 100}}, "redemption.max_discount"),
    ({"expiry_months": 121}, "expiry_months"),
    ({"currency_rates": {"usd": "0.9"}}, "currency_rates.usd"),
    ({"currency_rates": {"USD": "0"}}, "currency_rates.USD"),
    ({"colour": "blue"}, "colour"),
])
def test_settings_validation_names_the_field(loyal, body, field):
    before = loyal.api.get("/v1/loyalty/settings").json()
    r = loyal.api.put("/v1/loyalty/settings", json=body)
    assert_problem(r, 422, "invalid-field", field=field)
    # all or nothing: a refused PUT changes nothing
    assert loyal.api.get("/v1/loyalty/settings").json() == before


def test_settings_refused_put_changes_nothing_even_when_other_fields_are_valid(loyal):
    before = loyal.api.get("/v1/loyalty/settings").json()
    r = loyal.api.put("/v1/loyalty/settings",
                      json={"points_per_unit": "3", "tiers": [{"name": "X", "threshold": 1,
                                                               "multiplier": "20"}]})
    assert_problem(r, 422, "invalid-field", field="tiers[0].multiplier")
    assert loyal.api.get("/v1/loyalty/settings").json() == before


def test_idempotency_key_of_one_customer_never_replays_to_another(loyal, pg, woo_svc):
    """The customer route keeps Idempotency-Keys per shop: a key another customer
    already used must not hand over that customer's redemption (coupon code)."""
    a = customer_account(loyal, 821, "idem.a@example.com", 300)
    b = customer_account(loyal, 822, "idem.b@example.com", 300)
    h = {"Idempotency-Key": "checkout-1"}
    ra = loyal.me(loyal.token(sub=821)).post("/v1/me/loyalty/redemptions",
                                              json={"points": 100}, headers=h)
    assert ra.status_code == 201, ra.text
    rb = loyal.me(loyal.token(sub=822)).post("/v1/me/loyalty/redemptions",
                                              json={"points": 100}, headers=h)
    assert ra.json()["code"] not in rb.text, "customer B was given customer A's coupon code"
    assert rb.status_code in (201, 409), rb.text
    if rb.status_code == 201:
        assert rb.json()["account_id"] == b["id"]
    loyal.loyalty_idle()
    assert loyal.account(a["id"])["balance"] == 200


def test_idempotency_key_is_per_account_on_the_shop_routes(loyal, pg, woo_svc):
    """Same key and body on another account: not a replay of the first account's entry."""
    a = customer_account(loyal, 831, "idem.c@example.com", 10)
    b = customer_account(loyal, 832, "idem.d@example.com", 10)
    h = {"Idempotency-Key": "bonus-batch-7"}
    body = {"points": 5, "reason": "batch"}
    r1 = loyal.api.post(f"/v1/loyalty/accounts/{a['id']}/adjustments", json=body, headers=h)
    assert r1.status_code == 201, r1.text
    r2 = loyal.api.post(f"/v1/loyalty/accounts/{b['id']}/adjustments", json=body, headers=h)
    assert r2.status_code in (201, 409), r2.text
    assert r2.headers.get("Idempotent-Replayed") != "true", \
        f"replayed account {a['id']}'s entry for account {b['id']}: {r2.text}"
    if r2.status_code == 201:
        assert loyal.account(b["id"])["balance"] == 15
