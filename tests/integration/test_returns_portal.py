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


# --------------------------------------------------------------------------
# photos on the portal: multipart/form-data, up to 5 per line

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(100, 160))
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(range(30))


def choose(shop, order, email):
    """The look-up; answers the form's token."""
    r = page(shop, "POST", {"order": str(order["id"]), "email": email})
    assert r.status_code == 200, r.text
    assert 'enctype="multipart/form-data"' in r.text
    return hidden(r.text, "token")


def send(shop, token, order, fields, photos):
    """The request form as a browser sends it: multipart, with `photos` =
    [(line_item_id, filename, bytes, part type)]."""
    data = dict({"token": token, "order": str(order["id"]), "resolution": "refund"}, **fields)
    files = [(f"photos_{line}", (name, body, ctype)) for line, name, body, ctype in photos]
    # an empty file input, as a browser sends one: no name, no bytes
    files.append(("photos_999", ("", b"", "application/octet-stream")))
    return shop.anon.post("/returns", params={"shop": shop.id}, data=data, files=files)


def test_portal_takes_photos_per_line_stores_them_and_shows_them_to_that_customer(shop):
    o = shop.order([("Mug", "10.00", 1), ("Plate <i>", "5.00", 2)], email="pics@example.com")
    mug, plate = (li["id"] for li in o["line_items"])
    token = choose(shop, o, "pics@example.com")
    r = send(shop, token, o,
             {f"qty_{mug}": "1", f"reason_{mug}": "damaged", f"note_{mug}": "chipped",
              f"qty_{plate}": "2", f"reason_{plate}": "damaged"},
             [(mug, "a.jpg", JPEG, "image/jpeg"), (mug, "b.png", PNG, "image/png"),
              (plate, "c.webp", WEBP, "image/webp"),
              # a name and a part type that lie: the bytes decide
              (plate, "d.gif", PNG, "image/gif")])
    assert r.status_code == 201, r.text
    rma = re.search(r'<strong id="rma">(R-\d+)</strong>', r.text).group(1)
    assert "img-src 'self'" in r.headers["Content-Security-Policy"]
    ret = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"][0]
    assert ret["rma"] == rma
    got = [(p["line_item_id"], p["media_type"]) for p in shop.get(ret["id"])["photos"]]
    assert got == [(mug, "image/jpeg"), (mug, "image/png"), (plate, "image/webp"),
                   (plate, "image/png")]
    stored = [shop.api.get(f"/v1/returns/{ret['id']}/photos/{p['id']}").content
              for p in shop.get(ret["id"])["photos"]]
    assert stored == [JPEG, PNG, WEBP, PNG]
    # the page shows them through links signed for this request and customer
    srcs = re.findall(r'<img src="(/returns/photos/\d+\?token=[^"]+)"', r.text)
    assert len(srcs) == 4 and 'alt="Photo 4: Plate &lt;i&gt;"' in r.text
    shown = [shop.anon.get(s.replace("&amp;", "&")) for s in srcs]
    assert [x.status_code for x in shown] == [200] * 4
    assert [x.content for x in shown] == stored
    assert shown[0].headers["Content-Type"] == "image/jpeg"
    assert shown[0].headers["Cache-Control"] == "private, no-store"
    assert shown[0].headers["X-Content-Type-Options"] == "nosniff"
    # ... and to nobody else: no token, a forged one, another request's photo
    link_token = srcs[0].split("token=")[1]
    pid = int(re.search(r"/returns/photos/(\d+)", srcs[0]).group(1))
    assert shop.anon.get(f"/returns/photos/{pid}").status_code == 401
    assert shop.anon.get(f"/returns/photos/{pid}",
                         params={"token": link_token[:-3] + "AAA"}).status_code == 401
    # the form's token (scope returns) is not a photo link
    assert shop.anon.get(f"/returns/photos/{pid}", params={"token": token}).status_code == 403
    other = shop.order([("Cup", "4.00", 1)], email="pics@example.com")
    cup = other["line_items"][0]["id"]
    r2 = send(shop, choose(shop, other, "pics@example.com"), other,
              {f"qty_{cup}": "1", f"reason_{cup}": "wrong_item"},
              [(cup, "e.png", PNG, "image/png")])
    assert r2.status_code == 201, r2.text
    other_pid = shop.get(shop.api.get("/v1/returns", params={"order_id": other["id"]})
                         .json()["items"][0]["id"])["photos"][0]["id"]
    assert shop.anon.get(f"/returns/photos/{other_pid}",
                         params={"token": link_token}).status_code == 404
    # a photo of a line is what "damaged" (photo required) needs: approve works
    assert shop.act(ret["id"], "approve")["state"] == "approved"


def test_portal_refuses_bad_photos_and_keeps_the_rest_of_the_form(shop):
    o = shop.order([("Lamp", "50.00", 2), ("Shade", "9.00", 1)], email="bad@example.com")
    lamp, shade = (li["id"] for li in o["line_items"])
    token = choose(shop, o, "bad@example.com")
    fields = {f"qty_{lamp}": "2", f"reason_{lamp}": "wrong_item",
              f"note_{lamp}": "<script>alert(1)</script> broken", "resolution": "store_credit"}

    def refused(photos, status, *texts):
        r = send(shop, token, o, fields, photos)
        assert r.status_code == status, r.text
        alert = r.text.split('role="alert">')[1].split("</div>")[0]
        for t in texts:
            assert t in alert, alert
        # the form again, as it was filled in, with the same token
        assert hidden(r.text, "token") == token
        assert "<option selected>2</option>" in r.text
        assert '<option value="wrong_item" selected>' in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; broken</textarea>" in r.text
        assert "<script" not in r.text
        assert 'value="store_credit" checked' in r.text
        assert "choose your photos again" in r.text
        # nothing was created
        assert shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"] == []
        return alert

    # a PNG by its name and part type that is text
    refused([(lamp, "photo.jpg", PNG[:4], "image/jpeg"),
             (lamp, "<b>fake</b>.png", b"hello, I am text", "image/png")], 422,
            "Lamp: &lt;b&gt;fake&lt;/b&gt;.png is not a JPEG, PNG or WebP image",
            "Lamp: photo.jpg is not a JPEG")
    # six photos on one line
    refused([(lamp, f"p{i}.png", PNG, "image/png") for i in range(6)], 422,
            "Lamp: At most 5 photos per item")
    # 5 MiB + 1
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (5 * MIB + 1 - 4)
    refused([(lamp, "big.jpg", big, "image/jpeg")], 413, "Lamp: big.jpg is larger than 5 MB")
    # exactly 5 MiB, five on a line and one on another: all taken
    five = b"\xff\xd8\xff\xe0" + b"\x00" * (5 * MIB - 4)
    r = send(shop, token, o, dict(fields, **{f"qty_{shade}": "1", f"reason_{shade}": "damaged"}),
             [(lamp, "five.jpg", five, "image/jpeg")] +
             [(lamp, f"p{i}.png", PNG, "image/png") for i in range(4)] +
             [(shade, "s.webp", WEBP, "image/webp")])
    assert r.status_code == 201, r.text
    ret = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"][0]
    photos = shop.get(ret["id"])["photos"]
    assert [(p["line_item_id"], p["size"]) for p in photos] == \
        [(lamp, 5 * MIB)] + [(lamp, len(PNG))] * 4 + [(shade, len(WEBP))]
    assert shop.api.get(f"/v1/returns/{ret['id']}/photos/{photos[0]['id']}").content == five
    assert "&lt;script&gt;" in r.text or "<script" not in r.text
    # a body over the route's cap (26 MiB) is refused before it is read
    huge = [(lamp, f"h{i}.jpg", five, "image/jpeg") for i in range(6)]
    r = send(shop, token, o, fields, huge)
    assert r.status_code == 413
