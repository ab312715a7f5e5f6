"""Order snapshots and the events derived from them; GET /v1/events.

Events are derived from state with a dedupe key per transition, so however
an order reaches aftersale (order.updated, the completed action, a sync),
in whatever order and however often, each event exists exactly once.
"""

import time

from aftersale_it import assert_problem
from woo_helpers import (ACTION_COMPLETED, fake, linked, oauth_sign,  # noqa: F401
                         order_calls, order_row, woo_admin, woo_db, woo_svc)


def completed_events(shop, order_id):
    return shop.events(kind="order.completed", order_id=order_id)


def test_out_of_order_updates_keep_the_newer_snapshot(linked, pg, woo_svc):
    f = linked.fake
    o = f.add_order(status="processing")
    older = f.update_order(o["id"], status="on-hold")
    newer = f.update_order(o["id"], status="completed")
    assert newer["date_modified_gmt"] > older["date_modified_gmt"]
    assert linked.deliver("order.updated", newer).status_code == 200
    linked.delivery_jobs_done()
    assert linked.deliver("order.updated", older).status_code == 200
    linked.delivery_jobs_done()
    status, modified, _, _ = order_row(pg, woo_svc.db, linked.id, o["id"])
    assert (status, modified) == ("completed", newer["date_modified_gmt"])
    ev = completed_events(linked, o["id"])
    assert len(ev) == 1 and ev[0]["payload"]["status"] == "completed"
    assert ev[0]["payload"]["date_modified_gmt"] == newer["date_modified_gmt"]
    # the stale delivery was processed (not failed) and changed nothing
    jobs = linked.jobs(kind="woo.delivery")
    assert [j["status"] for j in jobs] == ["done", "done"]
    assert jobs[1]["result"]["outcome"] == "stale"


def test_completed_order_emits_one_event_however_often_replayed(linked):
    f = linked.fake
    o = f.add_order(status="processing", email="ann@example.com", first_name="Ann")
    f.complete_order(o["id"])
    for _ in range(3):
        linked.deliver_order(o["id"], "order.updated")
    linked.deliver_order(o["id"], ACTION_COMPLETED)
    linked.deliver_order(o["id"], ACTION_COMPLETED, delivery_id="f" * 32)  # duplicate content
    linked.delivery_jobs_done()
    r = linked.api.post("/v1/woocommerce/sync")
    assert r.status_code == 202
    linked.wait_job(r.json()["job_id"])
    # a later, unrelated change of the completed order: still one event
    f.update_order(o["id"], customer_note="leave at the door")
    linked.deliver_order(o["id"], "order.updated")
    linked.delivery_jobs_done()
    r = linked.api.get("/v1/events", params={"kind": "order.completed", "order_id": o["id"]})
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 1, items
    ev = items[0]
    assert ev["kind"] == "order.completed" and ev["order_id"] == o["id"]
    p = ev["payload"]
    assert p["order_id"] == o["id"] and p["status"] == "completed"
    assert p["email"] == "ann@example.com" and p["first_name"] == "Ann"
    assert p["currency"] == "EUR" and p["total"] == "10.00"
    assert p["items"][0]["quantity"] == 1 and p["items"][0]["total"] == "10.00"
    assert set(p["items"][0]) == {"line_item_id", "product_id", "variation_id", "name",
                                  "quantity", "subtotal", "total"}


def test_action_completed_fetches_the_order_with_oauth_and_emits_completed(linked):
    f = linked.fake
    o = f.add_order(status="completed")
    r = linked.deliver(ACTION_COMPLETED,
                       {"action": "woocommerce_order_status_completed", "arg": o["id"]})
    assert r.status_code == 200 and r.json()["status"] == "received"
    fetch = linked.find_job("woo.order_fetch", lambda j: j["payload"].get("order_id") == o["id"])
    fetch = linked.wait_job(fetch["id"])
    assert fetch["attempts"] == 1 and fetch["result"] == {"order_id": o["id"]}
    calls = order_calls(f, o["id"])
    assert len(calls) == 1
    call = calls[0]
    assert call["status"] == 200 and call["outcome"] == "answered"
    q = call["query"]
    assert q["oauth_consumer_key"] == f.consumer_key
    assert q["oauth_signature_method"] in ("HMAC-SHA256", "HMAC-SHA1")
    assert len(q["oauth_nonce"]) >= 16 and abs(int(q["oauth_timestamp"]) - time.time()) < 60
    assert "consumer_secret" not in q
    assert "Authorization" not in call["headers"]
    # the signature checks out independently of the fake's verifier
    _, sig = oauth_sign("GET", f.base_url + call["path"],
                        {k: v for k, v in q.items() if not k.startswith("oauth_")},
                        f.consumer_key, f.consumer_secret, q["oauth_timestamp"],
                        q["oauth_nonce"], q["oauth_signature_method"])
    assert sig == q["oauth_signature"]
    assert len(completed_events(linked, o["id"])) == 1


def test_oauth_vector_of_the_facts_file():
    base, sig = oauth_sign("GET", "http://shop.example/wp-json/wc/v3/orders",
                           {"per_page": "5", "status": "completed"},
                           "ck_0123456789abcdef0123456789abcdef01234567",
                           "cs_76543210fedcba9876543210fedcba9876543210",
                           1700000000, "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e")
    assert base.startswith("GET&http%3A%2F%2Fshop.example%2Fwp-json%2Fwc%2Fv3%2Forders&")
    assert sig == "jHPvHBKa58zUqOi3LefWo7Yl15q522/sNiVmDh0/1lo="


def test_partial_then_full_refund_emit_two_refunded_events(linked, pg, woo_svc):
    f = linked.fake
    p = f.add_product("Mug", "10.00")
    o = f.add_order(status="processing", items=[(p["id"], 2, "20.00")])
    f.complete_order(o["id"])
    linked.deliver_order(o["id"])
    r1 = f.refund_order(o["id"], "5.00", reason="scratched")
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    r2 = f.refund_order(o["id"], "15.00", reason="returned")
    assert f.get_order(o["id"])["status"] == "refunded"
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    ev = linked.events(kind="order.refunded", order_id=o["id"])
    assert len(ev) == 2, ev
    a, b = ev[0]["payload"], ev[1]["payload"]
    assert (a["refund_id"], a["amount"], a["reason"], a["full"]) == (r1["id"], "5.00",
                                                                     "scratched", False)
    assert (b["refund_id"], b["amount"], b["reason"], b["full"]) == (r2["id"], "15.00",
                                                                     "returned", True)
    assert float(a["refunded_total"]) == 5 and float(b["refunded_total"]) == 20
    assert float(a["order_total"]) == 20 and float(b["order_total"]) == 20
    assert order_row(pg, woo_svc.db, linked.id, o["id"])[2] in ("20.00", "20")
    # replays (webhook again, a sync) emit nothing new
    linked.deliver_order(o["id"], delivery_id="e" * 32)
    f.update_order(o["id"], customer_note="x")  # new content, same refunds
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    r = linked.api.post("/v1/woocommerce/sync")
    linked.wait_job(r.json()["job_id"])
    assert len(linked.events(kind="order.refunded", order_id=o["id"])) == 2
    assert len(completed_events(linked, o["id"])) == 1


def test_cancelled_after_completion_emits_one_cancelled_event(linked):
    f = linked.fake
    o = f.add_order(status="processing")
    f.complete_order(o["id"])
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    f.update_order(o["id"], status="cancelled")
    linked.deliver_order(o["id"])
    linked.deliver_order(o["id"], delivery_id="c" * 32)
    f.update_order(o["id"], customer_note="late note")
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    ev = linked.events(kind="order.cancelled", order_id=o["id"])
    assert len(ev) == 1 and ev[0]["payload"]["status"] == "cancelled"


def test_cancelled_without_completion_emits_nothing(linked):
    f = linked.fake
    o = f.add_order(status="processing")
    linked.deliver_order(o["id"])
    f.update_order(o["id"], status="cancelled")
    linked.deliver_order(o["id"])
    o2 = f.add_order(status="pending")
    f.update_order(o2["id"], status="failed")
    linked.deliver_order(o2["id"])
    linked.delivery_jobs_done()
    assert linked.events(kind="order.cancelled") == []
    # processing is paid for: that event only, and nothing for the unpaid one
    assert [e["kind"] for e in linked.events(order_id=o["id"])] == ["order.paid"]
    assert linked.events(order_id=o2["id"]) == []


def test_checkout_draft_orders_are_ignored(linked, pg, woo_svc):
    f = linked.fake
    o = f.add_order(status="checkout-draft")
    r = linked.deliver_order(o["id"], "order.created")
    assert r.status_code == 200 and r.json()["status"] == "received"
    linked.delivery_jobs_done()
    assert order_row(pg, woo_svc.db, linked.id, o["id"]) is None
    assert linked.events(order_id=o["id"]) == []
    job = linked.jobs(kind="woo.delivery")[0]
    assert job["status"] == "done" and "checkout-draft" in job["result"]["outcome"]


def test_deleted_order_marks_the_snapshot(linked, pg, woo_svc):
    f = linked.fake
    o = f.add_order(status="processing")
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    r = linked.deliver("order.deleted", {"id": o["id"]})
    assert r.status_code == 200 and r.json()["status"] == "received"
    linked.delivery_jobs_done()
    assert order_row(pg, woo_svc.db, linked.id, o["id"])[3] is True


def test_customer_created_emits_one_event(linked):
    cust = {"id": 77, "email": "bob@example.com", "first_name": "Bob", "last_name": "B",
            "date_created_gmt": "2026-11-22T06:00:00", "date_modified_gmt": "2026-11-22T06:00:00"}
    linked.deliver("customer.created", cust)
    linked.deliver("customer.created", cust, delivery_id="b" * 32)
    cust2 = dict(cust, first_name="Bobby", date_modified_gmt="2026-11-22T06:01:00")
    linked.deliver("customer.updated", cust2)
    linked.delivery_jobs_done()
    ev = linked.events(kind="customer.created")
    assert len(ev) == 1
    assert ev[0]["customer_id"] == 77 and ev[0]["order_id"] is None
    assert ev[0]["payload"]["email"] == "bob@example.com"


def test_events_list_filters_and_paging(linked):
    f = linked.fake
    ids = []
    for _ in range(3):
        o = f.add_order(status="completed")
        ids.append(o["id"])
        linked.deliver_order(o["id"])
    f.refund_order(ids[0], "3.00")
    linked.deliver_order(ids[0])
    linked.delivery_jobs_done()
    every = linked.events()
    assert [e["kind"] for e in every].count("order.completed") == 3
    assert [e["kind"] for e in every].count("order.refunded") == 1
    assert [e["id"] for e in every] == sorted(e["id"] for e in every)
    # paging: limit=1 walks every event once, in id order
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        r = linked.api.get("/v1/events", params=params)
        assert r.status_code == 200
        body = r.json()
        assert len(body["items"]) <= 1
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [e["id"] for e in every]
    # filters
    assert [e["order_id"] for e in linked.events(kind="order.refunded")] == [ids[0]]
    assert {e["kind"] for e in linked.events(order_id=ids[0])} == {"order.paid", "order.completed",
                                                                  "order.refunded"}
    assert linked.events(kind="order.completed", order_id=ids[1])[0]["order_id"] == ids[1]
    assert linked.events(kind="no.such.kind") == []
    # another shop sees none of them
    assert all(e["order_id"] in ids for e in every)
    for bad in ({"kind": ""}, {"kind": "k" * 65}):
        assert_problem(linked.api.get("/v1/events", params=bad), 400, "malformed", field="kind")
    for bad in ("0", "-1", "abc", "1.5"):
        assert_problem(linked.api.get("/v1/events", params={"order_id": bad}), 400, "malformed",
                       field="order_id")
    assert_problem(linked.api.get("/v1/events", params={"limit": 0}), 400, "malformed",
                   field="limit")
    assert_problem(linked.api.get("/v1/events", params={"cursor": "!!"}), 400, "malformed",
                   field="cursor")


def test_events_are_per_shop(linked, woo_svc, woo_admin):
    from woo_helpers import Linked
    o = linked.fake.add_order(status="completed")
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    other = Linked(woo_svc, woo_admin, linked.fake)
    assert other.events() == []
    assert sorted(e["kind"] for e in linked.events()) == ["order.completed", "order.paid"]
    other.close()


def test_events_need_a_shop_key(woo_svc, admin_token):
    from woo_helpers import client
    c = client(woo_svc.url)
    assert_problem(c.get("/v1/events"), 401, "unauthorized")
    assert_problem(c.get("/v1/events", token=admin_token), 401, "unauthorized")
    c.close()



def test_refunds_first_seen_together_mark_only_the_last_full(linked):
    """Both refunds happen before aftersale hears of the order (deliveries
    lost; one order.updated, or a sync, brings both): `full` describes the
    refund, not the order's current status."""
    f = linked.fake
    o = f.add_order(status="completed", items=[(f.add_product("Lamp", "20.00")["id"], 1,
                                                "20.00")])
    r1 = f.refund_order(o["id"], "5.00")
    r2 = f.refund_order(o["id"], "15.00")
    assert f.get_order(o["id"])["status"] == "refunded"
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    ev = {e["payload"]["refund_id"]: e["payload"]
          for e in linked.events(kind="order.refunded", order_id=o["id"])}
    assert set(ev) == {r1["id"], r2["id"]}
    assert float(ev[r1["id"]]["refunded_total"]) == 5
    assert float(ev[r2["id"]]["refunded_total"]) == 20
    assert ev[r2["id"]]["full"] is True
    assert ev[r1["id"]]["full"] is False, ev[r1["id"]]


def test_restored_order_is_no_longer_deleted(linked, pg, woo_svc):
    f = linked.fake
    o = f.add_order(status="processing")
    linked.deliver_order(o["id"])
    linked.delivery_jobs_done()
    linked.deliver("order.deleted", {"id": o["id"]})
    linked.delivery_jobs_done()
    assert order_row(pg, woo_svc.db, linked.id, o["id"])[3] is True
    f.update_order(o["id"], status="on-hold")
    linked.deliver_order(o["id"], "order.restored")
    linked.delivery_jobs_done()
    assert order_row(pg, woo_svc.db, linked.id, o["id"])[0::3] == ("on-hold", False)


def test_customer_deleted_marks_the_customer(linked, pg, woo_svc):
    cust = {"id": 88, "email": "c@example.com", "first_name": "C", "last_name": "D",
            "date_created_gmt": "2026-11-22T06:00:00", "date_modified_gmt": "2026-11-22T06:00:00"}
    linked.deliver("customer.updated", cust)
    linked.delivery_jobs_done()
    assert linked.events(kind="customer.created") == []  # an update is not a creation
    linked.deliver("customer.deleted", {"id": 88})
    linked.delivery_jobs_done()
    rows = pg.query(woo_svc.db, "SELECT email, deleted FROM customers WHERE shop_id = %s"
                    " AND customer_id = 88", (linked.id,))
    assert rows == [("c@example.com", True)]


def test_an_order_that_cannot_be_read_fails_its_delivery_without_retrying(linked, pg, woo_svc):
    f = linked.fake
    bad = f.webhook_payload("order.updated", f.add_order(status="completed")["id"])
    bad["date_modified_gmt"] = None
    bad["total"] = "ten euros"
    r = linked.deliver("order.updated", bad)
    assert r.status_code == 200 and r.json()["status"] == "received"
    linked.delivery_jobs_done()
    job = linked.jobs(kind="woo.delivery")[0]
    assert job["status"] == "done" and job["attempts"] == 1, job
    assert job["result"]["status"] == "failed"
    rows = pg.query(woo_svc.db, "SELECT status, note FROM webhook_deliveries WHERE shop_id = %s",
                    (linked.id,))
    assert rows[0][0] == "failed" and rows[0][1]
    assert order_row(pg, woo_svc.db, linked.id, bad["id"]) is None
    assert linked.events() == []


def test_events_order_id_bounds(linked):
    r = linked.api.get("/v1/events", params={"order_id": "9223372036854775807"})
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    assert_problem(linked.api.get("/v1/events", params={"order_id": "9223372036854775808"}),
                   400, "malformed", field="order_id")


def test_php_escaped_unicode_reaches_the_event_decoded(linked):
    f = linked.fake
    p = f.add_product("Mug/Cup \u00e9t\u00e9", "10.00")
    o = f.add_order(status="completed", first_name="Zo\u00eb \U0001F600", items=[(p["id"], 1, "10.00")])
    r = linked.deliver_order(o["id"])  # php_json: "\/" and "\u00eb", "\ud83d\ude00"
    assert r.status_code == 200
    linked.delivery_jobs_done()
    ev = linked.events(kind="order.completed", order_id=o["id"])[0]["payload"]
    assert ev["first_name"] == "Zo\u00eb \U0001F600"
    assert ev["items"][0]["name"] == "Mug/Cup \u00e9t\u00e9"


def test_webhooks_actions_and_syncs_racing_emit_each_event_once(linked):
    """Many orders reach aftersale by three paths at once: order.updated
    deliveries, completed actions (fetches) and two overlapping syncs."""
    import threading
    f = linked.fake
    orders = [f.add_order(status="processing") for _ in range(40)]
    for o in orders:
        f.complete_order(o["id"])
    errors = []

    def deliveries(topic):
        try:
            for o in orders:
                r = linked.deliver_order(o["id"], topic)
                assert r.status_code == 200, r.text
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
    threads = [threading.Thread(target=deliveries, args=(t,))
               for t in ("order.updated", ACTION_COMPLETED)]
    for t in threads:
        t.start()
    syncs = [linked.api.post("/v1/woocommerce/sync").json()["job_id"] for _ in range(2)]
    for t in threads:
        t.join(30)
    assert not errors, errors
    for j in syncs:
        assert linked.wait_job(j, ("done", "dead"), timeout=20)["status"] == "done"
    linked.delivery_jobs_done(timeout=20)
    ev = linked.events(kind="order.completed")
    assert sorted(e["order_id"] for e in ev) == sorted(o["id"] for o in orders)
    assert all(j["status"] == "done" for j in linked.jobs(kind="woo.order_fetch"))
