"""The webhook receiver: POST /v1/webhooks/woocommerce/{shop_id}.

Signatures, the ping, HTTP/1.0, duplicates, delivery ids, unknown topics.
Deliveries are sent like WooCommerce sends them (HTTP/1.0, X-WC-* headers,
PHP json_encode bodies): by the fake shop itself, or by woo_helpers.deliver
where the test needs to control a header.
"""

import base64
import hashlib
import hmac

from aftersale_it import assert_problem
from woo_helpers import (ACTION_COMPLETED, RFC3339, deliveries_count, deliver, fake,  # noqa: F401
                         linked, raw_post, wait_for, webhook_signature, woo_admin, woo_db,
                         woo_svc)


def test_signature_vector_of_the_facts_file_in_the_fake_signer():
    body = b'{"id":727,"status":"completed"}'
    expected = "r5KebFeCbUZYRzC7x6RK4+MJMZ79PecgGUy+lmsEeKw="
    assert webhook_signature("my-webhook-secret", body) == expected
    # and independently of the fake
    mac = hmac.new(b"my-webhook-secret", body, hashlib.sha256).digest()
    assert base64.b64encode(mac).decode() == expected


def test_valid_signature_is_stored_and_answered_200(linked, pg, woo_svc):
    o = linked.fake.add_order(status="processing")
    r = linked.deliver_order(o["id"], "order.updated")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "received" and body["duplicate"] is False
    assert isinstance(body["id"], int) and body["id"] > 0
    rows = pg.query(woo_svc.db, "SELECT topic, resource_id, status FROM webhook_deliveries"
                    " WHERE shop_id = %s AND id = %s", (linked.id, body["id"]))
    assert rows[0][0] == "order.updated" and rows[0][1] == o["id"]


def test_missing_signature_is_401_and_stores_nothing(linked, pg, woo_svc):
    o = linked.fake.add_order()
    r = linked.deliver_order(o["id"], signature=None)
    assert_problem(r, 401, "unauthorized")
    assert deliveries_count(pg, woo_svc.db, linked.id) == 0


def test_wrong_signature_is_401_and_stores_nothing(linked, pg, woo_svc):
    o = linked.fake.add_order()
    body = linked.fake.webhook_payload("order.updated", o["id"])
    # signed with another secret, and a signature that is not even base64
    r = linked.deliver("order.updated", body,
                       signature=webhook_signature("not-the-secret", b"x" * 10))
    assert_problem(r, 401, "unauthorized")
    r = linked.deliver("order.updated", body, signature="garbage")
    assert_problem(r, 401, "unauthorized")
    r = linked.deliver("order.updated", body, signature="")
    assert_problem(r, 401, "unauthorized")
    assert deliveries_count(pg, woo_svc.db, linked.id) == 0


def test_tampered_body_is_401_and_stores_nothing(linked, pg, woo_svc):
    from woo_helpers import php_json
    o = linked.fake.add_order(status="processing")
    good = php_json(linked.fake.webhook_payload("order.updated", o["id"])).encode()
    sig = webhook_signature(linked.secret, good)
    tampered = good.replace(b'"processing"', b'"completed"')
    assert tampered != good
    r = linked.deliver("order.updated", body=tampered, signature=sig)
    assert_problem(r, 401, "unauthorized")
    # the same signature over a body with one extra byte
    r = linked.deliver("order.updated", body=good + b" ", signature=sig)
    assert_problem(r, 401, "unauthorized")
    assert deliveries_count(pg, woo_svc.db, linked.id) == 0
    # the untouched body with that signature is accepted
    r = linked.deliver("order.updated", body=good, signature=sig)
    assert r.status_code == 200 and r.json()["status"] == "received"


def test_signature_of_another_shop_is_401(linked, woo_svc, woo_admin, pg):
    from woo_helpers import Linked
    other = Linked(woo_svc, woo_admin, linked.fake)
    o = linked.fake.add_order()
    payload = linked.fake.webhook_payload("order.updated", o["id"])
    r = deliver(woo_svc.port, linked.id, other.secret, "order.updated", payload)
    assert_problem(r, 401, "unauthorized")
    assert deliveries_count(pg, woo_svc.db, linked.id) == 0
    other.close()


def test_unknown_shop_is_404_and_bad_shop_id_400(linked, woo_svc):
    r = deliver(woo_svc.port, 987654321, linked.secret, "order.updated", {"id": 1})
    assert_problem(r, 404, "not-found")
    r = raw_post(woo_svc.port, "/v1/webhooks/woocommerce/abc", b"{}",
                 [("X-WC-Webhook-Signature", "x"), ("Content-Type", "application/json")])
    assert_problem(r, 400, "malformed", field="shop_id")


def test_ping_is_answered_200_and_stores_nothing(linked, pg, woo_svc):
    status, text = linked.fake.send_ping(linked.hook_url, 12)
    assert status == 200, text
    # again, by hand, for the contract check: form body, no X-WC-* headers
    r = raw_post(woo_svc.port, linked.hook_path, b"webhook_id=12",
                 [("User-Agent", "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)"),
                  ("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"),
                  ("Connection", "close")], http_version="1.1")
    assert r.status_code == 200
    assert r.json() == {"status": "pong"}
    assert deliveries_count(pg, woo_svc.db, linked.id) == 0
    assert linked.jobs(kind="woo.delivery") == []


def test_ping_for_an_unknown_shop_is_404(woo_svc):
    """docs/api.md: the ping gets 200 "for an existing shop"; an unknown shop is 404."""
    r = raw_post(woo_svc.port, "/v1/webhooks/woocommerce/987654321", b"webhook_id=3",
                 [("Content-Type", "application/x-www-form-urlencoded")], http_version="1.1")
    assert_problem(r, 404, "not-found")


def test_delivery_with_any_content_type_and_lowercase_headers(linked, pg, woo_svc):
    from woo_helpers import delivery_headers, php_json
    f = linked.fake
    for ctype in (None, "text/plain", "application/x-www-form-urlencoded", "application/json"):
        body = php_json(f.webhook_payload("order.updated", f.add_order()["id"])).encode()
        headers = [(k.lower(), v) for k, v in delivery_headers("order.updated", body, linked.secret)
                   if k != "Content-Type"]
        if ctype:
            headers.append(("content-type", ctype))
        r = raw_post(woo_svc.port, linked.hook_path, body, headers)
        assert r.status_code == 200, (ctype, r.status_code, r.text)
        assert r.json()["status"] == "received"
    assert deliveries_count(pg, woo_svc.db, linked.id) == 4


def test_http_1_0_delivery_from_the_fake_is_accepted(linked, pg, woo_svc):
    o = linked.fake.add_order(status="processing")
    status, text = linked.fake.order_webhook(linked.hook_url, linked.secret, o["id"])
    assert status == 200, text
    assert linked.fake.deliveries[-1]["status"] == 200
    # the same protocol by hand: an HTTP/1.0 answer-and-close
    o2 = linked.fake.add_order(status="processing")
    r = linked.deliver_order(o2["id"], http_version="1.0")
    assert r.status_code == 200
    assert r.closed_after, "HTTP/1.0 request without keep-alive: the connection must be closed"
    assert deliveries_count(pg, woo_svc.db, linked.id) == 2


def test_same_delivery_twice_is_stored_once_processed_once(linked, pg, woo_svc):
    o = linked.fake.add_order(status="completed")
    payload = linked.fake.webhook_payload("order.updated", o["id"])
    r1 = linked.deliver("order.updated", payload, delivery_id="a" * 32)
    r2 = linked.deliver("order.updated", payload, delivery_id="a" * 32)
    assert r1.status_code == 200 and r2.status_code == 200
    assert r1.json()["duplicate"] is False and isinstance(r1.json()["id"], int)
    assert r2.json() == {"status": "received", "duplicate": True, "id": None}
    # WooCommerce's own retry path: the fake sends it a third time
    status, _ = linked.fake.send_webhook(linked.hook_url, "order.updated", payload, linked.secret)
    assert status == 200
    assert deliveries_count(pg, woo_svc.db, linked.id) == 1
    linked.delivery_jobs_done()
    jobs = linked.jobs(kind="woo.delivery")
    assert len(jobs) == 1 and jobs[0]["status"] == "done"
    assert jobs[0]["payload"] == {"delivery": r1.json()["id"]}
    assert len(linked.events(kind="order.completed", order_id=o["id"])) == 1


def test_same_delivery_id_different_content_both_stored_and_processed(linked, pg, woo_svc):
    f = linked.fake
    a, b = f.add_order(status="completed"), f.add_order(status="completed")
    same = "d" * 32  # md5(webhook_id . time()): equal within one second
    ra = linked.deliver_order(a["id"], delivery_id=same)
    rb = linked.deliver_order(b["id"], delivery_id=same)
    assert ra.json()["duplicate"] is False and rb.json()["duplicate"] is False
    assert ra.json()["id"] != rb.json()["id"]
    assert deliveries_count(pg, woo_svc.db, linked.id) == 2
    linked.delivery_jobs_done()
    assert {e["order_id"] for e in linked.events(kind="order.completed")} == {a["id"], b["id"]}
    rows = pg.query(woo_svc.db, "SELECT status FROM webhook_deliveries WHERE shop_id = %s",
                    (linked.id,))
    assert [r[0] for r in rows] == ["processed", "processed"]


def test_unknown_topic_is_200_and_recorded_as_ignored(linked, pg, woo_svc):
    r = linked.deliver("product.updated", {"id": 55, "name": "Mug"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ignored" and body["duplicate"] is False
    rows = pg.query(woo_svc.db, "SELECT topic, status FROM webhook_deliveries WHERE shop_id = %s",
                    (linked.id,))
    assert rows == [("product.updated", "ignored")]
    assert linked.jobs(kind="woo.delivery") == []
    st = linked.api.get("/v1/woocommerce/status").json()
    assert st["deliveries"]["ignored"] == 1


def test_signed_but_unusable_body_is_200_failed(linked, pg, woo_svc):
    r = linked.deliver("order.updated", body=b"this is not json")
    assert r.status_code == 200
    assert r.json()["status"] == "failed"
    r = linked.deliver("order.updated", {"no": "id"})
    assert r.json()["status"] == "failed"
    st = linked.api.get("/v1/woocommerce/status").json()
    assert st["deliveries"]["failed"] == 2
    assert st["deliveries"]["received"] == 2
    assert RFC3339.match(st["deliveries"]["last_received_at"])


def test_oversized_delivery_is_413(linked, woo_svc):
    from aftersale_it import MAX_BODY_BYTES
    big = b'{"id":1,"pad":"' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    r = linked.deliver("order.updated", body=big)
    assert_problem(r, 413, "too-large")


def test_action_delivery_is_received(linked):
    o = linked.fake.add_order(status="completed")
    r = linked.deliver(ACTION_COMPLETED, {"action": "woocommerce_order_status_completed",
                                          "arg": o["id"]})
    assert r.status_code == 200 and r.json()["status"] == "received"
    wait_for(lambda: len(linked.events(kind="order.completed", order_id=o["id"])) == 1,
             what="the order.completed event")
