"""Survey invitations as WooCommerce customer notes (the survey setting
`channel: order_note`), and surveys skipping returned orders.

- order_note: the invitation is a customer-visible note on the order with
  the survey link (WooCommerce emails it); no email from aftersale; the
  contact policy and the unsubscribe list are the ones email uses.
- An order whose every item is under a return (open or resolved) gets no
  invitation; one scheduled before the return is cancelled when due.

Fixtures: reviews_helpers.py via surveys_helpers.py (own service and
database per module, a real SMTP sink, a fake shop per test).
"""

import re

from surveys_helpers import (create_survey, invitations, list_all, rshop, rv_admin,  # noqa: F401
                             rv_db, rv_svc, sink, unique_email, wait_for, wfake)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NPS = [{"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend us?"}}]


def _notes(shop, order_id, customer=True):
    with shop.fake._lock:
        return [dict(n) for oid, n in shop.fake.notes.values()
                if oid == order_id and n["customer_note"] is customer]


def _survey_notes(shop, order_id):
    return [n for n in _notes(shop, order_id) if "/s/" in n["note"]]


def _survey_mails(shop, email):
    return [m for m in shop.mails(email) if "/s/" in m.text]


def _send_job(shop, iid, pred=lambda j: j["status"] == "done"):
    return wait_for(lambda: next((j for j in shop.jobs(kind="surveys.send")
                                  if j["payload"].get("invitation_id") == iid and pred(j)), None),
                    15, interval=0.05, what=f"the send job of invitation {iid}")


def _inv(shop, sid, status, timeout=15.0):
    return wait_for(lambda: next((i for i in invitations(shop, sid) if i["status"] == status),
                                 None), timeout, interval=0.05, what=f"an invitation {status}")


def return_lines(shop, order, indexes):
    body = {"order_id": order["id"], "resolution": "refund",
            "lines": [{"line_item_id": order["line_items"][i]["id"], "quantity": 1,
                       "reason": "wrong_item"} for i in indexes]}
    r = shop.api.post("/v1/returns", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _delivered_results(shop, order_id):
    evs = {e["id"] for e in list_all(shop.api, "/v1/events", kind="order.delivered",
                                     order_id=order_id)}
    return [j["result"] for j in shop.jobs(kind="surveys.schedule")
            if j["status"] == "done" and j["payload"].get("event_id") in evs]


# ---- the order_note channel ------------------------------------------------------


def test_order_note_invitation_carries_a_working_link(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Note NPS", status="active", recontact_days=0, questions=NPS,
                      channel="order_note", trigger={"event": "order.completed", "delay": "PT0S"})
    assert s["channel"] == "order_note"
    assert shop.api.get(f"/v1/surveys/{s['id']}").json()["channel"] == "order_note"
    email = unique_email("note")
    order = shop.completed_order([mug], email)
    inv = _inv(shop, s["id"], "sent")
    assert inv["channel"] == "order_note" and inv["order_id"] == order["id"]
    job = _send_job(shop, inv["id"])
    assert job["result"]["sent"] == "order_note", job

    # One customer note (WooCommerce emails it to the billing address), with
    # one link to the survey page; no score links, no email from aftersale.
    [note] = _survey_notes(shop, order["id"])
    links = re.findall(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9._-]+", note["note"])
    assert len(links) == 1 and links[0].startswith(shop.svc.url), note["note"]
    assert "?q=" not in note["note"]
    assert "/unsubscribe?token=" in note["note"]
    assert not [n for n in _notes(shop, order["id"], customer=False) if "/s/" in n["note"]]
    assert _survey_mails(shop, email) == []

    # The link works: the page shows the question, its form records the answer.
    path = links[0][len(shop.svc.url):]
    r = shop.anon.get(path)
    assert r.status_code == 200 and "Recommend us?" in r.text, r.text[:500]
    r = shop.anon.post(path, data="q=nps&v=8", headers=FORM)
    assert r.status_code == 200, r.text
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert resp["answers"] == {"nps": 8} and resp["order_id"] == order["id"]


def test_order_note_channel_shares_the_contact_policy_and_the_unsubscribe_list(rshop):
    shop = rshop
    r = shop.api.put("/v1/messaging/settings",
                     json={"contact_policy": {"max_messages": 1, "period": "PT5S"}})
    assert r.status_code == 200, r.text
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Note", status="active", recontact_days=0, questions=NPS,
                      channel="order_note", trigger={"event": "order.completed", "delay": "PT1S"})
    email = unique_email("cap")
    order = shop.completed_order([mug], email)
    # The review request (due first) takes the slot; the note waits for the next one.
    shop.wait_mails(email)
    inv = wait_for(lambda: invitations(shop, s["id"]), 10, interval=0.05, what="invitation")[0]
    postponed = _send_job(shop, inv["id"], pred=lambda j: (j.get("result") or {}).get(
        "postponed") == "contact policy")
    assert postponed["result"]["postponed"] == "contact policy"
    assert _survey_notes(shop, order["id"]) == []
    _inv(shop, s["id"], "sent", timeout=20)
    assert len(_survey_notes(shop, order["id"])) == 1

    # The note's unsubscribe link puts the address on the one list: no note
    # for its next order.
    [note] = _survey_notes(shop, order["id"])
    unsub = re.search(r"https?://[^\s\"'<>]+/unsubscribe\?token=[A-Za-z0-9._-]+",
                      note["note"]).group(0)
    r = shop.anon.post(unsub[len(shop.svc.url):], data="List-Unsubscribe=One-Click",
                       headers=FORM)
    assert r.status_code in (200, 204), r.text
    email2 = email
    s2 = create_survey(shop, name="Note 2", status="active", recontact_days=0, questions=NPS,
                       channel="order_note", trigger={"event": "order.completed",
                                                      "delay": "PT0S"})
    order2 = shop.completed_order([mug], email2)
    res = wait_for(lambda: next((j["result"] for j in shop.jobs(kind="surveys.schedule")
                                 if j["status"] == "done" and any(
                                     x["survey_id"] == s2["id"]
                                     for x in (j.get("result") or {}).get("surveys", []))
                                 and j["result"].get("order_id") == order2["id"]), None),
                   10, interval=0.05, what="the scheduling of order 2")
    assert {x["survey_id"]: x["outcome"] for x in res["surveys"]}[s2["id"]] == \
        "the customer unsubscribed"
    assert _survey_notes(shop, order2["id"]) == []


def test_order_note_reminder_is_a_second_note_until_answered(rshop):
    shop = rshop
    r = shop.api.put("/v1/messaging/settings",
                     json={"contact_policy": {"max_messages": 10, "period": "PT1S"}})
    assert r.status_code == 200, r.text
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Note", status="active", recontact_days=0, questions=NPS,
                      channel="order_note", reminders={"count": 2, "delay": "PT2S"},
                      trigger={"event": "order.completed", "delay": "PT0S"})
    order = shop.completed_order([mug], unique_email("remind"))
    inv = _inv(shop, s["id"], "sent")
    notes = wait_for(lambda: (lambda n: n if len(n) >= 2 else None)(
        _survey_notes(shop, order["id"])), 15, interval=0.05, what="the reminder note")
    assert "reminder" in notes[1]["note"].lower(), notes[1]["note"]
    job = _send_job(shop, inv["id"], pred=lambda j: j["status"] == "done"
                    and j["payload"].get("reminder") == 1)
    assert job["result"]["sent"] == "order_note" and job["result"]["reminder"] == 1
    # Answered: the second reminder is not written.
    path = re.findall(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9._-]+", notes[1]["note"])[0]
    r = shop.anon.post(path[len(shop.svc.url):], data="q=nps&v=9", headers=FORM)
    assert r.status_code == 200, r.text
    job2 = _send_job(shop, inv["id"], pred=lambda j: j["status"] == "done"
                     and j["payload"].get("reminder") == 2)
    assert job2["result"] == {"skipped": "answered"}, job2
    assert len(_survey_notes(shop, order["id"])) == 2


def test_channel_is_checked(rshop):
    r = rshop.api.post("/v1/surveys", json={"name": "x", "questions": NPS, "channel": "sms"})
    assert r.status_code == 422 and r.json()["field"] == "channel", r.text


# ---- returned orders ---------------------------------------------------------------


def test_every_item_returned_cancels_the_scheduled_invitation(rshop):
    shop = rshop
    mug = shop.fake.add_product("Only Mug", "12.00")["id"]
    # Due in 4 s: the return comes first.
    s = create_survey(shop, name="NPS", status="active", recontact_days=0, questions=NPS,
                      trigger={"event": "order.completed", "delay": "PT4S"})
    email = unique_email("ret")
    order = shop.completed_order([mug], email)
    inv = _inv(shop, s["id"], "scheduled")
    return_lines(shop, order, [0])
    inv = _inv(shop, s["id"], "cancelled")
    assert inv["cancel_reason"] == "items returned"
    assert _send_job(shop, inv["id"])["result"] == {"skipped": "items returned"}
    assert _survey_mails(shop, email) == []


def test_an_order_returned_before_its_trigger_gets_no_invitation_a_partial_return_does(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "12.00")["id"]
    plate = shop.fake.add_product("Plate", "8.00")["id"]
    s = create_survey(shop, name="Delivery", status="active", recontact_days=0, questions=NPS,
                      trigger={"event": "order.delivered", "delay": "PT0S"})
    # Both items returned, then delivered (say, the carrier reports late).
    o1 = shop.completed_order([mug, plate], unique_email("all"))
    wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.completed", order_id=o1["id"]),
             10, interval=0.05, what="order known")
    return_lines(shop, o1, [0, 1])
    assert shop.api.post(f"/v1/orders/{o1['id']}/delivered").status_code == 200
    [res] = wait_for(lambda: _delivered_results(shop, o1["id"]), 10, interval=0.05,
                     what="the scheduling")
    assert res["surveys"] == [{"survey_id": s["id"], "invitation_id": None,
                               "outcome": "every item of the order is under a return"}]
    # One of two returned: the customer kept the rest, and is asked.
    email2 = unique_email("half")
    o2 = shop.completed_order([mug, plate], email2)
    wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.completed", order_id=o2["id"]),
             10, interval=0.05, what="order known")
    return_lines(shop, o2, [0])
    assert shop.api.post(f"/v1/orders/{o2['id']}/delivered").status_code == 200
    inv = _inv(shop, s["id"], "sent")
    assert inv["order_id"] == o2["id"]
    assert [i["order_id"] for i in invitations(shop, s["id"])] == [o2["id"]]
    wait_for(lambda: _survey_mails(shop, email2), 10, interval=0.05, what="the survey email")
