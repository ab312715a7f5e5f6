"""The outreach layer: one messaging settings document per shop, one
contact policy and one unsubscribe list for every marketing programme,
transactional messages that neither cap nor unsubscribe holds back, and
customer-facing text from the per-locale catalogues (emails and pages in
the shop's or the customer's language, in the shop's brand).

Surveys are not merged yet; a second marketing programme is shown the way
surveys will use the layer: its messages are rows of the shared contact
log (programme 'surveys'), and its check is the one
GET /v1/messaging/contact-status reports (outreach_contact_check).

Fixtures and helpers: reviews_helpers.py (own service and database per
module, a real SMTP sink, a fake shop per test).
"""

import copy

from reviews_helpers import (path_of, rshop, rv_admin, rv_db, rv_svc, sink, token_of,  # noqa: F401
                             unique_email, wfake)
from woo_helpers import wait_for

from aftersale_it import assert_problem

DEFAULTS = {
    "contact_policy": {"max_messages": 2, "period": "P14D"},
    "sender_name": "", "sender_email": "", "reply_to": "", "alert_email": "",
    "default_locale": "en", "brand_name": "", "logo_url": "", "accent_color": "#1d4ed8",
    "locales": ["en", "bg", "de", "pl", "sk", "tr", "zh-Hans"],
}


def messaging(shop, **body):
    r = shop.api.put("/v1/messaging/settings", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def status(shop, email):
    r = shop.api.get("/v1/messaging/contact-status", params={"email": email})
    assert r.status_code == 200, r.text
    return r.json()


def test_settings_round_trip_and_validation(rshop):
    shop = rshop
    r = shop.api.get("/v1/messaging/settings")
    assert r.status_code == 200, r.text
    assert r.json() == DEFAULTS

    # GET -> change fields -> PUT the whole document (read-only locales too) -> GET
    doc = copy.deepcopy(DEFAULTS)
    doc.update(contact_policy={"max_messages": 3, "period": "P2W"}, sender_name="Acme Support",
               sender_email="support@acme.example", reply_to="help@acme.example",
               alert_email="owner@acme.example", default_locale="zh-Hans", brand_name="Acme",
               logo_url="https://acme.example/logo.png", accent_color="#0F766E")
    r = shop.api.put("/v1/messaging/settings", json=doc)
    assert r.status_code == 200, r.text
    want = dict(doc, contact_policy={"max_messages": 3, "period": "P14D"}, accent_color="#0f766e")
    assert r.json() == want
    assert shop.api.get("/v1/messaging/settings").json() == want
    # locales is computed: a client cannot change it
    r = shop.api.put("/v1/messaging/settings", json={"locales": ["en"]})
    assert r.status_code == 200 and r.json()["locales"] == DEFAULTS["locales"], r.text

    bad = [
        ({"sender_name": "Acme\r\nBcc: victim@example.com"}, "sender_name"),
        ({"brand_name": "Acme\nShop"}, "brand_name"),
        ({"reply_to": "help@acme.example\r\nBcc: x@example.com"}, "reply_to"),
        ({"sender_email": "nope"}, "sender_email"),
        ({"alert_email": "owner@"}, "alert_email"),
        ({"default_locale": "fr"}, "default_locale"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"accent_color": "red"}, "accent_color"),
        ({"contact_policy": {"period": "P1M"}}, "contact_policy.period"),
        ({"contact_policy": {"max_messages": 0}}, "contact_policy.max_messages"),
        ({"contact_policy": {"colour": 1}}, "contact_policy.colour"),
        ({"nonsense": 1}, "nonsense"),
    ]
    for body, field in bad:
        r = shop.api.put("/v1/messaging/settings", json=body)
        assert_problem(r, 422, "invalid-field", field=field)
    # nothing of a refused request was kept
    assert shop.api.get("/v1/messaging/settings").json() == want


def test_contact_policy_moved_out_of_review_settings(rshop):
    shop = rshop
    rs = shop.api.get("/v1/reviews/settings").json()
    assert "contact_policy" not in rs
    assert rs["locale"] == "" and rs["sender_name"] == "" and rs["sender_email"] == ""
    # An old client still sending it: accepted and written to the messaging settings.
    got = shop.settings(delay="P3D", contact_policy={"max_messages": 5, "period": "P3D"})
    assert "contact_policy" not in got and got["delay"] == "P3D"
    assert shop.api.get("/v1/messaging/settings").json()["contact_policy"] == \
        {"max_messages": 5, "period": "P3D"}
    # Refused there: 422 naming the field, and neither document changed.
    r = shop.api.put("/v1/reviews/settings",
                     json={"delay": "P9D", "contact_policy": {"max_messages": 500}})
    assert_problem(r, 422, "invalid-field", field="contact_policy.max_messages")
    assert shop.api.get("/v1/reviews/settings").json()["delay"] == "P3D"
    assert shop.api.get("/v1/messaging/settings").json()["contact_policy"]["max_messages"] == 5


def test_one_unsubscribe_stops_every_marketing_programme(rshop, pg):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    messaging(shop, contact_policy={"max_messages": 100, "period": "PT1S"})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("unsub")
    shop.completed_order([mug], email)
    [mail] = shop.wait_mails(email)
    assert status(shop, email)["marketing"] == "send"

    # The customer clicks the link in a review email...
    url = mail.unsubscribe_url
    r = shop.anon.post(path_of(url), data="List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text[:300]
    assert "review requests or surveys" in r.text

    # ...and every marketing programme is suppressed for that address, in any case;
    # a transactional message is not.
    for addr in (email, email.upper()):
        st = status(shop, addr)
        assert st["unsubscribed"] is True, st
        assert st["marketing"] == "suppressed" and st["next_marketing_at"] is None, st
        assert st["transactional"] == "send", st
    rows = pg.query(shop.svc.db, "SELECT programme FROM unsubscribes WHERE shop_id = %s"
                    " AND email = lower(%s)", (shop.id, email))
    assert rows == [("reviews",)], rows

    # The next review request to it is not sent.
    second = shop.completed_order([mug], email)
    req = shop.request_for_order(second["id"])
    shop.wait_status(req["id"], "unsubscribed")
    assert len(shop.mails(email)) == 1

    # Another shop's customer with the same address is not affected.
    other = unique_email("other")
    assert status(shop, other)["marketing"] == "send"


def test_caps_are_shared_across_programmes(rshop, pg):
    """A survey invitation (another marketing programme, logged in the shared
    contact log) fills the cap: the review request waits for the next slot."""
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    messaging(shop, contact_policy={"max_messages": 1, "period": "P1D"})
    email = unique_email("shared")
    assert status(shop, email)["marketing"] == "send"
    pg.query(shop.svc.db, "INSERT INTO contact_log (shop_id, email, kind, ref_id, programme)"
             " VALUES (%s, %s, 'survey_invitation', 1, 'surveys')", (shop.id, email))
    st = status(shop, email)
    assert st["marketing"] == "wait" and st["transactional"] == "send", st

    mug = shop.fake.add_product("Mug", "9.00")["id"]
    order = shop.completed_order([mug], email)
    req = shop.request_for_order(order["id"])
    job = shop.send_job(req["id"], pred=lambda j: (j["result"] or {}).get("postponed"))
    assert job["result"]["postponed"] == "contact policy", job
    assert 86000 <= job["result"]["seconds"] <= 86400, job
    assert shop.request(req["id"])["status"] == "scheduled"
    assert shop.mails(email) == []


def test_transactional_message_ignores_cap_and_unsubscribe(rshop, pg):
    shop = rshop
    messaging(shop, contact_policy={"max_messages": 1, "period": "P1D"},
              sender_name="Acme Support", reply_to="help@acme.example", brand_name="Acme")
    email = unique_email("trans")
    # The cap is full (a review request went out) and the address unsubscribed.
    pg.query(shop.svc.db, "INSERT INTO contact_log (shop_id, email, kind, ref_id, programme)"
             " VALUES (%s, %s, 'review_request', 1, 'reviews')", (shop.id, email))
    pg.query(shop.svc.db, "INSERT INTO unsubscribes (shop_id, email, programme)"
             " VALUES (%s, lower(%s), 'reviews')", (shop.id, email))
    assert status(shop, email)["marketing"] == "suppressed"

    r = shop.api.post("/v1/messaging/test-email", json={"email": email, "locale": "de"})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.headers["Location"] == f"/v1/jobs/{job_id}"
    job = wait_for(lambda: (lambda j: j if j["status"] == "done" else None)(shop.job(job_id)),
                   10, what="the test email job")
    assert job["result"] == {"sent": "email", "locale": "de", "unsubscribed": True}, job
    [mail] = shop.wait_mails(email)
    assert mail.subject == "Test-E-Mail von Acme"
    assert mail.header("List-Unsubscribe") is None
    assert 'lang="de"' in mail.html and "Dies ist eine Test-E-Mail von Acme." in mail.html
    assert "unsubscribe" not in mail.html.lower() and "abmelden" not in mail.html.lower()
    assert mail.header("Reply-To") == "help@acme.example"
    assert "Acme Support" in mail.header("From")
    # Logged as transactional: it counts against no cap.
    rows = pg.query(shop.svc.db, "SELECT programme, kind, transactional FROM contact_log"
                    " WHERE shop_id = %s AND email = %s ORDER BY id", (shop.id, email))
    assert rows == [("reviews", "review_request", False), ("messaging", "test_email", True)]
    fresh = unique_email("fresh")
    r = shop.api.post("/v1/messaging/test-email", json={"email": fresh})
    assert r.status_code == 202, r.text
    shop.wait_mails(fresh)
    assert status(shop, fresh)["marketing"] == "send"

    for body, field in (({"email": "nope"}, "email"), ({"email": email, "locale": "fr"}, "locale"),
                        ({"email": email, "x": 1}, "x")):
        assert_problem(shop.api.post("/v1/messaging/test-email", json=body), 422,
                       "invalid-field", field=field)
    assert_problem(shop.api.get("/v1/messaging/contact-status", params={"email": "x"}), 422,
                   "invalid-field", field="email")


def test_review_email_and_pages_in_the_shops_and_the_customers_language(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    messaging(shop, default_locale="pl", brand_name="Acme", accent_color="#0f766e",
              logo_url="https://acme.example/logo.png",
              contact_policy={"max_messages": 100, "period": "PT1S"})
    mug = shop.fake.add_product("Kubek", "9.00")["id"]
    email = unique_email("pl")
    shop.completed_order([mug], email, first_name="Ola")
    [mail] = shop.wait_mails(email)
    # Polish, the shop's default locale, in the shop's brand.
    assert mail.subject == f"Jak oceniasz zamówienie z {shop.name}?"
    assert "Cześć Ola," in mail.text and "Napisz swoją opinię:" in mail.text
    assert 'lang="pl"' in mail.html and "Napisz opinię" in mail.html
    assert "background-color:#0f766e" in mail.html
    assert 'src="https://acme.example/logo.png"' in mail.html
    assert "Zrezygnuj z próśb o opinie i ankiet" in mail.html

    link = path_of(mail.review_link)
    page = shop.anon.get(link)
    assert page.status_code == 200
    assert '<html lang="pl">' in page.text and "Wyślij opinię" in page.text
    assert "Kubek" in page.text and "button{background:#0f766e}" in page.text
    assert 'src="https://acme.example/logo.png"' in page.text
    assert "img-src https: http:" in page.headers["Content-Security-Policy"]
    # The customer's browser asks for German: the page speaks German.
    page = shop.anon.get(link, headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in page.text and "Bewertung senden" in page.text
    assert f"Bewerten Sie Ihre Bestellung bei {shop.name}" in page.text
    # Simplified Chinese for zh-CN; a language we lack falls back to the shop's.
    page = shop.anon.get(link, headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-Hans">' in page.text and "提交评价" in page.text
    page = shop.anon.get(link, headers={"Accept-Language": "fr-FR"})
    assert '<html lang="pl">' in page.text

    unsub = path_of(mail.unsubscribe_url)
    page = shop.anon.get(unsub, headers={"Accept-Language": "de"})
    assert page.status_code == 200 and "Abmelden" in page.text, page.text[:300]
    assert email in page.text
    page = shop.anon.get(unsub)
    assert "Wypisz się" in page.text
    # A broken link explains itself in the reader's language too.
    page = shop.anon.get("/review?token=" + token_of(mail.review_link)[:-4] + "AAAA",
                         headers={"Accept-Language": "de"})
    assert page.status_code == 401 and "Dieser Link funktioniert nicht" in page.text

    # German as the shop's language: the next review email is German.
    messaging(shop, default_locale="de")
    email_de = unique_email("de")
    shop.completed_order([mug], email_de, first_name="Jonas")
    [mail] = shop.wait_mails(email_de)
    assert mail.subject == f"Wie gefällt Ihnen Ihre Bestellung bei {shop.name}?"
    assert "Hallo Jonas," in mail.text and 'lang="de"' in mail.html


def test_upgrade_moves_review_contact_policy_sender_and_unsubscribes(pg, base_env):
    """A database at the migration before 010 with review settings (contact
    policy, sender, German) and unsubscribes: after `aftersale migrate`, the
    messaging settings hold them, the review settings no longer do, and the
    old rows belong to the reviews programme."""
    import hashlib
    from pathlib import Path

    from aftersale_it import run_cli

    name = pg.create_db()
    sql_dir = Path(__file__).resolve().parents[2] / "sql"
    before = sorted(f for f in sql_dir.glob("[0-9][0-9][0-9]_*.sql") if int(f.name[:3]) < 10)
    pg.query(name, "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
             " name text NOT NULL, checksum text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())")
    for f in before:
        data = f.read_bytes()
        pg.query(name, data.decode())
        pg.query(name, "INSERT INTO schema_migrations (version, name, checksum)"
                 " VALUES (%s, %s, %s)", (int(f.name[:3]), f.name, hashlib.sha256(data).hexdigest()))
    shop = lambda n: pg.query(name, "INSERT INTO shops (name, url, consumer_key,"  # noqa: E731
                              " consumer_secret_enc, webhook_secret_enc, token_secret_enc,"
                              " currency, timezone) VALUES (%s, 'https://s.example', 'ck',"
                              " '\\x00', '\\x00', '\\x00', 'EUR', 'UTC') RETURNING id", (n,))[0][0]
    a, b, c = shop("A"), shop("B"), shop("C")
    pg.query(name, "INSERT INTO review_settings (shop_id, settings) VALUES"
             " (%s, %s::jsonb), (%s, %s::jsonb)",
             (a, '{"delay": "P3D", "locale": "de", "sender_name": "Acme Reviews",'
                 ' "sender_email": "reviews@acme.example",'
                 ' "contact_policy": {"max_messages": 1, "period": "P7D"}}',
              b, '{"delay": "P5D", "locale": "pt_BR"}'))
    pg.query(name, "INSERT INTO unsubscribes (shop_id, email) VALUES (%s, 'ann@example.com')",
             (a,))
    pg.query(name, "INSERT INTO contact_log (shop_id, email, kind, ref_id) VALUES"
             " (%s, 'bob@example.com', 'review_request', 7)", (a,))

    env = dict(base_env)
    env.pop("PORT", None)
    env["DATABASE_URL"] = pg.url(name)
    p = run_cli(["migrate"], env)
    assert p.returncode == 0, f"migrate failed:\n{p.stderr}\n{p.stdout}"
    assert "010_outreach.sql" in p.stdout

    rows = dict(pg.query(name, "SELECT shop_id, settings FROM messaging_settings"))
    assert rows[a] == {"contact_policy": {"max_messages": 1, "period": "P7D"},
                       "sender_name": "Acme Reviews", "sender_email": "reviews@acme.example",
                       "default_locale": "de"}
    assert rows[b] == {}          # pt_BR is no catalogue locale: the default stays
    assert c not in rows          # no review settings, nothing to move
    rs = dict(pg.query(name, "SELECT shop_id, settings FROM review_settings"))
    assert "contact_policy" not in rs[a] and rs[a]["delay"] == "P3D"
    # German is now the shop's default_locale; the review locale defers to it
    assert rs[a]["sender_name"] == "" and rs[a]["sender_email"] == "" and rs[a]["locale"] == ""
    assert rs[b] == {"delay": "P5D", "locale": "pt_BR"}
    assert pg.query(name, "SELECT programme FROM unsubscribes") == [("reviews",)]
    assert pg.query(name, "SELECT programme, transactional FROM contact_log") == \
        [("reviews", False)]


def test_the_customers_locale_wins_over_the_shops(rshop):
    """A request made with the customer's language (POST /v1/review-requests
    locale): its email and its page are in that language, not the shop's
    nor the browser's."""
    shop = rshop
    shop.settings(reminder_count=0)
    messaging(shop, default_locale="pl", contact_policy={"max_messages": 100, "period": "PT1S"})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("sk")
    order = shop.order([mug], email, first_name="Jana", status="processing")
    shop.idle()
    # A language the catalogues lack is refused, naming the field.
    assert_problem(shop.api.post("/v1/review-requests",
                                 json={"order_id": order["id"], "locale": "fr"}),
                   422, "invalid-field", field="locale")
    r = shop.api.post("/v1/review-requests", json={"order_id": order["id"], "send_now": True,
                                                    "locale": "sk-SK"})
    assert r.status_code == 201, r.text
    assert r.json()["locale"] == "sk"
    [mail] = shop.wait_mails(email)
    assert mail.subject == f"Ako ste spokojní s objednávkou z {shop.name}?"
    assert "Dobrý deň, Jana," in mail.text and 'lang="sk"' in mail.html
    page = shop.anon.get(path_of(mail.review_link), headers={"Accept-Language": "de"})
    assert '<html lang="sk">' in page.text and "Odoslať recenziu" in page.text
    # A request made by the webhook knows no locale: the shop's.
    other = unique_email("pl")
    auto = shop.request_for_order(shop.completed_order([mug], other)["id"])
    assert auto["locale"] is None
