#!/usr/bin/python3
"""A fake WooCommerce shop for aftersale's integration tests.

Why this exists
---------------
aftersale talks to WooCommerce shops over the wc/v3 REST API and receives
their webhooks.  A real WordPress + WooCommerce install is slow to start and
hard to drive into edge cases, so the integration tests run against this
fake instead.  It is small, stdlib-only Python (run it with Debian's
``/usr/bin/python3``), listens on 127.0.0.1 only, and copies the parts of
WooCommerce's behaviour that a client can get wrong.  Every rule below comes
from ``/work/shared/woocommerce-api.md`` ("the facts"); section numbers such
as §1.3 refer to that file.

What it copies faithfully
-------------------------
* **Authentication (§1).**  Over plain HTTP, WooCommerce ignores HTTP Basic
  and ``consumer_key``/``consumer_secret`` query parameters: the request runs
  anonymously and gets ``401 woocommerce_rest_cannot_view`` "Sorry, you
  cannot list resources." (``_cannot_create`` / ``_cannot_edit`` /
  ``_cannot_delete`` for writes).  Only OAuth 1.0a one-legged signatures
  work: HMAC-SHA256 or HMAC-SHA1, parameters in the query string, in a
  form-encoded body or in an ``Authorization: OAuth ...`` header.  The
  signature is verified exactly like ``check_oauth_signature()``: parameter
  set = query + form + header params minus ``oauth_signature``, sorted by raw
  key, RFC 3986 encoded twice (equal to the standard OAuth rule), base string
  ``METHOD&enc(base_url)&enc(params)`` where base_url is the shop's home URL
  *including the port* plus the request path, key ``consumer_secret + "&"``.
  Timestamps must be within 15 minutes, nonces are single use, and the error
  codes and messages are those of §1.4.
  With ``https=True`` the fake plays a shop behind a TLS terminator that PHP
  knows about (``is_ssl()`` true) while still speaking plain HTTP on the
  wire: Basic auth and query-string keys are honoured (a wrong secret gives
  401 "Consumer secret is invalid." with ``WWW-Authenticate``) and OAuth
  still works.  In that mode the OAuth base URL is ``https://127.0.0.1:PORT``
  as on the real shop; as a courtesy the ``http://`` spelling is accepted
  too, because a client that talks to the fake directly cannot know better.
* **Data shapes (§3).**  Orders look like ``GET /orders/{id}`` (money as
  decimal strings, ``line_items[].price`` a JSON number, ``refunds[].total``
  negative, ``date_*_gmt`` in UTC, ``_links``).  Orders, refunds, products
  and coupons share one id sequence; reviews and order notes share another,
  just like posts and comments in WordPress.  Responses are encoded the way
  PHP's ``json_encode`` does (``\\/`` and ``\\uXXXX`` escapes), so the client's
  JSON parser meets the real byte stream.
* **Errors (§2).**  ``{"code","message","data"}`` bodies; HTTP status is
  ``data.status`` when data is an object, else 500 (the refund endpoint's
  bare-number ``"data":404`` quirk); WordPress' schema validation errors
  (``rest_invalid_param``, ``rest_missing_callback_param``); ``rest_no_route``.
* **Webhooks (§4).**  Deliveries are sent with a raw socket as
  ``POST path HTTP/1.0`` with ``Content-Length``, the ``X-WC-Webhook-*``
  headers, body in PHP ``json_encode`` style and
  ``X-WC-Webhook-Signature = base64(HMAC-SHA256(secret, raw body))``.
  ``Delivery-ID`` is ``md5(f"{webhook_id}{int(time())}")`` so two deliveries
  within one second share it, as on the real shop.  ``POST /webhooks`` sends
  the ping (``webhook_id=N`` form-encoded, no ``X-WC-*`` headers, 5 s
  timeout) synchronously *before* answering 201.

Endpoints (under ``/wp-json/wc/v3``; ``/?rest_route=/wc/v3/...`` works too)
---------------------------------------------------------------------------
``GET /orders`` (page, per_page 1..100 default 10, status, modified_after,
modified_before, after, before, customer, search, include, order, orderby;
``X-WP-Total``, ``X-WP-TotalPages``, ``Link``), ``GET|PUT /orders/{id}``,
``GET|POST /orders/{id}/notes``, ``GET|POST /orders/{id}/refunds``,
``GET|POST /coupons`` (``?code=``), ``GET /coupons/{id}``,
``GET /products``, ``GET /products/{id}``,
``GET|POST /products/reviews``, ``GET|PUT /products/reviews/{id}``,
``GET|POST /webhooks``, ``GET|PUT|DELETE /webhooks/{id}``.
Anything else is ``404 rest_no_route``.

WordPress core, one route: ``POST /wp-json/wp/v2/comments`` (or
``/?rest_route=/wp/v2/comments``), how a reply to a product review is
written (the wc/v3 reviews endpoint has no ``parent``).  WooCommerce keys
mean nothing there; the caller logs in with HTTP Basic as a WordPress user
and one of its **Application Passwords** (``FakeWoo(..., wp_user=,
wp_app_password=)``; the password matches with or without its spaces, as
WordPress strips everything but letters and digits before comparing).  The
fake plays a site where Application Passwords work over plain HTTP
(``WP_ENVIRONMENT_TYPE=local``; on a real site they need HTTPS) and whose
user can moderate comments (a Shop manager).  Errors as WordPress gives them
(wp-includes/user.php, class-wp-rest-comments-controller.php):

* no credentials: ``401 rest_comment_login_required`` "Sorry, you must be
  logged in to comment."; an unknown user: ``401 invalid_username``; a
  wrong password: ``401 incorrect_password`` "The provided password is an
  invalid application password.";
* no or unknown ``post``: ``403 rest_comment_invalid_post_id`` (core checks
  the post in the permission callback, hence 403, not 400); reviews off for
  the product (``reviews_allowed`` false): ``403 rest_comment_closed``;
* empty ``content``: ``400 rest_comment_content_invalid``;
* ``parent`` that is not a review or comment of that product:
  ``400 rest_comment_invalid_parent`` "Invalid parent comment ID."  Core
  WordPress does not check the parent of an ordinary comment at all (the
  code exists in newer WordPress for notes); the fake is stricter so that a
  client sending the wrong id is caught;
* ``author_name`` without ``author_email``: ``400
  rest_comment_author_data_required`` (the default "Comment author must
  fill out name and email"); with both, the comment no longer counts as the
  logged-in user's (``author`` 0) and is held (``status: "hold"``, the
  default "Comment author must have a previously approved comment");
* the same content under the same parent by the same author (name, and
  email when given) again: ``409 comment_duplicate`` (wp_allow_comment).

Success is ``201`` with the comment in ``edit`` context (the user can
moderate): ``id, post, parent, author, author_name, author_email,
author_url, author_ip, author_user_agent, date, date_gmt, content {raw,
rendered}, link, status ("approved"), type ("comment"),
author_avatar_urls, meta, _links``.  Comments share the id sequence of
reviews and order notes (one wp_comments table).  They are kept in
``shop.comments`` (id -> comment, in the REST shape); ``shop.replies(review_id)``
lists the comments whose parent is that review.

Python API
----------
::

    from tests.fakes.fake_woo import FakeWoo, oauth_sign, php_json
    shop = FakeWoo("ck_x", "cs_x", port=0, https=False).start()
    shop.base_url                      # "http://127.0.0.1:PORT"
    p = shop.add_product("Mug", "10.00")
    o = shop.add_order(status="processing", email="ann@example.com",
                       first_name="Ann", items=[(p["id"], 2, "20.00")])
    shop.update_order(o["id"], status="on-hold")   # bumps date_modified >= 1 s
    shop.complete_order(o["id"]); shop.refund_order(o["id"], "5.00")
    shop.get_order(o["id"])
    shop.calls(path_prefix="/wp-json/wc/v3/orders", method="GET"); shop.reset_calls()
    shop.fail_next(2, status=500)      # or 429, 401, "timeout", "timeout_after"; path_prefix=..., method=...
    # "timeout_after": the shop does the work, then holds the answer for
    # timeout_seconds and drops the connection (created, answer lost)
    shop.timeout_seconds = 30          # how long "timeout" holds a connection
    shop.set_down(True)                # every connection closed unanswered
    shop.send_webhook(url, "order.updated", payload, secret)  # -> (status, body)
    shop.order_webhook(url, secret, order_id, topic="order.updated")
    shop.send_ping(url, webhook_id)
    shop.fire("order.updated", order_id)  # to every active webhook created via REST
    shop = FakeWoo(ck, cs, wp_user="shopmanager", wp_app_password="abcd efgh ijkl mnop qrst uvwx")
    shop.comments; shop.replies(review_id)  # WordPress comments (replies to reviews)
    shop.signed_url("GET", "/wp-json/wc/v3/orders", {"per_page": "5"})
    shop.pings, shop.deliveries        # what the fake sent, with results
    shop.stop()

Each recorded call is a dict: ``method, path, query (dict), headers (dict),
json (parsed body or None), body (str), raw (bytes), time, status (int or
None), outcome ("answered" | "failed" (injected) | "timeout" | "down")``.

Command line and control API
----------------------------
::

    /usr/bin/python3 tests/fakes/fake_woo.py --port 8081 --ck ck_x --cs cs_x [--https] \
        [--wp-user shopmanager --wp-app-password "abcd efgh ijkl mnop qrst uvwx"]

serves until SIGTERM/SIGINT and prints ``fake_woo listening on URL``.  The
control API lives on the same port, needs no authentication and is not
recorded:

* ``GET /_fake/calls[?path_prefix=&method=]`` — recorded calls (no ``raw``).
* ``DELETE /_fake/calls`` — forget them.
* ``POST /_fake/fail {"status":500|429|401|"timeout"|"timeout_after","count":N,"path_prefix":"/wp-json/wc/v3/orders","method":"POST"}``
  (``path_prefix`` optional; may also be relative to ``/wp-json/wc/v3``).
* ``POST /_fake/down {"down":true|false}`` — like ``set_down``.
* ``POST /_fake/orders {spec}`` — create, or upsert when ``id`` exists.  Spec
  keys: ``id``, ``status``, ``customer_id``, ``email``, ``first_name``,
  ``last_name``, ``currency``, ``items`` (``[[product_id, qty, "total"]]`` or
  ``[{"product_id","quantity","total"}]``), plus any order field to set
  (e.g. ``"date_modified_gmt"``, ``"billing":{...}``).  Answers the order.
* ``GET /_fake/orders/{id}`` — the stored order.
* ``POST /_fake/orders/{id}/refund {"amount":"5.00","reason":"..."}``.
* ``POST /_fake/products {"name":"Mug","price":"10.00"}`` — answers the product.
  ``"categories"``: ids or ``{"id","name","slug"}`` objects.  Python:
  ``set_product_categories(pid, cats)``, ``delete_product(pid)``; order item
  dicts may carry ``variation_id``.  ``GET /products?include=1,2`` answers
  only those (a deleted id is absent).
* ``POST /_fake/statuses {"slug":"delivered","label":"Delivered"}`` — register a
  custom order status (as a plugin does); orders may then be set to it.
* ``POST /_fake/webhook {"url","topic","order_id" | "payload","secret","webhook_id"}``
  — send one signed delivery now; answers ``{"status":..., "body":...}``.
* ``POST /_fake/ping {"url","webhook_id"}`` — send a ping.
* ``GET /_fake/pings``, ``GET /_fake/deliveries``, ``GET /_fake/webhooks``
  (registered webhooks, secrets included), ``GET /_fake/comments`` (WordPress
  comments, i.e. replies to reviews).

Example walk-through::

    curl -s -XPOST localhost:8081/_fake/products -d '{"name":"Mug","price":"10.00"}'
    curl -s -XPOST localhost:8081/_fake/orders \\
         -d '{"status":"completed","email":"ann@example.com","items":[[10,1,"10.00"]]}'
    curl -s -XPOST localhost:8081/_fake/webhook \\
         -d '{"url":"http://127.0.0.1:8080/webhooks/woo/1","topic":"order.updated","order_id":11,"secret":"s3cret"}'
    curl -s localhost:8081/_fake/calls

Simplifications: one API key (permissions ``read_write`` by default, see
``.permissions``), site timezone UTC (``date_x`` equals ``date_x_gmt``), no
taxes, no stock, no emails, webhooks are only sent when asked for.
"""

import argparse
import base64
import copy
import datetime as _dt
import hashlib
import hmac
import http.client
import json
import random
import re
import signal
import socket
import ssl
import string
import sys
import threading
import time
import traceback
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlencode, urlsplit

REST_PREFIX = "/wp-json/wc/v3"
WP_PREFIX = "/wp-json/wp/v2"
WC_VERSION = "7.9.0"
WP_VERSION = "6.1.9"
HOOKSHOT_UA = "WooCommerce/%s Hookshot (WordPress/%s)" % (WC_VERSION, WP_VERSION)
OAUTH_WINDOW = 15 * 60  # seconds, both for timestamps and remembered nonces

ORDER_STATUSES = ["pending", "processing", "on-hold", "completed", "cancelled",
                  "refunded", "failed", "checkout-draft", "trash"]
STATUS_NAMES = {"pending": "Pending payment", "processing": "Processing",
                "on-hold": "On hold", "completed": "Completed",
                "cancelled": "Cancelled", "refunded": "Refunded",
                "failed": "Failed", "checkout-draft": "Draft", "trash": "Trash"}
PAID_STATUSES = ("processing", "completed")

WP_CRITICAL_ERROR = ("<p>There has been a critical error on this website.</p><p>"
                     "<a href=\"https://wordpress.org/documentation/article/"
                     "faq-troubleshooting/\">Learn more about troubleshooting "
                     "WordPress.</a></p>")
BASIC_REALM = ('Basic realm="WooCommerce API. Use a consumer key in the username '
               'field and a consumer secret in the password field."')


# --------------------------------------------------------------------------
# Encoding helpers shared with the tests
# --------------------------------------------------------------------------

def php_json(obj):
    """Encode like PHP's json_encode / wp_json_encode without flags.

    Compact separators, ``/`` escaped as ``\\/`` and every non-ASCII
    character as ``\\uXXXX`` (surrogate pairs above U+FFFF).  Python's
    ensure_ascii already produces lower-case hex surrogate pairs like PHP; a
    ``/`` can only occur inside JSON strings, so a plain replace is safe.
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def _rfc3986(value):
    """PHP rawurlencode(): everything but A-Z a-z 0-9 - _ . ~ is escaped."""
    return quote(str(value), safe="")


def _oauth_params_string(params):
    """The encoded parameter part of the base string, as WooCommerce builds it.

    ``uksort($params, 'strcmp')`` on the raw keys, then
    ``normalize_parameters`` (rawurlencode keys and values) and
    ``join_with_equals_sign`` (rawurlencode each ``k=v`` again, arrays as
    ``k%5B0%5D=v``), joined with ``%26``.
    """
    parts = []
    for key in sorted(params, key=lambda k: str(k).encode("utf-8")):
        value = params[key]
        ekey = _rfc3986(key)
        if isinstance(value, (list, tuple)):
            for i, inner in enumerate(value):
                parts.append(_rfc3986("%s%%5B%d%%5D=%s" % (ekey, i, _rfc3986(inner))))
        else:
            parts.append(_rfc3986("%s=%s" % (ekey, _rfc3986(value))))
    return "%26".join(parts)


def oauth_base_string(method, base_url, params):
    """``METHOD & rawurlencode(base_url) & encoded params`` (facts §1.3)."""
    return "%s&%s&%s" % (method.upper(), _rfc3986(base_url), _oauth_params_string(params))


def _oauth_digest(method_name, key, data):
    algo = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}[method_name]
    mac = hmac.new(key.encode("utf-8"), data.encode("utf-8"), algo).digest()
    return base64.b64encode(mac).decode("ascii")


def oauth_sign(method, url, params, ck, cs, ts, nonce, method_name="HMAC-SHA256"):
    """Sign a request the way a WooCommerce OAuth 1.0a client must.

    ``url`` is the full URL (any query string in it is merged into
    ``params``, which win); ``params`` are the non-OAuth query parameters.
    Returns ``(base_string, signature)``; put the signature in the URL
    percent-encoded (``oauth_signature=...%2F...%3D``).
    """
    parts = urlsplit(url)
    base_url = "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)
    all_params = _parse_query(parts.query)
    all_params.update(params or {})
    all_params.update({
        "oauth_consumer_key": ck,
        "oauth_nonce": nonce,
        "oauth_signature_method": method_name,
        "oauth_timestamp": str(ts),
    })
    all_params.pop("oauth_signature", None)
    base = oauth_base_string(method, base_url, all_params)
    return base, _oauth_digest(method_name, cs + "&", base)


def webhook_signature(secret, body):
    """base64(HMAC-SHA256(secret, raw body bytes)) — facts §4.3."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def _parse_query(qs):
    """Parse a query or form string like PHP fills $_GET: last value wins,
    ``k[]=a&k[]=b`` becomes a list.  ``+`` decodes to a space."""
    out = {}
    for key, value in parse_qsl(qs, keep_blank_values=True):
        if key.endswith("[]"):
            base = key[:-2]
            if not isinstance(out.get(base), list):
                out[base] = []
            out[base].append(value)
        else:
            out[key] = value
    return out


def _parse_oauth_header(header):
    """WC_REST_Authentication::parse_header(): ``OAuth k="v", ...``;
    values are urldecode()d (``+`` becomes a space)."""
    header = header.strip()
    if not header.startswith("OAuth "):
        return {}
    params = {}
    for m in re.finditer(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
        raw = m.group(3) if m.group(3) else (m.group(4) or "")
        params[m.group(1)] = unquote_plus(raw)
    return params


# --------------------------------------------------------------------------
# Small value helpers
# --------------------------------------------------------------------------

def _money(value):
    """Decimal string with 2 places, as WooCommerce formats prices."""
    return "%.2f" % Decimal(str(value))


def _dec(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _wp_date(ts):
    """Site-local and GMT dates are the same: the fake's site runs on UTC."""
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(int(ts), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


_ISO_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def _parse_iso(value):
    """rest_parse_date(): ISO 8601, zone optional (then site-local = UTC)."""
    m = _ISO_RE.match(str(value))
    if not m:
        return None
    dt = _dt.datetime.strptime(m.group(1) + "T" + m.group(2), "%Y-%m-%dT%H:%M:%S")
    ts = dt.replace(tzinfo=_dt.timezone.utc).timestamp()
    zone = m.group(4)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
        ts -= sign * offset
    return ts


def _is_int(value):
    """rest_is_integer(): ints, integral floats, integer-looking strings."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value) is not None


def _is_bool(value):
    """rest_is_boolean()."""
    if isinstance(value, bool) or value in (0, 1):
        return True
    return isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "")


def _to_bool(value):
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _random_key(n):
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


# --------------------------------------------------------------------------
# Errors and responses
# --------------------------------------------------------------------------

class _Resp(object):
    """An HTTP answer: status, JSON-able body, extra headers."""

    def __init__(self, status, body, headers=None):
        self.status = status
        self.body = body
        self.headers = list(headers or [])


def wc_error(code, message, status, extra=None, headers=None):
    """WP_Error with ``data`` an object: HTTP status = data.status."""
    data = {"status": status}
    data.update(extra or {})
    return _Resp(status, {"code": code, "message": message, "data": data}, headers)


def wc_error_bare(code, message, data):
    """WP_Error whose data is a bare number: WordPress answers HTTP 500."""
    return _Resp(500, {"code": code, "message": message, "data": data})


def _invalid_params(errors):
    """rest_invalid_param for {param: message} (WP_REST_Request::has_valid_params)."""
    names = ", ".join(errors)
    details = {k: {"code": "rest_invalid_type" if "not of type" in v else "rest_invalid_param",
                   "message": v, "data": {"param": k}} for k, v in errors.items()}
    return wc_error("rest_invalid_param", "Invalid parameter(s): %s" % names, 400,
                    {"params": dict(errors), "details": details})


def _missing_params(names):
    return wc_error("rest_missing_callback_param", "Missing parameter(s): %s" % ", ".join(names),
                    400, {"params": list(names)})


def _check_types(body, schema):
    """Validate body fields against {field: type}; answer the first batch of
    errors as WordPress does, or None.  Types: string, integer, integer?
    (nullable), boolean, array, string? (nullable)."""
    errors = {}
    for field, kind in schema.items():
        if field not in body:
            continue
        value = body[field]
        nullable = kind.endswith("?")
        kind = kind.rstrip("?")
        if value is None and nullable:
            continue
        ok = {"string": lambda v: isinstance(v, str),
              "integer": _is_int,
              "boolean": _is_bool,
              "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict)}[kind](value)
        if not ok:
            errors[field] = "%s is not of type %s." % (field, kind + (",null" if nullable else ""))
    return _invalid_params(errors) if errors else None


# --------------------------------------------------------------------------
# Raw HTTP client used for webhook deliveries and pings
# --------------------------------------------------------------------------

def _raw_post(url, body, headers, timeout, http_version="1.0"):
    """POST with a hand-written request line, like WordPress' transports.

    Returns ``(status, response_body_text, error)``; status is None and
    error a message when the connection failed or timed out.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "", "invalid URL %r" % url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    host = parts.netloc.rsplit("@", 1)[-1]
    lines = ["POST %s HTTP/%s" % (target, http_version), "Host: %s" % host]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    lines += ["Content-Length: %d" % len(body), "", ""]
    request = "\r\n".join(lines).encode("latin-1") + body
    sock = None
    try:
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
        if parts.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname=parts.hostname)
        sock.sendall(request)
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        data = resp.read()
        return resp.status, data.decode("utf-8", "replace"), None
    except (OSError, http.client.HTTPException) as exc:
        return None, "", "%s: %s" % (type(exc).__name__, exc)
    finally:
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, fake):
        self.fake = fake
        ThreadingHTTPServer.__init__(self, addr, handler)

    def process_request(self, request, client_address):
        self.fake._track(request, True)
        ThreadingHTTPServer.process_request(self, request, client_address)

    def shutdown_request(self, request):
        self.fake._track(request, False)
        ThreadingHTTPServer.shutdown_request(self, request)


class _Handler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle
    # and delayed ACK add ~40 ms to every kept-alive request (bench/LINK.md).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"   # keep-alive like Apache; always Content-Length
    def version_string(self):
        return "Apache/2.4.57 (Debian)"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self.server.fake._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET


# --------------------------------------------------------------------------
# The fake shop
# --------------------------------------------------------------------------

class FakeWoo(object):
    """A WooCommerce shop in a thread.  See the module docstring."""

    def __init__(self, consumer_key, consumer_secret, port=0, https=False, wp_user=None,
                 wp_app_password=None, wp_display_name=None):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        # A WordPress user with an Application Password, for /wp/v2/comments.
        self.wp_user = wp_user
        self.wp_app_password = wp_app_password
        self.wp_display_name = wp_display_name or (wp_user or "")
        self.wp_user_id = 2
        self.port = port
        self.https = https
        self.permissions = "read_write"     # "read" makes writes fail (§1.4)
        self.timeout_seconds = 30           # how long an injected "timeout" holds
        self.retry_after = 1                # Retry-After of injected 429s
        # Statuses a plugin registered (register_post_status "wc-delivered"
        # plus the wc_order_statuses filter): the REST API names them
        # without "wc-" and accepts them like the built-in ones.
        self.custom_statuses = {}           # slug -> label, e.g. {"delivered": "Delivered"}
        self.clock = time.time              # patchable for date tests
        self.pings = []                     # results of pings sent
        self.deliveries = []                # results of webhook deliveries sent
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._calls = []
        self._failures = []                 # [{"remaining","status","path_prefix"}]
        self._down = False
        self._stopping = False
        self._conns = set()
        self._nonces = {}                   # nonce -> timestamp
        self._server = None
        self._thread = None
        # Store.  _post_seq: orders, refunds, products, coupons (wp_posts);
        # _comment_seq: reviews and order notes (wp_comments).
        self._post_seq = 9
        self._comment_seq = 0
        self._item_seq = 0                  # order item ids (woocommerce_order_items)
        self._webhook_seq = 0
        self.orders = {}
        self.products = {}
        self.coupons = {}
        self.refunds = {}                   # refund id -> full refund object
        self.notes = {}                     # note id -> (order_id, note dict)
        self.reviews = {}                   # review id -> stored review
        self.comments = {}                  # comment id -> WordPress comment (REST shape)
        self.webhooks = {}                  # webhook id -> stored webhook (with secret)
        self._ts = {}                       # order id -> {"created","modified"} epoch ints
        self._default_product = None

    # ----- lifecycle ------------------------------------------------------

    def start(self):
        self._server = _Server(("127.0.0.1", self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-woo", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        with self._cv:
            self._stopping = True
            self._cv.notify_all()           # release held "timeout" connections
        if self._server is not None:
            self._server.shutdown()
            self._close_all()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def home_url(self):
        """What get_home_url() returns: the scheme follows is_ssl()."""
        return "%s://127.0.0.1:%d" % ("https" if self.https else "http", self.port)

    @property
    def rest_url(self):
        return self.base_url + REST_PREFIX

    def _track(self, sock, opened):
        with self._lock:
            (self._conns.add if opened else self._conns.discard)(sock)

    def _close_all(self, keep=None):
        with self._lock:
            conns = [c for c in self._conns if c is not keep]
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ----- recording and failure injection ---------------------------------

    def calls(self, path_prefix=None, method=None):
        """Recorded REST calls (copies), optionally filtered."""
        with self._lock:
            out = []
            for c in self._calls:
                if path_prefix and not self._prefix_match(c["path"], path_prefix):
                    continue
                if method and c["method"] != method.upper():
                    continue
                out.append(dict(c))
            return out

    def reset_calls(self):
        with self._lock:
            del self._calls[:]

    def fail_next(self, n, status=500, path_prefix=None, method=None):
        """The next n matching calls answer an injected failure."""
        if status not in (500, 429, 401, "timeout", "timeout_after"):
            raise ValueError("status must be 500, 429, 401, 'timeout' or 'timeout_after'")
        with self._lock:
            self._failures.append({"remaining": int(n), "status": status,
                                   "path_prefix": path_prefix,
                                   "method": method.upper() if method else None})

    def set_down(self, down=True, _keep=None):
        """While down, every connection is closed without an answer."""
        with self._cv:
            self._down = bool(down)
            self._cv.notify_all()
        if down:
            self._close_all(keep=_keep)

    @staticmethod
    def _prefix_match(path, prefix):
        return path.startswith(prefix) or (path.startswith(REST_PREFIX) and
                                           path[len(REST_PREFIX):].startswith(prefix))

    def _take_failure(self, path, method=None):
        with self._lock:
            for f in self._failures:
                if f.get("method") and method and f["method"] != method:
                    continue
                if f["remaining"] > 0 and (not f["path_prefix"] or
                                           self._prefix_match(path, f["path_prefix"])):
                    f["remaining"] -= 1
                    return f["status"]
            self._failures = [f for f in self._failures if f["remaining"] > 0]
        return None

    # ----- ids and clock ---------------------------------------------------

    def _now(self):
        return int(self.clock())

    def _new_post_id(self, wanted=None):
        with self._lock:
            if wanted is not None:
                wanted = int(wanted)
                if self._post_taken(wanted):
                    raise ValueError("id %d is already used" % wanted)
                self._post_seq = max(self._post_seq, wanted)
                return wanted
            self._post_seq += 1
            while self._post_taken(self._post_seq):
                self._post_seq += 1
            return self._post_seq

    def _post_taken(self, pid):
        return pid in self.orders or pid in self.products or pid in self.coupons or pid in self.refunds

    def _new_comment_id(self):
        with self._lock:
            self._comment_seq += 1
            return self._comment_seq

    def _links(self, path, collection=None, extra=None):
        links = {"self": [{"href": self.home_url + REST_PREFIX + path}],
                 "collection": [{"href": self.home_url + REST_PREFIX + (collection or path.rsplit("/", 1)[0])}]}
        links.update(extra or {})
        return links

    # ----- products --------------------------------------------------------

    def add_product(self, name="Woo Single #1", price="10.00", sku="", id=None, categories=(),
                    image=None):
        """Create a simple product (in the given category ids, with an optional
        image URL); answers its REST shape."""
        with self._lock:
            pid = self._new_post_id(id)
            now = _wp_date(self._now())
            price = str(price) if isinstance(price, str) else _money(price)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or str(pid)
            self.products[pid] = {
                "id": pid, "name": name, "slug": slug,
                "permalink": "%s/product/%s/" % (self.home_url, slug),
                "date_created": now, "date_created_gmt": now,
                "date_modified": now, "date_modified_gmt": now,
                "type": "simple", "status": "publish", "featured": False,
                "catalog_visibility": "visible", "description": "", "short_description": "",
                "sku": sku, "price": price, "regular_price": price, "sale_price": "",
                "on_sale": False, "purchasable": True, "total_sales": 0,
                "virtual": False, "downloadable": False, "tax_status": "taxable",
                "tax_class": "", "manage_stock": False, "stock_quantity": None,
                "stock_status": "instock", "reviews_allowed": True,
                "average_rating": "0", "rating_count": 0,
                "categories": self._categories(categories),
                "tags": [],
                "images": ([{"id": pid + 100000, "src": image, "name": name, "alt": ""}]
                           if image else []),
                "attributes": [], "variations": [], "meta_data": [],
                "_links": self._links("/products/%d" % pid),
            }
            return copy.deepcopy(self.products[pid])

    @staticmethod
    def _categories(categories):
        """Category ids, or {"id", "name", "slug"} objects, in REST shape."""
        out = []
        for c in categories:
            if isinstance(c, dict):
                cid = int(c["id"])
                out.append({"id": cid, "name": c.get("name", "Category %d" % cid),
                            "slug": c.get("slug", "category-%d" % cid)})
            else:
                out.append({"id": int(c), "name": "Category %d" % int(c),
                            "slug": "category-%d" % int(c)})
        return out

    def set_product_categories(self, product_id, categories):
        """Move a product to other categories (ids or objects), as wp-admin
        would; date_modified moves on."""
        with self._lock:
            prod = self.products[int(product_id)]
            prod["categories"] = self._categories(categories)
            now = _wp_date(self._now())
            prod["date_modified"] = prod["date_modified_gmt"] = now
            return copy.deepcopy(prod)

    def delete_product(self, product_id):
        """Delete a product for good (DELETE ?force=true): GET answers 404
        and lists (``include`` too) leave it out.  Orders keep their lines,
        but REST and webhooks show them with product_id 0, as WooCommerce
        7.9 does (tests/realwoo/test_categories_real.py)."""
        with self._lock:
            self.products.pop(int(product_id), None)

    # ----- orders ----------------------------------------------------------

    def _line_item(self, product_id, qty, total=None):
        prod = self.products.get(int(product_id))
        if prod is None:
            raise ValueError("unknown product %s" % product_id)
        qty = int(qty)
        total_d = Decimal(str(total)) if total is not None else Decimal(prod["price"] or "0") * qty
        unit = total_d / qty if qty else Decimal(0)
        price = int(unit) if unit == int(unit) else float(unit)   # a JSON number (§2 quirk)
        self._item_seq += 1
        return {"id": self._item_seq, "name": prod["name"], "product_id": prod["id"],
                "variation_id": 0, "quantity": qty, "tax_class": "",
                "subtotal": _money(total_d), "subtotal_tax": "0.00",
                "total": _money(total_d), "total_tax": "0.00", "taxes": [],
                "meta_data": [], "sku": prod["sku"], "price": price,
                "image": {"id": "", "src": ""}, "parent_name": None}

    def add_order(self, status="processing", customer_id=0, email="john.doe@example.com",
                  first_name="John", last_name="Doe", items=None, currency="EUR", id=None,
                  **fields):
        """Create an order; ``items`` = [(product_id, qty, total_str)] (total
        optional).  Without items, one default product at 10.00 is used.
        Extra keyword fields are set on the order as given."""
        if status not in ORDER_STATUSES:
            raise ValueError("unknown status %r" % status)
        with self._lock:
            if items is None:
                if self._default_product is None or self._default_product not in self.products:
                    self._default_product = self.add_product("Woo Single #1", "10.00")["id"]
                items = [(self._default_product, 1, "10.00")]
            line_items = []
            for it in items:
                spec = it if isinstance(it, dict) else {}
                if isinstance(it, dict):
                    it = (it["product_id"], it.get("quantity", 1), it.get("total"))
                li = self._line_item(*it)
                # A variation: the line names the parent (product_id) and
                # the variation (variation_id), as WooCommerce does.
                if "variation_id" in spec:
                    li["variation_id"] = int(spec["variation_id"])
                # Optional: a discount (subtotal above total) and one tax rate
                # ("tax": the line's total_tax, "tax_raw": the rate's unrounded
                # total as WooCommerce keeps it, "tax_rate_id").
                if "subtotal" in spec:
                    li["subtotal"] = _money(Decimal(str(spec["subtotal"])))
                if "tax" in spec:
                    rate = int(spec.get("tax_rate_id", 1))
                    li["total_tax"] = li["subtotal_tax"] = _money(Decimal(str(spec["tax"])))
                    li["taxes"] = [{"id": rate, "total": str(spec.get("tax_raw", spec["tax"])),
                                    "subtotal": str(spec.get("tax_raw", spec["tax"]))}]
                line_items.append(li)
            oid = self._new_post_id(id)
            now = self._now()
            total_tax = sum((Decimal(li["total_tax"]) for li in line_items), Decimal(0))
            discount = sum((Decimal(li["subtotal"]) - Decimal(li["total"]) for li in line_items), Decimal(0))
            total = sum((Decimal(li["total"]) for li in line_items), Decimal(0)) + total_tax
            paid = status in PAID_STATUSES
            address = {"first_name": first_name, "last_name": last_name, "company": "",
                       "address_1": "1 Main Street", "address_2": "", "city": "Berlin",
                       "state": "", "postcode": "10115", "country": "DE"}
            billing = dict(address, email=email, phone="")
            shipping = dict(address, phone="")
            order = {
                "id": oid, "parent_id": 0, "number": str(oid),
                "order_key": "wc_order_" + _random_key(13), "created_via": "checkout",
                "version": WC_VERSION, "status": status, "currency": currency,
                "date_created": _wp_date(now), "date_created_gmt": _wp_date(now),
                "date_modified": _wp_date(now), "date_modified_gmt": _wp_date(now),
                "discount_total": _money(discount), "discount_tax": "0.00",
                "shipping_total": "0.00", "shipping_tax": "0.00", "cart_tax": _money(total_tax),
                "total": _money(total), "total_tax": _money(total_tax), "prices_include_tax": False,
                "customer_id": int(customer_id), "customer_ip_address": "127.0.0.1",
                "customer_user_agent": "", "customer_note": "",
                "billing": billing, "shipping": shipping,
                "payment_method": "bacs", "payment_method_title": "Direct bank transfer",
                "transaction_id": "",
                "date_paid": _wp_date(now) if paid else None,
                "date_paid_gmt": _wp_date(now) if paid else None,
                "date_completed": _wp_date(now) if status == "completed" else None,
                "date_completed_gmt": _wp_date(now) if status == "completed" else None,
                "cart_hash": "", "meta_data": [], "line_items": line_items,
                "tax_lines": [{"id": 900000 + t["id"], "rate_code": "TAX-%d" % t["id"], "rate_id": t["id"],
                               "label": "Tax", "compound": False,
                               "tax_total": _money(sum((Decimal(x["total"]) for li in line_items
                                                        for x in li["taxes"] if x["id"] == t["id"]),
                                                       Decimal(0))),
                               "shipping_tax_total": "0.00", "rate_percent": 19, "meta_data": []}
                              for t in {x["id"]: x for li in line_items for x in li["taxes"]}.values()],
                "shipping_lines": [], "fee_lines": [], "coupon_lines": [],
                "refunds": [], "payment_url": "%s/checkout/order-pay/%d/" % (self.home_url, oid),
                "is_editable": status in ("pending", "on-hold", "checkout-draft"),
                "needs_payment": status in ("pending", "failed"),
                "needs_processing": True, "currency_symbol": "\u20ac" if currency == "EUR" else "$",
            }
            links = self._links("/orders/%d" % oid)
            if order["customer_id"]:
                links["customer"] = [{"href": "%s%s/customers/%d" % (self.home_url, REST_PREFIX,
                                                                    order["customer_id"])}]
            order["_links"] = links
            self.orders[oid] = order
            self._ts[oid] = {"created": now, "modified": now}
            if fields:
                self._apply_changes(order, fields, bump=False)
            return copy.deepcopy(order)

    def get_order(self, order_id):
        with self._lock:
            o = self.orders.get(int(order_id))
            return copy.deepcopy(o) if o is not None else None

    def _add_note(self, order_id, text, customer_note=False, author="WooCommerce"):
        nid = self._new_comment_id()
        now = _wp_date(self._now())
        note = {"id": nid, "author": author, "date_created": now, "date_created_gmt": now,
                "note": text, "customer_note": bool(customer_note),
                "_links": self._links("/orders/%d/notes/%d" % (order_id, nid),
                                      "/orders/%d/notes" % order_id,
                                      {"up": [{"href": "%s%s/orders/%d" % (self.home_url, REST_PREFIX,
                                                                           order_id)}]})}
        self.notes[nid] = (order_id, note)
        return note

    def _bump_modified(self, order, explicit=None):
        """date_modified moves forward by at least one second per change, so
        clients relying on modified_after ordering can be tested."""
        ts = self._ts[order["id"]]
        ts["modified"] = explicit if explicit is not None else max(self._now(), ts["modified"] + 1)
        order["date_modified"] = order["date_modified_gmt"] = _wp_date(ts["modified"])

    def _set_status(self, order, new):
        old = order["status"]
        if new not in ORDER_STATUSES and new not in self.custom_statuses:
            raise ValueError("unknown status %r" % new)
        if new == old:
            return
        order["status"] = new
        now = _wp_date(self._now())
        if new in PAID_STATUSES and not order["date_paid_gmt"]:
            order["date_paid"] = order["date_paid_gmt"] = now
        if new == "completed":
            order["date_completed"] = order["date_completed_gmt"] = now
        order["is_editable"] = new in ("pending", "on-hold", "checkout-draft")
        order["needs_payment"] = new in ("pending", "failed")
        names = dict(STATUS_NAMES, **self.custom_statuses)
        self._add_note(order["id"], "Order status changed from %s to %s." % (
            names.get(old, old), names.get(new, new)))

    def _apply_changes(self, order, changes, bump=True):
        explicit_ts = None
        for key, value in changes.items():
            if key == "status":
                self._set_status(order, value)
            elif key in ("email", "first_name", "last_name"):
                order["billing"][key] = value
                if key != "email":
                    order["shipping"][key] = value
            elif key in ("billing", "shipping") and isinstance(value, dict):
                order[key].update(value)
            elif key == "meta_data":
                for m in value or []:
                    existing = [x for x in order["meta_data"] if x["key"] == m.get("key")]
                    if existing:
                        existing[0]["value"] = m.get("value")
                    else:
                        order["meta_data"].append({"id": len(order["meta_data"]) + 1000 + order["id"],
                                                   "key": m.get("key"), "value": m.get("value")})
            elif key == "items":
                order["line_items"] = [self._line_item(*(tuple(it) if not isinstance(it, dict) else
                                                         (it["product_id"], it.get("quantity", 1),
                                                          it.get("total")))) for it in value]
                order["total"] = _money(sum((Decimal(li["total"]) for li in order["line_items"]),
                                            Decimal(0)) + Decimal(order["shipping_total"]))
            elif key in ("date_modified_gmt", "date_modified"):
                explicit_ts = int(_parse_iso(value))
            elif key in ("date_created_gmt", "date_created"):
                self._ts[order["id"]]["created"] = int(_parse_iso(value))
                order["date_created"] = order["date_created_gmt"] = _wp_date(_parse_iso(value))
            elif key == "set_paid":
                if _to_bool(value):
                    self._set_status(order, "processing")
            elif key in ("id", "_links"):
                continue
            else:
                order[key] = value
        if bump or explicit_ts is not None:
            self._bump_modified(order, explicit_ts)

    def update_order(self, order_id, **changes):
        """Change an order like a shop admin would; answers the new order."""
        with self._lock:
            order = self.orders[int(order_id)]
            self._apply_changes(order, changes)
            return copy.deepcopy(order)

    def complete_order(self, order_id):
        return self.update_order(order_id, status="completed")

    def _refunded_total(self, order):
        return sum((-Decimal(r["total"]) for r in order["refunds"]), Decimal(0))

    def refund_order(self, order_id, amount_str, line_items=None, reason="",
                     refunded_payment=False, restock=False):
        """Record a manual refund (wc_create_refund); raises ValueError
        "Invalid refund amount." when it exceeds what is left."""
        with self._lock:
            order = self.orders[int(order_id)]
            amount = Decimal(str(amount_str))
            remaining = Decimal(order["total"]) - self._refunded_total(order)
            if amount < 0 or amount > remaining:
                raise ValueError("Invalid refund amount.")
            rid = self._new_post_id()
            now = _wp_date(self._now())
            items = []
            for li in line_items or []:
                src = next((x for x in order["line_items"] if x["id"] == int(li.get("id", 0))), None)
                rt = Decimal(str(li.get("refund_total", 0) or 0))
                taxes = [{"id": int(t.get("id", 0)), "total": _money(-Decimal(str(t.get("refund_total", 0) or 0))),
                          "subtotal": ""} for t in li.get("refund_tax") or []]
                rtax = sum((Decimal(str(t.get("refund_total", 0) or 0)) for t in li.get("refund_tax") or []),
                           Decimal(0))
                prod = self.products.get(src["product_id"]) if src else None
                if restock and prod and prod["manage_stock"] and int(li.get("quantity", 0) or 0) > 0:
                    # wc_restock_refunded_items: managed stock goes back up
                    prod["stock_quantity"] += int(li["quantity"])
                    if prod["stock_quantity"] > 0:
                        prod["stock_status"] = "instock"
                items.append({"id": self._next_item(), "name": src["name"] if src else "",
                              "product_id": src["product_id"] if src else 0, "variation_id": 0,
                              "quantity": -abs(int(li.get("quantity", 0) or 0)), "tax_class": "",
                              "subtotal": _money(-rt), "subtotal_tax": _money(-rtax),
                              "total": _money(-rt), "total_tax": _money(-rtax), "taxes": taxes,
                              "meta_data": [{"id": 0, "key": "_refunded_item_id",
                                             "value": str(li.get("id"))}],
                              "sku": src["sku"] if src else "", "price": -float(rt)})
            refund = {"id": rid, "date_created": now, "date_created_gmt": now,
                      "amount": _money(amount), "reason": reason, "refunded_by": 1,
                      "refunded_payment": bool(refunded_payment), "meta_data": [],
                      "line_items": items,
                      "_links": self._links("/orders/%d/refunds/%d" % (order["id"], rid),
                                            "/orders/%d/refunds" % order["id"],
                                            {"up": [{"href": "%s%s/orders/%d" % (
                                                self.home_url, REST_PREFIX, order["id"])}]})}
            self.refunds[rid] = refund
            order["refunds"].insert(0, {"id": rid, "reason": reason, "total": _money(-amount)})
            if self._refunded_total(order) >= Decimal(order["total"]):
                self._set_status(order, "refunded")
            self._bump_modified(order)
            return copy.deepcopy(refund)

    def _next_item(self):
        self._item_seq += 1
        return self._item_seq

    def _fully_refunded(self, order):
        return self._refunded_total(order) >= Decimal(order["total"]) and Decimal(order["total"]) > 0

    def bought(self, email, product_id):
        """wc_customer_bought_product(): a paid, not fully refunded order
        billed to ``email`` contains the product."""
        email = (email or "").strip().lower()
        with self._lock:
            for o in self.orders.values():
                if o["billing"].get("email", "").lower() != email:
                    continue
                if o["status"] not in PAID_STATUSES or self._fully_refunded(o):
                    continue
                if any(li["product_id"] == int(product_id) for li in o["line_items"]):
                    return True
        return False

    # ----- signing helpers for tests --------------------------------------

    def oauth_params(self, method, path, params=None, ts=None, nonce=None,
                     method_name="HMAC-SHA256", ck=None, cs=None, base=None):
        """All query parameters for an OAuth-signed request to ``path``."""
        ck = ck or self.consumer_key
        cs = cs or self.consumer_secret
        ts = int(self.clock()) if ts is None else ts
        nonce = nonce or _random_key(32)
        url = (base or self.home_url) + path
        _, sig = oauth_sign(method, url, params or {}, ck, cs, ts, nonce, method_name)
        out = dict(params or {})
        out.update({"oauth_consumer_key": ck, "oauth_nonce": nonce,
                    "oauth_signature_method": method_name, "oauth_timestamp": str(ts),
                    "oauth_signature": sig})
        return out

    def signed_url(self, method, path, params=None, **kw):
        """``base_url + path + ?...oauth...`` ready for requests/curl."""
        if not path.startswith("/"):
            path = REST_PREFIX + "/" + path
        q = self.oauth_params(method, path, params, **kw)
        return self.base_url + path + "?" + urlencode(q, quote_via=quote)

    # ----- webhooks out ----------------------------------------------------

    def send_webhook(self, url, topic, payload, secret, webhook_id=1):
        """Deliver one webhook like WC_Webhook::deliver(); -> (status, body).
        status is None when the connection failed or timed out (60 s)."""
        body = php_json(payload).strip().encode("utf-8")
        resource, _, event = topic.partition(".")
        delivery_id = hashlib.md5(("%s%d" % (webhook_id, int(time.time()))).encode()).hexdigest()
        headers = [("User-Agent", HOOKSHOT_UA),
                   ("Content-Type", "application/json"),
                   ("X-WC-Webhook-Source", self.home_url + "/"),
                   ("X-WC-Webhook-Topic", topic),
                   ("X-WC-Webhook-Resource", resource),
                   ("X-WC-Webhook-Event", event),
                   ("X-WC-Webhook-Signature", webhook_signature(secret, body)),
                   ("X-WC-Webhook-ID", str(webhook_id)),
                   ("X-WC-Webhook-Delivery-ID", delivery_id),
                   ("Connection", "close")]
        status, text, error = _raw_post(url, body, headers, timeout=60, http_version="1.0")
        with self._lock:
            self.deliveries.append({"url": url, "topic": topic, "webhook_id": webhook_id,
                                    "delivery_id": delivery_id, "body": body.decode("utf-8"),
                                    "status": status, "response": text, "error": error,
                                    "time": time.time()})
            wh = self.webhooks.get(webhook_id)
            if wh is not None:   # §4.6: 200..302 is success; the 7th failure disables
                if status is not None and 200 <= status < 303:
                    wh["failure_count"] = 0
                elif wh["failure_count"] > 5:
                    wh["status"] = "disabled"
                else:
                    wh["failure_count"] += 1
        return status, text if error is None else error

    def webhook_payload(self, topic, resource_id):
        """The body WooCommerce would build at delivery time (§4.4)."""
        resource, _, event = topic.partition(".")
        if resource == "action":
            return {"action": event, "arg": resource_id}
        if event == "deleted":
            return {"id": resource_id}
        store = {"order": self.orders, "product": self.products, "coupon": self.coupons}.get(resource, {})
        with self._lock:
            obj = store.get(int(resource_id))
            if obj is None:
                return {"code": "woocommerce_rest_shop_%s_invalid_id" % resource,
                        "message": "Invalid ID.", "data": {"status": 404}}
            return self._order_out(obj) if resource == "order" else copy.deepcopy(obj)

    def _order_out(self, order):
        """An order as REST shows it: a copy, where a line whose product was
        deleted names product 0 (WooCommerce reads the product at output)."""
        o = copy.deepcopy(order)
        for li in o.get("line_items", []):
            if li.get("product_id", 0) > 0 and li["product_id"] not in self.products:
                li["product_id"] = 0
        return o

    def order_webhook(self, url, secret, order_id, topic="order.updated", webhook_id=1):
        """Send the current order (or {"id"}/action payload) to ``url``."""
        return self.send_webhook(url, topic, self.webhook_payload(topic, order_id), secret, webhook_id)

    def fire(self, topic, resource_id):
        """Deliver ``topic`` to every active registered webhook with that topic."""
        with self._lock:
            targets = [dict(w) for w in self.webhooks.values()
                       if w["status"] == "active" and w["topic"] == topic]
        return [self.send_webhook(w["delivery_url"], topic, self.webhook_payload(topic, resource_id),
                                  w["secret"], w["id"]) for w in targets]

    def send_ping(self, url, webhook_id):
        """WC_Webhook::deliver_ping(): form body, no X-WC-* headers, 5 s."""
        body = ("webhook_id=%d" % int(webhook_id)).encode()
        headers = [("User-Agent", HOOKSHOT_UA),
                   ("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"),
                   ("Connection", "close")]
        status, text, error = _raw_post(url, body, headers, timeout=5, http_version="1.1")
        rec = {"webhook_id": int(webhook_id), "url": url, "status": status, "body": text,
               "error": error, "time": time.time()}
        with self._lock:
            self.pings.append(rec)
        return status, text if error is None else error

    # ----- request handling -------------------------------------------------

    def _handle(self, h):
        """Entry point for every HTTP request."""
        try:
            self._handle_inner(h)
        except Exception:  # never hang a client on a bug in the fake
            traceback.print_exc()
            try:
                self._send(h, _Resp(500, {"code": "internal_server_error",
                                          "message": WP_CRITICAL_ERROR,
                                          "data": {"status": 500}, "additional_errors": []}))
            except OSError:
                pass

    def _read_body(self, h):
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            return b"".join(chunks)
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length else b""

    def _drop(self, h):
        """Close the connection without answering."""
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, h, resp):
        data = b"" if resp.body is None else php_json(resp.body).encode("utf-8")
        h.send_response(resp.status)
        h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("X-Robots-Tag", "noindex")
        for k, v in resp.headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def _handle_inner(self, h):
        parts = urlsplit(h.path)
        path = parts.path
        query = _parse_query(parts.query)
        raw = self._read_body(h)
        method = h.command.upper()

        if path.startswith("/_fake/"):
            return self._send(h, self._control(h, method, path, query, raw))

        ctype = h.headers.get("Content-Type", "").lower()
        body_json, json_error = None, False
        if raw and ("json" in ctype or raw.lstrip()[:1] in (b"{", b"[")) and "x-www-form" not in ctype:
            try:
                body_json = json.loads(raw.decode("utf-8"))
            except ValueError:
                json_error = True
        form = _parse_query(raw.decode("utf-8", "replace")) if "x-www-form-urlencoded" in ctype else {}

        record = {"method": method, "path": path, "query": dict(query),
                  "headers": dict(h.headers.items()), "json": body_json,
                  "body": raw.decode("utf-8", "replace"), "raw": raw,
                  "time": time.time(), "status": None, "outcome": "answered"}
        with self._lock:
            self._calls.append(record)

        def answer(resp, outcome="answered"):
            with self._lock:
                record["status"] = resp.status
                record["outcome"] = outcome
            self._send(h, resp)

        if self._down:
            record["outcome"] = "down"
            return self._drop(h)

        injected = self._take_failure(path, method)
        if injected == "timeout":
            record["outcome"] = "timeout"
            deadline = time.time() + self.timeout_seconds
            with self._cv:
                while not self._stopping and not self._down and time.time() < deadline:
                    self._cv.wait(min(0.5, max(0.0, deadline - time.time())))
            return self._drop(h)
        if injected == 500:
            return answer(_Resp(500, {"code": "internal_server_error", "message": WP_CRITICAL_ERROR,
                                      "data": {"status": 500}, "additional_errors": []}), "failed")
        if injected == 429:
            return answer(wc_error("rest_too_many_requests",
                                   "Too many requests. Please wait and try again.", 429,
                                   headers=[("Retry-After", str(self.retry_after))]), "failed")
        if injected == 401:
            return answer(wc_error("woocommerce_rest_authentication_error",
                                   "Invalid signature - provided signature does not match.", 401,
                                   headers=[("WWW-Authenticate", BASIC_REALM)]), "failed")

        # WordPress core (wp/v2): its own authentication, WooCommerce keys ignored.
        wp_route = None
        if path.startswith(WP_PREFIX + "/"):
            wp_route = path[len(WP_PREFIX):]
        elif str(query.get("rest_route", "")).startswith("/wp/v2/"):
            wp_route = str(query["rest_route"])[len("/wp/v2"):]
        if wp_route is not None:
            if json_error:
                return answer(wc_error("rest_invalid_json", "Invalid JSON body passed.", 400,
                                       {"json_error_code": 4, "json_error_message": "Syntax error"}))
            params = dict(query)
            params.pop("rest_route", None)
            params.update(form)
            if isinstance(body_json, dict):
                params.update(body_json)
            return answer(self._wp_route(h, method, wp_route.rstrip("/") or "/", params))

        # Which REST route?  Pretty permalinks or ?rest_route=.
        if path.startswith(REST_PREFIX + "/") or path == REST_PREFIX:
            route = path[len(REST_PREFIX):]
        elif "rest_route" in query and str(query["rest_route"]).startswith("/wc/v3"):
            route = str(query["rest_route"])[len("/wc/v3"):]
        else:
            return answer(wc_error("rest_no_route", "No route was found matching the URL and request method.", 404))

        if json_error:
            return answer(wc_error("rest_invalid_json", "Invalid JSON body passed.", 400,
                                   {"json_error_code": 4, "json_error_message": "Syntax error"}))

        # Authentication runs before routing (rest_authentication_errors).
        auth = self._authenticate(h, method, path, query, form)
        if isinstance(auth, _Resp):
            return answer(auth)

        params = dict(query)
        params.update(form)
        if isinstance(body_json, dict):
            params.update(body_json)
        resp = self._route(method, route, params, query, auth, body_json)
        if injected == "timeout_after":
            # The shop did the work (a refund was created) but the answer
            # never arrives: the client times out (tests of exactly-once).
            record["outcome"] = "timeout"
            record["status"] = resp.status
            deadline = time.time() + self.timeout_seconds
            with self._cv:
                while not self._stopping and not self._down and time.time() < deadline:
                    self._cv.wait(min(0.5, max(0.0, deadline - time.time())))
            return self._drop(h)
        answer(resp)

    # ----- authentication (§1) --------------------------------------------

    def _authenticate(self, h, method, path, query, form):
        """Returns "key" when authenticated, None when anonymous, or an error _Resp."""
        if self.https:
            user, err = self._basic_auth(h, query)
            if user:
                return user
            if err is not None:
                # WC keeps the Basic error unless OAuth (tried only when oauth_*
                # parameters are present) succeeds or replaces it with its own.
                oauth = self._oauth(h, method, path, query, form)
                return err if oauth is None else oauth
        return self._oauth(h, method, path, query, form)

    def _basic_auth(self, h, query):
        ck = cs = None
        auth = h.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                user, _, pw = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                if user and pw:
                    ck, cs = user, pw
            except (ValueError, UnicodeDecodeError):
                pass
        if query.get("consumer_key") and query.get("consumer_secret"):
            ck, cs = query["consumer_key"], query["consumer_secret"]
        if not ck or not cs or ck != self.consumer_key:
            return None, None        # unknown key: anonymous
        if not hmac.compare_digest(cs.encode(), self.consumer_secret.encode()):
            return None, wc_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.",
                                  401, headers=[("WWW-Authenticate", BASIC_REALM)])
        return "key", None

    def _oauth(self, h, method, path, query, form):
        params = dict(query)
        params.update(form)
        params.update(_parse_oauth_header(h.headers.get("Authorization", "")))
        required = ["oauth_consumer_key", "oauth_timestamp", "oauth_nonce",
                    "oauth_signature", "oauth_signature_method"]
        missing = [p for p in required if not params.get(p)]
        if len(missing) == len(required):
            return None              # not trying OAuth: anonymous
        err = lambda msg: wc_error("woocommerce_rest_authentication_error", msg, 401,
                                   headers=[("WWW-Authenticate", BASIC_REALM)])
        if missing:
            msg = ("Missing OAuth parameter %s" if len(missing) == 1 else
                   "Missing OAuth parameters %s") % ", ".join(missing)
            return wc_error("woocommerce_rest_authentication_missing_parameter", msg, 401,
                            headers=[("WWW-Authenticate", BASIC_REALM)])
        if params["oauth_consumer_key"] != self.consumer_key:
            return err("Consumer key is invalid.")
        provided = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
        sig_method = params["oauth_signature_method"]
        if sig_method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return err("Invalid signature - signature method is invalid.")
        # get_home_url(null, $request_path): home + "/" + path without the leading "/".
        rel = path[1:] if path.startswith("/") else path
        homes = [self.home_url]
        if self.https:
            homes.append(self.base_url)   # courtesy, see module docstring
        ok = False
        for home in homes:
            base_url = home + ("/" + rel.lstrip("/") if rel else "")
            expected = _oauth_digest(sig_method, self.consumer_secret + "&",
                                     oauth_base_string(method, base_url, params))
            if hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
                ok = True
        if not ok:
            return err("Invalid signature - provided signature does not match.")
        try:
            ts = int(params["oauth_timestamp"])
        except ValueError:
            ts = 0
        now = time.time()
        if ts < now - OAUTH_WINDOW or ts > now + OAUTH_WINDOW:
            return err("Invalid timestamp.")
        nonce = params["oauth_nonce"]
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if t >= now - OAUTH_WINDOW}
            if nonce in self._nonces:
                return err("Invalid nonce - nonce has already been used.")
            self._nonces[nonce] = ts
        if self.permissions == "read" and method not in ("GET", "HEAD", "OPTIONS"):
            return err("The API key provided does not have write permissions.")
        return "key"

    # ----- routing ----------------------------------------------------------

    # (method, regex, handler name, permission kind for anonymous callers)
    ROUTES = [
        ("GET", r"/orders", "_orders_list", "list"),
        ("POST", r"/orders", "_order_create", "create"),
        ("GET", r"/orders/(\d+)", "_order_get", "view"),
        ("PUT|POST|PATCH", r"/orders/(\d+)", "_order_update", "edit"),
        ("GET", r"/orders/(\d+)/notes", "_notes_list", "list"),
        ("POST", r"/orders/(\d+)/notes", "_note_create", "create"),
        ("GET", r"/orders/(\d+)/refunds", "_refunds_list", "list"),
        ("POST", r"/orders/(\d+)/refunds", "_refund_create", "create"),
        ("GET", r"/coupons", "_coupons_list", "list"),
        ("POST", r"/coupons", "_coupon_create", "create"),
        ("GET", r"/coupons/(\d+)", "_coupon_get", "view"),
        ("GET", r"/products", "_products_list", "list"),
        ("GET", r"/products/(\d+)", "_product_get", "view"),
        ("GET", r"/products/reviews", "_reviews_list", "list"),
        ("POST", r"/products/reviews", "_review_create", "create"),
        ("GET", r"/products/reviews/(\d+)", "_review_get", "view"),
        ("PUT|POST|PATCH", r"/products/reviews/(\d+)", "_review_update", "edit"),
        ("GET", r"/webhooks", "_webhooks_list", "list"),
        ("POST", r"/webhooks", "_webhook_create", "create"),
        ("GET", r"/webhooks/(\d+)", "_webhook_get", "view"),
        ("PUT|POST|PATCH", r"/webhooks/(\d+)", "_webhook_update", "edit"),
        ("DELETE", r"/webhooks/(\d+)", "_webhook_delete", "delete"),
    ]

    DENIED = {
        "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
        "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
        "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
        "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    }

    def _route(self, method, route, params, query, auth, body_json):
        route = route.rstrip("/") or "/"
        m_eff = "GET" if method == "HEAD" else method
        for methods, pattern, handler, kind in self.ROUTES:
            m = re.fullmatch(pattern, route)
            if not m or m_eff not in methods.split("|"):
                continue
            if auth is None:
                code, msg = self.DENIED[kind]
                return wc_error(code, msg, 401)
            with self._lock:
                return getattr(self, handler)(*([int(g) for g in m.groups()] + [params, query, body_json]))
        if method == "OPTIONS":
            return _Resp(200, {"namespace": "wc/v3", "methods": [], "endpoints": []})
        return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)

    def _paginate(self, items, params, query, route):
        """Apply page/per_page/offset and build X-WP-* and Link headers."""
        errors = {}
        per_page = params.get("per_page", 10)
        page = params.get("page", 1)
        if not _is_int(per_page):
            errors["per_page"] = "per_page is not of type integer."
        elif not 1 <= int(per_page) <= 100:
            errors["per_page"] = "per_page must be between 1 (inclusive) and 100 (inclusive)"
        if not _is_int(page):
            errors["page"] = "page is not of type integer."
        elif int(page) < 1:
            errors["page"] = "page must be greater than or equal to 1"
        if errors:
            return _invalid_params(errors)
        per_page, page = int(per_page), int(page)
        offset = int(params["offset"]) if _is_int(params.get("offset", "x")) else (page - 1) * per_page
        total = len(items)
        pages = (total + per_page - 1) // per_page
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
        # WordPress builds Link from all query parameters (oauth_* included).
        links = []
        base = self.home_url + REST_PREFIX + route

        def link(p, rel):
            q = dict(query)
            q["page"] = str(p)
            return '<%s?%s>; rel="%s"' % (base, urlencode(q, doseq=True), rel)
        if page > 1 and pages:
            links.append(link(min(page - 1, pages), "prev"))
        if page < pages:
            links.append(link(page + 1, "next"))
        if links:
            headers.append(("Link", ", ".join(links)))
        return _Resp(200, items[offset:offset + per_page], headers)

    # ----- orders ----------------------------------------------------------

    def _orders_list(self, params, query, body):
        items = list(self.orders.values())
        status = params.get("status", "any")
        statuses = status if isinstance(status, list) else [s for s in str(status).split(",") if s]
        known = ORDER_STATUSES + list(self.custom_statuses)
        bad = [s for s in statuses if s not in known and s != "any"]
        if bad:
            return _invalid_params({"status": "status[%d] is not one of any, %s." % (
                statuses.index(bad[0]), ", ".join(known))})
        if "any" not in statuses:
            items = [o for o in items if o["status"] in statuses]
        elif "trash" not in statuses:
            items = [o for o in items if o["status"] not in ("trash", "checkout-draft")]
        # Date filters: WP date_query 'after'/'before' are exclusive (strict).
        for name, column, cmp in (("after", "created", 1), ("before", "created", -1),
                                  ("modified_after", "modified", 1), ("modified_before", "modified", -1)):
            if name in params:
                ts = _parse_iso(params[name])
                if ts is None:
                    return _invalid_params({name: "Invalid date."})
                items = [o for o in items
                         if (self._ts[o["id"]][column] - ts) * cmp > 0]
        if params.get("customer") not in (None, ""):
            if not _is_int(params["customer"]):
                return _invalid_params({"customer": "customer is not of type integer."})
            items = [o for o in items if o["customer_id"] == int(params["customer"])]
        if params.get("product") not in (None, ""):
            items = [o for o in items if any(li["product_id"] == int(params["product"])
                                             for li in o["line_items"])]
        if params.get("include"):
            inc = params["include"] if isinstance(params["include"], list) else str(params["include"]).split(",")
            inc = {int(x) for x in inc}
            items = [o for o in items if o["id"] in inc]
        if params.get("parent"):
            par = params["parent"] if isinstance(params["parent"], list) else str(params["parent"]).split(",")
            par = {int(x) for x in par}
            items = [o for o in items if o.get("parent_id") in par]
        if params.get("search"):
            s = str(params["search"]).lower()
            items = [o for o in items if s in php_json([o["billing"], o["shipping"],
                                                         [li["name"] for li in o["line_items"]]]).lower()]
        orderby = params.get("orderby", "date")
        key = {"id": lambda o: o["id"],
               "modified": lambda o: (self._ts[o["id"]]["modified"], o["id"])}.get(
            orderby, lambda o: (self._ts[o["id"]]["created"], o["id"]))
        items.sort(key=key, reverse=str(params.get("order", "desc")).lower() != "asc")
        return self._paginate([self._order_out(o) for o in items], params, query, "/orders")

    def _order_get(self, oid, params, query, body):
        order = self.orders.get(oid)
        if order is None:
            return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return _Resp(200, self._order_out(order))

    def _order_update(self, oid, params, query, body):
        order = self.orders.get(oid)
        if order is None:
            return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
        body = body if isinstance(body, dict) else {}
        err = _check_types(body, {"status": "string", "customer_id": "integer", "billing": "object",
                                  "shipping": "object", "meta_data": "array",
                                  "customer_note": "string", "transaction_id": "string",
                                  "set_paid": "boolean"})
        if err:
            return err
        known = ORDER_STATUSES + list(self.custom_statuses)
        if "status" in body and body["status"] not in known:
            return _invalid_params({"status": "status is not one of %s." % ", ".join(known)})
        allowed = ("status", "customer_id", "billing", "shipping", "meta_data", "customer_note",
                   "transaction_id", "set_paid", "payment_method", "payment_method_title", "currency")
        changes = {k: v for k, v in body.items() if k in allowed}
        if "customer_id" in changes:
            changes["customer_id"] = int(changes["customer_id"])
        self._apply_changes(order, changes)
        return _Resp(200, copy.deepcopy(order))

    def _notes_list(self, oid, params, query, body):
        if oid not in self.orders:
            return wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        kind = params.get("type", "any")
        notes = [n for (o, n) in self.notes.values() if o == oid]
        if kind == "customer":
            notes = [n for n in notes if n["customer_note"]]
        elif kind == "internal":
            notes = [n for n in notes if not n["customer_note"]]
        notes.sort(key=lambda n: n["id"], reverse=True)
        return _Resp(200, copy.deepcopy(notes))

    def _note_create(self, oid, params, query, body):
        if "note" not in params:
            return _missing_params(["note"])
        err = _check_types(params, {"note": "string", "customer_note": "boolean",
                                    "added_by_user": "boolean"})
        if err:
            return err
        if oid not in self.orders:
            return wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        author = "admin" if _to_bool(params.get("added_by_user", False)) else "WooCommerce"
        note = self._add_note(oid, params["note"], _to_bool(params.get("customer_note", False)), author)
        return _Resp(201, copy.deepcopy(note),
                     [("Location", "%s%s/orders/%d/notes/%d" % (self.home_url, REST_PREFIX, oid, note["id"]))])

    def _order_create(self, params, query, body):
        """POST /orders: line items by product (price from the item's
        total, as sent), parent_id, customer, addresses, meta_data; stock
        of managed products goes down for a paid status (as WooCommerce
        does when an order is paid)."""
        err = _check_types(params, {"status": "string", "customer_id": "integer",
                                    "line_items": "array", "meta_data": "array",
                                    "parent_id": "integer", "billing": "object",
                                    "shipping": "object", "set_paid": "boolean"})
        if err:
            return err
        items = []
        for li in params.get("line_items") or []:
            pid = int(li.get("product_id", 0) or 0)
            if pid not in self.products:
                return wc_error("woocommerce_rest_invalid_product_id",
                                "Product ID %d is invalid." % pid, 400)
            qty = int(li.get("quantity", 1) or 1)
            total = li.get("total")
            if total is None:
                total = _money(Decimal(self.products[pid]["price"] or "0") * qty)
            items.append((pid, qty, str(total)))
        billing = params.get("billing") or {}
        o = self.add_order(status=params.get("status", "pending"),
                           customer_id=int(params.get("customer_id", 0) or 0),
                           email=billing.get("email", ""), first_name=billing.get("first_name", ""),
                           last_name=billing.get("last_name", ""), items=items)
        with self._lock:
            order = self.orders[o["id"]]
            order["parent_id"] = int(params.get("parent_id", 0) or 0)
            order["created_via"] = "rest-api"
            order["meta_data"] = [{"id": self._next_item(), "key": m.get("key"), "value": m.get("value")}
                                  for m in params.get("meta_data") or []]
            if params.get("shipping"):
                order["shipping"].update(params["shipping"])
            if order["status"] in PAID_STATUSES:
                for li in order["line_items"]:
                    prod = self.products.get(li["product_id"])
                    if prod and prod["manage_stock"]:
                        prod["stock_quantity"] -= li["quantity"]
                        if prod["stock_quantity"] <= 0:
                            prod["stock_status"] = "outofstock"
            out = copy.deepcopy(order)
        return _Resp(201, out, [("Location", out["_links"]["self"][0]["href"])])

    def _refunds_list(self, oid, params, query, body):
        if oid not in self.orders:
            return wc_error_bare("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        ids = [r["id"] for r in self.orders[oid]["refunds"]]
        return _Resp(200, [copy.deepcopy(self.refunds[i]) for i in ids if i in self.refunds])

    def _refund_create(self, oid, params, query, body):
        err = _check_types(params, {"amount": "string", "reason": "string", "line_items": "array",
                                    "api_refund": "boolean", "api_restock": "boolean"})
        if err:
            return err
        order = self.orders.get(oid)
        if order is None:
            return wc_error_bare("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        amount = params.get("amount")
        if amount in (None, ""):   # sum of refund_total + refund_tax when all numeric
            total = Decimal(0)
            for li in params.get("line_items") or []:
                total += _dec(li.get("refund_total", 0) or 0) or Decimal(0)
                for t in li.get("refund_tax") or []:
                    total += _dec(t.get("refund_total", 0) or 0) or Decimal(0)
            amount_d = total
        else:
            amount_d = _dec(amount) if _dec(amount) is not None else Decimal(0)
        if amount_d < 0:
            return wc_error_bare("woocommerce_rest_invalid_order_refund",
                                 "Refund amount must be greater than zero.", 400)
        remaining = Decimal(order["total"]) - self._refunded_total(order)
        if amount_d > remaining:
            return wc_error_bare("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
        if _to_bool(params.get("api_refund", True)):
            # bacs (and the fake's every gateway) cannot refund automatically;
            # the refund is rolled back.
            return wc_error_bare("woocommerce_rest_cannot_create_order_refund",
                                 "The payment gateway for this order does not support automatic refunds.",
                                 500)
        refund = self.refund_order(oid, str(amount_d), params.get("line_items"),
                                   params.get("reason", "") or "",
                                   restock=_to_bool(params.get("api_restock", True)))
        return _Resp(201, refund, [("Location", refund["_links"]["self"][0]["href"])])

    # ----- coupons ---------------------------------------------------------

    COUPON_TYPES = {"code": "string", "amount": "string", "discount_type": "string",
                    "description": "string", "date_expires": "string?", "date_expires_gmt": "string?",
                    "individual_use": "boolean", "product_ids": "array", "excluded_product_ids": "array",
                    "usage_limit": "integer?", "usage_limit_per_user": "integer?",
                    "limit_usage_to_x_items": "integer?", "free_shipping": "boolean",
                    "product_categories": "array", "excluded_product_categories": "array",
                    "exclude_sale_items": "boolean", "minimum_amount": "string",
                    "maximum_amount": "string", "email_restrictions": "array", "meta_data": "array"}

    def _coupon_create(self, params, query, body):
        if "code" not in params:
            return _missing_params(["code"])
        err = _check_types(params, self.COUPON_TYPES)
        if err:
            return err
        dtype = params.get("discount_type", "fixed_cart")
        if dtype not in ("percent", "fixed_cart", "fixed_product"):
            return _invalid_params({"discount_type": "discount_type is not one of percent, fixed_cart, fixed_product."})
        code = re.sub(r"<[^>]*>", "", params["code"]).strip().lower()
        if not code:
            return wc_error("woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.", 400)
        if any(c["code"] == code for c in self.coupons.values()):
            return wc_error("woocommerce_rest_coupon_code_already_exists", "The coupon code already exists", 400)
        cid = self._new_post_id()
        now = _wp_date(self._now())

        def m(name):
            d = _dec(params.get(name, "0") or "0")
            return _money(d if d is not None else 0)

        def ints(name):
            return [int(x) for x in params.get(name, []) if _is_int(x)]
        expires = params.get("date_expires_gmt") or params.get("date_expires")
        if expires and re.match(r"^\d{4}-\d{2}-\d{2}$", str(expires)):
            expires += "T00:00:00"  # a date alone is that day's midnight, as on WooCommerce 7.9.0
        exp_ts = _parse_iso(expires) if expires else None
        coupon = {"id": cid, "code": code, "amount": m("amount"), "status": "publish",
                  "date_created": now, "date_created_gmt": now,
                  "date_modified": now, "date_modified_gmt": now,
                  "discount_type": dtype, "description": params.get("description", ""),
                  "date_expires": _wp_date(exp_ts), "date_expires_gmt": _wp_date(exp_ts),
                  "usage_count": 0, "individual_use": _to_bool(params.get("individual_use", False)),
                  "product_ids": ints("product_ids"), "excluded_product_ids": ints("excluded_product_ids"),
                  "usage_limit": int(params["usage_limit"]) if params.get("usage_limit") is not None else None,
                  "usage_limit_per_user": int(params["usage_limit_per_user"])
                  if params.get("usage_limit_per_user") is not None else None,
                  "limit_usage_to_x_items": int(params["limit_usage_to_x_items"])
                  if params.get("limit_usage_to_x_items") is not None else None,
                  "free_shipping": _to_bool(params.get("free_shipping", False)),
                  "product_categories": ints("product_categories"),
                  "excluded_product_categories": ints("excluded_product_categories"),
                  "exclude_sale_items": _to_bool(params.get("exclude_sale_items", False)),
                  "minimum_amount": m("minimum_amount"), "maximum_amount": m("maximum_amount"),
                  "email_restrictions": [str(e).lower() for e in params.get("email_restrictions", [])],
                  "used_by": [], "meta_data": [{"id": i + 1, "key": x.get("key"), "value": x.get("value")}
                                               for i, x in enumerate(params.get("meta_data", []))],
                  "_links": self._links("/coupons/%d" % cid)}
        self.coupons[cid] = coupon
        return _Resp(201, copy.deepcopy(coupon), [("Location", coupon["_links"]["self"][0]["href"])])

    def _coupons_list(self, params, query, body):
        items = sorted(self.coupons.values(), key=lambda c: c["id"], reverse=True)
        if params.get("code"):
            code = str(params["code"]).lower()
            items = [c for c in items if c["code"] == code]
        return self._paginate(copy.deepcopy(items), params, query, "/coupons")

    def _coupon_get(self, cid, params, query, body):
        if cid not in self.coupons:
            return wc_error("woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", 404)
        return _Resp(200, copy.deepcopy(self.coupons[cid]))

    # ----- products and reviews ------------------------------------------

    def _products_list(self, params, query, body):
        items = sorted(self.products.values(), key=lambda p: p["id"], reverse=True)
        # include: ids as a comma list (or include[]); unknown or deleted
        # ids are simply absent from the answer, as in WooCommerce.
        inc = params.get("include", params.get("include[]"))
        if inc not in (None, ""):
            raw = inc if isinstance(inc, list) else str(inc).split(",")
            try:
                wanted = {int(x) for x in raw if str(x).strip() != ""}
            except ValueError:
                return _invalid_params({"include": "include[0] is not of type integer."})
            items = [p for p in items if p["id"] in wanted]
        return self._paginate(copy.deepcopy(items), params, query, "/products")

    def _product_get(self, pid, params, query, body):
        if pid not in self.products:
            return wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return _Resp(200, copy.deepcopy(self.products[pid]))

    def _review_out(self, r, raw=False):
        """The REST shape; `review` is wpautop()-wrapped when read (GET), but
        POST and PUT answer the stored text as sent, untrimmed (observed on
        WooCommerce 7.9.0: tests/realwoo)."""
        prod = self.products.get(r["product_id"], {})
        avatar = hashlib.md5(r["reviewer_email"].strip().lower().encode()).hexdigest()
        return {"id": r["id"], "date_created": r["date"], "date_created_gmt": r["date"],
                "product_id": r["product_id"], "product_name": prod.get("name", ""),
                "product_permalink": prod.get("permalink", ""), "status": r["status"],
                "reviewer": r["reviewer"], "reviewer_email": r["reviewer_email"],
                "review": ("%s" if raw else "<p>%s</p>\n") % r.get("raw", r["review"]),
                "rating": r["rating"],
                "verified": r["verified"],
                "reviewer_avatar_urls": {s: "https://secure.gravatar.com/avatar/%s?s=%s&d=mm&r=g" % (avatar, s)
                                         for s in ("24", "48", "96")},
                "_links": self._links("/products/reviews/%d" % r["id"], "/products/reviews",
                                      {"up": [{"href": "%s%s/products/%d" % (self.home_url, REST_PREFIX,
                                                                              r["product_id"])}]})}

    REVIEW_TYPES = {"product_id": "integer", "review": "string", "reviewer": "string",
                    "reviewer_email": "string", "rating": "integer", "status": "string",
                    "verified": "boolean"}
    REVIEW_STATUSES = ("approved", "hold", "spam", "unspam", "trash", "untrash")

    def _review_validate(self, params):
        err = _check_types(params, self.REVIEW_TYPES)
        if err:
            return err
        if "reviewer_email" in params and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", params["reviewer_email"]):
            return _invalid_params({"reviewer_email": "Invalid email address."})
        if "status" in params and params["status"] not in self.REVIEW_STATUSES:
            return _invalid_params({"status": "status is not one of %s." % ", ".join(self.REVIEW_STATUSES)})
        return None

    @staticmethod
    def _review_status(s, current="approved"):
        return {"unspam": "approved", "untrash": "approved"}.get(s, s) if s else current

    def _review_create(self, params, query, body):
        missing = [p for p in ("product_id", "review", "reviewer", "reviewer_email") if p not in params]
        if missing:
            return _missing_params(missing)
        err = self._review_validate(params)
        if err:
            return err
        pid = int(params["product_id"])
        if pid not in self.products:
            return wc_error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404)
        text = params["review"].strip()
        if not text:
            return wc_error("woocommerce_rest_review_content_invalid", "Invalid review content.", 400)
        email = params["reviewer_email"].strip()
        # WordPress' duplicate check (wp_allow_comment): same post, same text,
        # same author name and email.
        for r in self.reviews.values():
            if (r["product_id"] == pid and r["review"] == text and r["status"] != "trash" and
                    (r["reviewer_email"].lower() == email.lower() and r["reviewer"] == params["reviewer"])):
                return wc_error("woocommerce_rest_comment_duplicate",
                                "Duplicate comment detected; it looks as though you&#8217;ve already said that!", 409)
        rid = self._new_comment_id()
        review = {"id": rid, "product_id": pid, "review": text, "raw": params["review"],
                  "reviewer": params["reviewer"],
                  "reviewer_email": email, "rating": int(params.get("rating", 0) or 0),
                  "status": self._review_status(params.get("status")),
                  # `verified` on input is ignored: computed from purchases.
                  "verified": self.bought(email, pid), "date": _wp_date(self._now())}
        self.reviews[rid] = review
        out = self._review_out(review, raw=True)
        return _Resp(201, out, [("Location", out["_links"]["self"][0]["href"])])

    def _reviews_list(self, params, query, body):
        items = sorted(self.reviews.values(), key=lambda r: r["id"], reverse=True)
        status = params.get("status", "approved")
        if status != "all":
            items = [r for r in items if r["status"] == status]
        if params.get("product"):
            prods = params["product"] if isinstance(params["product"], list) else str(params["product"]).split(",")
            prods = {int(p) for p in prods}
            items = [r for r in items if r["product_id"] in prods]
        if params.get("reviewer_email"):
            items = [r for r in items if r["reviewer_email"].lower() == str(params["reviewer_email"]).lower()]
        return self._paginate([self._review_out(r) for r in items], params, query, "/products/reviews")

    def _review_get(self, rid, params, query, body):
        if rid not in self.reviews:
            return wc_error("woocommerce_rest_review_invalid_id", "Invalid review ID.", 404)
        return _Resp(200, self._review_out(self.reviews[rid]))

    def _review_update(self, rid, params, query, body):
        r = self.reviews.get(rid)
        if r is None:
            return wc_error("woocommerce_rest_review_invalid_id", "Invalid review ID.", 404)
        err = self._review_validate(params)
        if err:
            return err
        if "product_id" in params:
            if int(params["product_id"]) not in self.products:
                return wc_error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404)
            r["product_id"] = int(params["product_id"])
        if "review" in params:
            if not params["review"].strip():
                return wc_error("woocommerce_rest_review_content_invalid", "Invalid review content.", 400)
            r["review"] = params["review"].strip()
            r["raw"] = params["review"]
        for k in ("reviewer", "reviewer_email"):
            if k in params:
                r[k] = params[k]
        if "rating" in params:
            r["rating"] = int(params["rating"])
        if "status" in params:
            r["status"] = self._review_status(params["status"], r["status"])
        return _Resp(200, self._review_out(r, raw=True))

    # ----- WordPress comments (wp/v2): replies to reviews --------------------

    def replies(self, review_id):
        """Comments whose parent is ``review_id``, oldest first (copies)."""
        with self._lock:
            return [copy.deepcopy(c) for _, c in sorted(self.comments.items())
                    if c["parent"] == int(review_id)]

    @staticmethod
    def _app_password_key(password):
        """WordPress strips everything but [a-z0-9] (case-insensitive) from an
        application password before comparing, so spaces do not matter."""
        return re.sub(r"[^a-zA-Z0-9]", "", password or "")

    def _wp_user(self, h):
        """wp_validate_application_password(): "user" when HTTP Basic names
        the configured user and application password, None without Basic
        credentials (anonymous), or the 401 WordPress answers."""
        auth = h.headers.get("Authorization", "")
        if auth[:6].lower() != "basic ":
            return None
        try:
            user, sep, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if not sep or not user:
            return None
        if self.wp_user is None or user != self.wp_user:
            if "@" in user:
                return wc_error("invalid_email", "<strong>Error:</strong> Unknown email address. "
                                "Check again or try your username.", 401)
            return wc_error("invalid_username", "<strong>Error:</strong> Unknown username. "
                            "Check again or try your email address.", 401)
        given = self._app_password_key(password)
        wanted = self._app_password_key(self.wp_app_password)
        if not wanted or not hmac.compare_digest(given.encode(), wanted.encode()):
            return wc_error("incorrect_password",
                            "The provided password is an invalid application password.", 401)
        return "user"

    def _wp_route(self, h, method, route, params):
        if route == "/comments" and method == "POST":
            user = self._wp_user(h)
            if isinstance(user, _Resp):
                return user
            with self._lock:
                return self._wp_comment_create(user, params)
        return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)

    WP_COMMENT_TYPES = {"post": "integer", "parent": "integer", "author_name": "string",
                        "author_email": "string", "author_url": "string", "status": "string"}

    def _wp_comment_create(self, user, params):
        """WP_REST_Comments_Controller::create_item_permissions_check + create_item."""
        err = _check_types(params, self.WP_COMMENT_TYPES)
        if err:
            return err
        if user is None:
            return wc_error("rest_comment_login_required", "Sorry, you must be logged in to comment.", 401)
        post = int(params.get("post") or 0)
        if post not in self.products:
            return wc_error("rest_comment_invalid_post_id",
                            "Sorry, you are not allowed to create this comment without a post.", 403)
        if not self.products[post].get("reviews_allowed", True):
            return wc_error("rest_comment_closed", "Sorry, comments are closed for this item.", 403)
        content = params.get("content")
        if isinstance(content, dict):
            content = content.get("raw")
        if not isinstance(content, str) or not content.strip():
            return wc_error("rest_comment_content_invalid", "Invalid comment content.", 400)
        parent = int(params.get("parent") or 0)
        if parent:
            review = self.reviews.get(parent)
            comment = self.comments.get(parent)
            on_post = ((review is not None and review["product_id"] == post) or
                       (comment is not None and comment["post"] == post))
            if not on_post:
                return wc_error("rest_comment_invalid_parent", "Invalid parent comment ID.", 400)
        # Named author: no longer the logged-in user's comment (create_item's $missing_author).
        named = any(params.get(k) for k in ("author_name", "author_email", "author_url"))
        if named and not (params.get("author_name") and params.get("author_email")):
            return wc_error("rest_comment_author_data_required",
                            "Creating a comment requires valid author name and email values.", 400)
        if named:
            author, name, email = 0, params["author_name"], params["author_email"]
            status = "hold"      # "Comment author must have a previously approved comment"
        else:
            author, name = self.wp_user_id, self.wp_display_name
            email, status = "%s@example.com" % self.wp_user, "approved"
        for c in self.comments.values():   # wp_allow_comment(): the duplicate check
            if (c["post"] == post and c["parent"] == parent and c["content"]["raw"] == content and
                    c["author_name"] == name and (not email or c["author_email"] == email)):
                return wc_error("comment_duplicate",
                                "Duplicate comment detected; it looks as though you&#8217;ve already said that!", 409)
        cid = self._new_comment_id()
        now = _wp_date(self._now())
        avatar = hashlib.md5(email.strip().lower().encode()).hexdigest()
        comment = {
            "id": cid, "post": post, "parent": parent, "author": author, "author_name": name,
            "author_email": email, "author_url": params.get("author_url", ""),
            "author_ip": "127.0.0.1", "author_user_agent": "",
            "date": now, "date_gmt": now,
            "content": {"raw": content, "rendered": "<p>%s</p>\n" % content},
            "link": "%s#comment-%d" % (self.products[post]["permalink"], cid),
            "status": status, "type": "comment",
            "author_avatar_urls": {s: "https://secure.gravatar.com/avatar/%s?s=%s&d=mm&r=g" % (avatar, s)
                                   for s in ("24", "48", "96")},
            "meta": [],
            "_links": {"self": [{"href": "%s%s/comments/%d" % (self.home_url, WP_PREFIX, cid)}],
                       "collection": [{"href": "%s%s/comments" % (self.home_url, WP_PREFIX)}],
                       "up": [{"embeddable": True, "post_type": "product",
                               "href": "%s%s/product/%d" % (self.home_url, WP_PREFIX, post)}]},
        }
        if parent:
            comment["_links"]["in-reply-to"] = [{"embeddable": True, "href": "%s%s/comments/%d" % (
                self.home_url, WP_PREFIX, parent)}]
        self.comments[cid] = comment
        return _Resp(201, copy.deepcopy(comment), [("Location", comment["_links"]["self"][0]["href"])])

    # ----- webhooks (REST) ---------------------------------------------------

    @staticmethod
    def valid_topic(topic):
        """wc_is_webhook_valid_topic()."""
        if topic in ("action.woocommerce_login_credentials",
                     "action.woocommerce_product_csv_importer_check_import_file_path",
                     "action.woocommerce_webhook_should_deliver"):
            return False
        if topic.startswith("action.woocommerce_") or topic.startswith("action.wc_"):
            return True
        parts = topic.split(".")
        return (len(parts) == 2 and parts[0] in ("coupon", "customer", "order", "product") and
                parts[1] in ("created", "updated", "deleted", "restored"))

    HOOKS = {"order.created": ["woocommerce_new_order"],
             "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
             "order.deleted": ["wp_trash_post"], "order.restored": ["untrashed_post"]}

    def _webhook_out(self, w):
        out = {k: v for k, v in w.items() if k not in ("secret", "failure_count")}
        return copy.deepcopy(out)

    def _webhook_create(self, params, query, body):
        missing = [p for p in ("topic", "delivery_url") if p not in params]
        if missing:
            return _missing_params(missing)
        err = _check_types(params, {"name": "string", "status": "string", "topic": "string",
                                    "delivery_url": "string", "secret": "string"})
        if err:
            return err
        topic = params["topic"].strip().lower()
        if not topic or not self.valid_topic(topic):
            return wc_error("woocommerce_rest_shop_webhook_invalid_topic",
                            "Webhook topic is required and must be valid.", 400)
        url = params["delivery_url"].strip()
        if not re.match(r"^https?://[^/\s]+", url):
            return wc_error("woocommerce_rest_shop_webhook_invalid_delivery_url",
                            "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
        status = params.get("status", "active")
        if status not in ("active", "paused", "disabled"):
            return _invalid_params({"status": "status is not one of active, paused, disabled."})
        self._webhook_seq += 1
        wid = self._webhook_seq
        now = _wp_date(self._now())
        resource, _, event = topic.partition(".")
        hooks = [event] if resource == "action" else self.HOOKS.get(
            topic, ["woocommerce_%s_%s" % ({"created": "new"}.get(event, event), resource)])
        self.webhooks[wid] = {
            "id": wid, "name": params.get("name") or "Webhook created on %s" % now,
            "status": status, "topic": topic, "resource": resource, "event": event,
            "hooks": hooks, "delivery_url": url,
            "secret": params.get("secret") or _random_key(50),
            "date_created": now, "date_created_gmt": now,
            # null until the first update, as WooCommerce 7.9.0 answers (tests/realwoo)
            "date_modified": None, "date_modified_gmt": None,
            "failure_count": 0,
            "_links": self._links("/webhooks/%d" % wid)}
        out = self._webhook_out(self.webhooks[wid])
        # The ping goes out synchronously inside this request (§3.7, §4.5);
        # release the store lock so the receiver may call back into the shop.
        self._lock.release()
        try:
            self.send_ping(url, wid)
        finally:
            self._lock.acquire()
        return _Resp(201, out, [("Location", out["_links"]["self"][0]["href"])])

    def _webhooks_list(self, params, query, body):
        items = sorted(self.webhooks.values(), key=lambda w: w["id"], reverse=True)
        if params.get("status") and params["status"] != "all":
            items = [w for w in items if w["status"] == params["status"]]
        return self._paginate([self._webhook_out(w) for w in items], params, query, "/webhooks")

    def _webhook_get(self, wid, params, query, body):
        if wid not in self.webhooks:
            return wc_error("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        return _Resp(200, self._webhook_out(self.webhooks[wid]))

    def _webhook_update(self, wid, params, query, body):
        w = self.webhooks.get(wid)
        if w is None:
            return wc_error("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        if "topic" in params:
            if not self.valid_topic(str(params["topic"]).lower()):
                return wc_error("woocommerce_rest_shop_webhook_invalid_topic",
                                "Webhook topic is required and must be valid.", 400)
            w["topic"] = str(params["topic"]).lower()
            w["resource"], _, w["event"] = w["topic"].partition(".")
        for k in ("name", "status", "delivery_url", "secret"):
            if k in params:
                w[k] = params[k]
        w["date_modified"] = w["date_modified_gmt"] = _wp_date(self._now())
        return _Resp(200, self._webhook_out(w))

    def _webhook_delete(self, wid, params, query, body):
        w = self.webhooks.get(wid)
        if w is None:
            return wc_error("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        if not _to_bool(params.get("force", False)):
            return wc_error("woocommerce_rest_trash_not_supported",
                            "Webhooks do not support trashing.", 501)
        del self.webhooks[wid]
        return _Resp(200, self._webhook_out(w))

    # ----- control API (/_fake/...) -----------------------------------------

    def _control(self, h, method, path, query, raw):
        try:
            spec = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError:
            return _Resp(400, {"error": "body is not JSON"})
        try:
            return self._control_inner(h, method, path, query, spec)
        except (ValueError, KeyError, TypeError) as exc:
            return _Resp(400, {"error": "%s: %s" % (type(exc).__name__, exc)})

    def _control_inner(self, h, method, path, query, spec):
        if path == "/_fake/calls" and method == "GET":
            calls = self.calls(query.get("path_prefix"), query.get("method"))
            for c in calls:
                c.pop("raw", None)
            return _Resp(200, calls)
        if path == "/_fake/calls" and method == "DELETE":
            self.reset_calls()
            return _Resp(200, {"ok": True})
        if path == "/_fake/fail" and method == "POST":
            if "timeout_seconds" in spec:
                self.timeout_seconds = float(spec["timeout_seconds"])
            self.fail_next(int(spec.get("count", 1)), spec.get("status", 500), spec.get("path_prefix"),
                           spec.get("method"))
            return _Resp(200, {"ok": True})
        if path == "/_fake/down" and method == "POST":
            self.set_down(bool(spec.get("down", True)), _keep=h.connection)
            return _Resp(200, {"ok": True, "down": self._down})
        if path == "/_fake/orders" and method == "POST":
            spec = dict(spec)
            if "items" in spec:
                spec["items"] = [tuple(i) if isinstance(i, list) else i for i in spec["items"]]
            oid = spec.pop("id", None)
            if oid is not None and int(oid) in self.orders:
                return _Resp(200, self.update_order(int(oid), **spec))
            return _Resp(201, self.add_order(id=oid, **spec))
        m = re.fullmatch(r"/_fake/orders/(\d+)", path)
        if m and method == "GET":
            o = self.get_order(int(m.group(1)))
            return _Resp(200, o) if o else _Resp(404, {"error": "no such order"})
        m = re.fullmatch(r"/_fake/orders/(\d+)/refund", path)
        if m and method == "POST":
            return _Resp(201, self.refund_order(int(m.group(1)), spec["amount"], spec.get("line_items"),
                                                spec.get("reason", "")))
        if path == "/_fake/products" and method == "POST":
            return _Resp(201, self.add_product(spec.get("name", "Woo Single #1"), spec.get("price", "10.00"),
                                               spec.get("sku", ""), spec.get("id"),
                                               spec.get("categories", ()), spec.get("image")))
        if path == "/_fake/statuses" and method == "POST":
            slug = str(spec["slug"])
            if slug.startswith("wc-"):
                slug = slug[3:]
            self.custom_statuses[slug] = str(spec.get("label", slug))
            return _Resp(201, {"slug": slug, "label": self.custom_statuses[slug]})
        if path == "/_fake/webhook" and method == "POST":
            wid = int(spec.get("webhook_id", 1))
            if "payload" in spec:
                status, body = self.send_webhook(spec["url"], spec.get("topic", "order.updated"),
                                                 spec["payload"], spec["secret"], wid)
            else:
                status, body = self.order_webhook(spec["url"], spec["secret"], int(spec["order_id"]),
                                                  spec.get("topic", "order.updated"), wid)
            return _Resp(200, {"status": status, "body": body})
        if path == "/_fake/ping" and method == "POST":
            status, body = self.send_ping(spec["url"], int(spec.get("webhook_id", 1)))
            return _Resp(200, {"status": status, "body": body})
        if path == "/_fake/pings" and method == "GET":
            with self._lock:
                return _Resp(200, list(self.pings))
        if path == "/_fake/deliveries" and method == "GET":
            with self._lock:
                return _Resp(200, list(self.deliveries))
        if path == "/_fake/webhooks" and method == "GET":
            with self._lock:
                return _Resp(200, copy.deepcopy(list(self.webhooks.values())))
        if path == "/_fake/comments" and method == "GET":
            with self._lock:
                return _Resp(200, copy.deepcopy([c for _, c in sorted(self.comments.items())]))
        return _Resp(404, {"error": "unknown control endpoint %s %s" % (method, path)})


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake WooCommerce shop (see module docstring).")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--ck", default="ck_" + "0" * 40, help="consumer key")
    ap.add_argument("--cs", default="cs_" + "0" * 40, help="consumer secret")
    ap.add_argument("--https", action="store_true", help="behave as if behind TLS (is_ssl() true)")
    ap.add_argument("--timeout-seconds", type=float, default=30.0)
    ap.add_argument("--wp-user", default=None, help="WordPress user for /wp/v2/comments")
    ap.add_argument("--wp-app-password", default=None, help="that user's application password")
    args = ap.parse_args(argv)
    shop = FakeWoo(args.ck, args.cs, port=args.port, https=args.https, wp_user=args.wp_user,
                   wp_app_password=args.wp_app_password)
    shop.timeout_seconds = args.timeout_seconds
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    shop.start()
    print("fake_woo listening on %s" % shop.base_url, flush=True)
    while not done.wait(0.1):
        pass
    shop.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
