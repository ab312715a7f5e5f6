"""One-click connection: WooCommerce's app authorisation callback.

POST /v1/woocommerce/auth-requests (shop key) hands out a one-time state and
the callback URL; WooCommerce posts {key_id, user_id, consumer_key,
consumer_secret, key_permissions} to it (as WooCommerce 7.9's
WC_Auth::post_consumer_data does: JSON with "application/json;charset=UTF-8",
and it wants exactly 200). The state is the only credential: stored as its
SHA-256, used once, expiring; the keys go to the shop that asked for the
state. After the callback the service really talks to the shop with the new
keys: the webhooks set-up job succeeds against a fake shop that only accepts
them.
"""

import hashlib
import json
import secrets

from aftersale_it import assert_problem
from woo_helpers import (FakeWoo, Linked, client, db_query, fake, wait_for, woo_admin,  # noqa: F401
                         woo_db, woo_svc)



def wc_body(ck, cs, perm="read_write", key_id=7):
    return {"key_id": key_id, "user_id": "1", "consumer_key": ck, "consumer_secret": cs,
            "key_permissions": perm}


def post_callback(svc, url_or_state, body, content_type="application/json;charset=UTF-8"):
    anon = client(svc.url)
    try:
        path = url_or_state if url_or_state.startswith("/") else \
            f"/v1/woocommerce/auth-callback/{url_or_state}"
        return anon.post(path, data=json.dumps(body).encode(),
                         headers={"Content-Type": content_type})
    finally:
        anon.close()


def auth_request(shop):
    r = shop.api.post("/v1/woocommerce/auth-requests")
    assert r.status_code == 201, r.text
    return r.json()


def path_of(callback_url, svc):
    assert callback_url.startswith(svc.url + "/v1/woocommerce/auth-callback/"), callback_url
    return callback_url[len(svc.url):]


def consumer_key_row(pg, svc, shop_id):
    return db_query(pg, svc.db, "SELECT consumer_key FROM shops WHERE id = %s", (shop_id,))[0][0]


def test_auth_request_stores_only_the_hash_and_expires_in_15_minutes(woo_svc, woo_admin, fake, pg):
    shop = Linked(woo_svc, woo_admin, fake)
    try:
        a = auth_request(shop)
        assert len(a["state"]) == 43
        assert a["callback_url"] == f"{woo_svc.url}/v1/woocommerce/auth-callback/{a['state']}"
        assert a["callback_https"] is False  # the test service's PUBLIC_URL is http
        rows = db_query(pg, woo_svc.db,
                        "SELECT encode(state_hash, 'hex'), extract(epoch FROM expires_at - now()),"
                        " used_at FROM woo_auth_requests WHERE shop_id = %s", (shop.id,))
        assert len(rows) == 1
        assert rows[0][0] == hashlib.sha256(a["state"].encode()).hexdigest()
        assert 880 < float(rows[0][1]) <= 900
        assert rows[0][2] is None
        dump = db_query(pg, woo_svc.db, "SELECT woo_auth_requests::text FROM woo_auth_requests")
        assert not any(a["state"] in r[0] for r in dump)
        # two requests: two different states
        assert auth_request(shop)["state"] != a["state"]
        # the shop key is required
        anon = client(woo_svc.url)
        try:
            assert_problem(anon.post("/v1/woocommerce/auth-requests"), 401, "unauthorized")
        finally:
            anon.close()
    finally:
        shop.close()


def test_callback_stores_the_keys_and_the_service_uses_them(woo_svc, woo_admin, pg):
    # The shop starts with keys the fake does not accept; WooCommerce's
    # authorisation gives it the ones the fake does.
    new_ck, new_cs = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
    woo = FakeWoo(new_ck, new_cs).start()
    try:
        old = FakeWoo("ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20))
        shop = Linked(woo_svc, woo_admin, type("F", (), {"base_url": woo.base_url,
                                                          "consumer_key": old.consumer_key,
                                                          "consumer_secret": old.consumer_secret})())
        woo_svc.secrets.add(new_cs)
        try:
            a = auth_request(shop)
            r = post_callback(woo_svc, path_of(a["callback_url"], woo_svc), wc_body(new_ck, new_cs))
            assert r.status_code == 200, r.text
            assert r.json() == {"status": "connected", "shop_id": shop.id}
            assert consumer_key_row(pg, woo_svc, shop.id) == new_ck
            me = shop.api.get("/v1/shop").json()
            assert new_ck.endswith(me["consumer_key_hint"].lstrip("…"))
            assert "consumer_secret" not in me
            sealed = db_query(pg, woo_svc.db, "SELECT encode(consumer_secret_enc, 'escape')"
                              " FROM shops WHERE id = %s", (shop.id,))[0][0]
            assert new_cs not in sealed
            row = db_query(pg, woo_svc.db, "SELECT used_at IS NOT NULL, woo_key_id"
                           " FROM woo_auth_requests WHERE shop_id = %s", (shop.id,))
            assert row == [(True, 7)]
            # the state is a credential: the request log names the route, not the path
            assert a["state"] not in woo_svc.logs()
            # the plugin's next step: install the webhooks, with the new keys
            r = shop.api.post("/v1/woocommerce/webhooks")
            assert r.status_code == 202, r.text
            job = shop.wait_job(r.json()["job_id"], statuses=("done", "dead"), timeout=20)
            assert job["status"] == "done", job
            assert job["result"]["created"], job
        finally:
            shop.close()
    finally:
        woo.stop()


def test_a_used_state_is_refused_and_changes_nothing(woo_svc, woo_admin, fake, pg):
    shop = Linked(woo_svc, woo_admin, fake)
    try:
        a = auth_request(shop)
        ck = "ck_" + secrets.token_hex(20)
        woo_svc.secrets.add("cs_first" + "0" * 32)
        assert post_callback(woo_svc, a["state"], wc_body(ck, "cs_first" + "0" * 32)).status_code == 200
        other_ck = "ck_" + secrets.token_hex(20)
        woo_svc.secrets.add("cs_replay" + "0" * 32)
        r = post_callback(woo_svc, a["state"], wc_body(other_ck, "cs_replay" + "0" * 32))
        assert_problem(r, 409, "conflict")
        assert consumer_key_row(pg, woo_svc, shop.id) == ck
    finally:
        shop.close()


def test_unknown_malformed_and_expired_states_are_404(woo_svc, woo_admin, fake, pg):
    shop = Linked(woo_svc, woo_admin, fake)
    try:
        before = consumer_key_row(pg, woo_svc, shop.id)
        body = wc_body("ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20))
        woo_svc.secrets.add(body["consumer_secret"])
        for state in (secrets.token_urlsafe(32), "short", "x" * 43 + "y", "%2E%2E"):
            assert_problem(post_callback(woo_svc, state, body), 404, "not-found")
        a = auth_request(shop)
        db_query(pg, woo_svc.db, "UPDATE woo_auth_requests SET expires_at = now() - interval '1 s'"
                 " WHERE shop_id = %s RETURNING id", (shop.id,))
        assert_problem(post_callback(woo_svc, a["state"], body), 404, "not-found")
        assert consumer_key_row(pg, woo_svc, shop.id) == before
    finally:
        shop.close()


def test_a_bad_body_is_422_and_leaves_the_state_usable(woo_svc, woo_admin, fake, pg):
    shop = Linked(woo_svc, woo_admin, fake)
    try:
        a = auth_request(shop)
        ck, cs = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
        woo_svc.secrets.add(cs)
        for body, field in ((wc_body(ck, cs, perm="read"), "key_permissions"),
                            (wc_body("xx_" + ck[3:], cs), "consumer_key"),
                            (wc_body(ck, ""), "consumer_secret"),
                            ({"consumer_secret": cs, "key_permissions": "read_write"},
                             "consumer_key")):
            assert_problem(post_callback(woo_svc, a["state"], body), 422,
                           "invalid-field", field=field)
        r = post_callback(woo_svc, a["state"], "not an object")
        assert r.status_code == 400, r.text
        r = post_callback(woo_svc, a["state"], wc_body(ck, cs), content_type="text/plain")
        assert r.status_code == 415, r.text
        assert post_callback(woo_svc, a["state"], wc_body(ck, cs)).status_code == 200
        assert consumer_key_row(pg, woo_svc, shop.id) == ck
    finally:
        shop.close()


def test_a_state_binds_the_keys_to_its_own_shop(woo_svc, woo_admin, fake, pg):
    a_shop = Linked(woo_svc, woo_admin, fake)
    b_shop = Linked(woo_svc, woo_admin, fake)
    try:
        b_before = consumer_key_row(pg, woo_svc, b_shop.id)
        auth_request(b_shop)  # B has a pending request of its own
        a = auth_request(a_shop)
        ck, cs = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
        woo_svc.secrets.add(cs)
        r = post_callback(woo_svc, a["state"], wc_body(ck, cs))
        assert r.json()["shop_id"] == a_shop.id
        assert consumer_key_row(pg, woo_svc, a_shop.id) == ck
        assert consumer_key_row(pg, woo_svc, b_shop.id) == b_before
        # B's own request is still unused
        rows = db_query(pg, woo_svc.db, "SELECT used_at FROM woo_auth_requests WHERE shop_id = %s",
                        (b_shop.id,))
        assert rows == [(None,)]
        wait_for(lambda: True, 0.1)
    finally:
        a_shop.close()
        b_shop.close()


def test_concurrent_callbacks_with_one_state_store_once(woo_svc, woo_admin, fake, pg):
    """WooCommerce posts once, but a replay may race it: the state row is
    locked, so exactly one callback stores its keys and the rest get 409."""
    import threading

    shop = Linked(woo_svc, woo_admin, fake)
    try:
        a = auth_request(shop)
        bodies = []
        for _ in range(6):
            ck, cs = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
            woo_svc.secrets.add(cs)
            bodies.append(wc_body(ck, cs))
        results = [None] * len(bodies)
        start = threading.Barrier(len(bodies))

        def post(i):
            start.wait()
            results[i] = post_callback(woo_svc, a["state"], bodies[i])

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] + [409] * (len(bodies) - 1), statuses
        winner = next(i for i, r in enumerate(results) if r.status_code == 200)
        assert consumer_key_row(pg, woo_svc, shop.id) == bodies[winner]["consumer_key"]
    finally:
        shop.close()
