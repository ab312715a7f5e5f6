"""Surveys against a real WordPress 6.1 + WooCommerce 7.9.0 (issue 9).

An NPS survey from the `post_purchase_nps` template with a delay of two
seconds; a real order placed and completed in WooCommerce reaches the
service by webhook; the invitation email arrives in the SMTP sink with
eleven score links; a click (the POST of the email's one-click page)
records a detractor score; the page completes the response (the
follow-up question); the merchant's alert email arrives, held until the
page is submitted so it carries the follow-up (SURVEY_ALERT_HOLD_S); the real order
has exactly one private note with the alert (WooCommerce's
`GET /orders/{id}/notes`, `customer_note` false); the loyalty `survey`
bonus is paid once; a second click and the order completed again in the
shop (WooCommerce delivers its webhooks again) make no second response
and no second note. Then the `order_note` channel: the order gets a
customer note with the survey link, and that link works.

The service of this module is real_helpers' (one link to the shop, its
webhooks installed) plus an SMTP sink (tests/fakes/smtp_sink.py).
"""

import calendar
import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from aftersale_it import Service, free_port
from real_helpers import (REAL_ENV, WAIT_S, real, real_admin, unique_email,  # noqa: F401
                          wait_for, woo_db)
from reviews_helpers import MAIL_FROM, Mail, sink  # noqa: F401
from woo_helpers import assert_no_secrets_in_logs, list_all, service_env

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SCORE_LINK = re.compile(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9._-]+\?q=[A-Za-z0-9_-]+&v=\d+")
SURVEY_LINK = re.compile(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9._-]+")
BONUS = 25
ALERT_HOLD_S = 60  # the alert of a one-click score waits for the page (docs/surveys.md)


@pytest.fixture(scope="module")
def real_svc(pg, base_env, woo_db, workdir, sink):  # noqa: F811
    """real_helpers' service, sending mail to the module's SMTP sink."""
    port = free_port()
    env = dict(base_env)
    env.update(service_env(pg, woo_db, port, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port),
                           SMTP_TLS="none", MAIL_FROM=MAIL_FROM,
                           SURVEY_ALERT_HOLD_S=str(ALERT_HOLD_S), **REAL_ENV))
    svc = Service(env, workdir / "logs", "realwoo-surveys")
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


def product(real, name):
    [p] = [p for p in real.shop.products if p["name"] == name]
    return p["id"]


def mails(sink, email):
    return [Mail(m) for m in list(sink.messages) if email in m["rcpt_tos"]]


def wait_mails(sink, email, n=1, timeout=WAIT_S):
    return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(mails(sink, email)),
                    timeout, interval=0.1, what=f"{n} email(s) to {email}")


def score_links(svc, text):
    out = []
    for url in SCORE_LINK.findall(text):
        assert url.startswith(svc.url), url
        parts = urlsplit(url)
        qs = parse_qs(parts.query)
        out.append((parts.path, qs["q"][0], int(qs["v"][0])))
    return out


def shown(page):
    return re.findall(r'<input type="hidden" name="shown" value="([^"]+)">', page)


def notes(real, order_id):
    return real.shop.wc("GET", f"/orders/{order_id}/notes", expect=200)


def alert_notes(real, order_id):
    """The survey alerts among the order's notes (private or not: the test checks)."""
    return [n for n in notes(real, order_id) if n["note"].startswith("Survey ")]


def survey_link_notes(real, order_id):
    return [n for n in notes(real, order_id) if "/s/" in n["note"]]


def responses(real, sid):
    return list_all(real.api, f"/v1/surveys/{sid}/responses")


def invitations(real, sid):
    return list_all(real.api, f"/v1/surveys/{sid}/invitations")


@pytest.fixture(scope="module")
def surveys_shop(real):
    """Messaging and loyalty settings for the survey flows: an alert address,
    a contact cap the review requests of the same orders (real_helpers sends
    them as customer notes at once) cannot exhaust, the `survey` bonus."""
    alerts = unique_email("alerts")
    r = real.api.put("/v1/messaging/settings", json={
        "alert_email": alerts, "contact_policy": {"max_messages": 100, "period": "PT1S"}})
    assert r.status_code == 200, r.text
    real.settings(points_per_unit="10", bonuses={"survey": BONUS})
    real.alerts = alerts
    return real


def test_nps_detractor_in_the_real_shop(surveys_shop, sink):
    real = surveys_shop
    svc = real.svc
    r = real.api.post("/v1/surveys", json={
        "template": "post_purchase_nps", "name": "Real NPS", "status": "active",
        "recontact_days": 0, "trigger": {"event": "order.completed", "delay": "PT2S"}})
    assert r.status_code == 201, r.text
    s = r.json()
    assert [q["id"] for q in s["questions"]] == ["nps", "reason", "improve"]

    email = unique_email("nps-real")
    o = real.new_order(email, [(product(real, "Mug"), 1), (product(real, "Teapot"), 1)])
    o = real.set_status(o["id"], "completed")
    oid = o["id"]

    [inv] = wait_for(lambda: invitations(real, s["id"]), WAIT_S, interval=0.2,
                     what="the invitation")
    assert inv["order_id"] == oid and inv["email"] == email, inv
    # Due two seconds after WooCommerce's completion time (its UTC field).
    done_at = calendar.timegm(time.strptime(o["date_completed_gmt"][:19], "%Y-%m-%dT%H:%M:%S"))
    due_at = calendar.timegm(time.strptime(inv["due_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert due_at - done_at == 2, (o["date_completed_gmt"], inv["due_at"])
    [mail] = wait_mails(sink, email)
    links = score_links(svc, mail.text)
    assert [(q, v) for _, q, v in links] == [("nps", v) for v in range(11)], mail.text
    assert [(q, v) for _, q, v in score_links(svc, html.unescape(mail.html))] == \
        [("nps", v) for v in range(11)]
    path = links[0][0]
    assert {p for p, _, _ in links} == {path}
    inv = wait_for(lambda: (lambda i: i if i["status"] == "sent" else None)(
        invitations(real, s["id"])[0]), WAIT_S, interval=0.2, what="the invitation sent")

    # The customer clicks 3: the one-click page records it and asks the rest.
    anon = real.anon
    r = anon.post(path, data="q=nps&v=3", headers=FORM)
    assert r.status_code == 200 and "Your answer (3) is recorded." in r.text, r.text[:2000]
    assert shown(r.text) == ["nps", "reason", "improve"], r.text[:3000]
    [resp] = responses(real, s["id"])
    assert resp["answers"] == {"nps": 3} and resp["complete"] is True
    # The alert is held for the follow-up the page asks (it went at the
    # click, with the score alone, before SURVEY_ALERT_HOLD_S).
    time.sleep(1.5)
    assert mails(sink, real.alerts) == [] and alert_notes(real, oid) == []
    # The page completes it: the follow-up of a detractor.
    data = [("form", "page")] + [("shown", q) for q in shown(r.text)] + \
        [("a.nps", "3"), ("a.reason", "Late parcel"), ("a.improve", "Ship faster")]
    t_page = time.time()
    r = anon.post(path, data=data, headers=FORM)
    assert r.status_code == 200 and "Thank you for your feedback" in r.text, r.text[:2000]
    [resp] = responses(real, s["id"])
    assert resp["answers"] == {"nps": 3, "reason": "Late parcel", "improve": "Ship faster"}

    # The merchant's alert email.
    [alert] = wait_mails(sink, real.alerts)
    assert time.time() - t_page < ALERT_HOLD_S - 10  # released by the page, not the hold
    assert f"order #{oid}" in alert.subject and "score 3" in alert.subject, alert.subject
    assert email in alert.text and "- nps: 3" in alert.text, alert.text
    assert "- improve: Ship faster" in alert.text and "- reason: Late parcel" in alert.text

    # Exactly one private note with the alert on the REAL order.
    [note] = wait_for(lambda: alert_notes(real, oid), WAIT_S, interval=0.2,
                      what="the private alert note")
    assert note["customer_note"] is False
    assert "low score (3)" in note["note"] and email in note["note"], note
    assert "- improve: Ship faster" in note["note"], note

    # The survey bonus, once (the order's points earned besides).
    real.idle()
    acct = real.account_for(email)
    bonus = [e for e in real.ledger(acct["id"]) if e["reason"] == "bonus"]
    assert [(e["delta"], e["source"]) for e in bonus] == \
        [(BONUS, {"kind": "survey", "id": str(resp["id"])})], bonus

    # A second click and the order completed again in the shop (its webhooks
    # delivered again): no second response, note, alert or bonus.
    assert anon.post(path, data="q=nps&v=2", headers=FORM).status_code == 200
    real.set_status(oid, "processing")
    real.set_status(oid, "completed")
    real.idle()
    assert len(real.order_events(oid, kind="order.completed")) == 1
    [resp2] = responses(real, s["id"])
    assert resp2["id"] == resp["id"] and resp2["answers"]["nps"] == 2
    assert len(invitations(real, s["id"])) == 1
    assert len(alert_notes(real, oid)) == 1, notes(real, oid)
    assert len(mails(sink, real.alerts)) == 1
    assert len(mails(sink, email)) == 1
    bonus = [e for e in real.ledger(acct["id"]) if e["reason"] == "bonus"]
    assert len(bonus) == 1, bonus


def test_order_note_channel_in_the_real_shop(surveys_shop, sink):
    real = surveys_shop
    svc = real.svc
    # Only this survey is active (the email survey above would invite too).
    for other in list_all(real.api, "/v1/surveys", status="active"):
        r = real.api.patch(f"/v1/surveys/{other['id']}", json={"status": "paused"})
        assert r.status_code == 200, r.text
    r = real.api.post("/v1/surveys", json={
        "template": "post_purchase_nps", "name": "Real note NPS", "status": "active",
        "recontact_days": 0, "channel": "order_note",
        "trigger": {"event": "order.completed", "delay": "PT1S"}})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["channel"] == "order_note"

    email = unique_email("note-real")
    o = real.new_order(email, [(product(real, "Tea towel"), 2)])
    oid = real.set_status(o["id"], "completed")["id"]
    inv = wait_for(lambda: (lambda i: i[0] if i and i[0]["status"] == "sent" else None)(
        invitations(real, s["id"])), WAIT_S, interval=0.2, what="the invitation sent")
    assert inv["channel"] == "order_note" and inv["order_id"] == oid, inv
    [job] = [j for j in real.jobs(kind="surveys.send")
             if j["payload"].get("invitation_id") == inv["id"] and j["status"] == "done"]
    assert job["result"]["sent"] == "order_note", job

    # One customer note on the real order, one link to the survey page, no score links.
    [note] = wait_for(lambda: survey_link_notes(real, oid), WAIT_S, interval=0.2,
                      what="the survey note")
    assert note["customer_note"] is True, note
    links = SURVEY_LINK.findall(note["note"])
    assert len(links) == 1 and links[0].startswith(svc.url), note["note"]
    assert "?q=" not in note["note"] and "/unsubscribe?token=" in note["note"], note["note"]
    assert not [m for m in mails(sink, email) if "/s/" in m.text]  # no survey email

    # The link works: the page shows the template's question; its form records.
    path = links[0][len(svc.url):]
    r = real.anon.get(path)
    assert r.status_code == 200 and "How likely are you to recommend us" in r.text, r.text[:800]
    r = real.anon.post(path, data="q=nps&v=9", headers=FORM)
    assert r.status_code == 200, r.text[:800]
    [resp] = responses(real, s["id"])
    assert resp["answers"] == {"nps": 9} and resp["order_id"] == oid
    # A promoter: no alert, no private note.
    real.idle()
    assert alert_notes(real, oid) == []
    assert len(survey_link_notes(real, oid)) == 1
