"""The WordPress plugin (wordpress/aftersale) inside the real shop.

The session's WordPress 6.1 + WooCommerce 7.9.0 (fixture `real_shop`) gets
the plugin copied into wp-content/plugins and activated; an aftersale
service of its own (`plug_svc`) sits behind a TLS front on 127.0.0.1, since
WooCommerce 7.9 posts the REST keys of its app authorisation only to an
https callback_url (includes/class-wc-auth.php, make_validation(): no
filter, no exception for 127.0.0.1). The front is this file's `TlsFront`
(a self-signed certificate made with openssl for IP 127.0.0.1); the shop
trusts it through a must-use plugin written into the TEST shop only
(`http_request_args` -> `sslcertificates`), never into the plugin. PUBLIC_URL
and the plugin's service URL are the front's https address, as in
production behind a reverse proxy.

The same must-use plugin turns on every PHP message (E_ALL) into a log file
of its own and off the pages; the last test asserts that the plugin's files
raised none during the whole module and that the PHP server logged no
warning or error.

A person's steps run in headless Chromium (tests/browser/plugin_shop.mjs):
the admin saves the settings and connects WooCommerce by approving the
real /wc-auth/v1/authorize page; a customer reads My Account > Points,
redeems, applies the coupon to the cart; with the service stopped the shop's
pages still load. The tests run in this order and build on each other (one
connection, one customer), in about a minute.

Screenshots: build/artifacts/screenshots/ (points.png is My Account > Points
after a redemption; settings.png, connected.png, cart.png, down.png).
"""

import json
import os
import re
import secrets
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from aftersale_it import Service, free_port
from browser_helpers import SHOTS
from real_helpers import (REAL_ENV, WAIT_S, RealLinked, assert_no_php_messages, browser_steps,  # noqa: F401
                          mu_plugin, product_id, unique_email, wait_for, watch_php, woo_db)
from woo_helpers import assert_no_secrets_in_logs, client, service_env


MU_NAME = "aftersale-plugin-tests.php"
MASK = "\u2022" * 8


# --------------------------------------------------------------------------
# the TLS front: https://127.0.0.1:PORT -> http://127.0.0.1:<service port>


def self_signed(folder):
    """A certificate for IP 127.0.0.1 and its key (openssl, P-256, 2 days)."""
    cert, key = folder / "front.crt", folder / "front.key"
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return cert, key


class TlsFront:
    """Terminates TLS on 127.0.0.1 and pipes the bytes to a plain-HTTP backend:
    one thread per connection, closed when either side closes or after 60 s idle."""

    def __init__(self, cert, key, backend_port):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.backend_port = backend_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        raw.settimeout(10)
        back = tls = None
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
            back = socket.create_connection(("127.0.0.1", self.backend_port), timeout=10)
            tls.settimeout(60)
            back.settimeout(60)
            while True:
                ready = [tls] if tls.pending() else select.select([tls, back], [], [], 60)[0]
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (back if s is tls else tls).sendall(data)
        except (OSError, ssl.SSLError):
            return
        finally:
            for s in (tls, back, raw):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    def stop(self):
        self.stopped.set()
        self.sock.close()


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def browser():
    with browser_steps("plugin_shop.mjs", "aftersale-plugin-chromium-") as run:
        yield run


@pytest.fixture(scope="module")
def tls_files():
    folder = Path(tempfile.mkdtemp(prefix="aftersale-tls-"))
    os.chmod(folder, 0o755)
    cert, key = self_signed(folder)
    os.chmod(cert, 0o644)
    yield cert, key
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def plug_svc(pg, base_env, woo_db, workdir, tls_files):  # noqa: F811
    """The service on its own database, behind the TLS front; PUBLIC_URL = the front."""
    port = free_port()
    front = TlsFront(*tls_files, port)
    env = dict(base_env)
    env.update(service_env(pg, woo_db, port, **REAL_ENV))
    env["PUBLIC_URL"] = front.url
    svc = Service(env, workdir / "logs", "realwoo-plugin")
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        front.stop()
        raise
    svc.db = woo_db
    svc.secrets = set()
    svc.front = front
    yield svc
    front.stop()
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


class PluginShop(RealLinked):
    """The service's shop linked to the real shop, with the plugin installed."""

    def __init__(self, svc, admin_client, shop, pg):
        super().__init__(svc, admin_client, shop)
        self.hook_url = svc.front.url + self.hook_path  # WooCommerce delivers through the front
        self.pg = pg
        self.state = {}

    def svc_query(self, sql, params=None):
        return self.pg.query(self.svc.db, sql, params)


@pytest.fixture(scope="module")
def plug(plug_svc, real_shop, admin_token, tls_files, pg):  # noqa: F811
    admin = client(plug_svc.url, admin_token)
    link = PluginShop(plug_svc, admin, real_shop, pg)
    link.settings(points_per_unit="10")
    watch_php(link, "aftersale-plugin-php.log")
    real_shop.add_mu_plugin(MU_NAME, mu_plugin(tls_files[0], plug_svc.front.port, link.error_log))
    link.activation = real_shop.install_aftersale()
    try:
        yield link
    finally:
        for h in link.shop_webhooks():
            real_shop.wc("DELETE", f"/webhooks/{h['id']}", {"force": "true"})
        real_shop.remove_aftersale()
        real_shop.remove_mu_plugin(MU_NAME)
        link.close()
        admin.close()


def admin_step(browser, plug, step, **spec):
    shop = plug.shop
    return browser(step, shop.admin_user, shop.admin_password, base=shop.url, **spec)


def option(shop, name):
    rows = shop.sql(f"SELECT option_value, autoload FROM wp_options WHERE option_name = '{name}'")
    return tuple(rows[0]) if rows else None


# --------------------------------------------------------------------------


def test_the_plugin_activates_in_the_real_shop(plug):
    shop = plug.shop
    assert plug.activation["active"] is True, plug.activation
    # the activation hook registered the My Account endpoint and flushed the rules once
    assert plug.activation["points_rules"], plug.activation
    [[active]] = shop.sql("SELECT option_value FROM wp_options WHERE option_name = 'active_plugins'")
    assert "aftersale/aftersale.php" in active and "woocommerce/woocommerce.php" in active
    # a visitor on My Account > Points gets WooCommerce's login form, not a 404
    with urllib.request.urlopen(shop.url + "/my-account/points/", timeout=30) as r:
        assert r.status == 200
        html = r.read().decode()
    assert "woocommerce-form-login" in html


def test_the_admin_saves_the_settings_in_chromium(plug, browser):
    shop = plug.shop
    out = admin_step(browser, plug, "settings", service_url=plug.svc.front.url,
                     api_key=plug.api_key, token_secret=plug.token_secret,
                     shot=str(SHOTS / "settings.png"))
    assert out["tab_title"] == "Aftersale", out
    assert any("Your settings have been saved" in n for n in out["notices"]), out["notices"]
    assert not [n for n in out["notices"] if "aftersale service" in n.lower()], out["notices"]
    # the secrets: masked, never echoed into the page, stored with autoload off
    assert out["api_key_value"] == ""
    assert out["api_key_placeholder"] == MASK + plug.api_key[-4:], out
    assert out["token_secret_placeholder"] == MASK + plug.token_secret[-4:], out
    assert out["html_has_api_key"] is False and out["html_has_token_secret"] is False
    assert option(shop, "aftersale_api_key") == (plug.api_key, "no")
    assert option(shop, "aftersale_token_secret") == (plug.token_secret, "no")
    assert option(shop, "aftersale_service_url")[0] == plug.svc.front.url
    # saving asked the service who the key belongs to (GET /v1/shop, through the front)
    assert option(shop, "aftersale_shop_id")[0] == str(plug.id)
    # the health panel answered from GET /v1/woocommerce/status: no webhooks yet
    assert out["service_url"] == plug.svc.front.url
    assert "Connect WooCommerce" in out["health"], out["health"]
    assert "Last delivery" in out["health"] and "never" in out["health"], out["health"]
    assert out["webhooks_active"].startswith("0"), out
    assert plug.svc.front.connections > 0


def test_connect_woocommerce_through_the_real_authorize_page(plug, browser):
    shop = plug.shop
    before = plug.api.get("/v1/shop").json()["consumer_key_hint"]
    assert before == "\u2026" + shop.ck[-4:]
    out = admin_step(browser, plug, "connect", shot=str(SHOTS / "connected.png"))
    # the admin was on WooCommerce's own page, with the service's https callback
    url = urllib.parse.urlsplit(out["authorize_url"])
    assert url.path == "/wc-auth/v1/authorize", out
    q = dict(urllib.parse.parse_qsl(url.query))
    assert q["callback_url"].startswith(plug.svc.front.url + "/v1/woocommerce/auth-callback/"), q
    assert (q["scope"], q["app_name"], q["user_id"]) == ("read_write", "aftersale", str(shop.admin_id))
    # a raw URL: WooCommerce sends the admin back to exactly this (no "&amp;")
    assert "&_wpnonce=" in q["return_url"] and "&amp;" not in q["return_url"], q
    assert out["authorize_title"] == "aftersale would like to connect to your store", out
    assert "Create webhooks" in out["authorize_permissions"], out
    assert "tab=aftersale" in out["final_url"] and "aftersale_notice=connected" in out["final_url"]
    assert any("WooCommerce is connected" in n for n in out["notices"]), out["notices"]

    # WooCommerce made a read_write key for the admin and posted it to the service
    rows = shop.sql("SELECT key_id, user_id, permissions, truncated_key FROM "
                    "wp_woocommerce_api_keys WHERE description LIKE 'aftersale - API (%'")
    assert len(rows) == 1, rows
    [[key_id, user_id, perms, truncated]] = rows
    assert (user_id, perms) == (str(shop.admin_id), "read_write")
    after = plug.api.get("/v1/shop").json()["consumer_key_hint"]
    assert after == "\u2026" + truncated[-4:] and after != before
    [[used_key]] = plug.svc_query("SELECT woo_key_id FROM woo_auth_requests WHERE shop_id = %s"
                                  " AND used_at IS NOT NULL", (plug.id,))
    assert str(used_key) == key_id

    # the return_url installed the webhooks, with the new key, through the front
    job_id = int(option(shop, "aftersale_webhooks_job")[0])
    job = plug.wait_job(job_id, ("done", "dead"), timeout=WAIT_S)
    assert job["status"] == "done" and job["kind"] == "woo.webhooks_setup", job
    hooks = plug.shop_webhooks()
    assert len(hooks) == 8 and all(h["status"] == "active" for h in hooks), hooks
    assert all(h["delivery_url"].startswith("https://127.0.0.1:") for h in hooks)
    view = admin_step(browser, plug, "view")
    assert view["webhooks_active"].startswith("8"), view
    assert f"(set-up job {job_id}: done)" in view["webhooks_active"], view
    plug.state["key_truncated"] = truncated


def test_a_customer_sees_redeems_and_spends_points(plug, browser):
    shop = plug.shop
    email = unique_email("carla")
    password = secrets.token_urlsafe(12)
    login = "carla-" + secrets.token_hex(3)
    cid = shop.create_customer(login, email, password)
    teapot, mug = product_id(shop, "Teapot"), product_id(shop, "Mug")
    o = plug.new_order(email, [(teapot, 1), (mug, 1)])  # 53.00 at 10 points per EUR
    body = {"customer_id": cid, "status": "completed"}
    done = shop.wc("PUT", f"/orders/{o['id']}", json_body=body, expect=200)
    assert done["customer_id"] == cid and done["status"] == "completed"
    plug.idle()
    acct = wait_for(lambda: plug.account_for(email), WAIT_S, what="the customer's account")
    assert acct["balance"] == 530 and acct["customer_id"] == cid, acct

    def customer(step, **spec):
        return browser(step, login, password, base=shop.url, **spec)

    out = customer("redeem", points=200, shot=str(SHOTS / "points.png"))
    # (twentytwentythree, a block theme, titles the page "My account": WooCommerce's
    # endpoint title filter only applies in classic themes' loop)
    assert out["active_menu"] == "Points", out
    assert "Points" in out["menu"] and out["menu"].index("Points") == len(out["menu"]) - 2
    assert out["balance_before"] == "You have 530 points.", out
    assert len(out["ledger_before"]) == 1 and "+530" in out["ledger_before"][0], out
    assert out["redeem_error"] is None, out
    m = re.search(r"Your coupon code: (\S+)", out["coupon"] or "")
    assert m, out
    code = m.group(1)
    assert out["balance_after"] == "You have 330 points.", out
    assert plug.account(acct["id"])["balance"] == 330  # the page said what the service holds
    assert "-200" in out["ledger_after"][0], out
    assert (SHOTS / "points.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the service's job makes the coupon in WooCommerce; then "Apply to cart"
    coupon = wait_for(lambda: shop.wc("GET", "/coupons", {"code": code}, expect=200),
                      WAIT_S, interval=0.2, what="the coupon in the shop")[0]
    assert coupon["amount"] == "2.00" and coupon["email_restrictions"] == [email], coupon
    cart = customer("apply", product=product_id(shop, "Tea towel"), apply_url=out["apply_url"],
                    shot=str(SHOTS / "cart.png"))
    assert cart["cart_url"].rstrip("/").endswith("/cart"), cart
    assert any("Coupon code applied successfully" in m for m in cart["messages"]), json.dumps(cart)
    assert cart["discount_classes"] == [f"cart-discount coupon-{code.lower()}"], cart
    assert "2.00" in cart["discount_rows"][0], cart
    assert "5.50" in cart["order_total"], cart  # 7.50 - 2.00
    # the cart's own preview: 5.50 EUR at 10 points per EUR
    assert cart["earn"] == "Earn 55 points with this order.", cart
    # the product page's preview (a block theme: WooCommerce's legacy template
    # still runs woocommerce_single_product_summary)
    page = customer("pages", pages={"teapot": f"/?p={teapot}"})["pages"]["teapot"]
    assert page["status"] == 200 and page["h1"] == "Teapot", page
    assert page["earn"] == "Earn 400 points when you buy this.", page
    # a link whose nonce is not this session's: the cart says why nothing was applied
    forged = re.sub(r"_wpnonce=[0-9a-f]+", "_wpnonce=0123456789", out["apply_url"])
    assert forged != out["apply_url"]
    stale = customer("apply", product=product_id(shop, "Tea towel"), apply_url=forged)
    assert "This coupon link has expired. Enter the code in the cart instead." in \
        stale["messages"], stale
    plug.state.update(customer=(login, password), mug=mug)


def test_the_shop_keeps_working_when_the_service_is_stopped(plug, browser):
    shop = plug.shop
    assert "customer" in plug.state, "needs the customer of the previous test"
    login, password = plug.state["customer"]
    plug.svc.terminate()
    assert plug.svc.wait_exit(timeout=15) == 0
    mug = plug.state["mug"]
    t0 = time.monotonic()
    out = browser("pages", login, password, base=shop.url, shot=str(SHOTS / "down.png"), pages={
        # a new cart hash and a product not seen yet: no cached preview applies
        "add": f"/?add-to-cart={mug}",
        "home": "/", "product": f"/?p={mug}", "cart": "/cart/", "points": "/my-account/points/"})
    pages = out["pages"]
    assert {k: v["status"] for k, v in pages.items()} == dict.fromkeys(pages, 200), pages
    assert pages["points"]["unavailable"] == \
        "Your points cannot be shown right now. Please try again later.", pages["points"]
    assert pages["points"]["balance"] is None
    assert pages["cart"]["earn"] is None and pages["product"]["earn"] is None, pages
    assert pages["product"]["h1"] == "Mug", pages["product"]
    assert time.monotonic() - t0 < 60
    # the admin is told on every screen
    view = admin_step(browser, plug, "view")
    assert any("The aftersale service is not answering" in n for n in view["notices"]), view


def test_no_php_message_from_the_plugin(plug):
    """Every request of this module ran with E_ALL into plug.error_log."""
    logged = assert_no_php_messages(plug)
    errors = [ln for ln in logged.splitlines() if re.search(r"PHP (Warning|Fatal error)", ln)]
    assert errors == [], "\n".join(errors[:20])
