"""The messages of a return: the customer's, one per transition
(returns.notify, transactional: an unsubscribed or capped address still
gets it), by email through a real SMTP sink or as a customer note on the
order; and the merchant's alert of a new request (returns.alert).

Fixtures: reviews_helpers (own service with SMTP to the sink, own
database, a fake shop per test); the return helpers of returns_helpers.
"""

import pytest

from returns_helpers import ReturnsShop
from reviews_helpers import Mail, rv_admin, rv_db, rv_svc, sink, unique_email, wfake  # noqa: F401
from woo_helpers import REST_PREFIX, wait_for

EVIL = "<script>alert(1)</script>"


class NotifyShop(ReturnsShop):
    def __init__(self, svc, admin, fake, sink):  # noqa: F811
        super().__init__(svc, admin, fake)
        self.sink = sink

    def messaging(self, **body):
        r = self.api.put("/v1/messaging/settings", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def mails(self, email):
        return [Mail(m) for m in list(self.sink.messages) if email in m["rcpt_tos"]]

    def wait_mails(self, email, n=1, timeout=10.0):
        return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(self.mails(email)),
                        timeout, interval=0.05, what=f"{n} email(s) to {email}")

    def notify_jobs(self, status=None):
        r = self.api.get("/v1/jobs", params={"kind": "returns.notify", "limit": 100})
        assert r.status_code == 200, r.text
        return [j for j in r.json()["items"] if status is None or j["status"] == status]

    def outbox(self, pg, rid):
        return pg.query(self.svc.db, "SELECT to_state, status FROM return_outbox"
                        " WHERE shop_id = %s AND request_id = %s ORDER BY id", (self.id, rid))


@pytest.fixture
def nshop(rv_svc, rv_admin, wfake, sink):  # noqa: F811
    s = NotifyShop(rv_svc, rv_admin, wfake, sink)
    yield s
    s.close()


def test_each_transition_sends_one_message_even_to_an_unsubscribed_capped_customer(nshop, pg):
    shop = nshop
    shop.messaging(contact_policy={"max_messages": 1, "period": "P1D"}, brand_name="Acme & Sons")
    shop.settings(refund_method="manual", instructions="Pack it well. " + EVIL,
                  return_address="Acme Returns\nDock 4 <b>bold</b>\n10115 Berlin")
    email = unique_email("ret")
    # The cap is full and the address unsubscribed: neither holds a return's message.
    pg.query(shop.svc.db, "INSERT INTO contact_log (shop_id, email, kind, ref_id, programme)"
             " VALUES (%s, %s, 'review_request', 1, 'reviews')", (shop.id, email))
    pg.query(shop.svc.db, "INSERT INTO unsubscribes (shop_id, email, programme)"
             " VALUES (%s, lower(%s), 'reviews')", (shop.id, email))
    o = shop.order([("Mug " + EVIL, "10.00", 2)], email=email, first_name="<i>Ann</i>")
    ret = shop.create(o, [(0, 1, "wrong_item", {"note": "broken " + EVIL})])
    rma = ret["rma"]
    [m] = shop.wait_mails(email, 1)
    assert m.subject == f"Acme & Sons: we received your return request {rma}"
    # the title escaped once, in the brand frame
    assert f"<title>Acme &amp; Sons: we received your return request {rma}</title>" in m.html
    assert m.header("List-Unsubscribe") is None

    shop.act(ret["id"], "approve", {"note": "Thanks <img src=x onerror=alert(2)>"})
    approved = shop.wait_mails(email, 2)[1]
    assert approved.subject == f"Acme & Sons: your return {rma} is approved"
    # The instructions and the address, in both parts; HTML escaped.
    assert "Pack it well. " + EVIL in approved.text
    assert "Dock 4 <b>bold</b>" in approved.text and "10115 Berlin" in approved.text
    html = approved.html
    assert "<script>" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    assert "<i>Ann</i>" not in html
    assert "Pack it well. &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Dock 4 &lt;b&gt;bold&lt;/b&gt;<br>10115 Berlin" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "Mug &lt;script&gt;" in html and "&lt;i&gt;Ann&lt;/i&gt;" in html

    shop.receive_all(ret)
    shop.wait_mails(email, 3)
    shop.act(ret["id"], "resolve")
    shop.wait_state(ret["id"], ("resolved",))
    resolved = shop.wait_mails(email, 4)[3]
    assert resolved.subject == f"Acme & Sons: your return {rma} is complete"
    assert "We have refunded 10.00 EUR." in resolved.text, resolved.text
    shop.act(ret["id"], "close")

    # A second request, rejected with a note; a third, cancelled.
    other = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(other["id"], "reject", {"note": "Out of window " + EVIL})
    wait_for(lambda: len(shop.mails(email)) >= 6, 10, what="requested + rejected")
    rejected = [m for m in shop.mails(email) if "was not accepted" in m.subject]
    assert len(rejected) == 1 and "Out of window " + EVIL in rejected[0].text
    assert "<script>" not in rejected[0].html
    third = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(third["id"], "cancel")
    wait_for(lambda: len(shop.mails(email)) >= 8, 10, what="requested + cancelled")

    def settled():
        return not shop.notify_jobs("pending") and not shop.notify_jobs("running")
    wait_for(settled, 10, what="the notify jobs to finish")
    mails = shop.mails(email)
    subjects = [m.subject for m in mails]
    assert len(mails) == 8, subjects
    assert len({m.message_id for m in mails}) == 8
    assert sum("is cancelled" in s for s in subjects) == 1
    # Every row sent, exactly once; closed and resolving are not the customer's.
    assert shop.outbox(pg, ret["id"]) == [("requested", "sent"), ("approved", "sent"),
                                          ("received", "sent"), ("resolved", "sent")]
    assert shop.outbox(pg, other["id"]) == [("requested", "sent"), ("rejected", "sent")]
    assert shop.outbox(pg, third["id"]) == [("requested", "sent"), ("cancelled", "sent")]
    rows = pg.query(shop.svc.db, "SELECT kind, transactional FROM contact_log WHERE shop_id = %s"
                    " AND email = %s AND programme = 'returns' ORDER BY id", (shop.id, email))
    assert len(rows) == 8 and all(t for _, t in rows), rows
    assert rows[0][0] == "return_requested"


def test_a_retried_job_does_not_send_a_sent_message_again(nshop, pg):
    shop = nshop
    email = unique_email("once")
    o = shop.order([("Mug", "10.00", 1)], email=email)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.wait_mails(email, 1)
    [job] = wait_for(lambda: shop.notify_jobs("done") or None, 10, what="the notify job")
    assert job["result"]["sent"] == "email" and job["result"]["state"] == "requested", job
    # The job runs again (as after a crash once the row was marked): nothing sent.
    pg.query(shop.svc.db, "UPDATE jobs SET status = 'pending', run_at = now(), attempts = 0"
             " WHERE id = %s", (job["id"],))
    again = wait_for(lambda: (lambda j: j if j["status"] == "done" and j["result"].get("skipped")
                              else None)(shop.job(job["id"])), 10, what="the job run again")
    assert again["result"] == {"skipped": "sent"}, again
    assert len(shop.mails(email)) == 1
    assert shop.outbox(pg, ret["id"]) == [("requested", "sent")]


def test_order_note_channel_and_the_shop_locale(nshop):
    shop = nshop
    shop.messaging(default_locale="de")
    shop.settings(channel="order_note", instructions="Bitte gut verpacken.",
                  return_address="Lager 3, Berlin")
    assert shop.api.get("/v1/returns/settings").json()["channel"] == "order_note"
    email = unique_email("note")
    o = shop.order([("Tasse", "10.00", 1)], email=email)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    shop.act(ret["id"], "approve")
    rma = ret["rma"]

    def customer_notes():
        return [n for (oid, n) in shop.fake.notes.values() if oid == o["id"] and n["customer_note"]]
    notes = wait_for(lambda: (lambda ns: ns if len(ns) >= 2 else None)(customer_notes()), 10,
                     what="two customer notes")
    texts = [n["note"] for n in notes]
    assert f"Ihre Rücksendeanfrage {rma} ist eingegangen [{rma} requested]" in texts[0], texts
    assert f"Ihre Rücksendung {rma} ist genehmigt [{rma} approved]" in texts[1], texts
    assert "Bitte gut verpacken." in texts[1] and "Lager 3, Berlin" in texts[1]
    posts = [c for c in shop.fake.calls(path_prefix=f"{REST_PREFIX}/orders/{o['id']}/notes",
                                        method="POST")]
    assert len(posts) == 2 and all(c["json"]["customer_note"] is True for c in posts)
    assert shop.mails(email) == []


def test_an_order_note_posted_before_a_crash_is_not_posted_again(nshop, pg):
    """The window between the post and the mark: the row is still pending
    when the job runs again; the note's tag is found among the order's
    notes and nothing is posted twice."""
    shop = nshop
    shop.settings(channel="order_note")
    email = unique_email("crash")
    o = shop.order([("Mug", "10.00", 1)], email=email)
    ret = shop.create(o, [(0, 1, "wrong_item")])
    [job] = wait_for(lambda: shop.notify_jobs("done") or None, 10, what="the notify job")
    assert job["result"]["sent"] == "order_note", job
    # As if the process died after the post, before the mark.
    pg.query(shop.svc.db, "UPDATE return_outbox SET status = 'pending' WHERE shop_id = %s"
             " AND request_id = %s", (shop.id, ret["id"]))
    pg.query(shop.svc.db, "UPDATE jobs SET status = 'pending', run_at = now(), attempts = 0,"
             " result = NULL WHERE id = %s", (job["id"],))
    wait_for(lambda: shop.outbox(pg, ret["id"]) == [("requested", "sent")], 10,
             what="the row marked sent again")
    posts = shop.fake.calls(path_prefix=f"{REST_PREFIX}/orders/{o['id']}/notes", method="POST")
    assert len(posts) == 1, posts
    assert f"[{ret['rma']} requested]" in posts[0]["json"]["note"]


def test_the_merchant_gets_an_alert_for_each_new_request(nshop):
    shop = nshop
    boss = unique_email("boss")
    shop.messaging(alert_email=boss)
    shop.settings(channel="email")
    o = shop.order([("Mug", "10.00", 2), ("Plate", "5.00", 1)], email=unique_email("cust"))
    ret = shop.create(o, [(0, 2, "changed_mind", {"note": "too big " + EVIL}),
                          (1, 1, "wrong_item")], resolution="store_credit")
    [alert] = shop.wait_mails(boss, 1)
    assert alert.subject == f"New return request {ret['rma']} for order #{o['id']}"
    assert f"/v1/returns/{ret['id']}" in alert.text
    assert shop.svc.url + f"/v1/returns/{ret['id']}" in alert.text
    assert "store_credit" in alert.text
    assert f"2 x Mug (line {o['line_items'][0]['id']}): changed_mind - too big {EVIL}" in alert.text
    assert f"1 x Plate (line {o['line_items'][1]['id']}): wrong_item" in alert.text
    assert "<script>" not in alert.html and "too big &lt;script&gt;" in alert.html
    # One per request: approving sends the merchant nothing more.
    shop.act(ret["id"], "approve")
    wait_for(lambda: len(shop.mails(ret["email"])) >= 2, 10, what="the customer's two emails")
    assert len(shop.mails(boss)) == 1
    # No alert address: nothing sent, the job says why.
    shop.messaging(alert_email="")
    o2 = shop.order([("Cup", "4.00", 1)], email=unique_email("cust2"))
    ret2 = shop.create(o2, [(0, 1, "wrong_item")])

    def alert_job():
        r = shop.api.get("/v1/jobs", params={"kind": "returns.alert", "limit": 100})
        done = [j for j in r.json()["items"] if j["status"] == "done"
                and j["payload"]["request_id"] == ret2["id"]]
        return done[0] if done else None
    assert wait_for(alert_job, 10, what="the alert job")["result"] == {"skipped": "no alert_email"}
    assert len(shop.mails(boss)) == 1


def test_a_portal_request_is_written_in_the_portal_language(nshop, pg):
    """The portal's page language is kept on the request (sql/013) and the
    messages of its transitions are written in it, whatever the shop's
    default_locale."""
    import re
    shop = nshop
    shop.messaging(default_locale="en")
    email = unique_email("portal")
    o = shop.order([("Tasse", "10.00", 1)], email=email, first_name="Jonas")
    q = {"shop": shop.id, "lang": "de"}
    r = shop.anon.post("/returns", params=q, data={"order": str(o["id"]), "email": email})
    assert r.status_code == 200, r.text
    token = re.search(r'name="token" value="([^"]*)"', r.text).group(1)
    line = o["line_items"][0]["id"]
    r = shop.anon.post("/returns", params=q, data={
        "token": token, "order": str(o["id"]), f"qty_{line}": "1",
        f"reason_{line}": "wrong_item", "resolution": "refund"})
    assert r.status_code == 201, r.text
    [ret] = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"]
    assert pg.query(shop.svc.db, "SELECT locale FROM return_requests WHERE shop_id = %s"
                    " AND id = %s", (shop.id, ret["id"])) == [("de",)]
    [m] = shop.wait_mails(email, 1)
    assert m.subject.endswith(f"Ihre Rücksendeanfrage {ret['rma']} ist eingegangen"), m.subject
    assert m.text.startswith("Guten Tag Jonas,") and 'lang="de"' in m.html
    # a request made through the API: the shop's default_locale
    email2 = unique_email("api")
    o2 = shop.order([("Cup", "10.00", 1)], email=email2)
    ret2 = shop.create(o2, [(0, 1, "wrong_item")])
    [m2] = shop.wait_mails(email2, 1)
    assert m2.subject.endswith(f"we received your return request {ret2['rma']}"), m2.subject
