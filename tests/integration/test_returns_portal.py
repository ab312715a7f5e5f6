"""Returns portal (GET/POST /returns): a guest looks an order up by number
and billing email (one generic answer for every miss, rate-limited per
client address and per order), picks lines, and gets an RMA number. No
script, CSP, escaping, the token in the form, locale."""

import re

from returns_helpers import fake, shop, woo_admin, woo_db, woo_svc  # noqa: F401


def page(shop, method="GET", data=None, lang=None, **params):
    q = {"shop": shop.id}
    if lang:
        q["lang"] = lang
    q.update(params)
    if method == "GET":
        return shop.anon.get("/returns", params=q)
    return shop.anon.post("/returns", params=q, data=data)


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    return m.group(1) if m else None


def test_portal_lookup_choose_and_request(shop):
    shop.settings(instructions="Put the <items> in a box.", return_address="Shop & Co\nMain St 1")
    o = shop.order([("Mug <b>", "10.00", 2)], email="guest@example.com")
    r = page(shop)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "script-src 'nonce-none'" in r.headers["Content-Security-Policy"]
    assert "<script" not in r.text and 'name="order"' in r.text and 'name="email"' in r.text
    assert '<label for="order">' in r.text and '<html lang="en">' in r.text
    r = page(shop, "POST", {"order": str(o["id"]), "email": "GUEST@example.com"})
    assert r.status_code == 200, r.text
    html = r.text
    assert "Mug &lt;b&gt;" in html and "<b>" not in html.split("<main>")[1].replace("<b>", "", 0)
    token = hidden(html, "token")
    assert token and token.count(".") == 2
    line = o["line_items"][0]["id"]
    assert f'name="qty_{line}"' in html and "<option>2</option>" in html
    assert "Wrong item sent" in html
    r = page(shop, "POST", {"token": token, "order": str(o["id"]), f"qty_{line}": "1",
                            f"reason_{line}": "wrong_item", f"note_{line}": "too big",
                            "resolution": "refund"})
    assert r.status_code == 201, r.text
    rma = re.search(r'<strong id="rma">(R-\d+)</strong>', r.text).group(1)
    assert "Put the &lt;items&gt; in a box." in r.text and "Shop &amp; Co" in r.text
    got = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"]
    assert [(g["rma"], g["created_by"], g["lines"][0]["note"]) for g in got] == \
        [(rma, "customer", "too big")]
    # nothing chosen: 422 with a page; a forged token: the look-up again
    r = page(shop, "POST", {"token": token, "order": str(o["id"]), f"qty_{line}": "0"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = page(shop, "POST", {"token": token[:-3] + "AAA", "order": str(o["id"]),
                            f"qty_{line}": "1", f"reason_{line}": "wrong_item"})
    assert r.status_code == 200 and hidden(r.text, "token") is None and "expired" in r.text
    # the last unit left is offered, then none
    r = page(shop, "POST", {"order": str(o["id"]), "email": "guest@example.com"})
    assert "<option>1</option>" in r.text and "<option>2</option>" not in r.text


def test_portal_misses_answer_alike_and_are_rate_limited(shop):
    o = shop.order([("Cup", "5.00", 1)], email="owner@example.com")
    wrong_email = page(shop, "POST", {"order": str(o["id"]), "email": "eve@example.com"})
    no_order = page(shop, "POST", {"order": "999999", "email": "owner@example.com"})
    assert wrong_email.status_code == no_order.status_code == 200
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)  # noqa: E731
    assert strip(wrong_email.text) == strip(no_order.text)
    assert "could not find" in no_order.text and hidden(no_order.text, "token") is None
    # per order: 5 look-ups in 15 minutes (1 above), then 429 even with the right email
    codes = [page(shop, "POST", {"order": str(o["id"]), "email": "x@example.com"}).status_code
             for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    r = page(shop, "POST", {"order": str(o["id"]), "email": "owner@example.com"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "900"
    assert hidden(r.text, "token") is None
    # per address: 10 in all from this client, whatever the order (8 above)
    codes = [page(shop, "POST", {"order": str(1000 + i), "email": "y@example.com"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 429, 429]


def test_portal_locale_and_unknown_shop(shop):
    r = page(shop, lang="de")
    assert '<html lang="de">' in r.text and "Bestellnummer" in r.text
    r = shop.anon.get("/returns", headers={"Accept-Language": "de-DE,de;q=0.9"},
                      params={"shop": shop.id})
    assert "Bestellnummer" in r.text
    assert shop.anon.get("/returns", params={"shop": "nope"}).status_code == 404
    assert shop.anon.get("/returns").status_code == 404
    r = shop.anon.post("/returns", params={"shop": 99999999},
                       data={"order": "1", "email": "a@example.com"})
    assert r.status_code == 404
