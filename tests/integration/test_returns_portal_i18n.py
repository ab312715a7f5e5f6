"""The returns portal's look-up page and request form in the customer's
locale: every word from the catalogue (locales/*.json), the locale picked
as the request's page picks it (?lang=, Accept-Language, the shop's
default_locale, English), the html lang attribute right, and every value
from the shop or the customer still escaped."""

import re

from returns_helpers import fake, shop, woo_admin, woo_db, woo_svc  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))

# A few words of each page in Polish and in Simplified Chinese, as the
# catalogue has them; none of the English ones may be left.
WORDS = {
    "pl": {"lookup": ["Zwrot produktów", "Numer zamówienia", "Adres e-mail do rozliczeń",
                      "Znajdź moje zamówienie"],
           "form": ["Wybierz, co chcesz zwrócić", "Liczba sztuk do zwrotu", "Powód",
                    "Uwagi (opcjonalnie)", "Czego oczekujesz?", "Wyślij zgłoszenie zwrotu",
                    "Zdjęcia (opcjonalnie: do 5"],
           "miss": "Nie znaleźliśmy zamówienia",
           "done": ["Zwrot zgłoszony", "Twój numer zwrotu to"],
           "bad_photo": "Plik &lt;i&gt;cat&lt;/i&gt;.png nie jest obrazem JPEG, PNG ani WebP"},
    "zh-Hans": {"lookup": ["退货", "订单号", "账单电子邮件", "查找我的订单"],
                "form": ["选择要退回的商品", "退回数量", "原因", "备注（可选）", "您希望如何处理？",
                         "提交退货申请", "照片（可选"],
                "miss": "未找到与此订单号和电子邮件地址匹配的订单",
                "done": ["已申请退货", "您的退货编号是"],
                "bad_photo": "&lt;i&gt;cat&lt;/i&gt;.png 不是 JPEG、PNG 或 WebP 图片"},
}
ENGLISH = ["Return items", "Order number", "Billing email", "Find my order",
           "Choose what to return", "Quantity to return", "Note (optional)",
           "What would you like?", "Send my return request", "Return requested",
           "could not find", "is not a JPEG"]


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    return m.group(1) if m else None


def no_english(html):
    main = html.split("<main>")[1]
    return [w for w in ENGLISH if w in main]


def get(shop, lang=None, accept=None):
    params = {"shop": shop.id}
    if lang:
        params["lang"] = lang
    headers = {"Accept-Language": accept} if accept else {}
    return shop.anon.get("/returns", params=params, headers=headers)


def post(shop, data, lang=None, accept=None, files=None):
    params = {"shop": shop.id}
    if lang:
        params["lang"] = lang
    headers = {"Accept-Language": accept} if accept else {}
    return shop.anon.post("/returns", params=params, data=data, headers=headers, files=files)


def check_page(r, loc, kind):
    assert f'<html lang="{loc}">' in r.text, r.text[:200]
    for word in WORDS[loc][kind]:
        assert word in r.text, (loc, kind, word)
    assert no_english(r.text) == []


def run_locale(shop, loc, how):
    """The look-up page, a miss, the form, a refused photo and the request,
    all in `loc`, asked for by ?lang= (how="lang") or by the browser's
    Accept-Language (how="accept"; the form's action then carries ?lang=)."""
    accept = {"pl": "pl-PL,pl;q=0.9,en;q=0.5", "zh-Hans": "zh-CN,zh;q=0.9,en;q=0.3"}[loc]
    kw = {"lang": loc} if how == "lang" else {"accept": accept}
    email = f"{how}.{loc.lower()}@example.com"
    o = shop.order([("Kubek <b>&", "10.00", 2)], email=email)
    line = o["line_items"][0]["id"]

    r = get(shop, **kw)
    assert r.status_code == 200
    check_page(r, loc, "lookup")
    # the form posts back in the same language
    assert f'action="/returns?shop={shop.id}&amp;lang={loc}"' in r.text

    r = post(shop, {"order": str(o["id"]), "email": "nobody@example.com"}, **kw)
    assert r.status_code == 200 and hidden(r.text, "token") is None
    assert WORDS[loc]["miss"] in r.text and no_english(r.text) == []
    # the values typed in come back escaped
    r = post(shop, {"order": str(o["id"]), "email": '"><i>x@example.com'}, **kw)
    assert 'value="&quot;&gt;&lt;i&gt;x@example.com"' in r.text and "<i>x@" not in r.text

    r = post(shop, {"order": str(o["id"]), "email": email}, **kw)
    assert r.status_code == 200, r.text
    check_page(r, loc, "form")
    assert "Kubek &lt;b&gt;&amp;" in r.text and "Kubek <b>" not in r.text
    token = hidden(r.text, "token")
    assert token
    action = re.search(r'<form method="post" enctype="multipart/form-data" action="([^"]+)"',
                       r.text).group(1)
    assert action == f"/returns?shop={shop.id}&amp;lang={loc}"

    # the form as the browser posts it: to its action, with ?lang=
    fields = {"token": token, "order": str(o["id"]), f"qty_{line}": "1",
              f"reason_{line}": "wrong_item", "resolution": "refund"}
    r = post(shop, fields, lang=loc,
             files=[(f"photos_{line}", ("<i>cat</i>.png", b"not an image", "image/png"))])
    assert r.status_code == 422, r.text
    assert f'<html lang="{loc}">' in r.text and no_english(r.text) == []
    assert WORDS[loc]["bad_photo"] in r.text and "<i>cat" not in r.text
    assert "Kubek &lt;b&gt;&amp;: " in r.text

    r = post(shop, fields, lang=loc, files=[(f"photos_{line}", ("ok.png", PNG, "image/png"))])
    assert r.status_code == 201, r.text
    check_page(r, loc, "done")
    got = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"]
    assert len(got) == 1 and got[0]["created_by"] == "customer"


def test_portal_in_polish_by_accept_language_and_by_lang(shop):
    run_locale(shop, "pl", "accept")
    run_locale(shop, "pl", "lang")


def test_portal_in_chinese_by_accept_language_and_by_lang(shop):
    run_locale(shop, "zh-Hans", "accept")
    run_locale(shop, "zh-Hans", "lang")


def test_portal_locale_order_and_the_shops_default(shop):
    # ?lang= beats Accept-Language; a tag ?lang= names is matched as one
    assert '<html lang="zh-Hans">' in get(shop, lang="zh-Hans", accept="pl").text
    assert '<html lang="zh-Hans">' in get(shop, lang="zh-CN", accept="pl").text
    assert '<html lang="pl">' in get(shop, lang="pl-PL", accept="de").text
    # an unknown ?lang= falls through to the browser's
    assert '<html lang="pl">' in get(shop, lang="xx", accept="fr, pl;q=0.8").text
    # traditional Chinese is not ours: nothing matches, English
    assert '<html lang="en">' in get(shop, accept="zh-TW").text
    # no ?lang= and no language of the browser: the shop's default_locale
    r = shop.api.put("/v1/messaging/settings", json={"default_locale": "sk"})
    assert r.status_code == 200, r.text
    r = get(shop, accept="fr-FR")
    assert '<html lang="sk">' in r.text and "Číslo objednávky" in r.text
    assert '<html lang="sk">' in get(shop).text
    # ... which the browser's language and ?lang= still beat
    assert '<html lang="de">' in get(shop, accept="de-AT").text
    assert '<html lang="bg">' in get(shop, lang="bg").text
    assert "Номер на поръчката" in get(shop, lang="bg").text
    assert '<html lang="tr">' in get(shop, lang="tr").text
    assert "Sipariş numarası" in get(shop, lang="tr").text


def test_portal_unknown_shop_in_the_customers_locale(shop):
    r = shop.anon.get("/returns", params={"lang": "pl"})
    assert r.status_code == 404 and '<html lang="pl">' in r.text
    assert "Ten sklep nie ma portalu zwrotów." in r.text
    r = shop.anon.get("/returns", headers={"Accept-Language": "zh-Hans-CN"})
    assert r.status_code == 404 and "该商店没有退货门户。" in r.text
