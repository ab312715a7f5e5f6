"""order.delivered from the shop's delivered status, and review requests
started from it.

The WooCommerce settings' `delivered_status` names the order status that
means "the order reached the customer" (a plugin's custom `delivered`
status). An order webhook or sync showing an order in it emits
`order.delivered` once per order: replays, reordered deliveries, a sync
and `POST /v1/orders/{id}/delivered` together still give one event.
The review setting `trigger` (`completed` by default, or `delivered`)
picks the event review requests start from.

Fixtures: reviews_helpers.py via surveys_helpers.py (own service and
database per module, a real SMTP sink, a fake shop per test).
"""

import datetime as dt

import pytest

from reviews_helpers import deliver
from surveys_helpers import (create_survey, invitations, list_all, rshop, rv_admin,  # noqa: F401
                             rv_db, rv_svc, sink, unique_email, wait_for, wfake)


def _woo_settings(shop, **body):
    r = shop.api.patch("/v1/woocommerce/settings", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _delivered_shop(shop):
    """The fake registers a custom `delivered` status; aftersale is told it."""
    shop.fake.custom_statuses["delivered"] = "Delivered"
    assert _woo_settings(shop, delivered_status="delivered")["delivered_status"] == "delivered"


def _events(shop, order_id, kind="order.delivered"):
    return list_all(shop.api, "/v1/events", kind=kind, order_id=order_id)


def _deliver_payload(shop, payload, topic="order.updated"):
    r = deliver(shop.svc.port, shop.id, shop.secret, topic, payload)
    assert r.status_code == 200, r.text
    return r


def _processed(shop, timeout=10.0):
    """Every webhook delivery of the shop processed (its woo.delivery job done)."""
    wait_for(lambda: all(j["status"] in ("done", "dead") for j in shop.jobs(kind="woo.delivery")),
             timeout, interval=0.05, what="the webhook deliveries to be processed")


def _sync(shop):
    r = shop.api.post("/v1/woocommerce/sync", json={})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    wait_for(lambda: shop.job(job_id)["status"] == "done", 15, interval=0.05,
             what="the sync job")


def _epoch(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def _schedule_results(shop, kind, job_kind, order_id):
    """Results of the done `job_kind` jobs of the order's `kind` events."""
    evs = {e["id"] for e in _events(shop, order_id, kind)}
    return [j["result"] for j in shop.jobs(kind=job_kind)
            if j["status"] == "done" and j["payload"].get("event_id") in evs]


# ---- the setting ----------------------------------------------------------------


def test_delivered_status_setting_round_trips_and_refuses_what_is_not_a_delivery(rshop):
    shop = rshop
    r = shop.api.get("/v1/woocommerce/settings")
    assert r.status_code == 200 and r.json() == {"sync_interval_s": 600, "delivered_status": None}
    # "wc-" (the post status WordPress stores) is dropped: the REST API names it without.
    assert _woo_settings(shop, delivered_status="wc-delivered") == {
        "sync_interval_s": 600, "delivered_status": "delivered"}
    # A field left out keeps its value.
    assert _woo_settings(shop, sync_interval_s=900) == {"sync_interval_s": 900,
                                                        "delivered_status": "delivered"}
    assert shop.api.get("/v1/woocommerce/settings").json()["delivered_status"] == "delivered"
    for bad in ("cancelled", "refunded", "pending", "failed", "trash", "checkout-draft",
                "Delivered", "", "x" * 18, "de livered", 5, True):
        r = shop.api.patch("/v1/woocommerce/settings", json={"delivered_status": bad})
        assert r.status_code == 422 and r.json()["field"] == "delivered_status", (bad, r.text)
    assert shop.api.get("/v1/woocommerce/settings").json()["delivered_status"] == "delivered"
    assert _woo_settings(shop, delivered_status=None)["delivered_status"] is None


# ---- the event ------------------------------------------------------------------


def test_webhook_in_the_delivered_status_emits_order_delivered_once(rshop):
    shop = rshop
    _delivered_shop(shop)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Delivery", status="active", recontact_days=0,
                      questions=[{"id": "sat", "kind": "csat", "label": {"en": "Arrived well?"}}],
                      trigger={"event": "order.delivered", "delay": "P1D"})
    email = unique_email("dlv")
    o = shop.order([mug], email)
    delivered = shop.fake.update_order(o["id"], status="delivered")
    shop.deliver_order(o["id"])
    [ev] = wait_for(lambda: _events(shop, o["id"]), 10, interval=0.05, what="order.delivered")
    p = ev["payload"]
    assert p["source"] == "woocommerce" and p["order_id"] == o["id"] and p["email"] == email
    assert p["status"] == "delivered" and [i["product_id"] for i in p["items"]] == [mug]
    # The delivery time is the snapshot's date_modified_gmt (WooCommerce keeps no other).
    assert p["delivered_at"] == delivered["date_modified_gmt"] + "Z"

    # Replays: the same body again, a later change still in the status, a sync,
    # the API call, and completion afterwards: one event.
    _deliver_payload(shop, shop.fake.webhook_payload("order.updated", o["id"]))
    shop.fake.update_order(o["id"], customer_note="left at the door")
    shop.deliver_order(o["id"])
    _processed(shop)
    _sync(shop)
    r = shop.api.post(f"/v1/orders/{o['id']}/delivered")
    assert r.status_code == 200 and r.json() == {"order_id": o["id"], "already": True}
    shop.complete(o["id"])
    wait_for(lambda: _events(shop, o["id"], "order.completed"), 10, interval=0.05,
             what="order.completed")
    _processed(shop)
    assert [e["id"] for e in _events(shop, o["id"])] == [ev["id"]]

    # The survey triggered by order.delivered invited the order once, due a
    # day after the delivery.
    [inv] = wait_for(lambda: invitations(shop, s["id"]), 10, interval=0.05, what="invitation")
    assert inv["order_id"] == o["id"] and inv["status"] == "scheduled"
    assert abs(_epoch(inv["due_at"]) - (_epoch(p["delivered_at"]) + 86400)) < 2, inv


def test_api_call_first_then_the_status_gives_one_event(rshop):
    shop = rshop
    _delivered_shop(shop)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    o = shop.order([mug], unique_email("api"))
    wait_for(lambda: _events(shop, o["id"], "order.paid"), 10, interval=0.05, what="order known")
    r = shop.api.post(f"/v1/orders/{o['id']}/delivered")
    assert r.status_code == 200 and r.json() == {"order_id": o["id"], "already": False}
    shop.fake.update_order(o["id"], status="delivered")
    shop.deliver_order(o["id"])
    _processed(shop)
    _sync(shop)
    [ev] = _events(shop, o["id"])
    assert ev["payload"]["source"] == "api"
    assert [i["product_id"] for i in ev["payload"]["items"]] == [mug]
    assert _epoch(ev["payload"]["delivered_at"]) > 0


def test_reordered_deliveries_still_give_one_event_unless_the_order_is_gone(rshop):
    shop = rshop
    _delivered_shop(shop)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    # Delivered, then completed; the completed snapshot arrives first.
    o = shop.order([mug], unique_email("ro"))
    shop.fake.update_order(o["id"], status="delivered")
    older = shop.fake.webhook_payload("order.updated", o["id"])
    shop.fake.complete_order(o["id"])
    shop.deliver_order(o["id"])
    _processed(shop)
    assert _events(shop, o["id"]) == []
    _deliver_payload(shop, older)
    _processed(shop)
    [ev] = _events(shop, o["id"])
    assert ev["payload"]["source"] == "woocommerce"
    assert ev["payload"]["delivered_at"] == older["date_modified_gmt"] + "Z"
    # The stale snapshot did not replace the newer one.
    assert ev["payload"]["status"] == "completed"
    _deliver_payload(shop, dict(older, customer_note="again"))
    _processed(shop)
    assert len(_events(shop, o["id"])) == 1

    # Delivered, then cancelled; the cancellation arrives first: the late
    # delivered snapshot no longer invites anybody to anything.
    o2 = shop.order([mug], unique_email("gone"))
    shop.fake.update_order(o2["id"], status="delivered")
    older2 = shop.fake.webhook_payload("order.updated", o2["id"])
    shop.fake.update_order(o2["id"], status="cancelled")
    shop.deliver_order(o2["id"])
    _processed(shop)
    _deliver_payload(shop, older2)
    _processed(shop)
    assert _events(shop, o2["id"]) == []


def test_a_sync_alone_brings_the_delivered_status(rshop):
    """No webhook at all (WooCommerce never retries a lost one): the
    reconciliation pull sees the order in the status and emits the event."""
    shop = rshop
    _delivered_shop(shop)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    o = shop.fake.add_order(status="processing", email=unique_email("sync"), first_name="Sy",
                            items=[(mug, 1, None)])
    shop.fake.update_order(o["id"], status="delivered")
    _sync(shop)
    [ev] = wait_for(lambda: _events(shop, o["id"]), 10, interval=0.05, what="order.delivered")
    assert ev["payload"]["source"] == "woocommerce" and ev["payload"]["status"] == "delivered"
    _sync(shop)
    assert len(_events(shop, o["id"])) == 1


def test_without_the_setting_the_status_emits_nothing(rshop):
    shop = rshop
    shop.fake.custom_statuses["delivered"] = "Delivered"
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    o = shop.order([mug], unique_email("none"))
    shop.fake.update_order(o["id"], status="delivered")
    shop.deliver_order(o["id"])
    _processed(shop)
    _sync(shop)
    assert _events(shop, o["id"]) == []
    # Setting it later applies to what arrives later (the next change or sync).
    _woo_settings(shop, delivered_status="delivered")
    shop.fake.update_order(o["id"], customer_note="ring twice")
    shop.deliver_order(o["id"])
    wait_for(lambda: _events(shop, o["id"]), 10, interval=0.05, what="order.delivered")


# ---- review requests from order.delivered ------------------------------------


def test_review_requests_start_from_completed_by_default(rshop):
    shop = rshop
    assert shop.api.get("/v1/reviews/settings").json()["trigger"] == "completed"
    shop.settings(delay="PT0S", reminder_count=0)
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("rc")
    o = shop.completed_order([mug], email)
    req = shop.request_for_order(o["id"])
    r = shop.api.post(f"/v1/orders/{o['id']}/delivered")
    assert r.status_code == 200 and r.json()["already"] is False
    [res] = wait_for(lambda: _schedule_results(shop, "order.delivered", "reviews.schedule",
                                               o["id"]), 10, interval=0.05,
                     what="the review scheduling of order.delivered")
    assert res == {"request_id": 0,
                   "outcome": "skipped: review requests start from order.completed"}
    # An order delivered but never completed gets no request.
    o2 = shop.order([mug], unique_email("rc2"))
    wait_for(lambda: _events(shop, o2["id"], "order.paid"), 10, interval=0.05, what="order")
    assert shop.api.post(f"/v1/orders/{o2['id']}/delivered").status_code == 200
    wait_for(lambda: _schedule_results(shop, "order.delivered", "reviews.schedule", o2["id"]),
             10, interval=0.05, what="the review scheduling")
    assert shop.request(req["id"])["order_id"] == o["id"]
    assert [j for j in shop.jobs(kind="reviews.schedule")
            if (j.get("result") or {}).get("request_id")] != []
    assert all(shop.request(j["result"]["request_id"])["order_id"] != o2["id"]
               for j in shop.jobs(kind="reviews.schedule")
               if (j.get("result") or {}).get("request_id"))
    assert len(shop.wait_mails(email)) == 1


@pytest.mark.parametrize("source", ["api", "status"])
def test_review_requests_may_start_from_delivered(rshop, source):
    shop = rshop
    _delivered_shop(shop)
    doc = shop.settings(trigger="delivered", delay="PT2S", reminder_count=0)
    assert doc["trigger"] == "delivered"
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    email = unique_email("rd")
    # Completed first: no request from completion.
    o = shop.completed_order([mug], email)
    [res] = wait_for(lambda: _schedule_results(shop, "order.completed", "reviews.schedule",
                                               o["id"]), 10, interval=0.05,
                     what="the review scheduling of order.completed")
    assert res == {"request_id": 0,
                   "outcome": "skipped: review requests start from order.delivered"}
    # Then delivered: the request, due `delay` after the delivery.
    if source == "api":
        assert shop.api.post(f"/v1/orders/{o['id']}/delivered").json()["already"] is False
    else:
        shop.fake.update_order(o["id"], status="delivered")
        shop.deliver_order(o["id"])
    [ev] = wait_for(lambda: _events(shop, o["id"]), 10, interval=0.05, what="order.delivered")
    req = shop.request_for_order(o["id"])
    assert abs(_epoch(req["due_at"]) - (_epoch(ev["payload"]["delivered_at"]) + 2)) < 1.5, req
    [mail] = shop.wait_mails(email)
    assert "How was your order" in mail.subject
