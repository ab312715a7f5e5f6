"""Reconciliation (POST /v1/woocommerce/sync), GET /v1/woocommerce/status and
GET/PATCH /v1/woocommerce/settings.

WooCommerce never retries a failed delivery, so orders the service never
heard of must be recovered by polling GET /orders?modified_after=...
"""

import datetime as dt

from aftersale_it import assert_problem
from woo_helpers import (REST_PREFIX, RFC3339, fake, linked, order_row, wait_for,  # noqa: F401
                         woo_admin, woo_db, woo_svc)


def sync(shop, body=None):
    r = shop.api.post("/v1/woocommerce/sync", json=body) if body is not None else \
        shop.api.post("/v1/woocommerce/sync")
    assert r.status_code == 202, r.text
    b = r.json()
    assert b["kind"] == "woo.sync" and b["status"] == "pending"
    assert r.headers["Location"] == f"/v1/jobs/{b['job_id']}"
    return shop.wait_job(b["job_id"], ("done", "dead"))


def list_calls(fake):
    return [c for c in fake.calls(method="GET") if c["path"] == REST_PREFIX + "/orders"]


def test_sync_recovers_orders_whose_deliveries_never_came(linked, pg, woo_svc):
    f = linked.fake
    st = linked.api.get("/v1/woocommerce/status").json()
    assert st["sync"]["last_finished_at"] is None and st["sync"]["last_orders"] == 0
    done = [f.add_order(status="processing") for _ in range(3)]
    for o in done:
        f.complete_order(o["id"])
    open_ = f.add_order(status="on-hold")
    draft = f.add_order(status="checkout-draft")
    job = sync(linked)
    assert job["status"] == "done", job
    assert job["attempts"] == 1
    assert job["result"]["orders"] == 4 and job["result"]["pages"] == 1
    for o in done + [open_]:
        assert order_row(pg, woo_svc.db, linked.id, o["id"]) is not None
    assert order_row(pg, woo_svc.db, linked.id, draft["id"]) is None
    assert order_row(pg, woo_svc.db, linked.id, open_["id"])[0] == "on-hold"
    ev = linked.events(kind="order.completed")
    assert sorted(e["order_id"] for e in ev) == sorted(o["id"] for o in done)
    ev = linked.events(kind="order.paid")  # not the on-hold one
    assert sorted(e["order_id"] for e in ev) == sorted(o["id"] for o in done)
    # how the shop was asked: signed, oldest change first, modified_after the watermark
    calls = list_calls(f)
    assert len(calls) == 1 and calls[0]["status"] == 200
    q = calls[0]["query"]
    assert q["orderby"] == "modified" and q["order"] == "asc" and q["per_page"] == "100"
    assert "modified_after" in q and "oauth_signature" in q
    st = linked.api.get("/v1/woocommerce/status").json()
    assert RFC3339.match(st["sync"]["last_finished_at"]) and st["sync"]["last_error"] is None
    assert st["sync"]["last_orders"] == 4
    assert RFC3339.match(st["sync"]["last_started_at"])
    # again: nothing new
    job2 = sync(linked)
    assert job2["status"] == "done"
    assert len(linked.events()) == 6  # order.paid and order.completed of each


def test_sync_from_imports_older_orders(linked, pg, woo_svc):
    f = linked.fake
    old = f.add_order(status="completed",
                      date_modified_gmt="2026-11-01T10:00:00", date_created_gmt="2026-11-01T09:00:00")
    assert old["date_modified_gmt"] == "2026-11-01T10:00:00"
    job = sync(linked)
    assert job["result"]["orders"] == 0  # before the watermark
    assert linked.events() == []
    job = sync(linked, {"from": "2026-10-31T00:00:00Z"})
    assert job["status"] == "done" and job["result"]["orders"] == 1
    assert job["payload"]["from"] == "2026-10-31T00:00:00Z"
    assert list_calls(f)[-1]["query"]["modified_after"].startswith("2026-10-31T00:00:00")
    assert order_row(pg, woo_svc.db, linked.id, old["id"])[1] == "2026-11-01T10:00:00"
    assert [e["order_id"] for e in linked.events(kind="order.completed")] == [old["id"]]
    job = sync(linked, {"from": "2026-10-31T00:00:00Z"})
    assert sorted(e["kind"] for e in linked.events()) == ["order.completed", "order.paid"]


def test_sync_bad_from_is_422(linked):
    """`from` is an RFC 3339 time (docs/api.md); PostgreSQL's timestamptz input
    also takes words and other layouts, which must not get through."""
    accepted = {}
    for bad in ("2026-13-01T00:00:00Z", 5, "", None, "yesterday", "now", "infinity", "epoch",
                "Nov 1 2026", "2026-11-01", "11/01/2026"):
        r = linked.api.post("/v1/woocommerce/sync", json={"from": bad})
        if r.status_code != 422:
            accepted[bad] = r.status_code
            continue
        assert_problem(r, 422, "invalid-field", field="from")
    assert not accepted, f"bad `from` values answered other than 422: {accepted}"
    assert_problem(linked.api.post("/v1/woocommerce/sync", json={"form": "x"}), 422,
                   "invalid-field", field="form")
    assert linked.jobs(kind="woo.sync", status="done") == []


def test_sync_pages_through_more_than_100_orders(linked):
    f = linked.fake
    p = f.add_product("Pen", "1.00")
    n = 230
    for i in range(n):
        f.add_order(status="completed" if i % 2 == 0 else "processing", items=[(p["id"], 1, "1.00")])
    job = sync(linked)
    assert job["status"] == "done", job
    assert job["result"]["orders"] == n and job["result"]["pages"] == 3
    calls = list_calls(f)
    assert sorted(c["query"]["page"] for c in calls) == ["1", "2", "3"]
    assert all(c["status"] == 200 for c in calls)
    assert len(linked.events(kind="order.completed")) == (n + 1) // 2
    assert linked.api.get("/v1/woocommerce/status").json()["sync"]["last_orders"] == n


def test_sync_failure_is_retried_and_recorded(linked):
    f = linked.fake
    o = f.add_order(status="completed")
    f.fail_next(2, 500, path_prefix="/orders")
    job = sync(linked)
    assert job["status"] == "done" and job["attempts"] == 3
    assert len(linked.events(kind="order.completed", order_id=o["id"])) == 1
    st = linked.api.get("/v1/woocommerce/status").json()
    assert st["sync"]["last_error"] is None


def test_status_shape_and_counts(linked):
    f = linked.fake
    linked.deliver_order(f.add_order(status="processing")["id"])
    linked.deliver("coupon.created", {"id": 9})
    linked.deliver("order.updated", body=b"[]")
    linked.delivery_jobs_done()
    r = linked.api.get("/v1/woocommerce/status")
    assert r.status_code == 200
    st = r.json()
    assert set(st) == {"sync", "deliveries", "jobs"}
    assert set(st["sync"]) == {"interval_s", "watermark", "last_started_at", "last_finished_at",
                               "last_error", "last_orders"}
    assert st["sync"]["interval_s"] == 600 and RFC3339.match(st["sync"]["watermark"])
    d = st["deliveries"]
    assert (d["received"], d["ignored"], d["failed"]) == (3, 1, 1)
    assert RFC3339.match(d["last_received_at"])
    # the periodic jobs: WooCommerce sync and the loyalty daily run
    assert st["jobs"]["pending"] == 2 and st["jobs"]["dead"] == 0
    assert st["jobs"]["last_error"] is None


def test_settings_get_and_patch(linked):
    r = linked.api.get("/v1/woocommerce/settings")
    assert r.status_code == 200 and r.json() == {"sync_interval_s": 600, "delivered_status": None}
    for bad in (5, 9, 86401, 100000, "60", 60.5, None, True):
        r = linked.api.patch("/v1/woocommerce/settings", json={"sync_interval_s": bad})
        assert_problem(r, 422, "invalid-field", field="sync_interval_s")
    # A PATCH changes the fields it names: {} changes nothing.
    r = linked.api.patch("/v1/woocommerce/settings", json={})
    assert r.status_code == 200 and r.json() == {"sync_interval_s": 600, "delivered_status": None}
    assert_problem(linked.api.patch("/v1/woocommerce/settings", json={"interval": 60}), 422,
                   "invalid-field", field="interval")
    assert_problem(linked.api.patch("/v1/woocommerce/settings", data="{",
                                    headers={"Content-Type": "application/json"}),
                   400, "malformed")
    r = linked.api.patch("/v1/woocommerce/settings", json={"sync_interval_s": 10})
    assert r.status_code == 200 and r.json()["sync_interval_s"] == 10
    r = linked.api.patch("/v1/woocommerce/settings", json={"sync_interval_s": 86400})
    assert r.status_code == 200 and r.json()["sync_interval_s"] == 86400
    assert linked.api.get("/v1/woocommerce/settings").json() == {"sync_interval_s": 86400,
                                                                 "delivered_status": None}
    assert linked.api.get("/v1/woocommerce/status").json()["sync"]["interval_s"] == 86400


def test_shorter_interval_brings_the_periodic_sync_forward(linked):
    periodic = [j for j in linked.jobs(kind="woo.sync") if j["dedupe_key"] == "periodic"][0]
    run_at = dt.datetime.strptime(periodic["run_at"], "%Y-%m-%dT%H:%M:%SZ")
    created = dt.datetime.strptime(periodic["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert (run_at - created).total_seconds() >= 590
    r = linked.api.patch("/v1/woocommerce/settings", json={"sync_interval_s": 10})
    assert r.status_code == 200
    periodic = linked.job(periodic["id"])
    run_at = dt.datetime.strptime(periodic["run_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert (run_at - created).total_seconds() <= 12
    assert periodic["status"] == "pending"


def test_sync_rejected_by_the_shop_goes_dead_and_status_shows_why(linked):
    f = linked.fake
    f.fail_next(1, 401, path_prefix="/orders")
    job = sync(linked)
    assert job["status"] == "dead" and job["attempts"] == 1  # bad credentials do not heal
    assert "401" in job["last_error"] and "woocommerce_rest_authentication_error" in job["last_error"]
    assert f.consumer_secret not in job["last_error"]
    st = linked.api.get("/v1/woocommerce/status").json()
    assert "401" in st["sync"]["last_error"]
    assert st["sync"]["last_finished_at"] is None and RFC3339.match(st["sync"]["last_started_at"])
    assert st["jobs"]["dead"] == 1
    # after a good run the error is gone
    job = sync(linked)
    assert job["status"] == "done"
    st = linked.api.get("/v1/woocommerce/status").json()
    assert st["sync"]["last_error"] is None and RFC3339.match(st["sync"]["last_finished_at"])
