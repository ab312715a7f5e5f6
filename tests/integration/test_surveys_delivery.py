"""Survey invitations sent by email (surveys.send): the first question
embedded as score links, the one-click page behind them, escaping of the
merchant's labels, the contact policy shared with review requests, the
shared unsubscribe list, and a refund before the due time.

Fixtures: reviews_helpers.py via surveys_helpers.py (own service and
database per module, a real SMTP sink, a fake shop per test).
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

from surveys_helpers import (create_survey, db, invitations, list_all, put_answers,  # noqa: F401
                             rshop, rv_admin, rv_db, rv_svc, sink, unique_email, wait_for, wfake)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _score_links(shop, text):
    """The score links of a text part, in order, as (path, q, v)."""
    out = []
    for url in re.findall(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9._-]+\?q=[A-Za-z0-9_-]+&v=\d+",
                          text):
        parts = urlsplit(url)
        assert url.startswith(shop.svc.url), url
        qs = parse_qs(parts.query)
        out.append((parts.path, qs["q"][0], int(qs["v"][0])))
    return out


def _survey_mails(shop, email):
    return [m for m in shop.mails(email) if "like your opinion" in m.subject]


def _wait_survey_mails(shop, email, n=1, timeout=10.0):
    return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(_survey_mails(shop, email)),
                    timeout, interval=0.05, what=f"{n} survey email(s) to {email}")


def _send_jobs(shop, iid):
    return [j for j in shop.jobs(kind="surveys.send") if j["payload"].get("invitation_id") == iid]


def _messaging(shop, **body):
    r = shop.api.put("/v1/messaging/settings", json=body)
    assert r.status_code == 200, r.text


def test_nps_email_eleven_links_click_records_the_score(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    qs = [{"id": "nps", "kind": "nps", "required": True,
           "label": {"en": "Recommend <script>alert(1)</script> & us?"}},
          {"id": "why", "kind": "text", "label": {"en": "Why?"}}]
    s = create_survey(shop, name="NPS", status="active", questions=qs, recontact_days=0,
                      trigger={"event": "order.completed", "delay": "PT1S"})
    email = unique_email("nps")
    order = shop.completed_order([mug], email)
    [inv] = wait_for(lambda: invitations(shop, s["id"]), 10, interval=0.05, what="invitation")
    assert inv["status"] == "scheduled" and inv["order_id"] == order["id"]

    [mail] = _wait_survey_mails(shop, email)
    # Eleven score links in the text part and in the HTML part, 0..10, one token.
    links = _score_links(shop, mail.text)
    assert [(q, v) for _, q, v in links] == [("nps", v) for v in range(11)], mail.text
    assert len({p for p, _, _ in links}) == 1
    hlinks = _score_links(shop, html.unescape(mail.html))
    assert [(q, v) for _, q, v in hlinks] == [("nps", v) for v in range(11)]
    # The merchant's label is text, never markup, in both parts.
    assert "<script>" not in mail.html
    assert "Recommend &lt;script&gt;alert(1)&lt;/script&gt; &amp; us?" in mail.html
    assert "Recommend <script>alert(1)</script> & us?" in mail.text
    # One-click unsubscribe, like the review emails.
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert "/unsubscribe?token=" in mail.header("List-Unsubscribe")

    inv = wait_for(lambda: (lambda i: i if i["status"] == "sent" else None)(
        invitations(shop, s["id"])[0]), 10, interval=0.05, what="invitation sent")
    assert inv["sent_at"] and inv["expires_at"]
    [job] = _send_jobs(shop, inv["id"])
    assert job["status"] == "done" and job["result"]["sent"] == "email", job

    # Every link works; a GET records nothing, the POST of the page records the score.
    path = links[0][0]
    for _, q, v in links:
        r = shop.anon.get(path, params={"q": q, "v": str(v)})
        assert r.status_code == 200 and f'value="{v}" checked' in r.text, r.text[:500]
        assert "<script>alert" not in r.text
    assert list_all(shop.api, f"/v1/surveys/{s['id']}/responses") == []
    r = shop.anon.post(path, data="q=nps&v=3", headers=FORM)
    assert r.status_code == 200, r.text
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert resp["answers"] == {"nps": 3} and resp["invitation_id"] == inv["id"]
    # Clicking again updates the same response (never a second one).
    r = shop.anon.post(path, data="q=nps&v=9", headers=FORM)
    assert r.status_code == 200
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert resp["answers"] == {"nps": 9}
    assert len(_survey_mails(shop, email)) == 1


def test_csat_email_has_five_faces_and_other_kinds_a_button(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    csat = create_survey(shop, name="CSAT", status="active", recontact_days=0,
                         questions=[{"id": "sat", "kind": "csat", "label": {"en": "Happy?"}}],
                         trigger={"delay": "PT0S"})
    email = unique_email("csat")
    shop.completed_order([mug], email)
    [mail] = _wait_survey_mails(shop, email)
    assert [(q, v) for _, q, v in _score_links(shop, mail.text)] == [("sat", v)
                                                                      for v in range(1, 6)]
    # Archive it so the next survey alone applies.
    assert shop.api.delete(f"/v1/surveys/{csat['id']}").status_code in (200, 204)
    create_survey(shop, name="Text", status="active", recontact_days=0,
                  questions=[{"id": "t", "kind": "text", "label": {"en": "Tell us"}}],
                  trigger={"delay": "PT0S"})
    email2 = unique_email("text")
    shop.completed_order([mug], email2)
    [mail2] = _wait_survey_mails(shop, email2)
    assert _score_links(shop, mail2.text) == []
    assert "Answer the survey" in mail2.html
    assert re.search(r"/s/[A-Za-z0-9._-]+\s", mail2.text), mail2.text


def test_contact_cap_is_shared_with_review_requests(rshop):
    shop = rshop
    # One marketing message per customer per 6 seconds, over both programmes.
    _messaging(shop, contact_policy={"max_messages": 1, "period": "PT6S"})
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="NPS", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                      trigger={"delay": "PT1S"})
    email = unique_email("cap")
    shop.completed_order([mug], email)
    # The review request was due first: it goes first; the survey waits for the next slot.
    review = wait_for(lambda: [m for m in shop.mails(email) if "How was your order" in m.subject],
                      10, interval=0.05, what="review email")
    assert len(review) == 1
    [inv] = invitations(shop, s["id"])
    job = wait_for(lambda: (lambda js: js[0] if js and js[0]["result"] and
                            js[0]["result"].get("postponed") else None)(
        _send_jobs(shop, inv["id"])), 10, interval=0.05, what="survey postponed")
    assert job["result"]["postponed"] == "contact policy", job
    assert _survey_mails(shop, email) == []
    # Not dropped: it goes out when the window has room again.
    _wait_survey_mails(shop, email, timeout=15)
    # (The sink has the message a moment before the job records it.)
    wait_for(lambda: invitations(shop, s["id"])[0]["status"] == "sent" or None, 10,
             interval=0.05, what="invitation sent")


def test_unsubscribe_stops_surveys_and_review_requests(rshop):
    shop = rshop
    _messaging(shop, contact_policy={"max_messages": 100, "period": "PT1S"})
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="NPS", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                      trigger={"delay": "PT0S"})
    email = unique_email("bye")
    shop.completed_order([mug], email)
    [mail] = _wait_survey_mails(shop, email)
    # One-click unsubscribe from the survey email.
    r = shop.anon.post(urlsplit(mail.unsubscribe_url)._replace(scheme="", netloc="").geturl(),
                       data="List-Unsubscribe=One-Click", headers=FORM)
    assert r.status_code in (200, 204), r.text
    before = len(shop.mails(email))
    # The next order gets neither a review request nor a survey invitation.
    o2 = shop.completed_order([mug], email)
    req = shop.request_for_order(o2["id"])
    shop.wait_status(req["id"], "unsubscribed")
    wait_for(lambda: shop.jobs(kind="surveys.schedule", status="done") and True, 10)
    got = [i for i in invitations(shop, s["id"]) if i["order_id"] == o2["id"]]
    # Either not invited at all (schedule saw the list) or cancelled at send time.
    assert got == [] or got[0]["status"] == "cancelled", got
    assert len(shop.mails(email)) == before


def test_full_refund_before_the_due_time_sends_nothing(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Later", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                      trigger={"delay": "PT3S"})
    email = unique_email("refund")
    order = shop.completed_order([mug], email)
    [inv] = wait_for(lambda: invitations(shop, s["id"]), 10, interval=0.05, what="invitation")
    shop.fake.refund_order(order["id"], "9.00", reason="broken")
    shop.deliver_order(order["id"])
    wait_for(lambda: invitations(shop, s["id"])[0]["status"] == "cancelled" or None, 10,
             interval=0.05, what="cancelled")
    job = wait_for(lambda: (lambda js: js[0] if js and js[0]["status"] == "done" else None)(
        _send_jobs(shop, inv["id"])), 10, interval=0.1, what="send job done")
    assert job["result"] == {"skipped": "cancelled"}, job
    assert _survey_mails(shop, email) == []


def test_reminder_only_when_unanswered_then_expiry(rshop, pg):
    shop = rshop
    _messaging(shop, contact_policy={"max_messages": 100, "period": "PT1S"})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="NPS", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                      trigger={"delay": "PT0S"}, reminders={"count": 1, "delay": "PT2S"},
                      expiry="PT1M")
    assert s["reminders"] == {"count": 1, "delay": "PT2S"}
    quiet, keen = unique_email("quiet"), unique_email("keen")
    shop.completed_order([mug], quiet)
    shop.completed_order([mug], keen)
    [first] = _wait_survey_mails(shop, quiet)
    [kmail] = _wait_survey_mails(shop, keen)
    # The keen customer answers through the one-click page before the reminder is due.
    path, _, _ = _score_links(shop, kmail.text)[0]
    r = shop.anon.post(path, data="q=nps&v=8", headers=FORM)
    assert r.status_code == 200, r.text

    _, reminder = _wait_survey_mails(shop, quiet, 2, timeout=10)
    assert reminder.subject.startswith("A reminder") and reminder.message_id != first.message_id
    assert len(_score_links(shop, reminder.text)) == 11
    by_email = {i["email"]: i for i in invitations(shop, s["id"])}
    kinv, qinv = by_email[keen], by_email[quiet]
    job = wait_for(lambda: (lambda js: js[0] if js and js[0]["status"] == "done" else None)(
        [j for j in _send_jobs(shop, kinv["id"]) if j["payload"].get("reminder") == 1]),
        10, interval=0.1, what="keen reminder job")
    assert job["result"] == {"skipped": "answered"}, job
    assert len(_survey_mails(shop, keen)) == 1

    # The window closes: the expiry job marks the invitation expired (its clock moved for
    # the test: expiry is at least a minute), and the page then says closed.
    db(pg, shop, "UPDATE survey_invitations SET expires_at = now() WHERE id = %(i)s",
       {"i": qinv["id"]})
    db(pg, shop, "UPDATE jobs SET run_at = now() WHERE kind = 'surveys.expire'"
       " AND payload->>'invitation_id' = %(i)s", {"i": str(qinv["id"])})
    wait_for(lambda: (lambda i: i if i["status"] == "expired" else None)(
        {i["id"]: i for i in invitations(shop, s["id"])}[qinv["id"]]), 10, interval=0.1,
        what="expired")
    r = shop.anon.post(path_of_score(first), data="q=nps&v=5", headers=FORM)
    assert r.status_code == 409, r.text
    assert {i["id"]: i for i in invitations(shop, s["id"])}[kinv["id"]]["status"] == "answered"


def path_of_score(mail):
    return re.search(r"https?://[^/\s]+(/s/[A-Za-z0-9._-]+)\?q=", mail.text).group(1)


def test_order_delivered_by_the_api_once(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Delivered", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                      trigger={"event": "order.delivered", "delay": "PT0S"})
    email = unique_email("dlv")
    order = shop.order([mug], email)  # processing, never completed
    wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.paid", order_id=order["id"]),
             10, interval=0.05, what="order known")
    assert invitations(shop, s["id"]) == []
    r = shop.api.post(f"/v1/orders/{order['id']}/delivered")
    assert r.status_code == 200 and r.json() == {"order_id": order["id"], "already": False}, r.text
    [mail] = _wait_survey_mails(shop, email)
    assert len(_score_links(shop, mail.text)) == 11
    # A second call: nothing new.
    r = shop.api.post(f"/v1/orders/{order['id']}/delivered")
    assert r.status_code == 200 and r.json()["already"] is True, r.text
    evs = list_all(shop.api, "/v1/events", kind="order.delivered", order_id=order["id"])
    assert len(evs) == 1
    assert len(invitations(shop, s["id"])) == 1
    assert shop.api.post("/v1/orders/99999999/delivered").status_code == 404


def test_detractor_alert_email_and_private_note_once(rshop):
    shop = rshop
    alerts = unique_email("alerts")
    _messaging(shop, alert_email=alerts)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="NPS <b>", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}},
                                 {"id": "why", "kind": "text", "label": {"en": "Why?"}}],
                      trigger={"delay": "PT0S"})
    sad, happy = unique_email("sad"), unique_email("happy")
    o_sad = shop.completed_order([mug], sad)
    o_happy = shop.completed_order([mug], happy)
    [m_sad] = _wait_survey_mails(shop, sad)
    [m_happy] = _wait_survey_mails(shop, happy)
    sad_path = path_of_score(m_sad)
    assert shop.anon.post(sad_path, data="q=nps&v=3", headers=FORM).status_code == 200
    assert shop.anon.post(path_of_score(m_happy), data="q=nps&v=10",
                          headers=FORM).status_code == 200
    [alert] = wait_for(lambda: shop.mails(alerts), 10, interval=0.05, what="alert email")
    assert f"order #{o_sad['id']}" in alert.subject and "score 3" in alert.subject
    assert sad in alert.text and "- nps: 3" in alert.text
    assert "<b>" not in alert.html and "NPS &lt;b&gt;" in alert.html

    def private_notes(oid):
        return [n for (o, n) in shop.fake.notes.values()
                if o == oid and not n["customer_note"] and n["note"].startswith("Survey ")]
    [note] = wait_for(lambda: private_notes(o_sad["id"]), 10, interval=0.05, what="order note")
    assert "low score (3)" in note["note"] and sad in note["note"]
    # Changing the answer (still unhappy) alerts no second time; a promoter never alerts.
    assert shop.anon.post(sad_path, data="q=nps&v=1", headers=FORM).status_code == 200
    shop.idle(kinds=("surveys.alert", "surveys.alert_note"))
    assert len(shop.mails(alerts)) == 1
    assert len(private_notes(o_sad["id"])) == 1
    assert private_notes(o_happy["id"]) == []
    assert len(shop.jobs(kind="surveys.alert")) == 1


def test_completed_response_earns_the_survey_bonus_once(rshop):
    shop = rshop
    shop.loyalty_settings(bonuses={"survey": 25})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    sid = create_survey(shop, name="One", status="active", recontact_days=0,
                        questions=[{"id": "nps", "kind": "nps", "required": True,
                                    "label": {"en": "Recommend?"}}],
                        trigger={"delay": "PT0S"})["id"]
    email = unique_email("bonus")
    shop.completed_order([mug], email)
    [mail] = _wait_survey_mails(shop, email)
    path = path_of_score(mail)
    # The only question answered: the response is complete and pays the bonus, once.
    for v in (9, 10):
        assert shop.anon.post(path, data=f"q=nps&v={v}", headers=FORM).status_code == 200
    [resp] = [r for r in list_all(shop.api, f"/v1/surveys/{sid}/responses")]
    assert resp["complete"] is True and resp["answers"] == {"nps": 10}
    bonus = [e for e in shop.ledger_for(email) if e["reason"] == "bonus"]
    assert [(e["delta"], e["source"]) for e in bonus] == \
        [(25, {"kind": "survey", "id": str(resp["id"])})], bonus


def test_promoter_is_offered_the_open_review_request(rshop):
    shop = rshop
    _messaging(shop, contact_policy={"max_messages": 100, "period": "PT1S"})
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    create_survey(shop, name="NPS", status="active", recontact_days=0,
                  questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                  trigger={"delay": "PT0S"})
    fan, meh = unique_email("fan"), unique_email("meh")
    o_fan = shop.completed_order([mug], fan)
    shop.completed_order([mug], meh)
    [m_fan] = _wait_survey_mails(shop, fan)
    [m_meh] = _wait_survey_mails(shop, meh)
    req = shop.request_for_order(o_fan["id"])
    shop.wait_status(req["id"], "sent")
    r = shop.anon.post(path_of_score(m_fan), data="q=nps&v=10", headers=FORM)
    assert r.status_code == 200, r.text
    m = re.search(r'href="(https?://[^"]+/review\?token=[^"]+)"', r.text)
    assert m, r.text
    link = html.unescape(m.group(1))
    assert link.startswith(shop.svc.url + "/review?token=")
    assert shop.public(parse_qs(urlsplit(link).query)["token"][0]).json()["request_id"] == \
        req["id"]
    # A passive or detractor score gets no offer.
    r = shop.anon.post(path_of_score(m_meh), data="q=nps&v=7", headers=FORM)
    assert r.status_code == 200 and "/review?token=" not in r.text


def test_alert_threshold_and_order_note_are_per_survey(rshop):
    shop = rshop
    alerts = unique_email("alerts2")
    _messaging(shop, alert_email=alerts)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Strict", status="active", recontact_days=0,
                      questions=[{"id": "nps", "kind": "nps", "label": {"en": "Recommend?"}}],
                      trigger={"delay": "PT0S"}, alert_threshold=8, alert_order_note=False)
    assert (s["alert_threshold"], s["alert_order_note"]) == (8, False)
    r = shop.api.patch(f"/v1/surveys/{s['id']}", json={"alert_threshold": 11})
    assert r.status_code == 422 or r.status_code == 400, r.text
    email = unique_email("passive")
    o = shop.completed_order([mug], email)
    [mail] = _wait_survey_mails(shop, email)
    # 8 is a passive by default, but this survey alerts at 8 and under; no order note.
    assert shop.anon.post(path_of_score(mail), data="q=nps&v=8", headers=FORM).status_code == 200
    [alert] = wait_for(lambda: shop.mails(alerts), 10, interval=0.05, what="alert email")
    assert "score 8" in alert.subject
    shop.idle(kinds=("surveys.alert", "surveys.alert_note"))
    assert shop.jobs(kind="surveys.alert_note") == []
    assert [n for (oid, n) in shop.fake.notes.values()
            if oid == o["id"] and n["note"].startswith("Survey ")] == []
