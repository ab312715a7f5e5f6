"""Self-test of the fake WooCommerce shop (tests/fakes/fake_woo.py).

Run: cd /work/main && /usr/bin/python3 -m pytest -q tests/fakes/test_fake_woo.py
The vectors come from /work/shared/woocommerce-api.md (§1.3, §4.3).
"""

import json
import os
import socket
import sys
import threading
import time

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_woo import FakeWoo, oauth_sign, php_json, webhook_signature  # noqa: E402

CK = "ck_0123456789abcdef0123456789abcdef01234567"
CS = "cs_76543210fedcba9876543210fedcba9876543210"
ORDERS = "/wp-json/wc/v3/orders"


@pytest.fixture
def shop():
    s = FakeWoo(CK, CS).start()
    yield s
    s.stop()


@pytest.fixture
def tls_shop():
    s = FakeWoo(CK, CS, https=True).start()
    yield s
    s.stop()


def signed(shop, method, path, params=None, **kw):
    return shop.signed_url(method, path, params, **kw)


def api(shop, method, path, params=None, body=None):
    """An OAuth-signed request with an optional JSON body."""
    return requests.request(method, signed(shop, method, path, params), json=body, timeout=10)


# ---------------------------------------------------------------- OAuth

def test_oauth_vector():
    base, sig = oauth_sign("GET", "http://shop.example/wp-json/wc/v3/orders",
                           {"per_page": "5", "status": "completed"}, CK, CS,
                           1700000000, "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e")
    assert base == (
        "GET&http%3A%2F%2Fshop.example%2Fwp-json%2Fwc%2Fv3%2Forders&oauth_consumer_key%3D"
        "ck_0123456789abcdef0123456789abcdef01234567%26oauth_nonce%3D4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
        "%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26per_page%3D5"
        "%26status%3Dcompleted")
    assert sig == "jHPvHBKa58zUqOi3LefWo7Yl15q522/sNiVmDh0/1lo="


def test_oauth_accepts_sha256_sha1_and_header(shop):
    shop.add_order()
    r = requests.get(signed(shop, "GET", ORDERS, {"per_page": "5", "status": "processing"}))
    assert r.status_code == 200 and len(r.json()) == 1
    r = requests.get(signed(shop, "GET", ORDERS, method_name="HMAC-SHA1"))
    assert r.status_code == 200
    # Authorization: OAuth header; the non-OAuth query parameter is still signed.
    q = shop.oauth_params("GET", ORDERS, {"per_page": "5"})
    header = "OAuth " + ", ".join('%s="%s"' % (k, requests.utils.quote(v, safe=""))
                                  for k, v in q.items() if k.startswith("oauth_"))
    r = requests.get(shop.base_url + ORDERS + "?per_page=5", headers={"Authorization": header})
    assert r.status_code == 200, r.text
    # The signed base URL includes the port: signing without it fails.
    url = signed(shop, "GET", ORDERS, base="http://127.0.0.1")
    r = requests.get(url)
    assert r.status_code == 401


def _auth_error(r, code, message):
    assert r.status_code == 401, r.text
    assert r.json() == {"code": code, "message": message, "data": {"status": 401}}


def test_oauth_rejections(shop):
    url = signed(shop, "GET", ORDERS)
    _auth_error(requests.get(url.replace("oauth_signature=", "oauth_signature=x")),
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.")
    # A tampered non-OAuth parameter breaks the signature too.
    url = signed(shop, "GET", ORDERS, {"per_page": "5"})
    _auth_error(requests.get(url.replace("per_page=5", "per_page=6")),
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.")
    url = signed(shop, "GET", ORDERS)
    assert requests.get(url).status_code == 200
    _auth_error(requests.get(url), "woocommerce_rest_authentication_error",
                "Invalid nonce - nonce has already been used.")
    _auth_error(requests.get(signed(shop, "GET", ORDERS, ts=int(time.time()) - 16 * 60)),
                "woocommerce_rest_authentication_error", "Invalid timestamp.")
    _auth_error(requests.get(signed(shop, "GET", ORDERS, ck="ck_other", cs=CS)),
                "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    _auth_error(requests.get(signed(shop, "GET", ORDERS, method_name="HMAC-SHA1").replace(
        "HMAC-SHA1", "PLAINTEXT")), "woocommerce_rest_authentication_error",
        "Invalid signature - signature method is invalid.")
    q = shop.oauth_params("GET", ORDERS)
    del q["oauth_nonce"]
    r = requests.get(shop.base_url + ORDERS, params=q)
    _auth_error(r, "woocommerce_rest_authentication_missing_parameter",
                "Missing OAuth parameter oauth_nonce")
    del q["oauth_timestamp"]
    r = requests.get(shop.base_url + ORDERS, params=q)
    _auth_error(r, "woocommerce_rest_authentication_missing_parameter",
                "Missing OAuth parameters oauth_timestamp, oauth_nonce")


def test_basic_and_query_keys_ignored_over_http(shop):
    _auth_error(requests.get(shop.base_url + ORDERS, auth=(CK, CS)),
                "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    _auth_error(requests.get(shop.base_url + ORDERS,
                             params={"consumer_key": CK, "consumer_secret": CS}),
                "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    r = requests.post(shop.base_url + "/wp-json/wc/v3/coupons", auth=(CK, CS), json={"code": "x"})
    assert r.status_code == 401 and r.json()["code"] == "woocommerce_rest_cannot_create"
    assert requests.get(shop.base_url + "/wp-json/wc/v3/nope").json()["code"] == "rest_no_route"


def test_basic_honoured_with_https(tls_shop):
    r = requests.get(tls_shop.base_url + ORDERS, auth=(CK, CS))
    assert r.status_code == 200 and r.json() == []
    r = requests.get(tls_shop.base_url + ORDERS, params={"consumer_key": CK, "consumer_secret": CS})
    assert r.status_code == 200
    r = requests.get(tls_shop.base_url + ORDERS, auth=(CK, "cs_wrong"))
    _auth_error(r, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
    assert r.headers["WWW-Authenticate"].startswith('Basic realm="WooCommerce API.')
    # OAuth still works; the real base URL has the https scheme.
    assert requests.get(signed(tls_shop, "GET", ORDERS)).status_code == 200
    assert requests.get(signed(tls_shop, "GET", ORDERS, base=tls_shop.base_url)).status_code == 200


# ---------------------------------------------------------------- failure injection and recording

def test_failure_injection_counts(shop):
    shop.fail_next(2, status=500)
    statuses = [api(shop, "GET", ORDERS).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    shop.fail_next(1, status=429, path_prefix="/coupons")
    assert api(shop, "GET", ORDERS).status_code == 200
    r = api(shop, "GET", "/wp-json/wc/v3/coupons")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    shop.fail_next(1, status=401)
    r = api(shop, "GET", ORDERS)
    assert r.json()["code"] == "woocommerce_rest_authentication_error"
    calls = shop.calls(path_prefix=ORDERS, method="GET")
    assert [c["status"] for c in calls] == [500, 500, 200, 200, 401]
    assert calls[0]["outcome"] == "failed" and "oauth_signature" in calls[0]["query"]
    shop.reset_calls()
    assert shop.calls() == []


def test_timeout_and_down(shop):
    shop.timeout_seconds = 0.5
    shop.fail_next(1, status="timeout")
    t0 = time.time()
    with pytest.raises(requests.exceptions.ConnectionError):
        api(shop, "GET", ORDERS)
    assert 0.4 < time.time() - t0 < 5
    assert shop.calls()[-1]["outcome"] == "timeout"
    shop.set_down(True)
    with pytest.raises(requests.exceptions.ConnectionError):
        api(shop, "GET", ORDERS)
    shop.set_down(False)
    assert api(shop, "GET", ORDERS).status_code == 200


def test_control_api(shop):
    base = shop.base_url
    p = requests.post(base + "/_fake/products", json={"name": "Mug", "price": "10.00"}).json()
    o = requests.post(base + "/_fake/orders", json={"status": "completed", "email": "ann@example.com",
                                                   "items": [[p["id"], 2, "20.00"]]}).json()
    assert o["total"] == "20.00" and o["line_items"][0]["price"] == 10
    assert o["date_completed_gmt"] is not None and o["id"] == p["id"] + 1
    o2 = requests.post(base + "/_fake/orders", json={"id": o["id"], "status": "refunded"}).json()
    assert o2["status"] == "refunded" and o2["date_modified_gmt"] > o["date_modified_gmt"]
    requests.post(base + "/_fake/fail", json={"status": 500, "count": 1, "path_prefix": "/orders"})
    assert api(shop, "GET", ORDERS).status_code == 500
    calls = requests.get(base + "/_fake/calls").json()
    assert len(calls) == 1 and calls[0]["status"] == 500 and calls[0]["path"] == ORDERS
    assert requests.delete(base + "/_fake/calls").status_code == 200
    assert requests.get(base + "/_fake/calls").json() == []


def test_custom_status_registered_by_a_plugin(shop):
    """A plugin's status (register_post_status wc-delivered): named without
    "wc-" by the REST API, settable and filterable like a built-in one;
    unknown before it is registered."""
    base = shop.base_url
    o = requests.post(base + "/_fake/orders", json={"status": "processing"}).json()
    r = api(shop, "PUT", ORDERS + "/%d" % o["id"], body={"status": "delivered"})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"
    r = requests.post(base + "/_fake/statuses", json={"slug": "wc-delivered", "label": "Delivered"})
    assert r.status_code == 201 and r.json() == {"slug": "delivered", "label": "Delivered"}
    r = api(shop, "PUT", ORDERS + "/%d" % o["id"], body={"status": "delivered"})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    listed = api(shop, "GET", ORDERS, params={"status": "delivered"}).json()
    assert [x["id"] for x in listed] == [o["id"]]
    notes = shop.get_order(o["id"]) and [n for oid, n in shop.notes.values() if oid == o["id"]]
    assert notes[-1]["note"] == "Order status changed from Processing to Delivered."


# ---------------------------------------------------------------- orders

def test_pagination_headers(shop):
    for _ in range(25):
        shop.add_order()
    r = api(shop, "GET", ORDERS, {"page": "2", "per_page": "10"})
    assert r.status_code == 200 and len(r.json()) == 10
    assert r.headers["X-WP-Total"] == "25" and r.headers["X-WP-TotalPages"] == "3"
    assert 'rel="next"' in r.headers["Link"] and 'rel="prev"' in r.headers["Link"]
    assert "page=3" in r.headers["Link"]
    assert len(api(shop, "GET", ORDERS).json()) == 10        # default per_page
    r = api(shop, "GET", ORDERS, {"per_page": "101"})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"
    assert "per_page" in r.json()["data"]["params"]


def test_modified_after_and_updates(shop):
    a = shop.add_order()
    b = shop.add_order()
    b2 = shop.update_order(b["id"], status="completed")
    b3 = shop.update_order(b["id"], meta_data=[{"key": "_x", "value": "y"}])
    assert b2["date_modified_gmt"] > b["date_modified_gmt"]
    assert b3["date_modified_gmt"] > b2["date_modified_gmt"]
    assert b2["date_completed_gmt"] is not None
    r = api(shop, "GET", ORDERS, {"modified_after": b2["date_modified_gmt"]})
    assert [o["id"] for o in r.json()] == [b["id"]]
    r = api(shop, "GET", ORDERS, {"status": "processing"})
    assert [o["id"] for o in r.json()] == [a["id"]]
    assert api(shop, "GET", ORDERS + "/999").json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    r = api(shop, "PUT", ORDERS + "/%d" % a["id"], body={"status": "completed"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert "\\/" in r.text                                     # PHP-style escaping on the wire


def test_order_notes(shop):
    o = shop.add_order()
    r = api(shop, "POST", ORDERS + "/%d/notes" % o["id"], body={})
    assert r.status_code == 400 and r.json()["code"] == "rest_missing_callback_param"
    r = api(shop, "POST", ORDERS + "/999/notes", body={"note": "x"})
    assert r.status_code == 404 and r.json()["code"] == "woocommerce_rest_order_invalid_id"
    r = api(shop, "POST", ORDERS + "/%d/notes" % o["id"], body={"note": "Hi", "customer_note": True})
    assert r.status_code == 201
    n = r.json()
    assert n["note"] == "Hi" and n["customer_note"] is True and n["author"] == "WooCommerce"
    assert set(n) >= {"id", "author", "date_created", "date_created_gmt", "note", "customer_note"}
    assert [x["id"] for x in api(shop, "GET", ORDERS + "/%d/notes" % o["id"]).json()] == [n["id"]]


# ---------------------------------------------------------------- refunds

def test_refund_errors_and_success(shop):
    o = shop.add_order(items=None)                      # one item, total 10.00
    url = ORDERS + "/%d/refunds" % o["id"]
    r = api(shop, "POST", url, body={"amount": "5.00"})  # api_refund defaults to true
    assert r.status_code == 500
    assert r.json()["message"] == "The payment gateway for this order does not support automatic refunds."
    r = api(shop, "POST", url, body={"amount": "50.00", "api_refund": False})
    assert r.status_code == 500 and r.json() == {
        "code": "woocommerce_rest_cannot_create_order_refund", "message": "Invalid refund amount.", "data": 500}
    r = api(shop, "POST", url, body={"amount": "-1", "api_refund": False})
    assert r.status_code == 500 and r.json()["code"] == "woocommerce_rest_invalid_order_refund"
    assert r.json()["data"] == 400
    r = api(shop, "POST", ORDERS + "/999/refunds", body={"amount": "1.00", "api_refund": False})
    assert r.status_code == 500 and r.json()["data"] == 404
    assert r.json()["code"] == "woocommerce_rest_invalid_order_id"
    r = api(shop, "POST", url, body={"amount": "4.00", "api_refund": False, "reason": "dent"})
    assert r.status_code == 201 and r.json()["amount"] == "4.00" and r.json()["refunded_payment"] is False
    refund_id = r.json()["id"]
    assert refund_id > o["id"]                           # shared id sequence
    order = shop.get_order(o["id"])
    assert order["refunds"] == [{"id": refund_id, "reason": "dent", "total": "-4.00"}]
    assert order["status"] == "processing"
    shop.refund_order(o["id"], "6.00")
    assert shop.get_order(o["id"])["status"] == "refunded"


# ---------------------------------------------------------------- coupons

def test_coupons(shop):
    url = "/wp-json/wc/v3/coupons"
    r = api(shop, "POST", url, body={"code": "THANKS-1", "amount": 10, "discount_type": "percent"})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"
    assert r.json()["data"]["params"] == {"amount": "amount is not of type string."}
    r = api(shop, "POST", url, body={"amount": "10"})
    assert r.status_code == 400 and r.json()["code"] == "rest_missing_callback_param"
    r = api(shop, "POST", url, body={"code": "THANKS-1", "amount": "10", "discount_type": "percent",
                                     "usage_limit": 1, "email_restrictions": ["a@example.com"]})
    assert r.status_code == 201
    c = r.json()
    assert c["code"] == "thanks-1" and c["amount"] == "10.00" and c["usage_count"] == 0
    r = api(shop, "POST", url, body={"code": "Thanks-1", "amount": "5"})
    assert r.status_code == 400 and r.json()["code"] == "woocommerce_rest_coupon_code_already_exists"
    assert [x["id"] for x in api(shop, "GET", url, {"code": "thanks-1"}).json()] == [c["id"]]


# ---------------------------------------------------------------- reviews

def test_review_verified_computation(shop):
    url = "/wp-json/wc/v3/products/reviews"
    p = shop.add_product("Mug", "10.00")
    other = shop.add_product("Cup", "5.00")
    shop.add_order(status="completed", email="buyer@example.com", items=[(p["id"], 1, "10.00")])
    refunded = shop.add_order(status="completed", email="gone@example.com", items=[(p["id"], 1, "10.00")])
    shop.refund_order(refunded["id"], "10.00")
    shop.add_order(status="pending", email="unpaid@example.com", items=[(p["id"], 1, "10.00")])

    def review(email, pid=p["id"], text="Great mug", verified=True):
        return api(shop, "POST", url, body={"product_id": pid, "review": text, "reviewer": email.split("@")[0],
                                            "reviewer_email": email, "rating": 5, "verified": verified})

    r = review("buyer@example.com")
    assert r.status_code == 201 and r.json()["verified"] is True and r.json()["status"] == "approved"
    assert r.json()["review"] == "Great mug"  # POST answers the text as sent; GET renders it
    assert review("buyer@example.com").status_code == 409
    assert review("buyer@example.com", pid=other["id"]).json()["verified"] is False
    assert review("gone@example.com").json()["verified"] is False
    assert review("unpaid@example.com").json()["verified"] is False
    assert review("stranger@example.com").json()["verified"] is False
    r = api(shop, "POST", url, body={"product_id": p["id"], "reviewer": "x"})
    assert r.status_code == 400 and r.json()["data"]["params"] == ["review", "reviewer_email"]
    assert review("x@example.com", pid=999).json()["code"] == "woocommerce_rest_product_invalid_id"
    assert review("x@example.com", text="  ").json()["code"] == "woocommerce_rest_review_content_invalid"
    rid = review("y@example.com", text="ok").json()["id"]
    r = api(shop, "PUT", url + "/%d" % rid, body={"status": "hold"})
    assert r.status_code == 200 and r.json()["status"] == "hold"
    assert api(shop, "GET", url + "/%d" % rid).json()["status"] == "hold"


# ---------------------------------------------------------------- webhooks

def test_php_json_escaping():
    assert php_json("a/b é 😀") == '"a\\/b \\u00e9 \\ud83d\\ude00"'
    assert php_json({"id": 727, "status": "completed"}) == '{"id":727,"status":"completed"}'


class Capture(object):
    """A tiny HTTP receiver on a raw socket that records what arrives."""

    def __init__(self, status=200):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.status = status
        self.requests = []
        self.url = "http://127.0.0.1:%d/hook" % self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
            while len(body) < int(headers.get("content-length", 0)):
                body += conn.recv(65536)
            self.requests.append({"line": lines[0], "headers": headers, "body": body})
            conn.sendall(b"HTTP/1.0 %d X\r\nContent-Length: 2\r\n\r\nok" % self.status)
            conn.close()

    def close(self):
        self.sock.close()


def test_webhook_delivery_wire_format(shop):
    cap = Capture()
    try:
        status, body = shop.send_webhook(cap.url, "order.updated", {"id": 727, "status": "completed"},
                                         "my-webhook-secret", webhook_id=3)
        assert (status, body) == (200, "ok")
        req = cap.requests[0]
        assert req["line"] == "POST /hook HTTP/1.0"
        assert req["body"] == b'{"id":727,"status":"completed"}'
        h = req["headers"]
        assert h["x-wc-webhook-signature"] == "r5KebFeCbUZYRzC7x6RK4+MJMZ79PecgGUy+lmsEeKw="
        assert h["x-wc-webhook-signature"] == webhook_signature("my-webhook-secret", req["body"])
        assert h["user-agent"] == "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)"
        assert h["x-wc-webhook-source"] == shop.base_url + "/"
        assert (h["x-wc-webhook-topic"], h["x-wc-webhook-resource"], h["x-wc-webhook-event"]) == \
            ("order.updated", "order", "updated")
        assert h["x-wc-webhook-id"] == "3" and len(h["x-wc-webhook-delivery-id"]) == 32
        assert h["content-type"] == "application/json" and h["content-length"] == str(len(req["body"]))

        o = shop.add_order(status="completed", first_name="Zoë")
        shop.order_webhook(cap.url, "s", o["id"])
        raw = cap.requests[1]["body"]
        assert b"\\u00eb" in raw and b"\\/" in raw and json.loads(raw)["id"] == o["id"]
        shop.order_webhook(cap.url, "s", o["id"], topic="order.deleted")
        assert json.loads(cap.requests[2]["body"]) == {"id": o["id"]}
        shop.order_webhook(cap.url, "s", o["id"], topic="action.woocommerce_order_status_completed")
        assert json.loads(cap.requests[3]["body"]) == {"action": "woocommerce_order_status_completed",
                                                       "arg": o["id"]}
        assert cap.requests[3]["headers"]["x-wc-webhook-resource"] == "action"
    finally:
        cap.close()


def test_webhook_create_pings_before_answering(shop):
    cap = Capture()
    try:
        url = "/wp-json/wc/v3/webhooks"
        r = api(shop, "POST", url, body={"name": "t", "topic": "order.nope", "delivery_url": cap.url,
                                         "secret": "abc"})
        assert r.status_code == 400 and r.json()["code"] == "woocommerce_rest_shop_webhook_invalid_topic"
        r = api(shop, "POST", url, body={"name": "t", "topic": "order.updated", "delivery_url": cap.url,
                                         "secret": "abc123"})
        assert r.status_code == 201 and "secret" not in r.json()
        ping = cap.requests[0]
        assert ping["body"] == b"webhook_id=%d" % r.json()["id"]
        assert not any(k.startswith("x-wc-") for k in ping["headers"])
        assert ping["headers"]["content-type"].startswith("application/x-www-form-urlencoded")
        assert shop.pings[0]["status"] == 200
        listed = api(shop, "GET", url).json()
        assert listed[0]["topic"] == "order.updated" and "secret" not in listed[0]
        o = shop.add_order()
        [(status, _)] = shop.fire("order.updated", o["id"])
        assert status == 200
        sent = cap.requests[1]
        assert sent["headers"]["x-wc-webhook-signature"] == webhook_signature("abc123", sent["body"])
    finally:
        cap.close()
    # A ping to a dead URL does not prevent creation.
    r = api(shop, "POST", "/wp-json/wc/v3/webhooks", body={"topic": "order.created",
                                                          "delivery_url": "http://127.0.0.1:9/x"})
    assert r.status_code == 201 and shop.pings[-1]["status"] is None


# ---------------------------------------------------------------- WordPress comments

WP_COMMENTS = "/wp-json/wp/v2/comments"
WP_PASSWORD = "abcd efgh ijkl mnop qrst uvwx"


def test_wp_comment_replies_to_a_review():
    shop = FakeWoo(CK, CS, wp_user="shopmanager", wp_app_password=WP_PASSWORD,
                   wp_display_name="The Acme team").start()
    try:
        mug = shop.add_product("Mug", "10.00")["id"]
        cup = shop.add_product("Cup", "5.00")["id"]
        r = api(shop, "POST", "/wp-json/wc/v3/products/reviews",
                body={"product_id": mug, "review": "Nice", "reviewer": "Ann",
                      "reviewer_email": "ann@example.com", "rating": 5})
        assert r.status_code == 201
        review_id = r.json()["id"]
        url = shop.base_url + WP_COMMENTS
        body = {"post": mug, "parent": review_id, "content": "Thank you!"}

        # Anonymous, WooCommerce keys (ignored on wp/v2), unknown user, wrong password.
        r = requests.post(url, json=body, timeout=10)
        assert (r.status_code, r.json()["code"]) == (401, "rest_comment_login_required")
        r = requests.post(signed(shop, "POST", WP_COMMENTS), json=body, timeout=10)
        assert (r.status_code, r.json()["code"]) == (401, "rest_comment_login_required")
        r = requests.post(url, json=body, auth=("someone", WP_PASSWORD), timeout=10)
        assert (r.status_code, r.json()["code"]) == (401, "invalid_username")
        r = requests.post(url, json=body, auth=("shopmanager", "abcd efgh ijkl mnop qrst uvwy"),
                          timeout=10)
        assert (r.status_code, r.json()["code"]) == (401, "incorrect_password")
        assert r.json()["data"] == {"status": 401}
        # Unknown post, parent on another product, no parent at all, empty content.
        auth = ("shopmanager", WP_PASSWORD.replace(" ", ""))   # spaces do not matter
        r = requests.post(url, json=dict(body, post=99999), auth=auth, timeout=10)
        assert (r.status_code, r.json()["code"]) == (403, "rest_comment_invalid_post_id")
        r = requests.post(url, json=dict(body, post=cup), auth=auth, timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, "rest_comment_invalid_parent")
        r = requests.post(url, json=dict(body, parent=review_id + 100), auth=auth, timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, "rest_comment_invalid_parent")
        r = requests.post(url, json=dict(body, content=" "), auth=auth, timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, "rest_comment_content_invalid")
        r = requests.post(url, json=dict(body, author_name="Acme"), auth=auth, timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, "rest_comment_author_data_required")
        assert shop.comments == {}

        r = requests.post(url, json=body, auth=("shopmanager", WP_PASSWORD), timeout=10)
        assert r.status_code == 201, r.text
        c = r.json()
        assert c["id"] == review_id + 1            # one wp_comments id sequence
        assert (c["post"], c["parent"], c["status"], c["type"]) == (mug, review_id, "approved", "comment")
        assert c["author"] == shop.wp_user_id and c["author_name"] == "The Acme team"
        assert c["content"] == {"raw": "Thank you!", "rendered": "<p>Thank you!</p>\n"}
        assert c["date"] == c["date_gmt"] and len(c["date_gmt"]) == 19
        assert r.headers["Location"].endswith("/wp-json/wp/v2/comments/%d" % c["id"])
        assert [x["id"] for x in shop.replies(review_id)] == [c["id"]]
        # The same again is a duplicate; ?rest_route= works too.
        r = requests.post(shop.base_url + "/?rest_route=/wp/v2/comments", json=body, auth=auth,
                          timeout=10)
        assert (r.status_code, r.json()["code"]) == (409, "comment_duplicate")
        # A named author is not the logged-in user: held for moderation.
        r = requests.post(url, json=dict(body, content="Also", author_name="Acme",
                                         author_email="team@acme.example"), auth=auth, timeout=10)
        assert r.status_code == 201 and (r.json()["author"], r.json()["status"]) == (0, "hold")
        assert len(shop.replies(review_id)) == 2
        # Recorded like every REST call; the control API lists the comments.
        calls = shop.calls(path_prefix=WP_COMMENTS, method="POST")
        assert [x["status"] for x in calls if x["outcome"] == "answered"][-1] == 201
        listed = requests.get(shop.base_url + "/_fake/comments", timeout=10).json()
        assert [x["id"] for x in listed] == [c["id"], c["id"] + 1]
        # Outages apply to wp/v2 as to wc/v3.
        shop.fail_next(1, status=500, path_prefix=WP_COMMENTS)
        r = requests.post(url, json=dict(body, content="Later"), auth=auth, timeout=10)
        assert r.status_code == 500
    finally:
        shop.stop()


def test_wp_comments_without_a_configured_user(shop):
    pid = shop.add_product("Mug")["id"]
    r = requests.post(shop.base_url + WP_COMMENTS, json={"post": pid, "content": "x"},
                      auth=("admin", WP_PASSWORD), timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, "invalid_username")


def test_products_include_categories_and_deleted(shop):
    """GET /products?include= answers only those ids with their categories
    (objects or ids); a deleted product is absent from the list and 404 alone;
    a variation's line names its parent."""
    a = shop.add_product("Mug", "5.00", categories=[{"id": 7, "name": "Kitchen", "slug": "kitchen"}])
    b = shop.add_product("Tee", "9.00", categories=[3, 4])
    c = shop.add_product("Gone", "1.00", categories=[7])
    shop.delete_product(c["id"])
    r = api(shop, "GET", "/wp-json/wc/v3/products",
            {"include": "%d,%d,%d" % (a["id"], b["id"], c["id"]), "per_page": "100"})
    assert r.status_code == 200
    got = {p["id"]: p["categories"] for p in r.json()}
    assert got == {a["id"]: [{"id": 7, "name": "Kitchen", "slug": "kitchen"}],
                   b["id"]: [{"id": 3, "name": "Category 3", "slug": "category-3"},
                             {"id": 4, "name": "Category 4", "slug": "category-4"}]}
    assert api(shop, "GET", "/wp-json/wc/v3/products/%d" % c["id"]).status_code == 404
    shop.set_product_categories(a["id"], [9])
    assert api(shop, "GET", "/wp-json/wc/v3/products/%d" % a["id"]).json()["categories"][0]["id"] == 9
    o = shop.add_order(items=[{"product_id": b["id"], "quantity": 1, "variation_id": 555}])
    assert (o["line_items"][0]["product_id"], o["line_items"][0]["variation_id"]) == (b["id"], 555)
    # A deleted product's line shows product 0 (as WooCommerce 7.9 does).
    o = shop.add_order(items=[(a["id"], 1, "5.00")])
    shop.delete_product(a["id"])
    got = api(shop, "GET", "/wp-json/wc/v3/orders/%d" % o["id"]).json()
    assert got["line_items"][0]["product_id"] == 0
    assert shop.webhook_payload("order.updated", o["id"])["line_items"][0]["product_id"] == 0
