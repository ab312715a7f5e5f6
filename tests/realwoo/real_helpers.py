"""The service linked to the real shop, for the flows in test_flows.py.

`real` (module scope): one aftersale shop whose url is the real
WooCommerce shop (http://127.0.0.1:PORT, REST key over OAuth 1.0a), on its
own service (`real_svc`: tests/integration/woo_helpers.py's fast job knobs
with a longer lease, PUBLIC_URL = itself) and database (`woo_db`), with its
webhooks installed in the shop by `POST /v1/woocommerce/webhooks`. One link for the whole module on
purpose: every link adds eight webhooks that WooCommerce then delivers
synchronously inside each of its requests. Tests keep apart by using their
own customer email and their own orders.

Settings made once here: loyalty 10 points per EUR; review requests through
a WooCommerce customer note, sent at once, auto-approved from 4 stars.

Also what the plugin modules (test_plugin_*.py, test_admin_*.py) share: the
plugin installed and configured with PHP messages logged (`plugin_installed`,
`mu_plugin`, `watch_php`, `assert_no_php_messages`) and the browser steps of
tests/browser/*.mjs (`browser_steps`).
"""

import base64
import calendar
import contextlib
import json
import re
import secrets
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from aftersale_it import Service, free_port
from browser_helpers import SHOTS, assert_png, require_browser, run_browser_script
from loyalty_helpers import LoyalShop, assert_verified  # noqa: F401
from woo_helpers import (assert_no_secrets_in_logs, client, service_env, wait_for,  # noqa: F401
                         woo_db)

TOPICS = ["order.created", "order.updated", "order.deleted", "order.restored",
          "customer.created", "customer.updated", "customer.deleted",
          "action.woocommerce_order_status_completed"]
WAIT_S = 30.0  # the real shop is slower than the fake: PHP, MariaDB, synchronous deliveries


def unique_email(tag):
    return f"{tag}-{secrets.token_hex(4)}@example.com"


class RealLinked(LoyalShop):
    """LoyalShop (loyalty helpers, jobs, events) whose 'fake' is the real shop."""

    def __init__(self, svc, admin_client, shop):
        super().__init__(svc, admin_client, shop)
        self.shop = shop
        svc.secrets.add(shop.app_password)
        self.webhooks_job = None

    # -- the service
    def install_webhooks(self):
        r = self.api.post("/v1/woocommerce/webhooks", json={})
        assert r.status_code == 202, r.text
        assert r.json()["kind"] == "woo.webhooks_setup"
        self.webhooks_job = self.wait_job(r.json()["job_id"], ("done", "dead"), timeout=WAIT_S)
        return self.webhooks_job

    def reviews_settings(self, **body):
        r = self.api.put("/v1/reviews/settings", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def idle(self, timeout=2 * WAIT_S):
        """No delivery, fetch, loyalty or review job of this shop pending or running
        (the periodic woo.sync / loyalty.daily jobs are always pending: not counted).
        Twice WAIT_S: every order now also makes a category fetch from the shop,
        whose one PHP process answers the browser's pages too; a CI run timed
        out at 30 s once. On a timeout the jobs still busy are named."""
        periodic = ("woo.sync", "loyalty.daily")

        busy = []

        def quiet():
            busy[:] = [j for j in self.jobs() if j["status"] in ("pending", "running")
                       and j["kind"] not in periodic and not _future(j)]
            return not busy
        try:
            wait_for(quiet, timeout, interval=0.1, what="the shop's jobs to finish")
        except AssertionError as e:
            raise AssertionError(f"{e}; still busy: " + repr([
                {k: j.get(k) for k in ("id", "kind", "status", "attempts", "last_error", "run_at")}
                for j in busy])) from None

    def order_events(self, order_id, kind=None):
        return self.events(order_id=order_id, kind=kind)

    def account_for(self, email):
        found = self.accounts(email=email)
        return self.account(found[0]["id"]) if found else None

    # -- the shop (WooCommerce REST as the admin, OAuth with the shop's key)
    def new_order(self, email, items, first_name="Ann", status="processing"):
        """items: [(product_id, quantity)]"""
        body = {"status": status, "set_paid": status in ("processing", "completed"),
                "currency": "EUR", "payment_method": "bacs",
                "billing": {"first_name": first_name, "last_name": "Real", "email": email,
                            "country": "ES", "city": "Barcelona", "postcode": "08001",
                            "address_1": "Carrer 1"},
                "shipping": {"first_name": first_name, "last_name": "Real", "country": "ES",
                             "city": "Barcelona", "postcode": "08001", "address_1": "Carrer 1"},
                "line_items": [{"product_id": pid, "quantity": q} for pid, q in items]}
        return self.shop.wc("POST", "/orders", json_body=body, expect=201)

    def set_status(self, order_id, status):
        return self.shop.wc("PUT", f"/orders/{order_id}", json_body={"status": status},
                            expect=200)

    def refund(self, order_id, amount, line_items=None, reason="test refund"):
        body = {"amount": amount, "reason": reason, "api_refund": False}
        if line_items:
            body["line_items"] = line_items
        return self.shop.wc("POST", f"/orders/{order_id}/refunds", json_body=body, expect=201)

    def shop_webhooks(self):
        hooks = self.shop.wc("GET", "/webhooks", {"per_page": "100"}, expect=200)
        return [h for h in hooks if h["delivery_url"] == self.hook_url]

    def set_webhooks_status(self, status):
        for h in self.shop_webhooks():
            got = self.shop.wc("PUT", f"/webhooks/{h['id']}", json_body={"status": status},
                               expect=200)
            assert got["status"] == status, got

    def wp_get(self, path):
        """GET a wp-json route as the admin (Basic with the Application Password)."""
        cred = base64.b64encode(f"{self.shop.admin_user}:{self.shop.app_password}".encode())
        req = urllib.request.Request(self.shop.url + "/wp-json" + path,
                                     headers={"Authorization": "Basic " + cred.decode()})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")


def _future(job):
    """A job scheduled later than a few seconds from now (a reminder, an expiry) is not 'busy'."""
    run_at = job.get("run_at") or ""
    try:
        t = calendar.timegm(time.strptime(run_at[:19], "%Y-%m-%dT%H:%M:%S"))  # run_at is UTC
    except ValueError:
        return False
    return t > time.time() + 5


TOKEN_RE = re.compile(r"[?&]token=([A-Za-z0-9_.-]+)")


# woo_helpers' fast knobs, but a job may hold its lease longer: the shop is a
# real PHP application (creating the eight webhooks, each with its ping,
# takes several seconds: JOB_LEASE_S=5 let a second attempt start meanwhile).
REAL_ENV = {"JOB_LEASE_S": "120", "WOO_TIMEOUT_MS": "30000", "WOO_CONNECT_TIMEOUT_MS": "5000"}


def start_real_svc(pg, base_env, woo_db, workdir, name="realwoo", **extra_env):
    """Generator for a module fixture: one service on woo_db, PUBLIC_URL = itself,
    REAL_ENV plus `extra_env`; stopped at the end, its logs free of secrets."""
    port = free_port()
    env = dict(base_env)
    env.update(service_env(pg, woo_db, port, **extra_env, **REAL_ENV))
    svc = Service(env, workdir / "logs", name)
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        raise
    svc.db = woo_db
    svc.secrets = set()
    yield svc
    svc.stop(check=True)
    assert_no_secrets_in_logs(svc, svc.secrets)


def link_real_shop(real_svc, real_admin, real_shop):
    """Generator for a module fixture: the service linked to the real shop with
    this module's settings (see above) and its webhooks installed; the
    webhooks are deleted at the end."""
    link = RealLinked(real_svc, real_admin, real_shop)
    link.settings(points_per_unit="10")
    link.reviews_settings(channel="order_note", delay="PT0S", auto_approve_min_rating=4)
    job = link.install_webhooks()
    assert job["status"] == "done", job
    try:
        yield link
    finally:
        # the webhooks would keep delivering to a stopped service otherwise
        for h in link.shop_webhooks():
            link.shop.wc("DELETE", f"/webhooks/{h['id']}", {"force": "true"})
        link.close()


@pytest.fixture(scope="module")
def real_svc(pg, base_env, woo_db, workdir):  # noqa: F811
    """One service on woo_db, PUBLIC_URL = itself, for the module."""
    yield from start_real_svc(pg, base_env, woo_db, workdir)


@pytest.fixture(scope="module")
def real_admin(real_svc, admin_token):
    c = client(real_svc.url, admin_token)
    yield c
    c.close()


@pytest.fixture(scope="module")
def real(real_svc, real_admin, real_shop):
    yield from link_real_shop(real_svc, real_admin, real_shop)


# --------------------------------------------------------------------------
# the plugin in the real shop


def product_id(shop, name):
    """The id of the real shop's product called `name`."""
    return next(p["id"] for p in shop.products if p["name"] == name)


def mu_plugin(cert, front_port, error_log):
    """The test shop's must-use plugin: trust the front's certificate for its
    address only; every PHP message into error_log, none on the pages."""
    return f"""<?php
/*
 * Plugin Name: aftersale plugin tests (tests/realwoo/test_plugin_shop.py)
 * Description: trusts the test's TLS front and logs every PHP message. Test shop only.
 */
error_reporting(E_ALL);
ini_set('display_errors', '0');
ini_set('log_errors', '1');
ini_set('error_log', {json.dumps(str(error_log))});
add_filter('http_request_args', function ($args, $url) {{
\tif (strpos($url, 'https://127.0.0.1:{front_port}/') === 0) {{
\t\t$args['sslcertificates'] = {json.dumps(str(cert))};
\t}}
\treturn $args;
}}, 10, 2);
"""


def watch_php(link, log_name):
    """Start a fresh PHP error log for `link` (link.error_log, in the shop's
    logs) and note where the PHP server's log stands (link.server_log_start),
    for assert_no_php_messages."""
    shop = link.shop
    link.error_log = shop.logs / log_name
    link.error_log.write_text("")
    link.server_log_start = shop.server_log.stat().st_size


def assert_no_php_messages(link):
    """No PHP message from the plugin's files in link.error_log (every request
    ran with E_ALL into it), and no PHP warning or error in the PHP server's
    log since watch_php."""
    logged = link.error_log.read_text(errors="replace")
    mine = [ln for ln in logged.splitlines() if "/plugins/aftersale/" in ln]
    assert mine == [], "\n".join(mine[:20])
    with open(link.shop.server_log, errors="replace") as f:
        f.seek(link.server_log_start)
        server = f.read()
    bad = [ln for ln in server.splitlines()
           if re.search(r"PHP (Warning|Fatal error|Parse error|Notice|Deprecated)", ln)]
    assert bad == [], "\n".join(bad[:20])
    return logged


@contextlib.contextmanager
def plugin_installed(link, name, more_mu_plugins=()):
    """The plugin installed, activated (link.activation) and configured by its
    options for `link`'s service and shop, every PHP message logged
    (watch_php, log `<name>-php.log`, must-use plugin `<name>-tests.php`);
    `more_mu_plugins`: (file name, code) pairs added too. All removed after."""
    shop = link.shop
    watch_php(link, f"{name}-php.log")
    # the must-use plugin of test_plugin_shop.py: E_ALL into error_log (its
    # TLS part names a front that does not exist here and matches nothing)
    mu_name = f"{name}-tests.php"
    shop.add_mu_plugin(mu_name, mu_plugin("/nonexistent.crt", 1, link.error_log))
    for file_name, code in more_mu_plugins:
        shop.add_mu_plugin(file_name, code)
    link.activation = shop.install_aftersale()
    shop.set_options(aftersale_service_url=link.svc.url, aftersale_api_key=link.api_key,
                     aftersale_token_secret=link.token_secret, aftersale_shop_id=link.id)
    try:
        yield link
    finally:
        shop.remove_aftersale()
        for file_name, _ in reversed(more_mu_plugins):
            shop.remove_mu_plugin(file_name)
        shop.remove_mu_plugin(mu_name)


BROWSER_TIMEOUT_S = 120


@contextlib.contextmanager
def browser_steps(script, profiles_prefix):
    """For a module fixture: `run(step, user, password, **spec)` runs one step
    of tests/browser/`script` as `user` (a Chromium profile per user, kept
    for the module, so logins and sessions carry over between steps) and
    returns its JSON. Every step must succeed with no PHP message printed
    into a page, no script or console error, and every screenshot it lists
    in "shots" a PNG. SHOTS is created."""
    node = require_browser("make browser-deps")
    SHOTS.mkdir(parents=True, exist_ok=True)
    profiles = Path(tempfile.mkdtemp(prefix=profiles_prefix))

    def run(step, user, password, **spec):
        spec.update({"step": step, "user": user, "password": password,
                     "profile": str(profiles / user)})
        code, out = run_browser_script(node, script, json.dumps(spec), timeout=BROWSER_TIMEOUT_S,
                                       expect_ok=False)
        assert code == 0 and out["ok"], f"{script} {step}: {out}"
        # no PHP message printed into any page, no script error in the browser
        assert out["php"] == [], out["php"]
        assert out["errors"] == [] and out["console"] == [], out
        for shot in out.get("shots", []):
            assert_png(shot)
        return out

    try:
        yield run
    finally:
        shutil.rmtree(profiles, ignore_errors=True)


# --------------------------------------------------------------------------
# taxes (test_returns_real.py, test_returns_portal_real.py)


@pytest.fixture(scope="module")
def taxed(real):
    """Taxes on in the real shop for the module: one rate, ES 21 % ("IVA",
    not on shipping); removed and taxes off again at the end (the other
    flows expect untaxed totals). Yields the rate."""
    shop = real.shop
    shop.wc("PUT", "/settings/general/woocommerce_calc_taxes", json_body={"value": "yes"},
            expect=200)
    rate = shop.wc("POST", "/taxes", json_body={"country": "ES", "rate": "21.0000",
                                                "name": "IVA", "shipping": False}, expect=201)
    try:
        yield rate
    finally:
        shop.wc("DELETE", f"/taxes/{rate['id']}", {"force": "true"})
        shop.wc("PUT", "/settings/general/woocommerce_calc_taxes", json_body={"value": "no"},
                expect=200)
