"""The customer's side after a request (issue 10, item 6): the portal's
look-up lists the order's return requests, each linking to its page
(GET /returns/requests/{id}?token=): the lines, notes, photos, the
resolution, the instructions and address when approved, and the history
in the shop's time zone and the customer's words; the customer cancels a
requested or approved request from it (POST .../cancel, the token in the
form). The messages of each transition link to that page; the `locale` of
POST /v1/returns is kept for the messages.

Fixtures: reviews_helpers (own service with SMTP to a sink, PUBLIC_URL set
to itself) and a fake shop per test, as test_returns_notify.
"""

import html as htmllib
import re

import pytest

from loyalty_helpers import claims_for, mint
from returns_helpers import ReturnsShop
from reviews_helpers import Mail, rv_admin, rv_db, rv_svc, sink, unique_email, wfake  # noqa: F401
from woo_helpers import wait_for

EVIL = "<script>alert(1)</script>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


class PortalShop(ReturnsShop):
    def __init__(self, svc, admin, fake, sink):  # noqa: F811
        super().__init__(svc, admin, fake)
        self.sink = sink

    def mails(self, email):
        return [Mail(m) for m in list(self.sink.messages) if email in m["rcpt_tos"]]

    def wait_mails(self, email, n=1, timeout=10.0):
        return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(self.mails(email)),
                        timeout, interval=0.05, what=f"{n} email(s) to {email}")

    def lookup(self, order, email, lang=None):
        q = {"shop": self.id}
        if lang:
            q["lang"] = lang
        r = self.anon.post("/returns", params=q, data={"order": str(order["id"]), "email": email})
        assert r.status_code == 200, r.text
        return r

    def portal_request(self, order, email, fields, photos=()):
        token = hidden(self.lookup(order, email).text, "token")
        data = dict({"token": token, "order": str(order["id"]), "resolution": "refund"}, **fields)
        files = [(f"photos_{line}", (name, body, "image/png")) for line, name, body in photos]
        r = self.anon.post("/returns", params={"shop": self.id}, data=data, files=files or None)
        assert r.status_code == 201, r.text
        # the answer links to the request's page
        assert re.search(r'<a id="view" href="/returns/requests/\d+\?token=', r.text), r.text
        items = self.api.get("/v1/returns", params={"order_id": order["id"]}).json()["items"]
        return max(items, key=lambda i: i["id"])

    def view(self, link, **params):
        return self.anon.get(htmllib.unescape(link), params=params)


@pytest.fixture
def pshop(rv_svc, rv_admin, wfake, sink):  # noqa: F811
    s = PortalShop(rv_svc, rv_admin, wfake, sink)
    yield s
    s.close()


def hidden(page, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, page)
    return m.group(1) if m else None


def request_links(page):
    """{rma: link} of the look-up's list of requests."""
    return {rma: link for link, rma in
            re.findall(r'<a href="(/returns/requests/\d+\?token=[^"]+)"[^>]*>(R-\d+)</a>', page)}


def link_token(link):
    return htmllib.unescape(link).split("token=")[1].split("&")[0]


def history(page):
    """[(when, change)] of the request page's history table, as text."""
    body = page.split('<table id="history">')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td><time>([^<]*)</time></td><td>(.*?)</td></tr>", body)
    return [(t, htmllib.unescape(re.sub(r"<br>", " | ", c))) for t, c in rows]


def test_lookup_lists_requests_and_the_page_shows_lines_and_history(pshop, pg):
    shop = pshop
    shop.settings(refund_method="manual", instructions="Pack it. " + EVIL,
                  return_address="Shop & Co\n<b>Dock</b> 4")
    pg.query(shop.svc.db, "UPDATE shops SET timezone = 'Asia/Tokyo' WHERE id = %s", (shop.id,))
    email = unique_email("hist")
    o = shop.order([("Mug " + EVIL, "10.00", 2), ("Plate", "5.00", 1)], email=email)
    mug = o["line_items"][0]["id"]
    # before any request: no list
    assert 'id="requests"' not in shop.lookup(o, email).text
    ret = shop.portal_request(o, email, {f"qty_{mug}": "1", f"reason_{mug}": "damaged",
                                         f"note_{mug}": "chipped <b>badly</b> " + EVIL},
                              [(mug, "a.png", PNG)])
    shop.act(ret["id"], "approve", {"note": "Thanks & welcome <i>x</i>"})
    # the look-up lists it above the form for what is left
    page = shop.lookup(o, email).text
    assert page.index('id="requests"') < page.index('enctype="multipart/form-data"')
    links = request_links(page)
    assert list(links) == [ret["rma"]]
    row = page.split('id="requests"')[1].split("</table>")[0]
    assert "<td>Approved</td>" in row and '<th scope="col">Status</th>' in row
    r = shop.view(links[ret["rma"]])
    assert r.status_code == 200, r.text
    assert "script-src 'nonce-none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    text = r.text
    assert "<script" not in text and "<b>" not in text and "<i>x" not in text
    assert '<dd id="state">Approved</dd>' in text and f'<dd id="rma">{ret["rma"]}</dd>' in text
    assert "Mug &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "chipped &lt;b&gt;badly&lt;/b&gt; &lt;script&gt;" in text
    assert "Damaged" in text or "damaged" in text
    assert '<dd id="resolution">A refund</dd>' in text
    # approved: the instructions and the address, escaped
    assert "Pack it. &lt;script&gt;" in text and "Shop &amp; Co\n&lt;b&gt;Dock&lt;/b&gt; 4" in text
    # the photo, through its own signed link
    [src] = re.findall(r'<img src="(/returns/photos/\d+\?token=[^"]+)"', text)
    assert shop.anon.get(htmllib.unescape(src)).content == PNG
    # the history: the shop's time zone, the customer's words, the shop's
    # note to the customer, never the actor (api_key:N)
    h = history(text)
    assert [c for _, c in h] == ["Request sent: Requested",
                                 "Requested to Approved | A note from the shop: "
                                 "Thanks & welcome <i>x</i>"]
    assert "Asia/Tokyo" in text and "api_key" not in text and "customer:" not in text
    events = pg.query(shop.svc.db, "SELECT to_char(created_at AT TIME ZONE 'Asia/Tokyo',"
                      " 'YYYY-MM-DD HH24:MI') FROM return_events WHERE shop_id = %s"
                      " AND request_id = %s ORDER BY id", (shop.id, ret["id"]))
    assert [t for t, _ in h] == [e[0] for e in events]
    assert 'action="/returns/requests/%d/cancel' % ret["id"] in text
    # received and resolved: the history grows, no cancel any more
    shop.receive_all(shop.get(ret["id"]))
    shop.act(ret["id"], "resolve")
    shop.wait_state(ret["id"], ("resolved",))
    text = shop.view(links[ret["rma"]]).text
    assert [c for _, c in history(text)][2:] == ["Approved to Items received",
                                                 "Items received to Being completed",
                                                 "Being completed to Completed"]
    assert '<dd id="state">Completed</dd>' in text and "/cancel" not in text
    assert "Pack it." not in text  # instructions only while approved
    assert '<th scope="col">Received</th>' in text


def test_another_customers_or_a_tampered_token_opens_nothing(pshop):
    shop = pshop
    email = unique_email("own")
    o = shop.order([("Cup", "4.00", 2)], email=email)
    cup = o["line_items"][0]["id"]
    ret = shop.portal_request(o, email, {f"qty_{cup}": "1", f"reason_{cup}": "wrong_item",
                                         f"note_{cup}": "secret note"})
    other = shop.order([("Bowl", "4.00", 1)], email=unique_email("other"))
    bowl = other["line_items"][0]["id"]
    oret = shop.portal_request(other, other["billing"]["email"],
                               {f"qty_{bowl}": "1", f"reason_{bowl}": "wrong_item"})
    link = request_links(shop.lookup(o, email).text)[ret["rma"]]
    token = link_token(link)
    assert shop.view(link).status_code == 200

    def refused(path, tok):
        r = shop.anon.get(path, params={"token": tok} if tok is not None else None)
        assert r.status_code == 403, r.text
        assert "secret note" not in r.text and ret["rma"] not in r.text
        assert "not valid or has expired" in r.text
    # the link of one request does not open another
    refused(f"/returns/requests/{oret['id']}", token)
    # tampered, missing, another scope, another customer's email
    refused(f"/returns/requests/{ret['id']}", token[:-3] + "AAA")
    refused(f"/returns/requests/{ret['id']}", None)
    refused(f"/returns/requests/{ret['id']}",
            mint(shop.token_secret, claims_for(shop.id, email=email, scope="returns",
                                               rid=ret["id"])))
    refused(f"/returns/requests/{ret['id']}",
            mint(shop.token_secret, claims_for(shop.id, email="eve@example.com",
                                               scope="return_view", rid=ret["id"])))
    # signed with another secret
    refused(f"/returns/requests/{ret['id']}",
            mint("x" * 40, claims_for(shop.id, email=email, scope="return_view",
                                      rid=ret["id"])))
    # nor does it cancel another's request
    r = shop.anon.post(f"/returns/requests/{oret['id']}/cancel", data={"token": token})
    assert r.status_code == 403
    assert shop.get(oret["id"])["state"] == "requested"


def test_cancel_from_the_page_and_a_received_request_refused(pshop):
    shop = pshop
    # a reason label of the shop's with markup: escaped on the page
    shop.settings(reasons=[{"code": "wrong_item", "labels": {"en": "Wrong <b>item</b> " + EVIL},
                            "note_required": False, "photo_required": False,
                            "customer_pays_shipping": False}])
    email = unique_email("cancel")
    o = shop.order([("Lamp", "30.00", 2)], email=email)
    lamp = o["line_items"][0]["id"]
    ret = shop.portal_request(o, email, {f"qty_{lamp}": "1", f"reason_{lamp}": "wrong_item"})
    link = request_links(shop.lookup(o, email).text)[ret["rma"]]
    page = shop.view(link).text
    token = hidden(page, "token")
    assert token and token == link_token(link)
    # without the token (a cross-site form cannot know it): nothing happens
    r = shop.anon.post(f"/returns/requests/{ret['id']}/cancel", data={})
    assert r.status_code == 403 and shop.get(ret["id"])["state"] == "requested"
    assert "Wrong &lt;b&gt;item&lt;/b&gt; &lt;script&gt;" in page and "<script" not in page
    r = shop.anon.post(f"/returns/requests/{ret['id']}/cancel", data={"token": token})
    assert r.status_code == 200, r.text
    assert '<dd id="state">Cancelled</dd>' in r.text and "Your return is cancelled." in r.text
    assert [c for _, c in history(r.text)] == ["Request sent: Requested",
                                               "Requested to Cancelled"]
    got = shop.get(ret["id"])
    assert got["state"] == "cancelled" and got["history"][-1]["actor"] == "customer"
    # a received request cannot be cancelled: 409, said plainly, nothing changed
    second = shop.portal_request(o, email, {f"qty_{lamp}": "1", f"reason_{lamp}": "wrong_item"})
    shop.act(second["id"], "approve")
    shop.receive_all(shop.get(second["id"]))
    link2 = request_links(shop.lookup(o, email).text)[second["rma"]]
    token2 = link_token(link2)
    assert "/cancel" not in shop.view(link2).text
    r = shop.anon.post(f"/returns/requests/{second['id']}/cancel", data={"token": token2})
    assert r.status_code == 409, r.text
    assert ("This return can no longer be cancelled: its status is \u201cItems received\u201d."
            in htmllib.unescape(r.text))
    assert 'role="alert"' in r.text
    assert shop.get(second["id"])["state"] == "received"


def test_the_approval_email_links_to_the_page_and_german(pshop, pg):
    shop = pshop
    shop.settings(window_days=30, instructions="Karton nutzen")
    email = unique_email("mail")
    o = shop.order([("Tasse", "10.00", 1)], email=email)
    # the API's locale: kept for the messages and the page
    body = {"order_id": o["id"], "resolution": "refund", "locale": "de-AT",
            "lines": [{"line_item_id": o["line_items"][0]["id"], "quantity": 1,
                       "reason": "wrong_item", "note": "zu <klein>"}]}
    r = shop.api.post("/v1/returns", json=body)
    assert r.status_code == 201, r.text
    ret = r.json()
    assert pg.query(shop.svc.db, "SELECT locale FROM return_requests WHERE shop_id = %s"
                    " AND id = %s", (shop.id, ret["id"])) == [("de",)]
    shop.act(ret["id"], "approve")
    approved = [m for m in shop.wait_mails(email, 2) if "genehmigt" in m.subject]
    assert len(approved) == 1, [m.subject for m in shop.mails(email)]
    m = approved[0]
    links = re.findall(r"(https?://[^\s\"<>]+/returns/requests/%d\?token=[A-Za-z0-9._-]+)"
                       % ret["id"], m.text)
    assert links, m.text
    assert "Ihre R\u00fccksendung und ihren Verlauf ansehen" in m.text
    assert htmllib.escape(links[0]) in m.html or links[0] in m.html
    # the token lives the window + the margin (30 + 30 days), within TOKEN_MAX_LIFETIME_S
    import base64
    import json
    import time
    payload = links[0].split("token=")[1].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["scope"] == "return_view" and claims["rid"] == ret["id"]
    assert claims["email"].lower() == email.lower()
    life = claims["exp"] - time.time()
    assert 29 * 86400 < life <= 30 * 86400  # capped: the tests' TOKEN_MAX_LIFETIME_S is 30 days
    r = shop.anon.get(links[0].split(shop.svc.url)[1])
    assert r.status_code == 200, r.text
    # German: the request's locale
    assert '<html lang="de">' in r.text
    assert '<dd id="state">Genehmigt</dd>' in r.text
    assert "Verlauf" in r.text and "Angefragt zu Genehmigt" in htmllib.unescape(r.text)
    assert "zu &lt;klein&gt;" in r.text and "Karton nutzen" in r.text
    assert "Diese R\u00fccksendung stornieren" in r.text
    # the look-up in German lists it in German words
    page = shop.lookup(o, email, lang="de").text
    assert "Ihre R\u00fccksendeanfragen" in page and "<td>Genehmigt</td>" in page
    assert ret["rma"] in request_links(page)
    # ?lang= wins over it
    r = shop.anon.get(links[0].split(shop.svc.url)[1] + "&lang=pl")
    assert '<html lang="pl">' in r.text and "Zaakceptowany" in r.text
    # an unknown locale: 422
    r = shop.api.post("/v1/returns", json=dict(body, locale="xx-YY"))
    assert r.status_code == 422 and r.json()["field"] == "locale"


def test_me_returns_takes_a_locale(pshop, pg):
    shop = pshop
    email = unique_email("me")
    o = shop.order([("Glas", "10.00", 1)], email=email)
    me = shop.customer(email=email)
    body = {"order_id": o["id"], "resolution": "refund",
            "lines": [{"line_item_id": o["line_items"][0]["id"], "quantity": 1,
                       "reason": "wrong_item"}]}
    r = me.post("/v1/me/returns", json=dict(body, locale="klingon"))
    assert r.status_code == 422 and r.json()["field"] == "locale"
    r = me.post("/v1/me/returns", json=dict(body, locale="pl"))
    assert r.status_code == 201, r.text
    assert pg.query(shop.svc.db, "SELECT locale FROM return_requests WHERE shop_id = %s"
                    " AND id = %s", (shop.id, r.json()["id"])) == [("pl",)]
    [m] = shop.wait_mails(email, 1)
    assert r.json()["rma"] in m.subject and "zwrot" in m.subject.lower(), m.subject


# --------------------------------------------------------------------------
# in a real browser: headless Chromium through tests/browser/returns_request_page.mjs

def test_request_page_in_headless_chromium_reads_and_cancels(pshop):
    import json
    import os
    import shutil
    import subprocess
    from pathlib import Path

    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip(f"{chromium} is absent: apt-get install -y chromium (scripts/install-deps)")
    node = shutil.which("node")
    repo = Path(__file__).resolve().parents[2]
    browser_dir = repo / "tests" / "browser"
    assert node and (browser_dir / "node_modules" / "playwright-core").is_dir(), \
        "node and playwright-core are needed: cd tests/browser && npm install"
    shots = repo / "build" / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "returns-request-page.png"
    shop = pshop
    shop.settings(return_address="Shop & Co\nDock 4")
    email = unique_email("browser")
    o = shop.order([("Teapot", "35.00", 1)], email=email)
    pot = o["line_items"][0]["id"]
    ret = shop.portal_request(o, email, {f"qty_{pot}": "1", f"reason_{pot}": "damaged",
                                         f"note_{pot}": "cracked <b>lid</b>"},
                              [(pot, "pot.png", PNG)])
    shop.act(ret["id"], "approve", {"note": "Send it back"})
    link = request_links(shop.lookup(o, email).text)[ret["rma"]]
    p = subprocess.run([node, str(browser_dir / "returns_request_page.mjs"),
                        shop.svc.url + htmllib.unescape(link), str(shot)],
                       cwd=browser_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert p.returncode == 0 and lines, f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}"
    out = json.loads(lines[-1])
    assert out["ok"] and out["errors"] == [], out
    # no CSP report, no script error: at most the favicon's 404
    assert [c for c in out["console"] if "status of 404" not in c] == [], out
    assert out["title"] == f"Return {ret['rma']}" and out["state"] == "Approved", out
    assert out["headings"][0] == f"Return {ret['rma']}"
    assert {"Items", "History", "Return address"} <= set(out["headings"]), out
    assert out["tables"] == [["Item", "Quantity", "Reason", "Your note"], ["When", "Change"]], out
    assert [row[1] for row in out["history"]] == \
        ["Request sent: Requested", "Requested to Approved\nA note from the shop: Send it back"], out
    # the photo (the 8-byte PNG header only: not decodable, so width 0 is fine) was asked for
    assert any(r.startswith("GET /returns/photos/") for r in out["requests"]), out
    assert out["after"] == "Cancelled" and out["status"] == "Your return is cancelled.", out
    assert shop.get(ret["id"])["state"] == "cancelled"
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
