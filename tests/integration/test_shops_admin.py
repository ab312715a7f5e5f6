"""Shops through the admin API (and the CLI): create, list, get, patch, API keys, secrets."""

import json
import re
import time
from datetime import datetime

import pytest

from aftersale_it import (
    API_KEY_RE,
    CREATE_EXTRA,
    SHOP_FIELDS,
    Client,
    assert_problem,
    assert_shop_shape,
    json_keys,
    public_shop,
    shop_body,
)

def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


ALNUM40 = re.compile(r"^[A-Za-z0-9]{40}$")
ALNUM64 = re.compile(r"^[A-Za-z0-9]{64}$")


# --------------------------------------------------------------------------
# create


def test_create_shop_returns_201_with_location(admin):
    body = shop_body()
    r = admin.post("/v1/shops", json=body)
    assert r.status_code == 201, r.text
    shop = r.json()
    assert r.headers.get("Location") == f"/v1/shops/{shop['id']}"


def test_create_shop_returns_the_shop_and_one_time_secrets(admin):
    body = shop_body(name="Demo", url="https://shop.example", consumer_key="ck_abcdefgh_x1yz",
                     currency="EUR", timezone="Europe/Bratislava")
    r = admin.post("/v1/shops", json=body)
    assert r.status_code == 201, r.text
    shop = r.json()
    assert set(shop) == SHOP_FIELDS | CREATE_EXTRA, sorted(shop)
    assert_shop_shape(public_shop(shop))
    assert shop["name"] == "Demo"
    assert shop["url"] == "https://shop.example"
    assert shop["currency"] == "EUR"
    assert shop["timezone"] == "Europe/Bratislava"
    assert shop["consumer_key_hint"] == "\u2026x1yz"
    assert API_KEY_RE.match(shop["api_key"]), shop["api_key"]
    assert isinstance(shop["api_key_id"], int) and shop["api_key_id"] >= 1
    assert ALNUM40.match(shop["webhook_secret"]), shop["webhook_secret"]
    assert ALNUM64.match(shop["token_secret"]), shop["token_secret"]
    assert r.headers["Content-Type"].split(";")[0] == "application/json"


def test_create_shop_response_has_no_consumer_secret(admin):
    body = shop_body()
    r = admin.post("/v1/shops", json=body)
    assert r.status_code == 201
    assert "consumer_secret" not in set(json_keys(r.json()))
    assert body["consumer_secret"] not in r.text
    assert body["consumer_key"] not in r.text  # only the hint


def test_create_shop_secrets_differ_between_shops(new_shop):
    a, _ = new_shop()
    b, _ = new_shop()
    for k in ("api_key", "webhook_secret", "token_secret"):
        assert a[k] != b[k]
    assert b["id"] > a["id"]


def test_create_shop_removes_trailing_slash_from_url(admin):
    r = admin.post("/v1/shops", json=shop_body(url="https://trailing.example/"))
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "https://trailing.example"


def test_create_shop_accepts_http_url_with_port_and_path(admin):
    r = admin.post("/v1/shops", json=shop_body(url="http://localhost:8080/wp"))
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "http://localhost:8080/wp"


def test_create_shop_with_utc_timezone(admin):
    r = admin.post("/v1/shops", json=shop_body(timezone="UTC", currency="USD"))
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == "UTC"
    assert r.json()["currency"] == "USD"


@pytest.mark.parametrize("missing", ["name", "url", "consumer_key", "consumer_secret",
                                     "currency", "timezone"])
def test_create_shop_without_required_field_is_422(admin, missing):
    r = admin.post("/v1/shops", json=shop_body(**{missing: ...}))
    assert_problem(r, 422, "invalid-field", field=missing)


def test_create_shop_name_of_200_characters_is_accepted(admin):
    name = "\u00e9" * 200  # 200 characters, 400 bytes
    r = admin.post("/v1/shops", json=shop_body(name=name))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name


def test_concurrent_creates_get_distinct_ids(service, admin_token):
    from concurrent.futures import ThreadPoolExecutor

    def create(_):
        c = Client(service.url, admin_token)
        try:
            r = c.post("/v1/shops", json=shop_body())
            return r.status_code, r.json().get("id")
        finally:
            c.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(create, range(24)))
    assert all(status == 201 for status, _ in results), results
    ids = [i for _, i in results]
    assert len(set(ids)) == len(ids)


# --------------------------------------------------------------------------
# list


def test_list_shops_pages_with_limit_and_cursor(admin, new_shop):
    mine = [new_shop()[0]["id"] for _ in range(3)]
    seen = []
    cursor = None
    pages = 0
    while True:
        q = "/v1/shops?limit=2" + (f"&cursor={cursor}" if cursor else "")
        r = admin.get(q)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= 2
        for s in body["items"]:
            assert_shop_shape(s)
        seen += [s["id"] for s in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
        assert pages < 1000
    assert pages >= 2
    assert seen == sorted(seen), "not by id ascending"
    assert len(seen) == len(set(seen)), "a shop appeared twice"
    assert set(mine) <= set(seen)


def test_list_shops_default_limit_is_20(admin, new_shop):
    r = admin.get("/v1/shops")
    total = len(r.json()["items"])
    while total < 21:
        new_shop()
        total += 1
    r = admin.get("/v1/shops")
    assert r.status_code == 200
    body = r.json()
    assert len(body["items"]) == 20
    assert body["next_cursor"] is not None


def test_list_shops_limit_100_is_accepted(admin):
    r = admin.get("/v1/shops?limit=100")
    assert r.status_code == 200
    assert len(r.json()["items"]) <= 100


def test_list_shops_never_contains_secrets(admin, new_shop):
    shop, _ = new_shop()
    r = admin.get("/v1/shops?limit=100")
    assert r.status_code == 200
    for secret in (shop["api_key"], shop["webhook_secret"], shop["token_secret"],
                   shop["_input"]["consumer_secret"]):
        assert secret not in r.text


# --------------------------------------------------------------------------
# get


def test_get_shop_returns_the_shop(admin, new_shop):
    shop, _ = new_shop()
    r = admin.get(f"/v1/shops/{shop['id']}")
    assert r.status_code == 200, r.text
    got = r.json()
    assert_shop_shape(got)
    assert got == public_shop(shop)


def test_get_unknown_shop_is_404(admin):
    assert_problem(admin.get("/v1/shops/987654321"), 404, "not-found")


def test_get_max_int64_shop_id_is_404(admin):
    assert_problem(admin.get("/v1/shops/9223372036854775807"), 404, "not-found")


# --------------------------------------------------------------------------
# patch


PATCHES = {
    "name": "Renamed shop",
    "url": "https://renamed.example",
    "consumer_key": "ck_new_key_WXYZ",
    "consumer_secret": "cs_new_secret_value_123",
    "currency": "CZK",
    "timezone": "America/New_York",
}


@pytest.mark.parametrize("field", list(PATCHES))
def test_patch_shop_changes_one_field(admin, new_shop, field):
    shop, _ = new_shop()
    time.sleep(1.05)  # updated_at has second resolution
    r = admin.patch(f"/v1/shops/{shop['id']}", json={field: PATCHES[field]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert_shop_shape(got)
    expected = public_shop(shop)
    if field == "consumer_key":
        expected["consumer_key_hint"] = "\u2026WXYZ"
    elif field != "consumer_secret":
        expected[field] = PATCHES[field]
    for k in SHOP_FIELDS - {"updated_at"}:
        assert got[k] == expected[k], k
    assert ts(got["updated_at"]) > ts(shop["updated_at"])
    assert got["created_at"] == shop["created_at"]
    assert PATCHES["consumer_secret"] not in r.text
    assert admin.get(f"/v1/shops/{shop['id']}").json() == got


def test_patch_shop_several_fields_at_once(admin, new_shop):
    shop, _ = new_shop()
    r = admin.patch(f"/v1/shops/{shop['id']}", json={"name": "Both", "currency": "GBP"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Both" and r.json()["currency"] == "GBP"


def test_patch_shop_with_empty_object_is_422(admin, new_shop):
    shop, _ = new_shop()
    r = admin.patch(f"/v1/shops/{shop['id']}", json={})
    assert_problem(r, 422, "invalid-field")


def test_patch_unknown_shop_is_404(admin):
    assert_problem(admin.patch("/v1/shops/987654321", json={"name": "x"}), 404, "not-found")


def test_patch_shop_invalid_value_changes_nothing(admin, new_shop):
    shop, _ = new_shop()
    r = admin.patch(f"/v1/shops/{shop['id']}", json={"name": "Good", "currency": "eur"})
    assert_problem(r, 422, "invalid-field", field="currency")
    assert admin.get(f"/v1/shops/{shop['id']}").json()["name"] == shop["name"]


# --------------------------------------------------------------------------
# api keys


def test_create_api_key_without_body_returns_201(admin, new_shop):
    shop, _ = new_shop()
    r = admin.post(f"/v1/shops/{shop['id']}/api-keys")
    assert r.status_code == 201, r.text
    k = r.json()
    assert set(k) == {"id", "api_key", "prefix", "created_at", "revoked_at"}
    assert API_KEY_RE.match(k["api_key"])
    assert k["prefix"] == k["api_key"][:8]
    assert k["revoked_at"] is None
    assert k["id"] != shop["api_key_id"]


def test_create_api_key_with_empty_object_returns_201(admin, new_shop):
    shop, _ = new_shop()
    r = admin.post(f"/v1/shops/{shop['id']}/api-keys", json={})
    assert r.status_code == 201, r.text
    assert API_KEY_RE.match(r.json()["api_key"])


def test_new_api_key_works(admin, new_shop, service):
    shop, _ = new_shop()
    key = admin.post(f"/v1/shops/{shop['id']}/api-keys").json()["api_key"]
    r = Client(service.url, key).get("/v1/shop")
    assert r.status_code == 200
    assert r.json()["id"] == shop["id"]


def test_create_api_key_for_unknown_shop_is_404(admin):
    assert_problem(admin.post("/v1/shops/987654321/api-keys"), 404, "not-found")


def test_list_api_keys_shows_all_keys_without_the_key(admin, new_shop):
    shop, _ = new_shop()
    k2 = admin.post(f"/v1/shops/{shop['id']}/api-keys").json()
    r = admin.get(f"/v1/shops/{shop['id']}/api-keys")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    ids = [i["id"] for i in body["items"]]
    assert sorted(ids) == sorted([shop["api_key_id"], k2["id"]])
    for item in body["items"]:
        assert set(item) == {"id", "prefix", "created_at", "revoked_at"}
    assert shop["api_key"] not in r.text and k2["api_key"] not in r.text


def test_list_api_keys_of_unknown_shop_is_404(admin):
    assert_problem(admin.get("/v1/shops/987654321/api-keys"), 404, "not-found")


def test_revoked_key_is_rejected_at_once(admin, new_shop, service):
    shop, shop_client = new_shop()
    assert shop_client.get("/v1/shop").status_code == 200
    r = admin.delete(f"/v1/shops/{shop['id']}/api-keys/{shop['api_key_id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    deadline = time.monotonic() + 1.0
    while True:
        r = shop_client.get("/v1/shop")
        if r.status_code == 401 or time.monotonic() > deadline:
            break
    assert_problem(r, 401, "unauthorized")


def test_revoking_one_key_leaves_the_other_working(admin, new_shop, service):
    shop, shop_client = new_shop()
    other = admin.post(f"/v1/shops/{shop['id']}/api-keys").json()
    assert admin.delete(f"/v1/shops/{shop['id']}/api-keys/{shop['api_key_id']}").status_code == 204
    assert shop_client.get("/v1/shop").status_code == 401
    r = Client(service.url, other["api_key"]).get("/v1/shop")
    assert r.status_code == 200
    assert r.json()["id"] == shop["id"]


def test_revoked_key_is_listed_with_revoked_at(admin, new_shop):
    shop, _ = new_shop()
    admin.delete(f"/v1/shops/{shop['id']}/api-keys/{shop['api_key_id']}")
    items = admin.get(f"/v1/shops/{shop['id']}/api-keys").json()["items"]
    revoked = [i for i in items if i["id"] == shop["api_key_id"]][0]
    assert revoked["revoked_at"] is not None


def test_revoking_twice_is_204(admin, new_shop):
    shop, _ = new_shop()
    path = f"/v1/shops/{shop['id']}/api-keys/{shop['api_key_id']}"
    assert admin.delete(path).status_code == 204
    r = admin.delete(path)
    assert r.status_code == 204, r.text


def test_revoking_unknown_key_is_404(admin, new_shop):
    shop, _ = new_shop()
    assert_problem(admin.delete(f"/v1/shops/{shop['id']}/api-keys/987654321"), 404, "not-found")


def test_revoking_key_of_another_shop_is_404(admin, new_shop):
    a, a_client = new_shop()
    b, _ = new_shop()
    r = admin.delete(f"/v1/shops/{b['id']}/api-keys/{a['api_key_id']}")
    assert_problem(r, 404, "not-found")
    assert a_client.get("/v1/shop").status_code == 200, "the other shop's key was revoked"


# --------------------------------------------------------------------------
# secrets


def test_consumer_secret_never_appears_in_any_response(admin, new_shop):
    shop, shop_client = new_shop()
    secret = shop["_input"]["consumer_secret"]
    sid = shop["id"]
    texts = [
        admin.get(f"/v1/shops/{sid}").text,
        admin.get("/v1/shops?limit=100").text,
        admin.patch(f"/v1/shops/{sid}", json={"name": "Still secret"}).text,
        admin.post(f"/v1/shops/{sid}/api-keys").text,
        admin.get(f"/v1/shops/{sid}/api-keys").text,
        shop_client.get("/v1/shop").text,
        shop_client.patch("/v1/shop", json={"currency": "USD"}).text,
    ]
    for t in texts:
        assert secret not in t
        assert "consumer_secret" not in t


def test_patched_consumer_secret_never_appears(admin, new_shop):
    shop, shop_client = new_shop()
    secret = "cs_patched_" + "q" * 30
    r1 = admin.patch(f"/v1/shops/{shop['id']}", json={"consumer_secret": secret})
    r2 = shop_client.patch("/v1/shop", json={"consumer_secret": secret + "2"})
    assert r1.status_code == 200 and r2.status_code == 200
    for t in (r1.text, r2.text, admin.get(f"/v1/shops/{shop['id']}").text):
        assert secret not in t


def _database_text(pg, db_name):
    """Every row of every user table, as text (bytea shows as \\x hex)."""
    tables = pg.query(db_name, "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
                               "FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                               "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
    out = []
    for (t,) in tables:
        for (row,) in pg.query(db_name, f"SELECT t::text FROM {t} t"):
            out.append(row)
    return "\n".join(out)


def test_secrets_are_not_stored_in_plaintext(admin, new_shop, pg, db_name):
    shop, _ = new_shop()
    text = _database_text(pg, db_name)
    assert shop["name"] in text  # the dump does see the shop
    for label, value in (("consumer_secret", shop["_input"]["consumer_secret"]),
                         ("webhook_secret", shop["webhook_secret"]),
                         ("token_secret", shop["token_secret"]),
                         ("api_key", shop["api_key"])):
        assert value not in text, f"{label} stored in plaintext"
        assert value.encode().hex() not in text, f"{label} stored as plaintext bytes"


def test_api_key_stored_only_as_sha256(admin, new_shop, pg, db_name):
    import hashlib
    shop, _ = new_shop()
    digest = hashlib.sha256(shop["api_key"].encode()).hexdigest()
    assert digest in _database_text(pg, db_name)


# --------------------------------------------------------------------------
# admin disabled


def test_admin_routes_are_403_without_admin_token(service_factory, admin_token):
    svc = service_factory.start(env={"ADMIN_TOKEN": None}, name="no-admin")
    c = Client(svc.url, admin_token)
    assert_problem(c.get("/v1/shops"), 403, "admin-disabled")
    assert_problem(c.post("/v1/shops", json=shop_body()), 403, "admin-disabled")
    assert_problem(c.get("/v1/shops/1"), 403, "admin-disabled")
    assert_problem(Client(svc.url).get("/v1/shops"), 403, "admin-disabled")
    assert c.get("/healthz").status_code == 200


def test_empty_admin_token_disables_admin(service_factory):
    svc = service_factory.start(env={"ADMIN_TOKEN": ""}, name="empty-admin")
    c = Client(svc.url)
    r = c.request("GET", "/v1/shops", headers={"Authorization": "Bearer "})
    assert_problem(r, 403, "admin-disabled")


# --------------------------------------------------------------------------
# CLI


def test_cli_shop_create_prints_same_json_shape(cli, admin, service):
    body = shop_body()
    p = cli(["shop", "create", "--name", body["name"], "--url", body["url"],
             "--consumer-key", body["consumer_key"], "--consumer-secret", body["consumer_secret"],
             "--currency", body["currency"], "--timezone", body["timezone"]])
    assert p.returncode == 0, p.stderr
    shop = json.loads(p.stdout)
    api = admin.post("/v1/shops", json=shop_body()).json()
    assert set(shop) == set(api)
    assert API_KEY_RE.match(shop["api_key"])
    assert ALNUM40.match(shop["webhook_secret"]) and ALNUM64.match(shop["token_secret"])
    assert shop["name"] == body["name"] and shop["url"] == body["url"]
    assert body["consumer_secret"] not in p.stdout
    r = Client(service.url, shop["api_key"]).get("/v1/shop")
    assert r.status_code == 200
    assert r.json() == public_shop(shop)


def test_cli_shop_create_rejects_invalid_field(cli):
    body = shop_body()
    p = cli(["shop", "create", "--name", body["name"], "--url", "ftp://x",
             "--consumer-key", body["consumer_key"], "--consumer-secret", body["consumer_secret"],
             "--currency", body["currency"], "--timezone", body["timezone"]])
    assert p.returncode != 0
    assert "url" in p.stderr
