"""Privacy: GET /v1/customers/export and POST /v1/customers/erase.

One customer with data in every programme on main (orders by signed
webhook from the fake shop, a loyalty account with points, a merchant's
note and a redemption, a review request answered with a review, a return
with a note and a photo) is exported, then erased: afterwards the email,
the first name and the texts appear nowhere in the shop's rows of the
database (every text, jsonb and bytea column of every table searched),
balances are unchanged, `aftersale loyalty verify` is clean, a second
erasure changes nothing, and another customer of the shop and the same
email at another shop are untouched.

Fixtures: reviews_helpers.py (own service and database, SMTP sink, fake
shop per test).
"""

import json
import secrets

from aftersale_it import assert_problem
from loyalty_helpers import LOYALTY_JOB_KINDS, assert_verified
from reviews_helpers import (FAST_SETTINGS, REVIEW_JOB_KINDS, ReviewShop, rshop, rv_admin, rv_db,  # noqa: F401
                             rv_svc, sink, token_of, unique_email, wait_for, wfake)
from woo_helpers import FakeWoo, deliver

ALL_KINDS = REVIEW_JOB_KINDS + LOYALTY_JOB_KINDS + ("woo.delivery", "woo.order_fetch")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def dump_hits(pg, db, shop_id, needles):
    """Every (table.column, needle) where a needle occurs, ignoring case, in
    a text, json, jsonb or bytea column of a row of this shop (rows of
    tables without shop_id: all)."""
    cols = pg.query(db, """
        SELECT c.table_name, c.column_name, c.data_type,
               EXISTS (SELECT 1 FROM information_schema.columns s
                       WHERE s.table_schema = 'public' AND s.table_name = c.table_name
                         AND s.column_name = 'shop_id')
        FROM information_schema.columns c JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
          AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')
    """)
    assert len(cols) > 40, cols
    hits = []
    conn = pg.connect(db)
    try:
        with conn.cursor() as cur:
            for table, col, dtype, has_shop in cols:
                expr = (f"encode(\"{col}\", 'escape')" if dtype == "bytea"
                        else f"\"{col}\"::text")
                where = "shop_id = %s" if has_shop else "true"
                for needle in needles:
                    cur.execute(f"SELECT count(*) FROM \"{table}\" WHERE {where}"
                                f" AND strpos(lower({expr}), lower(%s)) > 0",
                                ((shop_id, needle) if has_shop else (needle,)))
                    if cur.fetchone()[0]:
                        hits.append((f"{table}.{col}", needle))
    finally:
        conn.close()
    return hits


PERSONAL = {"email", "billing_email", "billing_first_name", "billing_last_name", "first_name",
            "last_name", "reviewer_name", "reviewer_email", "title", "body", "note"}


def personal(x):
    """The personal fields of an export, as a set of (group, table, row id, key, value):
    what an erasure of someone else must leave alone (other fields, like a
    request's status, move on by themselves)."""
    out = set()
    for group, tables in x.items():
        if group == "customer":
            continue
        if isinstance(tables, list):
            tables = {group: tables}
        for table, rows in tables.items():
            for row in rows:
                rid = row.get("id", row.get("order_id"))
                out |= {(group, table, rid, k, v) for k, v in row.items() if k in PERSONAL}
    return out


def export(shop, **query):
    r = shop.api.get("/v1/customers/export", params=query)
    assert r.status_code == 200, r.text
    return r.json()


def erase(shop, **body):
    r = shop.api.post("/v1/customers/erase", json=body)
    assert r.status_code == 200, r.text
    return r.json()["erased"]


def build_customer(shop, email, first, last, review_text, note_text):
    """A customer with data in every programme; answers what was made."""
    shop.settings(**FAST_SETTINGS)
    mug = shop.fake.add_product("Blue Mug", "150.00")["id"]
    order = shop.completed_order([mug], email, first_name=first, last_name=last)
    [mail] = shop.wait_mails(email, 1)
    r = shop.submit(token_of(mail.review_link),
                    [{"product_id": mug, "rating": 4, "title": "Fine", "body": review_text}])
    assert r.status_code == 201, r.text
    review = r.json()["reviews"][0]
    shop.idle()

    acct = wait_for(lambda: next(iter(shop.api.get("/v1/loyalty/accounts",
                                                   params={"email": email}).json()["items"]),
                                 None), what="the loyalty account")
    r = shop.api.post(f"/v1/loyalty/accounts/{acct['id']}/adjustments",
                      json={"points": 300, "reason": f"goodwill for {first} {last}"})
    assert r.status_code == 201, r.text
    r = shop.api.post(f"/v1/loyalty/accounts/{acct['id']}/redemptions", json={"points": 100})
    assert r.status_code == 201, r.text

    line = shop.fake.get_order(order["id"])["line_items"][0]["id"]
    r = shop.api.post("/v1/returns", json={
        "order_id": order["id"], "resolution": "refund",
        "lines": [{"line_item_id": line, "quantity": 1, "reason": "damaged", "note": note_text}]})
    assert r.status_code == 201, r.text
    ret = r.json()
    r = shop.api.post(f"/v1/returns/{ret['id']}/photos", data=PNG,
                      headers={"Content-Type": "image/png"})
    assert r.status_code == 201, r.text
    shop.idle()
    return {"order": order, "review": review, "account": acct["id"], "return": ret,
            "photo": r.json()}


def test_export_then_erase_leaves_nothing_personal_and_keeps_every_amount(
        rshop, rv_svc, rv_admin, sink, pg, base_env):  # noqa: F811
    shop = rshop
    tag = secrets.token_hex(3)
    email = unique_email("erin")
    first, last = f"Zephyrine{tag}", f"Quillfeather{tag}"
    review_text = f"The glaze shimmers like lake water {tag}"
    note_text = f"Handle snapped off on arrival {tag}"
    made = build_customer(shop, email, first, last, review_text, note_text)

    # another customer of the shop, and the same email at another shop
    other_email = unique_email("otto")
    shop.completed_order([shop.fake.add_product("Tea Pot", "20.00")["id"]], other_email,
                         first_name="Otto")
    other_fake = FakeWoo("ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)).start()
    other_shop = ReviewShop(rv_svc, rv_admin, other_fake, sink)
    try:
        other_shop.completed_order([other_fake.add_product("Cup", "5.00")["id"]], email,
                                   first_name=first)
        for sh in (shop, other_shop):
            sh.idle(kinds=ALL_KINDS)
        wait_for(lambda: shop.api.get("/v1/loyalty/accounts",
                                      params={"email": other_email}).json()["items"],
                 what="the other customer's points")
        wait_for(lambda: other_shop.api.get("/v1/loyalty/accounts",
                                            params={"email": email}).json()["items"],
                 what="the other shop's customer's points")
        for sh in (shop, other_shop):
            sh.idle(kinds=ALL_KINDS)
        before_other = personal(export(shop, email=other_email))
        before_other_shop = personal(export(other_shop, email=email))
        assert len(before_other) >= 4, before_other
        assert any(k == "billing_first_name" and v == first for *_, k, v in before_other_shop)

        # -- export: every piece present, the email in any case
        x = export(shop, email=email.upper())
        assert x["customer"] == {"email": email.lower(), "customer_id": None}
        [o] = x["orders"]["orders"]
        assert (o["order_id"], o["billing_first_name"], o["billing_last_name"]) == (
            made["order"]["id"], first, last)
        assert x["orders"]["items"] and x["orders"]["webhook_deliveries"]
        assert all("body" not in d and d["size"] > 0 for d in x["orders"]["webhook_deliveries"])
        [acct] = x["loyalty"]["accounts"]
        assert acct["id"] == made["account"]
        assert any(first in en["note"] for en in x["loyalty"]["ledger"])
        assert len(x["loyalty"]["redemptions"]) == 1
        [rq] = x["reviews"]["requests"]
        assert rq["email"] == email.lower() and rq["first_name"] == first
        [rv] = x["reviews"]["reviews"]
        assert rv["body"] == review_text and rv["id"] == made["review"]["id"]
        assert x["messaging"]["contact_log"]
        [ret] = x["returns"]["requests"]
        assert ret["id"] == made["return"]["id"]
        assert x["returns"]["lines"][0]["note"] == note_text
        [ph] = x["returns"]["photos"]
        assert ph == {"id": made["photo"]["id"], "request_id": ret["id"], "media_type": "image/png",
                      "size": len(PNG), "created_at": ph["created_at"]}
        assert x["returns"]["events"] and x["erasures"] == []
        balance = shop.api.get(f"/v1/loyalty/accounts/{acct['id']}").json()
        assert balance["balance"] > 0
        needles = [email, first, last, review_text, note_text]
        assert dump_hits(pg, rv_svc.db, shop.id, needles), "the dump finds nothing before erasure"

        # -- erase
        counts = erase(shop, email=email)
        for table, n in [("orders", 1), ("reviews", 1), ("review_requests", 1),
                         ("return_photos", 1), ("return_lines", 1), ("return_requests", 1),
                         ("loyalty_accounts", 1), ("loyalty_ledger", 1)]:
            assert counts[table] >= n, (table, counts)
        assert counts["webhook_deliveries"] >= 1 and counts["contact_log"] >= 1, counts

        assert dump_hits(pg, rv_svc.db, shop.id, needles) == []
        # What is kept is still found by the address (through its tombstone),
        # and none of it is personal.
        after = export(shop, email=email)
        text = json.dumps(after["orders"]) + json.dumps({k: v for k, v in after.items()
                                                         if k not in ("customer", "orders")})
        assert not [n for n in needles if n.lower() in text.lower()], text
        [o2] = after["orders"]["orders"]
        assert (o2["total"], o2["billing_first_name"]) == (o["total"], "")
        assert o2["billing_email"].endswith("@erased.invalid")
        assert after["returns"]["photos"] == []
        assert [r["body"] for r in after["reviews"]["reviews"]] == ["[erased]"]
        assert len(after["erasures"]) == 1 and after["erasures"][0]["counts"] == counts
        # the amounts stay: balance, order total, the review's rating
        acct_after = shop.api.get(f"/v1/loyalty/accounts/{acct['id']}").json()
        assert {k: v for k, v in acct_after.items() if k not in ("email", "updated_at")} == {
            k: v for k, v in balance.items() if k not in ("email", "updated_at")}
        assert acct_after["email"].endswith("@erased.invalid")
        rv_after = shop.review(made["review"]["id"])
        assert (rv_after["rating"], rv_after["body"], rv_after["reviewer_name"]) == (
            4, "[erased]", "[erased]")
        ret_after = shop.api.get(f"/v1/returns/{ret['id']}").json()
        assert ret_after["state"] == ret["state"] and ret_after["lines"][0]["quantity"] == 1
        assert shop.api.get(f"/v1/returns/{ret['id']}/photos/{ph['id']}").status_code == 404
        assert_verified(pg, base_env, rv_svc.db)

        # -- idempotent, recorded, logged without the address
        again = erase(shop, email=email)
        assert again and all(n == 0 for n in again.values()), again
        rows = pg.query(rv_svc.db, "SELECT email_tombstone, actor FROM customer_erasures"
                                   " WHERE shop_id = %s ORDER BY id", (shop.id,))
        assert len(rows) == 2 and rows[0][0].endswith("@erased.invalid")
        assert rows[0][1].startswith("api_key:")
        lines = [ln for ln in rv_svc.log_records() if ln.get("msg") == "customer erased"]
        assert len(lines) == 2 and all(email not in str(ln) for ln in lines), lines
        assert lines[0]["counts"] == counts and lines[0]["shop_id"] == shop.id

        # -- the unsubscribe survives by tombstone (none here: made below)
        # -- the others untouched
        # (rows may be added meanwhile: the review mail and its reminder)
        for sh, em, before in ((shop, other_email, before_other),
                               (other_shop, email, before_other_shop)):
            now = personal(export(sh, email=em))
            assert before <= now, before - now
            assert not [v for *_, v in now if "erased" in str(v)], now
    finally:
        other_shop.close()
        other_fake.stop()


def test_unsubscribe_is_kept_by_tombstone(rshop, rv_svc, pg):  # noqa: F811
    email = unique_email("unsub")
    r = rshop.api.post("/v1/customers/erase", json={"email": email})
    assert r.status_code == 200 and r.json()["erased"]["unsubscribes"] == 0
    pg.query(rv_svc.db, "INSERT INTO unsubscribes (shop_id, email, programme)"
                        " VALUES (%s, %s, 'reviews')", (rshop.id, email))
    assert erase(rshop, email=email.upper())["unsubscribes"] == 1
    rows = pg.query(rv_svc.db, "SELECT email, customer_tombstone(%s) FROM unsubscribes"
                               " WHERE shop_id = %s", (email, rshop.id))
    assert len(rows) == 1 and rows[0][0] == rows[0][1] and rows[0][0].endswith("@erased.invalid")
    # the same person writing again from that address is still not a marketing target
    st = rshop.api.get("/v1/messaging/contact-status", params={"email": email})
    assert st.status_code == 200 and st.json()["unsubscribed"] is True, st.text


def test_by_customer_id(rshop):  # noqa: F811
    shop = rshop
    email = unique_email("reg")
    o = shop.completed_order([shop.fake.add_product("Lamp", "9.00")["id"]], email,
                             first_name="Regina", customer_id=4711)
    shop.idle()
    x = export(shop, customer_id=4711)
    assert [r["order_id"] for r in x["orders"]["orders"]] == [o["id"]]
    req = shop.request_for_order(o["id"])
    assert req["status"] == "scheduled"  # due in days: the default delay
    assert x["customer"] == {"email": None, "customer_id": 4711}
    counts = erase(shop, customer_id=4711)
    assert counts["orders"] == 1 and counts["review_requests_cancelled"] == 1, counts
    assert (lambda q: (q["status"], q["cancel_reason"]))(shop.request(req["id"])) == (
        "cancelled", "customer data erased")
    [kept] = export(shop, email=email)["orders"]["orders"]
    assert kept["billing_email"].endswith("@erased.invalid") and kept["billing_first_name"] == ""
    assert all(n == 0 for n in erase(shop, customer_id=4711).values())


def test_refusals(rshop, rv_svc):  # noqa: F811
    shop = rshop
    assert_problem(shop.api.get("/v1/customers/export"), 422, "invalid-field", "email")
    assert_problem(shop.api.get("/v1/customers/export", params={"email": "nobody"}), 422,
                   "invalid-field", "email")
    assert_problem(shop.api.get("/v1/customers/export", params={"customer_id": "x"}), 422,
                   "invalid-field", "customer_id")
    assert_problem(shop.api.post("/v1/customers/erase", json={}), 422, "invalid-field", "email")
    assert_problem(shop.api.post("/v1/customers/erase", json={"email": "a@b.c", "extra": 1}),
                   422, "invalid-field", "extra")
    assert_problem(shop.api.post("/v1/customers/erase", json={"email": 5}), 422,
                   "invalid-field", "email")
    assert_problem(shop.api.post("/v1/customers/erase", json={"customer_id": -3}), 422,
                   "invalid-field", "customer_id")
    assert shop.anon.get("/v1/customers/export", params={"email": "a@b.c"}).status_code == 401
    assert shop.anon.post("/v1/customers/erase", json={"email": "a@b.c"}).status_code == 401


def test_erasing_by_email_reaches_the_registered_customers_orders_billed_elsewhere(rshop):  # noqa: F811,E501
    shop = rshop
    email, work = unique_email("home"), unique_email("work")
    cust = {"id": 4712, "email": email, "first_name": "Hedda", "last_name": "Home",
            "date_created_gmt": "2026-11-01T10:00:00", "date_modified_gmt": "2026-11-01T10:00:00"}
    r = deliver(shop.svc.port, shop.id, shop.secret, "customer.created", cust)
    assert r.status_code == 200, r.text
    o = shop.completed_order([shop.fake.add_product("Rug", "40.00")["id"]], work,
                             first_name="Hedda", customer_id=4712)
    shop.idle()
    x = wait_for(lambda: (lambda e: e if e["customers"] else None)(export(shop, email=email)),
                 what="the customer's snapshot")
    assert [r["order_id"] for r in x["orders"]["orders"]] == [o["id"]]
    topics = {d["topic"] for d in x["orders"]["webhook_deliveries"]}
    assert "customer.created" in topics and any(t.startswith("order.") for t in topics), topics

    counts = erase(shop, email=email)
    assert counts["customers"] == 1 and counts["orders"] == 1, counts
    after = export(shop, customer_id=4712)
    [kept] = after["orders"]["orders"]
    assert kept["billing_email"].endswith("@erased.invalid") and kept["billing_first_name"] == ""
    assert after["customers"][0]["first_name"] == "" and after["customers"][0]["email"] != email
    assert all(d["size"] == 0 for d in after["orders"]["webhook_deliveries"])
    # the other address of the order is gone too (its rows found by tombstone)
    assert work not in json.dumps(export(shop, email=work)["orders"])


def test_ledger_stays_append_only_but_for_an_erased_note(rshop, rv_svc, pg):  # noqa: F811
    import psycopg2
    shop = rshop
    email = unique_email("ledger")
    shop.completed_order([shop.fake.add_product("Bowl", "80.00")["id"]], email)
    acct = wait_for(lambda: next(iter(shop.api.get("/v1/loyalty/accounts",
                                                   params={"email": email}).json()["items"]),
                                 None), what="the loyalty account")
    r = shop.api.post(f"/v1/loyalty/accounts/{acct['id']}/adjustments",
                      json={"points": 5, "reason": "for Greta"})
    assert r.status_code == 201, r.text
    [[entry]] = pg.query(rv_svc.db, "SELECT max(id) FROM loyalty_ledger WHERE shop_id = %s"
                                    " AND account_id = %s", (shop.id, acct["id"]))
    for sql in ("UPDATE loyalty_ledger SET delta = delta + 1 WHERE shop_id = %s AND id = %s",
                "UPDATE loyalty_ledger SET note = 'other' WHERE shop_id = %s AND id = %s",
                "UPDATE loyalty_ledger SET note = '[erased]', delta = delta + 1"
                " WHERE shop_id = %s AND id = %s",
                "DELETE FROM loyalty_ledger WHERE shop_id = %s AND id = %s"):
        try:
            pg.query(rv_svc.db, sql, (shop.id, entry))
        except psycopg2.Error as exc:
            assert exc.pgcode == "23514", (sql, exc)
        else:
            raise AssertionError(f"the ledger accepted: {sql}")
    pg.query(rv_svc.db, "UPDATE loyalty_ledger SET note = '[erased]' WHERE shop_id = %s"
                        " AND id = %s", (shop.id, entry))
    assert pg.query(rv_svc.db, "SELECT note FROM loyalty_ledger WHERE shop_id = %s AND id = %s",
                    (shop.id, entry)) == [("[erased]",)]
