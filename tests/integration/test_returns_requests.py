"""Returns: the policy document, creating requests (policy and quantity
checks, the race for the last unit), and the state machine with its
history, 409s naming the state and Idempotency-Key replays."""

import concurrent.futures
import threading

from aftersale_it import assert_problem
from returns_helpers import fake, shop, woo_admin, woo_db, woo_svc  # noqa: F401


# --------------------------------------------------------------------------
# policy


def test_settings_defaults_round_trip_and_refusals(shop):
    r = shop.api.get("/v1/returns/settings")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["window_days"] == 30 and doc["window_start"] == "completed"
    assert doc["refund_method"] == "api_refund"
    assert [x["code"] for x in doc["reasons"]] == ["damaged", "wrong_item", "changed_mind"]
    # GET -> change a field -> PUT the whole document -> GET
    doc["window_days"] = 14
    doc["resolutions"]["store_credit_bonus_percent"] = "10"
    doc["updated_at"] = "2026-01-01T00:00:00Z"  # read-only: accepted and ignored
    r = shop.api.put("/v1/returns/settings", json=doc)
    assert r.status_code == 200, r.text
    again = shop.api.get("/v1/returns/settings").json()
    assert again["window_days"] == 14
    assert again["resolutions"]["store_credit_bonus_percent"] == "10"
    assert "updated_at" not in again
    # unknown fields and bad values: 422 naming the field, nothing changed
    assert_problem(shop.api.put("/v1/returns/settings", json={"window_dayz": 3}), 422,
                   "invalid-field", "window_dayz")
    assert_problem(shop.api.put("/v1/returns/settings",
                                json={"resolutions": {"refund": True, "bogus": 1}}),
                   422, "invalid-field", "resolutions.bogus")
    assert_problem(shop.api.put("/v1/returns/settings", json={"restocking_fee_percent": "150"}),
                   422, "invalid-field", "restocking_fee_percent")
    assert shop.api.get("/v1/returns/settings").json() == again


# --------------------------------------------------------------------------
# requests


def test_create_numbers_per_shop_and_checks_policy(shop):
    o = shop.order([("Mug", "10.00", 2), ("Plate", "5.00", 1)])
    first = shop.create(o, [(0, 1, "wrong_item")])
    second = shop.create(o, [(1, 1, "changed_mind", {"note": "too small"})])
    assert first["rma"] == "R-1001" and second["rma"] == "R-1002"
    assert first["state"] == "requested" and first["order_id"] == o["id"]
    assert first["email"] == "ann@example.com" and first["created_by"].startswith("api_key:")
    assert first["lines"][0]["quantity"] == 1 and first["lines"][0]["name"] == "Mug"
    assert [(h["from"], h["to"]) for h in first["history"]] == [(None, "requested")]
    # unknown reason, unknown line, not-offered resolution, quantity 0
    bad = {"order_id": o["id"], "resolution": "refund",
           "lines": [{"line_item_id": o["line_items"][0]["id"], "quantity": 1, "reason": "meh"}]}
    assert_problem(shop.api.post("/v1/returns", json=bad), 422, "invalid-field",
                   "lines[0].reason")
    bad["lines"][0].update(reason="wrong_item", line_item_id=999999)
    assert_problem(shop.api.post("/v1/returns", json=bad), 422, "invalid-field",
                   "lines[0].line_item_id")
    # more than what is left (2 bought, 1 under return)
    r = shop.api.post("/v1/returns", json={
        "order_id": o["id"], "resolution": "refund",
        "lines": [{"line_item_id": o["line_items"][0]["id"], "quantity": 2, "reason": "wrong_item"}]})
    assert_problem(r, 409, "conflict", "lines[0].quantity")
    shop.settings(resolutions={"exchange": False})
    r = shop.api.post("/v1/returns", json=dict(bad, resolution="exchange"))
    assert_problem(r, 422, "invalid-field", "resolution")


def test_window_statuses_and_excluded_products(shop):
    processing = shop.order([("Lamp", "20.00", 1)], status="processing")
    r = shop.api.post("/v1/returns", json={
        "order_id": processing["id"], "resolution": "refund",
        "lines": [{"line_item_id": processing["line_items"][0]["id"], "quantity": 1,
                   "reason": "wrong_item"}]})
    assert_problem(r, 422, "invalid-field", "order_id")
    assert "processing" in r.json()["detail"]
    # completed 40 days ago: outside a 30-day window, inside a 60-day one
    old = shop.order([("Vase", "20.00", 1)], date_completed_gmt="2020-01-01T10:00:00")
    body = {"order_id": old["id"], "resolution": "refund",
            "lines": [{"line_item_id": old["line_items"][0]["id"], "quantity": 1,
                       "reason": "wrong_item"}]}
    r = shop.api.post("/v1/returns", json=body)
    assert_problem(r, 422, "invalid-field", "order_id")
    assert "window" in r.json()["detail"]
    shop.settings(window_days=3650)
    assert shop.api.post("/v1/returns", json=body).status_code == 201
    o = shop.order([("Gift card", "25.00", 1)])
    shop.settings(excluded_products=[o["line_items"][0]["product_id"]])
    body["order_id"] = o["id"]
    body["lines"][0]["line_item_id"] = o["line_items"][0]["id"]
    assert_problem(shop.api.post("/v1/returns", json=body), 422, "invalid-field",
                   "lines[0].line_item_id")


def test_parallel_requests_for_the_last_unit(shop):
    o = shop.order([("Chair", "40.00", 3)])
    shop.create(o, [(0, 2, "wrong_item")])  # one unit left
    body = {"order_id": o["id"], "resolution": "refund",
            "lines": [{"line_item_id": o["line_items"][0]["id"], "quantity": 1,
                       "reason": "wrong_item"}]}
    n = 8
    barrier = threading.Barrier(n)

    def attempt(_):
        barrier.wait(timeout=10)
        return shop.api.post("/v1/returns", json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        codes = list(pool.map(attempt, range(n)))
    assert sorted(codes) == [201] + [409] * (n - 1), codes
    items = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"]
    assert sum(l["quantity"] for i in items for l in i["lines"]) == 3
    # cancelling one gives its units back
    shop.act(items[0]["id"], "cancel")
    assert shop.create(o, [(0, 2, "changed_mind")])["lines"][0]["quantity"] == 2


def test_auto_approve_rule(shop):
    shop.settings(auto_approve={"enabled": True, "max_order_total": "50.00",
                                "reasons": ["wrong_item"]})
    small = shop.order([("Cup", "8.00", 1)])
    big = shop.order([("Sofa", "80.00", 1)])
    a = shop.create(small, [(0, 1, "wrong_item")])
    assert a["state"] == "approved"
    assert [(h["actor"], h["to"]) for h in a["history"]] == [(a["created_by"], "requested"),
                                                           ("auto_approve", "approved")]
    assert shop.create(big, [(0, 1, "wrong_item")])["state"] == "requested"
    # a reason outside the list is never auto-approved
    other = shop.order([("Cup", "8.00", 1)])
    assert shop.create(other, [(0, 1, "changed_mind")])["state"] == "requested"


# --------------------------------------------------------------------------
# state machine


def test_transitions_history_and_conflicts(shop):
    o = shop.order([("Mug", "10.00", 2)])
    ret = shop.create(o, [(0, 2, "wrong_item")])
    rid = ret["id"]
    # not allowed: 409 naming the current state
    r = shop.api.post(f"/v1/returns/{rid}/receive", json={"lines": []})
    assert_problem(r, 409, "conflict", "state")
    assert "requested" in r.json()["detail"]
    approved = shop.act(rid, "approve", {"note": "ok, send it back"}, key="appr-1")
    assert approved["state"] == "approved"
    # the same key replays; another action with the state moved on is a 409
    r = shop.api.post(f"/v1/returns/{rid}/approve", json={"note": "ok, send it back"},
                      headers={"Idempotency-Key": "appr-1"})
    assert r.status_code == 200 and r.headers.get("Idempotent-Replayed") == "true"
    assert r.json() == approved
    assert_problem(shop.api.post(f"/v1/returns/{rid}/approve"), 409, "conflict", "state")
    # receive: every line inspected, quantity within what was asked
    line = o["line_items"][0]["id"]
    r = shop.api.post(f"/v1/returns/{rid}/receive", json={"lines": [
        {"line_item_id": line, "quantity_received": 3, "condition": "damaged", "restock": False}]})
    assert_problem(r, 422, "invalid-field", "lines[0].quantity_received")
    got = shop.act(rid, "receive", {"lines": [
        {"line_item_id": line, "quantity_received": 1, "condition": "damaged", "restock": False}]})
    assert got["state"] == "received"
    assert got["lines"][0]["quantity_received"] == 1 and got["lines"][0]["condition"] == "damaged"
    assert got["lines"][0]["restock"] is False
    assert_problem(shop.api.post(f"/v1/returns/{rid}/cancel"), 409, "conflict", "state")
    hist = shop.get(rid)["history"]
    assert [(h["from"], h["to"]) for h in hist] == [(None, "requested"), ("requested", "approved"),
                                                    ("approved", "received")]
    assert hist[1]["changes"] == {"note": "ok, send it back"}
    assert hist[2]["changes"]["lines"][0]["quantity_received"] == 1
    # the unit not received can be asked for again
    assert shop.create(o, [(0, 1, "changed_mind")])["state"] == "requested"


def test_reject_cancel_close_and_filters(shop):
    o = shop.order([("Mug", "10.00", 3)], email="bob@example.com")
    a = shop.create(o, [(0, 1, "wrong_item")])
    b = shop.create(o, [(0, 1, "damaged")])
    shop.act(a["id"], "reject", {"note": "worn"})
    assert shop.act(a["id"], "close")["state"] == "closed"
    assert shop.act(b["id"], "cancel")["state"] == "cancelled"
    lst = shop.api.get("/v1/returns", params={"state": "cancelled", "order_id": o["id"]}).json()
    assert [i["id"] for i in lst["items"]] == [b["id"]]
    lst = shop.api.get("/v1/returns", params={"reason": "wrong_item", "email": "BOB@example.com"})
    assert [i["id"] for i in lst.json()["items"]] == [a["id"]]
    lst = shop.api.get("/v1/returns", params={"created_after": "2999-01-01"}).json()
    assert lst["items"] == []
    assert_problem(shop.api.get("/v1/returns", params={"state": "lost"}), 400,
                   "malformed", "state")
    assert_problem(shop.api.get("/v1/returns", params={"created_after": "yesterday"}), 400,
                   "malformed", "created_after")
    assert shop.api.get("/v1/returns/999999").status_code == 404


def test_another_shops_request_is_not_found(shop, woo_svc, woo_admin):  # noqa: F811
    o = shop.order([("Mug", "10.00", 1)])
    ret = shop.create(o, [(0, 1, "wrong_item")])
    r = woo_admin.post("/v1/shops", json={"name": "Other", "url": "https://other.example",
                                          "consumer_key": "ck_" + "a" * 40,
                                          "consumer_secret": "cs_" + "b" * 40,
                                          "currency": "EUR", "timezone": "UTC"})
    assert r.status_code == 201, r.text
    from woo_helpers import client
    other = client(woo_svc.url, r.json()["api_key"])
    assert other.get(f"/v1/returns/{ret['id']}").status_code == 404
    assert other.post(f"/v1/returns/{ret['id']}/approve").status_code == 404
    assert other.get("/v1/returns").json()["items"] == []
    other.close()


# --------------------------------------------------------------------------
# customers (token of scope "returns") and photos

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_customer_creates_reads_and_cancels_their_own_return(shop):
    o = shop.order([("Mug", "10.00", 2)], email="cus@example.com")
    body = {"order_id": o["id"], "resolution": "refund",
            "lines": [{"line_item_id": o["line_items"][0]["id"], "quantity": 1,
                       "reason": "wrong_item"}]}
    me = shop.customer(email="CUS@example.com")
    r = me.post("/v1/me/returns", json=body, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["created_by"] == "customer" and ret["email"] == "cus@example.com"
    again = me.post("/v1/me/returns", json=body, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.json()["id"] == ret["id"]
    assert me.get(f"/v1/me/returns/{ret['id']}").json()["rma"] == ret["rma"]
    # another customer: the order and the request are not theirs (as if absent)
    other = shop.customer(email="eve@example.com")
    assert_problem(other.post("/v1/me/returns", json=body), 422, "invalid-field", "order_id")
    assert other.get(f"/v1/me/returns/{ret['id']}").status_code == 404
    assert other.post(f"/v1/me/returns/{ret['id']}/cancel").status_code == 404
    # a token of another scope, or none
    assert shop.customer(email="cus@example.com", scope="loyalty").post(
        "/v1/me/returns", json=body).status_code == 403
    assert shop.anon.post("/v1/me/returns", json=body).status_code == 401
    assert_problem(me.post("/v1/me/returns", json=dict(body, email="x@example.com")), 422,
                   "invalid-field", "email")
    done = me.post(f"/v1/me/returns/{ret['id']}/cancel")
    assert done.status_code == 200 and done.json()["state"] == "cancelled"
    assert done.json()["history"][-1]["actor"] == "customer"
    for c in (me, other):
        c.close()


def test_photos_checked_from_the_bytes_stored_and_served_to_shop_and_customer(shop):
    o = shop.order([("Vase", "30.00", 1)], email="pic@example.com")
    ret = shop.create(o, [(0, 1, "damaged")])
    rid = ret["id"]
    # "damaged" needs a photo before approval
    assert_problem(shop.api.post(f"/v1/returns/{rid}/approve"), 422, "invalid-field", "photos")
    url = f"/v1/returns/{rid}/photos"
    # a GIF called PNG is refused: the bytes decide
    r = shop.api.post(url, data=b"GIF89a" + b"\x00" * 20, headers={"Content-Type": "image/png"})
    assert_problem(r, 422, "invalid-field", "photo")
    r = shop.api.post(url, data=PNG, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = shop.api.post(url, data=PNG, headers={"Content-Type": "image/jpeg"})  # name is wrong
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["media_type"] == "image/png" and photo["size"] == len(PNG)
    got = shop.api.get(f"{url}/{photo['id']}")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["Content-Type"] == "image/png"
    me = shop.customer(email="pic@example.com")
    r = me.post(f"/v1/me/returns/{rid}/photos", data=JPEG, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    assert me.get(f"/v1/me/returns/{rid}/photos/{photo['id']}").content == PNG
    other = shop.customer(email="eve@example.com")
    assert other.get(f"/v1/me/returns/{rid}/photos/{photo['id']}").status_code == 404
    assert other.post(f"/v1/me/returns/{rid}/photos", data=PNG,
                      headers={"Content-Type": "image/png"}).status_code == 404
    for _ in range(3):
        assert shop.api.post(url, data=PNG, headers={"Content-Type": "image/png"}).status_code == 201
    assert_problem(shop.api.post(url, data=PNG, headers={"Content-Type": "image/png"}), 422,
                   "invalid-field", "photos")   # a sixth
    assert [p["media_type"] for p in shop.get(rid)["photos"]] == \
        ["image/png", "image/jpeg", "image/png", "image/png", "image/png"]
    # too large: over the photo routes' own cap (5 MiB), not MAX_BODY_BYTES
    r = shop.api.post(url, data=b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 - 2),
                      headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 413
    assert shop.act(rid, "approve")["state"] == "approved"
    for c in (me, other):
        c.close()


MIB = 1024 * 1024


def big_jpeg(size):
    return b"\xff\xd8\xff\xe0" + b"\x00" * (size - 4)


def test_photo_routes_take_5_mib_while_other_routes_keep_the_global_cap(shop):
    """The photo routes have their own body cap (5 MiB, BODY_IMAGE), above
    MAX_BODY_BYTES (64 KiB in these tests, 1 MiB by default); JSON routes
    keep the global one."""
    o = shop.order([("Lamp", "50.00", 1)], email="big@example.com")
    rid = shop.create(o, [(0, 1, "damaged")])["id"]
    url = f"/v1/returns/{rid}/photos"
    ok = big_jpeg(int(4.9 * MIB))
    r = shop.api.post(url, data=ok, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(ok)
    assert shop.api.get(f"{url}/{r.json()['id']}").content == ok
    # exactly 5 MiB is the last size taken; 5.1 MiB and 5 MiB + 1 are 413
    r = shop.api.post(url, data=big_jpeg(5 * MIB), headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    for size in (int(5.1 * MIB), 5 * MIB + 1):
        assert_problem(shop.api.post(url, data=big_jpeg(size),
                                     headers={"Content-Type": "image/jpeg"}), 413, "too-large")
    # also when the size is not declared (chunked): cut off at the cap
    def chunks(size, step=256 * 1024):
        data = big_jpeg(size)
        for i in range(0, len(data), step):
            yield data[i:i + step]
    r = shop.api.post(url, data=chunks(int(5.1 * MIB)), headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 413, r.text
    me = shop.customer(email="big@example.com")
    r = me.post(f"/v1/me/returns/{rid}/photos", data=big_jpeg(int(4.9 * MIB)),
                headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    assert me.post(f"/v1/me/returns/{rid}/photos", data=big_jpeg(int(5.1 * MIB)),
                   headers={"Content-Type": "image/jpeg"}).status_code == 413
    me.close()
    # a JSON route keeps MAX_BODY_BYTES: 100 KiB is refused
    r = shop.api.post(f"/v1/returns/{rid}/approve", data=b'{"note": "' + b"x" * 100 * 1024 + b'"}',
                      headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "too-large")
    assert [p["size"] for p in shop.get(rid)["photos"]] == [len(ok), 5 * MIB, int(4.9 * MIB)]


def test_customer_lists_their_own_returns_newest_first_paged(shop):
    """GET /v1/me/returns: the token's customer's requests only (by email,
    or by the WooCommerce customer id in sub), newest first, with their
    state, paged with the cursor."""
    o1 = shop.order([("Bowl", "8.00", 3)], email="List.Me@example.com")
    o2 = shop.order([("Spoon", "2.00", 2)], email="list.me@example.com", customer_id=77)
    o3 = shop.order([("Fork", "2.00", 1)], email="someone@example.com")
    me = shop.customer(email="list.me@example.com")
    first = me.post("/v1/me/returns", json={"order_id": o1["id"], "resolution": "refund", "lines": [
        {"line_item_id": o1["line_items"][0]["id"], "quantity": 1, "reason": "wrong_item"}]})
    assert first.status_code == 201, first.text
    second = shop.create(o2, [(0, 1, "changed_mind")])          # made by the shop for them
    third = shop.create(o1, [(0, 2, "wrong_item")])
    theirs = shop.create(o3, [(0, 1, "wrong_item")])            # another customer's
    shop.act(third["id"], "approve")
    ids = [first.json()["id"], second["id"], third["id"]]
    page1 = me.get("/v1/me/returns", params={"limit": 2})
    assert page1.status_code == 200, page1.text
    got = page1.json()
    assert [(x["id"], x["state"]) for x in got["items"]] == \
        [(ids[2], "approved"), (ids[1], "requested")]
    assert got["next_cursor"]
    page2 = me.get("/v1/me/returns", params={"limit": 2, "cursor": got["next_cursor"]}).json()
    assert [x["id"] for x in page2["items"]] == [ids[0]] and page2["next_cursor"] is None
    assert page2["items"][0]["rma"] == first.json()["rma"]
    # by customer id: only the order of customer 77
    by_id = shop.customer(sub=77)
    assert [x["id"] for x in by_id.get("/v1/me/returns").json()["items"]] == [ids[1]]
    # another customer's token sees none of them, only their own
    other = shop.customer(email="someone@example.com")
    assert [x["id"] for x in other.get("/v1/me/returns").json()["items"]] == [theirs["id"]]
    nobody = shop.customer(email="eve@example.com")
    assert nobody.get("/v1/me/returns").json() == {"items": [], "next_cursor": None}
    # a token of another scope, none, a bad cursor
    assert shop.customer(email="list.me@example.com", scope="loyalty").get(
        "/v1/me/returns").status_code == 403
    assert shop.anon.get("/v1/me/returns").status_code == 401
    assert me.get("/v1/me/returns", params={"cursor": "!!"}).status_code == 400
    for c in (me, by_id, other, nobody):
        c.close()
