"""Survey reports and the CSV export.

A seeded data set, answered through the public API and then moved in time
with SQL (the trigger of sql/008 moves the per-day counts with the rows),
in a shop in Europe/Bratislava across the end of summer time (2026-10-25,
03:00 CEST -> 02:00 CET): the report's figures are compared with figures
computed here by hand."""

import csv
import io
import math

from surveys_helpers import (create_survey, link_invitation, put_answers, rshop,  # noqa: F401
                             rv_admin, rv_db, rv_svc, sink, unique_email, wfake, db)
from aftersale_it import assert_problem

# (UTC time given, local day in Bratislava, nps, csat, country, email tag)
SEED = [
    ("2026-10-18T12:00:00Z", "2026-10-18", 10, 5, "SK", "a"),
    ("2026-10-24T21:30:00Z", "2026-10-24", 9, 4, "SK", "b"),   # 23:30 CEST
    ("2026-10-24T22:30:00Z", "2026-10-25", 6, 2, "CZ", "c"),   # 00:30 CEST, a UTC 24th
    ("2026-10-25T22:30:00Z", "2026-10-25", 8, 3, "CZ", "a"),   # 23:30 CET
    ("2026-10-25T23:30:00Z", "2026-10-26", 3, 1, "SK", "d"),   # 00:30 CET
    ("2026-10-26T10:00:00Z", "2026-10-26", 10, 5, "SK", "b"),
    ("2026-11-01T10:00:00Z", "2026-11-01", 7, 4, "AT", "e"),
]
UNANSWERED = ["2026-10-24T10:00:00Z", "2026-10-26T10:00:00Z", "2026-10-26T11:00:00Z"]

QUESTIONS = [
    {"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend?"}},
    {"id": "csat", "kind": "csat", "label": {"en": "Satisfied?"}},
    {"id": "note", "kind": "text", "label": {"en": "Anything else?"}},
    {"id": "src", "kind": "single_choice", "other": True, "label": {"en": "Where?"},
     "choices": [{"id": "web", "label": {"en": "Web"}}]},
]


def nps_by_hand(scores):
    n = len(scores)
    p = sum(s >= 9 for s in scores) / n
    d = sum(s <= 6 for s in scores) / n
    var = p + d - (p - d) ** 2
    return 100 * (p - d), 1.96 * math.sqrt(var / n) * 100


def _order(shop, email, country):
    mug = shop.fake.add_product("Mug", "10.00")["id"]
    o = shop.fake.add_order(status="processing", email=email, first_name="Ann",
                            items=[(mug, 1, "10.00")], billing={"country": country})
    shop.deliver_order(o["id"])
    shop.complete(o["id"])
    return o


def _seed(shop, pg):
    r = shop.api.patch("/v1/shop", json={"timezone": "Europe/Bratislava"})
    assert r.status_code == 200, r.text
    s = create_survey(shop, name="Seeded", questions=QUESTIONS)   # draft: no trigger invites
    emails = {}
    for at, _, nps, csat, country, tag in SEED:
        email = emails.setdefault(tag, unique_email(tag))
        o = _order(shop, email, country)
        link = link_invitation(shop, s["id"], o["id"])
        assert put_answers(shop, link["token"], {"nps": nps, "csat": csat}).status_code == 201
        db(pg, shop, "UPDATE survey_invitations SET sent_at = %s WHERE shop_id = %s AND id = %s",
           (at, shop.id, link["id"]))
        db(pg, shop, "UPDATE survey_responses SET created_at = %s WHERE shop_id = %s"
                     " AND invitation_id = %s", (at, shop.id, link["id"]))
    for at in UNANSWERED:
        o = _order(shop, unique_email("x"), "SK")
        link = link_invitation(shop, s["id"], o["id"])
        db(pg, shop, "UPDATE survey_invitations SET sent_at = %s WHERE shop_id = %s AND id = %s",
           (at, shop.id, link["id"]))
    return s


def test_report_figures_and_periods_across_dst(rshop, pg):
    shop = rshop
    s = _seed(shop, pg)
    r = shop.api.get(f"/v1/surveys/{s['id']}/report",
                     params={"from": "2026-10-18", "to": "2026-11-01", "interval": "day"})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["timezone"] == "Europe/Bratislava" and rep["from"] == "2026-10-18"
    t = rep["totals"]
    scores = [x[2] for x in SEED]
    nps, moe = nps_by_hand(scores)
    assert (t["invitations_sent"], t["responses"]) == (10, 7)
    assert t["response_rate"] == 0.7
    assert (t["nps"]["promoters"], t["nps"]["passives"], t["nps"]["detractors"]) == (3, 2, 2)
    assert abs(t["nps"]["score"] - nps) < 0.006 and abs(t["nps"]["margin_of_error"] - moe) < 0.006
    csats = [x[3] for x in SEED]
    assert abs(t["csat"]["score"] - 100 * sum(c >= 4 for c in csats) / len(csats)) < 0.006
    dist = t["questions"][0]["distribution"]
    assert dist == {str(i): scores.count(i) for i in range(11)}

    days = {p["period"]: p for p in rep["over_time"]}
    assert len(rep["over_time"]) == 15 and min(days) == "2026-10-18" and max(days) == "2026-11-01"
    per_day = {}
    for _, day, *_ in SEED:
        per_day[day] = per_day.get(day, 0) + 1
    assert {d: p["responses"] for d, p in days.items() if p["responses"]} == per_day
    # 22:30Z on the 24th is the 25th in Bratislava (CEST); 23:30Z on the 25th is the 26th (CET).
    assert days["2026-10-25"]["responses"] == 2 and days["2026-10-24"]["responses"] == 1
    assert days["2026-10-24"]["invitations_sent"] == 2
    assert days["2026-10-26"]["invitations_sent"] == 4 and days["2026-10-26"]["responses"] == 2

    weeks = shop.api.get(f"/v1/surveys/{s['id']}/report", params={
        "from": "2026-10-18", "to": "2026-11-01", "interval": "week"}).json()["over_time"]
    assert [(w["period"], w["responses"]) for w in weeks] == \
        [("2026-10-12", 1), ("2026-10-19", 3), ("2026-10-26", 3)]
    wk = weeks[1]
    n, m = nps_by_hand([9, 6, 8])
    assert abs(wk["nps"]["score"] - n) < 0.006 and abs(wk["nps"]["margin_of_error"] - m) < 0.006
    months = shop.api.get(f"/v1/surveys/{s['id']}/report", params={
        "from": "2026-10-01", "to": "2026-11-30", "interval": "month"}).json()["over_time"]
    assert [(p["period"], p["responses"], p["invitations_sent"]) for p in months] == \
        [("2026-10-01", 6, 9), ("2026-11-01", 1, 1)]

    by_country = {c["country"]: c for c in rep["by_country"]}
    assert {k: v["responses"] for k, v in by_country.items()} == {"SK": 4, "CZ": 2, "AT": 1}
    assert by_country["SK"]["invitations_sent"] == 7
    n, m = nps_by_hand([10, 9, 3, 10])
    assert abs(by_country["SK"]["nps"]["score"] - n) < 0.006
    by_customer = {c["customer"]: c["responses"] for c in rep["by_customer"]}
    # "a" and "b" ordered twice: their second responses are a repeat customer's.
    assert by_customer == {"first": 5, "repeat": 2}

    # A range that leaves out the edges.
    r = shop.api.get(f"/v1/surveys/{s['id']}/report",
                     params={"from": "2026-10-25", "to": "2026-10-25"}).json()
    assert r["totals"]["responses"] == 2 and len(r["over_time"]) == 1

    assert_problem(shop.api.get(f"/v1/surveys/{s['id']}/report", params={"interval": "year"}),
                   400, "malformed", "interval")
    assert_problem(shop.api.get(f"/v1/surveys/{s['id']}/report", params={"from": "2026-13-01"}),
                   400, "malformed", "from")
    assert_problem(shop.api.get(f"/v1/surveys/{s['id']}/report", params={"to": "2026-02-29"}),
                   400, "malformed", "to")
    assert shop.api.get(f"/v1/surveys/{s['id']}/report",
                        params={"from": "2024-02-29", "to": "2024-03-01"}).status_code == 200
    assert_problem(shop.api.get(f"/v1/surveys/{s['id']}/report",
                                params={"from": "2026-10-02", "to": "2026-10-01"}),
                   400, "malformed", "to")
    assert_problem(shop.api.get("/v1/surveys/999999/report"), 404, "not-found")


def test_changed_answer_moves_the_counts(rshop):
    shop = rshop
    s = create_survey(shop, name="Change", questions=QUESTIONS)
    o = _order(shop, unique_email("ch"), "SK")
    tok = link_invitation(shop, s["id"], o["id"])["token"]
    assert put_answers(shop, tok, {"nps": 2, "csat": 1}).status_code == 201
    assert put_answers(shop, tok, {"nps": 10}).status_code == 200
    t = shop.api.get(f"/v1/surveys/{s['id']}/report").json()["totals"]
    assert t["responses"] == 1 and t["nps"]["promoters"] == 1 and t["nps"]["detractors"] == 0
    assert t["csat"] is None and t["questions"][1]["answered"] == 0


def test_csv_escaping_and_formula_neutralisation(rshop):
    shop = rshop
    s = create_survey(shop, name="CSV", questions=QUESTIONS)
    nasty = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", 'he said "hi", ok',
             "two\r\nlines", "plain"]
    for i, text in enumerate(nasty):
        o = _order(shop, unique_email("csv"), "SK")
        tok = link_invitation(shop, s["id"], o["id"])["token"]
        r = put_answers(shop, tok, {"nps": i, "note": text, "src": "other"},
                        other={"src": "=cmd|' /C calc'!A0"})
        assert r.status_code == 201, r.text
    r = shop.api.get(f"/v1/surveys/{s['id']}/responses.csv")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.content.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    header = rows[0]
    assert header[:3] == ["response_id", "invitation_id", "order_id"]
    assert header[-5:] == ["q.nps", "q.csat", "q.note", "q.src", "q.src.other"]
    body = rows[1:]
    assert len(body) == len(nasty)
    col = header.index("q.note")
    expect = ["'" + t if t[0] in "=+-@" else t for t in nasty]
    assert [row[col] for row in body] == expect
    assert [row[header.index("q.nps")] for row in body] == [str(i) for i in range(len(nasty))]
    assert all(row[header.index("q.src.other")] == "'=cmd|' /C calc'!A0" for row in body)
    assert all(row[header.index("q.src")] == "other" for row in body)
    assert_problem(shop.api.get("/v1/surveys/999999/responses.csv"), 404, "not-found")


def test_csv_streams_many_rows(rshop, pg):
    """More rows than one FETCH batch (500): every one arrives, in order."""
    shop = rshop
    s = create_survey(shop, name="Many", questions=QUESTIONS)
    o = _order(shop, unique_email("many"), "SK")
    link = link_invitation(shop, s["id"], o["id"])
    assert put_answers(shop, link["token"], {"nps": 5}).status_code == 201
    # 1199 more invitations and responses made in SQL, with the same shape.
    db(pg, shop, """
        WITH inv AS (
          INSERT INTO survey_invitations (shop_id, survey_id, version, order_id, email, channel,
                                          status, sent_at)
          SELECT %(shop)s, %(sid)s, 1, 1000000 + g, 'bulk' || g || '@example.com', 'link',
                 'answered', now() FROM generate_series(1, 1199) g RETURNING id)
        INSERT INTO survey_responses (shop_id, survey_id, invitation_id, version, answers, facets)
        SELECT %(shop)s, %(sid)s, id, 1, jsonb_build_object('nps', id %% 11),
               ARRAY['nps', 'nps=' || (id %% 11)] FROM inv""", {"shop": shop.id, "sid": s["id"]})
    r = shop.api.get(f"/v1/surveys/{s['id']}/responses.csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert len(rows) == 1 + 1200
    ids = [int(x[0]) for x in rows[1:]]
    assert ids == sorted(ids) and len(set(ids)) == 1200


def test_breakdown_by_product(rshop):
    shop = rshop
    s = create_survey(shop, name="Products", questions=QUESTIONS)
    alpha = shop.fake.add_product("Alpha", "10.00")["id"]
    beta = shop.fake.add_product("Beta", "5.00")["id"]
    plan = [([(alpha, 1, "10.00")], 10), ([(alpha, 1, "10.00"), (beta, 2, "10.00")], 0),
            ([(beta, 1, "5.00")], None)]
    for items, score in plan:
        o = shop.fake.add_order(status="processing", email=unique_email("p"), first_name="Ann",
                                items=items)
        shop.deliver_order(o["id"])
        shop.complete(o["id"])
        link = link_invitation(shop, s["id"], o["id"])
        if score is not None:
            assert put_answers(shop, link["token"], {"nps": score}).status_code == 201
    rep = shop.api.get(f"/v1/surveys/{s['id']}/report").json()
    got = {p["product_id"]: p for p in rep["by_product"]}
    assert set(got) == {alpha, beta}
    assert (got[alpha]["product_name"], got[alpha]["responses"], got[alpha]["invitations_sent"],
            got[alpha]["nps"]["score"]) == ("Alpha", 2, 2, 0)
    assert (got[beta]["product_name"], got[beta]["responses"], got[beta]["invitations_sent"],
            got[beta]["response_rate"], got[beta]["nps"]["score"]) == ("Beta", 1, 2, 0.5, -100)
    assert [p["product_id"] for p in rep["by_product"]] == [alpha, beta]
