"""Hostile and sloppy input: every case is a 4xx with the right problem, never a 500,
and the service is still healthy afterwards (the last test of this file)."""

import json

import pytest

from aftersale_it import MAX_BODY_BYTES, assert_problem, shop_body

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def _never_500(admin, anon):
    """Fail any test of this file that made the service answer 5xx."""
    start_a, start_b = len(admin.history), len(anon.history)
    yield
    fives = [h for h in admin.history[start_a:] + anon.history[start_b:] if h[2] >= 500]
    assert not fives, f"5xx responses: {fives}"


@pytest.fixture(scope="module")
def shop_id(new_shop):
    return new_shop()[0]["id"]


def post_raw(admin, data, headers=JSON, path="/v1/shops"):
    return admin.post(path, data=data, headers=headers)


# --------------------------------------------------------------------------
# not JSON / not an object


@pytest.mark.parametrize("data", [b"{", b"{\"name\": }", b"not json", b"{'name': 'x'}",
                                  b"{\"a\":1,}", b""],
                         ids=["open-brace", "missing-value", "words", "single-quotes",
                              "trailing-comma", "empty"])
def test_malformed_json_is_400(admin, data):
    assert_problem(post_raw(admin, data), 400, "malformed")


@pytest.mark.parametrize("doc", ["[]", "[{\"name\":\"x\"}]", "5", "\"shop\"", "null", "true"],
                         ids=["array", "array-of-object", "number", "string", "null", "true"])
def test_json_that_is_not_an_object_is_400(admin, doc):
    assert_problem(post_raw(admin, doc.encode()), 400, "malformed")


def test_patch_with_array_body_is_400(admin, shop_id):
    r = admin.patch(f"/v1/shops/{shop_id}", data=b"[]", headers=JSON)
    assert_problem(r, 400, "malformed")


def test_duplicate_keys_are_400(admin):
    body = json.dumps(shop_body())[:-1] + ', "name": "again"}'
    assert_problem(post_raw(admin, body.encode()), 400, "malformed")


def test_invalid_utf8_in_string_is_400(admin):
    body = json.dumps(shop_body(name="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"bad \xff\xfe")
    assert_problem(post_raw(admin, body), 400, "malformed")


def test_overlong_utf8_encoding_is_400(admin):
    body = json.dumps(shop_body(name="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"\xc0\xaf")
    assert_problem(post_raw(admin, body), 400, "malformed")


def test_nul_escape_in_string_is_rejected(admin):
    body = json.dumps(shop_body(name="a\u0000b")).encode()
    r = post_raw(admin, body)
    assert r.status_code in (400, 422), r.text


def test_trailing_garbage_after_object_is_400(admin):
    body = json.dumps(shop_body()) + " xyz"
    assert_problem(post_raw(admin, body.encode()), 400, "malformed")


# --------------------------------------------------------------------------
# wrong types and rule violations


@pytest.mark.parametrize("field,value", [
    ("name", 5), ("name", True), ("name", ["a"]), ("name", {"a": 1}),
    ("url", 5), ("consumer_key", 1.5), ("consumer_secret", False),
    ("currency", 978), ("timezone", []),
])
def test_wrong_type_is_422_naming_the_field(admin, field, value):
    r = admin.post("/v1/shops", json=shop_body(**{field: value}))
    assert_problem(r, 422, "invalid-field", field=field)


@pytest.mark.parametrize("field", ["name", "url", "consumer_key", "consumer_secret", "currency",
                                   "timezone"])
def test_null_for_required_field_is_422(admin, field):
    r = admin.post("/v1/shops", json=shop_body(**{field: None}))
    assert_problem(r, 422, "invalid-field", field=field)


def test_null_in_patch_is_422(admin, shop_id):
    r = admin.patch(f"/v1/shops/{shop_id}", json={"name": None})
    assert_problem(r, 422, "invalid-field", field="name")


@pytest.mark.parametrize("field", ["name", "consumer_key", "consumer_secret"])
def test_empty_string_is_422(admin, field):
    r = admin.post("/v1/shops", json=shop_body(**{field: ""}))
    assert_problem(r, 422, "invalid-field", field=field)


def test_name_of_201_characters_is_422(admin):
    r = admin.post("/v1/shops", json=shop_body(name="n" * 201))
    assert_problem(r, 422, "invalid-field", field="name")


@pytest.mark.parametrize("field", ["consumer_key", "consumer_secret"])
def test_consumer_credentials_over_200_characters_are_422(admin, field):
    r = admin.post("/v1/shops", json=shop_body(**{field: "c" * 201}))
    assert_problem(r, 422, "invalid-field", field=field)


def test_url_over_2048_characters_is_422(admin):
    url = "https://long.example/" + "p" * 2100
    r = admin.post("/v1/shops", json=shop_body(url=url))
    assert_problem(r, 422, "invalid-field", field="url")


def test_unknown_field_is_422_naming_it(admin):
    r = admin.post("/v1/shops", json=shop_body(nmae="typo"))
    assert_problem(r, 422, "invalid-field", field="nmae")


def test_unknown_field_in_patch_is_422_naming_it(admin, shop_id):
    r = admin.patch(f"/v1/shops/{shop_id}", json={"currency": "EUR", "colour": "red"})
    assert_problem(r, 422, "invalid-field", field="colour")


def test_read_only_field_in_patch_is_422(admin, shop_id):
    r = admin.patch(f"/v1/shops/{shop_id}", json={"created_at": "2020-01-01T00:00:00Z"})
    assert_problem(r, 422, "invalid-field", field="created_at")


@pytest.mark.parametrize("currency", ["eur", "XYZ", "EURO", "EU", "", "E1R"])
def test_invalid_currency_is_422(admin, currency):
    r = admin.post("/v1/shops", json=shop_body(currency=currency))
    assert_problem(r, 422, "invalid-field", field="currency")


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "Europe/", "../../etc/passwd",
                                "Europe/Bratislava; DROP TABLE shops"])
def test_invalid_timezone_is_422(admin, tz):
    r = admin.post("/v1/shops", json=shop_body(timezone=tz))
    assert_problem(r, 422, "invalid-field", field="timezone")


@pytest.mark.parametrize("url", ["ftp://x", "https://", "http://", "https://user:pw@host",
                                 "https://user@host", "shop.example", "https://sh op.example",
                                 "javascript:alert(1)", ""],
                         ids=["ftp", "https-no-host", "http-no-host", "userinfo", "user-only",
                              "no-scheme", "space", "javascript", "empty"])
def test_invalid_url_is_422(admin, url):
    r = admin.post("/v1/shops", json=shop_body(url=url))
    assert_problem(r, 422, "invalid-field", field="url")


# --------------------------------------------------------------------------
# stored verbatim


@pytest.mark.parametrize("name", [
    "Robert'); DROP TABLE shops;--",
    "quote \" inside",
    "back\\slash",
    "emoji \U0001F600\U0001F6D2 shop",
    "percent %s %d %n",
    "<script>alert(1)</script>",
    "  leading and trailing  ",
    "\u0161\u010d\u0165\u017e\u00fd\u00e1\u00ed\u00e9",
], ids=["sql", "dquote", "backslash", "emoji", "printf", "html", "spaces", "slovak"])
def test_name_is_stored_and_returned_verbatim(admin, name):
    r = admin.post("/v1/shops", json=shop_body(name=name))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["name"] == name
    assert admin.get(f"/v1/shops/{sid}").json()["name"] == name
    assert admin.get("/v1/shops?limit=1").status_code == 200  # the table is still there


# --------------------------------------------------------------------------
# path and query parameters


@pytest.mark.parametrize("pid", ["-1", "0", "99999999999999999999999", "9223372036854775808",
                                 "abc", "1.5", "1e3", "0x10", "%201", "1%20", "+1", "01a"],
                         ids=["negative", "zero", "huge", "int64max+1", "abc", "decimal", "exp",
                              "hex", "leading-space", "trailing-space", "plus", "suffix"])
def test_bad_shop_id_is_400_naming_id(admin, pid):
    assert_problem(admin.get(f"/v1/shops/{pid}"), 400, "malformed", field="id")


def test_bad_shop_id_on_patch_is_400(admin):
    assert_problem(admin.patch("/v1/shops/abc", json={"name": "x"}), 400, "malformed", field="id")


@pytest.mark.parametrize("kid", ["-1", "abc", "99999999999999999999999"])
def test_bad_key_id_is_400_naming_key_id(admin, shop_id, kid):
    r = admin.delete(f"/v1/shops/{shop_id}/api-keys/{kid}")
    assert_problem(r, 400, "malformed", field="key_id")


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-5", "1.5", "", "99999999999999999999"])
def test_bad_limit_is_400(admin, limit):
    assert_problem(admin.get(f"/v1/shops?limit={limit}"), 400, "malformed", field="limit")


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "%00", "' OR 1=1 --", "a" * 300],
                         ids=["garbage", "bangs", "nul", "sql", "long"])
def test_bad_cursor_is_400(admin, cursor):
    assert_problem(admin.get("/v1/shops", params={"cursor": cursor}), 400, "malformed",
                   field="cursor")


def test_bad_limit_on_api_keys_is_400(admin, shop_id):
    assert_problem(admin.get(f"/v1/shops/{shop_id}/api-keys?limit=0"), 400, "malformed",
                   field="limit")


# --------------------------------------------------------------------------
# media type and size


def test_missing_content_type_is_415(admin):
    r = admin.post("/v1/shops", data=json.dumps(shop_body()).encode(),
                   headers={"Content-Type": None})
    assert "Content-Type" not in r.request.headers
    assert_problem(r, 415, "unsupported-media-type")


def test_text_plain_is_415(admin):
    r = post_raw(admin, json.dumps(shop_body()).encode(), {"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported-media-type")


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                   "application/jsonx", "application/json-patch+json"])
def test_other_media_types_are_415(admin, ctype):
    assert_problem(post_raw(admin, b"{}", {"Content-Type": ctype}), 415, "unsupported-media-type")


def test_patch_with_text_plain_is_415(admin, shop_id):
    r = admin.patch(f"/v1/shops/{shop_id}", data=b'{"name":"x"}', headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported-media-type")


def test_json_with_charset_parameter_is_accepted(admin):
    r = post_raw(admin, json.dumps(shop_body()).encode(),
                 {"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_body_over_limit_with_content_length_is_413(admin):
    body = json.dumps(shop_body(name="x" * (MAX_BODY_BYTES + 10))).encode()
    assert len(body) > MAX_BODY_BYTES
    assert_problem(post_raw(admin, body), 413, "too-large")


def test_body_over_limit_chunked_is_413(admin):
    payload = json.dumps(shop_body(name="y" * (MAX_BODY_BYTES + 10))).encode()

    def gen():
        for i in range(0, len(payload), 8192):
            yield payload[i:i + 8192]

    r = admin.post("/v1/shops", data=gen(), headers=JSON)
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_problem(r, 413, "too-large")


def test_body_at_limit_is_not_413(admin):
    base = json.dumps(shop_body(name="")).encode()
    pad = MAX_BODY_BYTES - len(base)
    body = json.dumps(shop_body(name="")).encode().replace(b'"name": ""', b'"name": "' + b"z" * pad + b'"')
    assert len(body) == MAX_BODY_BYTES
    r = post_raw(admin, body)
    assert_problem(r, 422, "invalid-field", field="name")  # too long a name, but read and parsed


def test_chunked_small_body_is_accepted(admin):
    payload = json.dumps(shop_body()).encode()

    def gen():
        for i in range(0, len(payload), 7):
            yield payload[i:i + 7]

    r = admin.post("/v1/shops", data=gen(), headers=JSON)
    assert r.status_code == 201, r.text


def test_client_disconnect_mid_body_is_not_left_in_flight(service_factory, admin_token):
    """A client that hangs up half-way through a body must not count as in flight:
    the service stays healthy and SIGTERM then stops it at once (no grace wait)."""
    import socket
    import time
    svc = service_factory.start(name="disconnect")
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as s:
            s.sendall((f"POST /v1/shops HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_token}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                       f'{{"name": "half').encode())
    c = svc.client()
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 200
    time.sleep(0.5)
    t0 = time.monotonic()
    svc.terminate()
    rc = svc.wait_exit(9)
    took = time.monotonic() - t0
    assert rc == 0, f"exit {rc}:\n{svc.stdout()[-2000:]}"
    assert took < 3, f"SIGTERM took {took:.1f}s: aborted uploads still counted in flight?\n" \
                     + "\n".join(l for l in svc.stdout().splitlines() if "stopping" in l)


def test_trailing_slash_is_not_a_route(admin):
    assert_problem(admin.get("/v1/shops/"), 404, "not-found")


# --------------------------------------------------------------------------
# afterwards


def test_zz_service_still_healthy_after_bad_input(anon, service):
    assert service.proc.poll() is None, "the service died"
    assert anon.get("/healthz").status_code == 200
    assert anon.get("/readyz").status_code == 200


def test_zz_no_500_during_the_session_so_far(admin, anon):
    fives = [h for h in admin.history + anon.history if h[2] >= 500]
    assert not fives, fives
