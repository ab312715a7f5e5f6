"""The shop API (/v1/shop) and the credential realms."""

import pytest

from aftersale_it import SHOP_FIELDS, Client, assert_problem, assert_shop_shape, public_shop


def assert_unauthorized(r):
    assert_problem(r, 401, "unauthorized")
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith('Bearer realm="aftersale"'), www


# --------------------------------------------------------------------------
# GET / PATCH /v1/shop


def test_get_own_shop_with_api_key(new_shop):
    shop, client = new_shop()
    r = client.get("/v1/shop")
    assert r.status_code == 200, r.text
    got = r.json()
    assert_shop_shape(got)
    assert got == public_shop(shop)


def test_get_own_shop_has_no_secrets(new_shop):
    shop, client = new_shop()
    r = client.get("/v1/shop")
    assert set(r.json()) == SHOP_FIELDS
    for secret in (shop["api_key"], shop["webhook_secret"], shop["token_secret"],
                   shop["_input"]["consumer_secret"]):
        assert secret not in r.text


def test_each_key_sees_its_own_shop(new_shop):
    a, ca = new_shop()
    b, cb = new_shop()
    assert ca.get("/v1/shop").json()["id"] == a["id"]
    assert cb.get("/v1/shop").json()["id"] == b["id"]


def test_patch_own_shop(new_shop, admin):
    shop, client = new_shop()
    r = client.patch("/v1/shop", json={"name": "Self-renamed", "timezone": "UTC"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert_shop_shape(got)
    assert got["name"] == "Self-renamed" and got["timezone"] == "UTC"
    assert got["id"] == shop["id"]
    assert admin.get(f"/v1/shops/{shop['id']}").json()["name"] == "Self-renamed"


def test_patch_own_shop_does_not_touch_other_shops(new_shop, admin):
    a, ca = new_shop()
    b, _ = new_shop()
    assert ca.patch("/v1/shop", json={"name": "Only A"}).status_code == 200
    assert admin.get(f"/v1/shops/{b['id']}").json()["name"] == b["name"]


def test_patch_own_shop_with_empty_object_is_422(new_shop):
    _, client = new_shop()
    assert_problem(client.patch("/v1/shop", json={}), 422, "invalid-field")


def test_patch_own_shop_invalid_value_is_422(new_shop):
    _, client = new_shop()
    assert_problem(client.patch("/v1/shop", json={"url": "ftp://x"}), 422, "invalid-field",
                   field="url")


def test_patch_own_shop_unknown_field_is_422(new_shop):
    _, client = new_shop()
    assert_problem(client.patch("/v1/shop", json={"id": 5}), 422, "invalid-field", field="id")


# --------------------------------------------------------------------------
# bad credentials


def test_missing_authorization_is_401(anon):
    assert_unauthorized(anon.get("/v1/shop"))


@pytest.mark.parametrize("header", [
    "Bearer",
    "Bearer ",
    "Basic x",
    "Basic YWRtaW46YWRtaW4=",
    "bearerask_xxx",
    "Bearer ask_",
    "Bearer ask_" + "!" * 43,
    "Bearer ask_" + "A" * 42,
    "Bearer ask_" + "A" * 44,
    "Bearer ask_" + "A" * 43 + " extra",
    "Bearer " + "x" * 500,
    "Token ask_" + "A" * 43,
], ids=["bearer-only", "bearer-space", "basic-x", "basic-real", "no-space", "ask-prefix-only",
        "ask-garbage", "ask-short", "ask-long", "ask-trailing-word", "very-long", "token-scheme"])
def test_malformed_authorization_is_401(anon, header):
    r = anon.get("/v1/shop", headers={"Authorization": header})
    assert_unauthorized(r)


def test_wrong_but_well_formed_key_is_401(anon):
    r = anon.get("/v1/shop", token="ask_" + "A" * 43)
    assert_unauthorized(r)


def test_revoked_key_is_401(new_shop, admin):
    shop, client = new_shop()
    assert admin.delete(f"/v1/shops/{shop['id']}/api-keys/{shop['api_key_id']}").status_code == 204
    assert_unauthorized(client.get("/v1/shop"))
    assert_unauthorized(client.patch("/v1/shop", json={"name": "nope"}))


def test_unauthorized_patch_changes_nothing(new_shop, admin, anon):
    shop, _ = new_shop()
    assert_unauthorized(anon.patch("/v1/shop", json={"name": "hijack"}, token="ask_" + "B" * 43))
    assert admin.get(f"/v1/shops/{shop['id']}").json()["name"] == shop["name"]


# --------------------------------------------------------------------------
# realms


def test_api_key_on_admin_routes_is_401(new_shop):
    shop, client = new_shop()
    assert_unauthorized(client.get("/v1/shops"))
    assert_unauthorized(client.get(f"/v1/shops/{shop['id']}"))
    assert_unauthorized(client.patch(f"/v1/shops/{shop['id']}", json={"name": "x"}))
    assert_unauthorized(client.post("/v1/shops/%d/api-keys" % shop["id"]))
    assert_unauthorized(client.get("/v1/shops/%d/api-keys" % shop["id"]))


def test_api_key_cannot_create_shops(new_shop):
    from aftersale_it import shop_body
    _, client = new_shop()
    assert_unauthorized(client.post("/v1/shops", json=shop_body()))


def test_admin_token_on_shop_route_is_401(admin):
    assert_unauthorized(admin.get("/v1/shop"))
    assert_unauthorized(admin.patch("/v1/shop", json={"name": "x"}))


def test_shop_key_on_another_shops_admin_route_is_401(new_shop):
    a, ca = new_shop()
    b, _ = new_shop()
    assert_unauthorized(ca.get(f"/v1/shops/{b['id']}"))
    assert_unauthorized(ca.delete(f"/v1/shops/{b['id']}/api-keys/{b['api_key_id']}"))


def test_wrong_admin_token_is_401(service, admin_token):
    c = Client(service.url, admin_token + "x")
    assert_unauthorized(c.get("/v1/shops"))
    assert_unauthorized(Client(service.url, admin_token[:-1]).get("/v1/shops"))
    assert_unauthorized(Client(service.url).get("/v1/shops"))
