"""Review requests on their way to the customer: reminders, expiry,
cancellation, unsubscribing, the contact policy, the order-note channel,
manual requests, and an SMTP server that is down for a while.

Fixtures and helpers: reviews_helpers.py (own service and database per
module, a real SMTP sink, a fake shop per test).
"""

import re

from reviews_helpers import (path_of, rshop, rv_admin, rv_db, rv_svc, sink, token_of,  # noqa: F401
                             unique_email, wfake)
from woo_helpers import REST_PREFIX

from aftersale_it import assert_problem


def test_reminder_only_when_unanswered_then_expiry(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_delay="PT2S", reminder_count=1, expiry="PT4S")
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    quiet, keen = unique_email("quiet"), unique_email("keen")
    o_quiet = shop.completed_order([mug], quiet)
    o_keen = shop.completed_order([mug], keen)
    first = shop.wait_mails(quiet, 1)[0]
    keen_mail = shop.wait_mails(keen, 1)[0]
    # The keen customer answers before the reminder is due.
    r = shop.submit(token_of(keen_mail.review_link), [{"product_id": mug, "rating": 4}])
    assert r.status_code == 201, r.text

    # The quiet one gets a reminder about the same request; the keen one does not.
    _, reminder = shop.wait_mails(quiet, 2, timeout=8)
    req = shop.request_for_order(o_quiet["id"])
    assert reminder.message_id != first.message_id
    assert reminder.subject != first.subject, "the reminder should read as a follow-up"
    pub = shop.public(token_of(reminder.review_link))
    assert pub.status_code == 200 and pub.json()["request_id"] == req["id"], pub.text
    assert shop.request(req["id"])["reminders_sent"] == 1
    keen_req = shop.request_for_order(o_keen["id"])
    rem = shop.send_job(keen_req["id"], 1, pred=lambda j: j["status"] == "done", timeout=8)
    assert rem["result"] == {"skipped": "answered"}, rem
    assert len(shop.mails(keen)) == 1

    # Unanswered: it expires; the link then refuses reviews and the page says closed.
    req = shop.wait_status(req["id"], "expired", timeout=8)
    r = shop.submit(token_of(first.review_link), [{"product_id": mug, "rating": 5}])
    assert_problem(r, 409, "conflict")
    page = shop.anon.get(path_of(first.review_link))
    assert page.status_code == 410 and "closed" in page.text, (page.status_code, page.text[:500])
    assert len(shop.mails(quiet)) == 2
    assert shop.request(keen_req["id"])["status"] == "answered"


def test_full_refund_before_sending_cancels_without_email(rshop):
    shop = rshop
    shop.settings(delay="PT3S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email, partial = unique_email("refund"), unique_email("partial")
    order = shop.completed_order([mug], email)
    kept = shop.completed_order([(mug, 2, "18.00")], partial)
    req = shop.request_for_order(order["id"])
    assert req["status"] == "scheduled"

    shop.fake.refund_order(order["id"], "9.00", reason="broken")
    shop.deliver_order(order["id"])
    shop.fake.refund_order(kept["id"], "9.00", reason="one of two")
    shop.deliver_order(kept["id"])
    req = shop.wait_status(req["id"], "cancelled")
    assert req["cancel_reason"] == "order refunded"
    # The sending job runs when due and sends nothing.
    job = shop.send_job(req["id"], pred=lambda j: j["status"] == "done", timeout=8)
    assert job["result"] == {"skipped": "cancelled"}, job
    assert shop.mails(email) == []
    # A partial refund keeps the request.
    shop.wait_mails(partial, 1, timeout=8)
    shop.wait_status(shop.request_for_order(kept["id"])["id"], "sent")


def test_unsubscribe_from_the_list_unsubscribe_header_is_honoured(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0,
                  contact_policy={"max_messages": 100, "period": "PT1S"})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    cup = shop.fake.add_product("Cup", "4.00")["id"]
    email = unique_email("leave")
    shop.completed_order([mug], email)
    [mail] = shop.wait_mails(email)
    url = mail.unsubscribe_url
    assert url.startswith(shop.svc.url + "/unsubscribe?token=")
    assert re.search(re.escape(url), mail.text), "the text part carries the unsubscribe link"

    page = shop.anon.get(path_of(url))
    assert page.status_code == 200 and email in page.text and "<form" in page.text
    # One-click (RFC 8058), as a mail client does it.
    r = shop.anon.post(path_of(url), data="List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "unsubscribed" in r.text.lower(), r.text[:500]
    # Again (the confirmation form): still fine.
    assert shop.anon.post(path_of(url)).status_code == 200

    # A later order for the same address (any case): no message, status unsubscribed.
    later = shop.completed_order([cup], email.upper())
    req = shop.request_for_order(later["id"])
    req = shop.wait_status(req["id"], "unsubscribed")
    job = shop.send_job(req["id"], pred=lambda j: j["status"] == "done")
    assert job["result"] == {"skipped": "unsubscribed"}, job
    assert len(shop.mails(email)) + len(shop.mails(email.upper())) == 1
    # The unsubscribe token is no review token.
    r = shop.submit(token_of(url), [{"product_id": cup, "rating": 5}])
    assert_problem(r, 403, "forbidden")
    # A broken unsubscribe link is refused.
    r = shop.anon.post("/unsubscribe", params={"token": token_of(url)[:-3] + "abc"})
    assert r.status_code == 401


def test_smtp_down_then_back_sends_exactly_once(rshop, sink):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("smtp")
    sink.set_down(True)
    try:
        order = shop.completed_order([mug], email)
        req = shop.request_for_order(order["id"])
        failed = shop.send_job(req["id"], pred=lambda j: j["attempts"] >= 1 and j["last_error"],
                               timeout=10, what="a failed sending attempt")
        # retrying: waiting for its next attempt, or already in it (50 ms backoff)
        assert failed["status"] in ("pending", "running"), failed
        assert shop.request(req["id"])["status"] == "scheduled"
    finally:
        sink.set_down(False)
    job = shop.send_job(req["id"], pred=lambda j: j["status"] in ("done", "dead"), timeout=10)
    assert job["status"] == "done" and job["result"]["sent"] == "email", job
    assert len(shop.wait_mails(email, 1)) == 1
    shop.idle()
    assert len(shop.mails(email)) == 1
    assert shop.request(req["id"])["status"] == "sent"


def test_contact_policy_postpones_a_second_request(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0,
                  contact_policy={"max_messages": 1, "period": "P1D"})
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    pot = shop.fake.add_product("Pot", "19.00")["id"]
    email = unique_email("policy")
    shop.completed_order([mug], email)
    shop.wait_mails(email, 1)
    second = shop.completed_order([pot], email)
    req = shop.request_for_order(second["id"])
    job = shop.send_job(req["id"], pred=lambda j: (j["result"] or {}).get("postponed"))
    assert job["result"]["postponed"] == "contact policy", job
    assert 86000 <= job["result"]["seconds"] <= 86400, job
    assert job["status"] == "pending" and job["run_at"] > req["due_at"], job
    # Postponed, not lost: still scheduled, and no second message.
    assert shop.request(req["id"])["status"] == "scheduled"
    assert len(shop.mails(email)) == 1


def test_order_note_channel(rshop):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, channel="order_note")
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("note")
    order = shop.completed_order([mug], email, first_name="Nora")
    req = shop.request_for_order(order["id"])
    job = shop.send_job(req["id"], pred=lambda j: j["status"] == "done")
    assert job["result"]["sent"] == "order_note", job
    calls = [c for c in shop.fake.calls(path_prefix=f"{REST_PREFIX}/orders/{order['id']}/notes",
                                        method="POST") if c["status"] == 201]
    assert len(calls) == 1, calls
    body = calls[0]["json"]
    assert body["customer_note"] is True
    assert "Nora" in body["note"] and "Mug" in body["note"]
    link = re.search(r"https?://\S+/review\?token=[A-Za-z0-9._-]+", body["note"]).group(0)
    assert shop.anon.get(path_of(link)).status_code == 200
    notes = [n for (oid, n) in shop.fake.notes.values()
             if oid == order["id"] and n["customer_note"]]
    assert len(notes) == 1
    assert shop.mails(email) == []
    assert shop.request(req["id"])["status"] == "sent"


def test_manual_request_send_now(rshop):
    shop = rshop
    shop.settings(reminder_count=0)            # default delay: a week
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("manual")
    order = shop.order([mug], email, status="processing")   # known to aftersale, not completed
    shop.idle()                                             # the delivery is applied
    r = shop.api.post("/v1/review-requests", json={"order_id": order["id"], "send_now": True})
    assert r.status_code == 201, r.text
    req = r.json()
    assert r.headers["Location"] == f"/v1/review-requests/{req['id']}"
    assert req["order_id"] == order["id"] and req["status"] == "scheduled"
    [mail] = shop.wait_mails(email)
    shop.wait_status(req["id"], "sent")
    assert shop.public(token_of(mail.review_link)).json()["request_id"] == req["id"]
    # Once per order.
    assert_problem(shop.api.post("/v1/review-requests", json={"order_id": order["id"]}),
                   409, "conflict")
    # An order aftersale has never seen.
    assert_problem(shop.api.post("/v1/review-requests", json={"order_id": 987654}), 422,
                   "invalid-field", field="order_id")
