"""The report's aggregates (per day and per month, sql/008 and sql/019) equal
the rows they count.

A random data set (fixed seed): invitations over four months in a shop in
Europe/Bratislava, answered through the public API and the one-click page,
many answers changed later (also after the responses were moved to other
days with SQL, which the triggers follow), products from the order lines.
The report's figures for several ranges (whole months, ranges that cut
months at both ends, one partial month, weeks, days) are compared with
figures computed here from the raw rows, and survey_aggregates_rebuild
(sql/019), which recomputes the four aggregate tables from the rows, must
leave them exactly as the triggers kept them."""

import datetime as dt
import random
import time
from zoneinfo import ZoneInfo

from loyalty_helpers import mint
from surveys_helpers import (create_survey, db, put_answers, rshop, rv_admin, rv_db,  # noqa: F401
                             rv_svc, sink, wfake)

TZ = ZoneInfo("Europe/Bratislava")
QUESTIONS = [
    {"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend?"}},
    {"id": "csat", "kind": "csat", "label": {"en": "Satisfied?"}},
    {"id": "why", "kind": "text", "label": {"en": "Why?"}},
    {"id": "src", "kind": "multiple_choice", "other": True, "label": {"en": "Where?"},
     "choices": [{"id": "web", "label": {"en": "Web"}}, {"id": "tv", "label": {"en": "TV"}}]},
]
COUNTRIES = ["SK", "CZ", "AT"]
PRODUCTS = {11: "Mug", 12: "Cap", 13: "Pen"}
# 2026-09-01 .. 2026-12-31 local, across the end of summer time (2026-10-25).
START = dt.datetime(2026, 9, 1, tzinfo=TZ)
SPAN_S = 122 * 86400


def _random_answers(rnd):
    a = {"nps": rnd.randrange(11)}
    if rnd.random() < 0.7:
        a["csat"] = rnd.randrange(1, 6)
    if rnd.random() < 0.3:
        a["why"] = rnd.choice(["late", "fine", "great"])
    if rnd.random() < 0.5:
        a["src"] = rnd.sample(["web", "tv", "other"], rnd.randrange(1, 3))
    return a


def _put(shop, token, answers):
    other = {"src": "a blog"} if "other" in answers.get("src", []) else {}
    r = put_answers(shop, token, answers, other=other)
    assert r.status_code in (200, 201), r.text


def _seed(shop, pg, rnd):
    s = create_survey(shop, name="Aggregates", questions=QUESTIONS)
    sid, n = s["id"], 48
    db(pg, shop, "INSERT INTO orders (shop_id, order_id, status, currency, date_modified_gmt)"
                 " SELECT %s, 700000 + g, 'completed', 'EUR', now() FROM generate_series(1, %s) g",
       (shop.id, n))
    for o in range(1, n + 1):
        for line, pid in enumerate(rnd.sample(sorted(PRODUCTS), rnd.randrange(0, 3))):
            db(pg, shop, "INSERT INTO order_items (shop_id, order_id, line_item_id, product_id, name)"
                         " VALUES (%s, %s, %s, %s, %s)",
               (shop.id, 700000 + o, line + 1, pid, PRODUCTS[pid]))
    # Invitations with their triggers on: sent at random moments of the span.
    for o in range(1, n + 1):
        sent = START + dt.timedelta(seconds=rnd.randrange(SPAN_S))
        db(pg, shop, "INSERT INTO survey_invitations (shop_id, survey_id, version, order_id, email,"
                     " country, first_order, channel, status, sent_at, expires_at)"
                     " VALUES (%s, %s, 1, %s, %s, %s, %s, 'link', 'sent', %s, now() + interval '30 days')",
           (shop.id, sid, 700000 + o, f"agg{o}@example.com", rnd.choice(COUNTRIES),
            rnd.random() < 0.4, sent))
    rows = db(pg, shop, "SELECT id, email FROM survey_invitations WHERE shop_id = %s AND survey_id = %s"
                        " ORDER BY id", (shop.id, sid))
    now = int(time.time())
    tokens = {iid: mint(shop.token_secret, {"aud": f"shop:{shop.id}", "email": email, "rid": iid,
                                            "scope": "survey", "iat": now, "exp": now + 3600})
              for iid, email in rows}
    answered = [iid for iid in tokens if rnd.random() < 0.8]
    for iid in answered:
        if rnd.random() < 0.25:     # the one-click page: a score only
            r = shop.anon.post(f"/s/{tokens[iid]}", data={"q": "nps", "v": str(rnd.randrange(11))})
            assert r.status_code == 200, r.text
        else:
            _put(shop, tokens[iid], _random_answers(rnd))
    for iid in rnd.sample(answered, len(answered) // 3):   # changed answers
        _put(shop, tokens[iid], _random_answers(rnd))
    # The first answers happened now; spread them over the span (each a few
    # hours to days after its invitation, some across a month's end).
    db(pg, shop, "UPDATE survey_responses r SET created_at = least(i.sent_at + (r.id %% 97) * interval '7 hours',"
                 " %s::timestamptz) FROM survey_invitations i WHERE i.shop_id = r.shop_id"
                 " AND i.id = r.invitation_id AND r.shop_id = %s AND r.survey_id = %s",
       (START + dt.timedelta(seconds=SPAN_S - 1), shop.id, sid))
    for iid in rnd.sample(answered, len(answered) // 3):   # changed after the move
        if rnd.random() < 0.3:
            r = shop.anon.post(f"/s/{tokens[iid]}", data={"q": "nps", "v": str(rnd.randrange(11))})
            assert r.status_code == 200, r.text
        else:
            _put(shop, tokens[iid], _random_answers(rnd))
    # Two invitations move to other days after being counted.
    db(pg, shop, "UPDATE survey_invitations SET sent_at = sent_at - interval '9 days'"
                 " WHERE shop_id = %s AND survey_id = %s AND id IN (%s, %s)",
       (shop.id, sid, rows[0][0], rows[1][0]))
    return sid


def _empty():
    return {"sent": 0, "responses": 0, "answered": {}, "dist": {}}


def _expected(pg, shop, sid, frm, to, interval):
    """The report's counts computed from the raw rows."""
    def period(day):
        if interval == "month":
            return day.replace(day=1).isoformat()
        if interval == "week":
            return (day - dt.timedelta(days=day.weekday())).isoformat()
        return day.isoformat()
    groups = {}

    def add(keys, fn):
        for k in keys:
            fn(groups.setdefault(k, _empty()))
    for sent, country, first, products in db(pg, shop, """
            SELECT sent_at, country, first_order, products FROM survey_invitations
             WHERE shop_id = %s AND survey_id = %s AND sent_at IS NOT NULL""", (shop.id, sid)):
        day = sent.astimezone(TZ).date()
        if frm <= day <= to:
            keys = [("total",), ("period", period(day)), ("country", country),
                    ("customer", "first" if first else "repeat")] + [("product", p) for p in products]
            add(keys, lambda g: g.__setitem__("sent", g["sent"] + 1))
    for created, country, first, products, answers in db(pg, shop, """
            SELECT created_at, country, first_order, products, answers FROM survey_responses
             WHERE shop_id = %s AND survey_id = %s""", (shop.id, sid)):
        day = created.astimezone(TZ).date()
        if not frm <= day <= to:
            continue

        def count(g, answers=answers):
            g["responses"] += 1
            for qid, v in answers.items():
                g["answered"][qid] = g["answered"].get(qid, 0) + 1
                if qid == "why":
                    continue
                for x in (v if isinstance(v, list) else [v]):
                    d = g["dist"].setdefault(qid, {})
                    d[str(x)] = d.get(str(x), 0) + 1
        keys = [("total",), ("period", period(day)), ("country", country),
                ("customer", "first" if first else "repeat")] + [("product", p) for p in products]
        add(keys, count)
    return groups


def _figures(m):
    """The counts of one group of the report."""
    g = {"sent": m["invitations_sent"], "responses": m["responses"], "answered": {}, "dist": {}}
    for q in m["questions"]:
        if q["answered"]:
            g["answered"][q["id"]] = q["answered"]
        dist = {k: v for k, v in (q.get("distribution") or {}).items() if v}
        if dist:
            g["dist"][q["id"]] = dist
    return g


def _report_groups(rep):
    got = {("total",): _figures(rep["totals"])}
    for p in rep["over_time"]:
        if p["responses"] or p["invitations_sent"]:
            got[("period", p["period"])] = _figures(p)
    for c in rep["by_country"]:
        got[("country", c["country"])] = _figures(c)
    for c in rep["by_customer"]:
        got[("customer", c["customer"])] = _figures(c)
    for p in rep["by_product"]:
        got[("product", p["product_id"])] = _figures(p)
    return got


def _tables(pg, shop, sid):
    out = {}
    for table, cols in (("survey_daily", "day, version, facet, country, first_order"),
                        ("survey_monthly", "month, version, facet, country, first_order"),
                        ("survey_daily_products", "day, version, product_id, facet"),
                        ("survey_monthly_products", "month, version, product_id, facet")):
        out[table] = sorted(db(pg, shop, f"SELECT {cols}, n FROM {table} WHERE shop_id = %s"
                                         f" AND survey_id = %s AND n <> 0", (shop.id, sid)))
    return out


def test_report_aggregates_equal_the_rows(rshop, pg):
    shop = rshop
    assert shop.api.patch("/v1/shop", json={"timezone": "Europe/Bratislava"}).status_code == 200
    sid = _seed(shop, pg, random.Random(20261202))
    ranges = [("2026-09-01", "2026-12-31", "month"),   # whole months only
              ("2026-09-13", "2026-12-04", "month"),   # cut at both ends
              ("2026-10-20", "2026-10-31", "month"),   # the end of one month
              ("2026-10-05", "2026-10-25", "month"),   # inside one month
              ("2026-08-20", "2027-01-10", "week"),
              ("2026-10-20", "2026-11-12", "day")]
    for frm, to, interval in ranges:
        r = shop.api.get(f"/v1/surveys/{sid}/report", params={"from": frm, "to": to, "interval": interval})
        assert r.status_code == 200, r.text
        got = _report_groups(r.json())
        want = _expected(pg, shop, sid, dt.date.fromisoformat(frm), dt.date.fromisoformat(to), interval)
        assert got == want, (frm, to, interval)
    whole = _report_groups(shop.api.get(f"/v1/surveys/{sid}/report", params={
        "from": "2026-09-01", "to": "2026-12-31", "interval": "month"}).json())
    assert whole[("total",)]["responses"] >= 30 and len([k for k in whole if k[0] == "period"]) == 4
    # The tables the triggers kept are the tables computed from the rows.
    kept = _tables(pg, shop, sid)
    assert kept["survey_monthly"] and kept["survey_monthly_products"]
    db(pg, shop, "SELECT survey_aggregates_rebuild(%s, %s)", (shop.id, sid))
    assert _tables(pg, shop, sid) == kept
