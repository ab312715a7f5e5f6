"""The first sync of a new shop imports nothing from before the shop existed.

Before, the first reconciliation started 60 s before the shop's creation, so
orders another connection to the same WooCommerce had just handled were
imported (and, say, asked for reviews). A back-fill is explicit:
POST /v1/woocommerce/sync {"modified_after": ...}.
"""

import datetime as dt
import time

from aftersale_it import assert_problem
from woo_helpers import (REST_PREFIX, Linked, fake, order_row, woo_admin, woo_db,  # noqa: F401
                         woo_svc)


def gmt(ts):
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def sync(shop, body=None):
    r = shop.api.post("/v1/woocommerce/sync", json=body if body is not None else {})
    assert r.status_code == 202, r.text
    return shop.wait_job(r.json()["job_id"], ("done", "dead"))


def list_calls(fake):  # noqa: F811
    return [c for c in fake.calls(method="GET") if c["path"] == REST_PREFIX + "/orders"]


def test_first_sync_skips_orders_modified_before_the_shop_existed(woo_svc, woo_admin, fake, pg):
    now = time.time()
    before = fake.add_order(status="completed", date_created_gmt=gmt(now - 40),
                            date_modified_gmt=gmt(now - 30))
    time.sleep(1.1)  # the shop is created in a later second than the order changed
    shop = Linked(woo_svc, woo_admin, fake)
    try:
        time.sleep(1.1)
        after = fake.add_order(status="processing")  # modified after the shop was created
        job = sync(shop)
        assert job["status"] == "done", job
        assert order_row(pg, woo_svc.db, shop.id, before["id"]) is None
        assert order_row(pg, woo_svc.db, shop.id, after["id"]) is not None
        assert shop.events(kind="order.completed") == []
        # the shop was asked from its creation on, not a minute before
        asked = list_calls(fake)[-1]["query"]["modified_after"]
        assert asked[:19] >= gmt(now - 1), (asked, gmt(now))

        # the scheduled sync does not reach back either
        job = sync(shop)
        assert order_row(pg, woo_svc.db, shop.id, before["id"]) is None

        # an explicit back-fill does
        since = gmt(now - 3600) + "Z"
        job = sync(shop, {"modified_after": since})
        assert job["status"] == "done", job
        assert job["result"]["orders"] >= 1
        assert list_calls(fake)[-1]["query"]["modified_after"].startswith(since[:19])
        assert order_row(pg, woo_svc.db, shop.id, before["id"]) is not None
        assert [e["order_id"] for e in shop.events(kind="order.completed")] == [before["id"]]
    finally:
        shop.close()


def test_sync_body_is_checked(woo_svc, woo_admin, fake):
    shop = Linked(woo_svc, woo_admin, fake)
    try:
        r = shop.api.post("/v1/woocommerce/sync", json={"modified_after": "yesterday"})
        assert_problem(r, 422, "invalid-field", field="modified_after")
        r = shop.api.post("/v1/woocommerce/sync",
                          json={"modified_after": "2026-11-01T00:00:00Z",
                                "from": "2026-11-01T00:00:00Z"})
        assert_problem(r, 422, "invalid-field", field="from")
        r = shop.api.post("/v1/woocommerce/sync", json={"since": "2026-11-01T00:00:00Z"})
        assert_problem(r, 422, "invalid-field", field="since")
        # the older name still works
        job = sync(shop, {"from": "2026-11-01T00:00:00Z"})
        assert job["status"] == "done", job
    finally:
        shop.close()
