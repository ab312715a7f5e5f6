"""Helpers for the returns integration tests: a linked shop (fake
WooCommerce) with orders known to aftersale, and short calls for the
returns API."""

from loyalty_helpers import LoyalShop, claims_for, mint
from woo_helpers import client, fake, wait_for, woo_admin, woo_db, woo_svc  # noqa: F401

import pytest


class ReturnsShop(LoyalShop):
    """A linked shop (fake WooCommerce) that keeps its token secret."""

    def customer(self, email=None, sub=None, scope="returns"):
        """A client for /v1/me/returns with a customer token."""
        token = mint(self.token_secret, claims_for(self.id, sub=sub, email=email, scope=scope))
        return client(self.svc.url, token)

    def order(self, items, status="completed", email="ann@example.com", **kw):
        """A fake order with `items` = [(name, price, qty)], delivered to
        aftersale by webhook; answers the fake's order."""
        its = []
        for name, price, qty in items:
            p = self.fake.add_product(name, price)
            its.append((p["id"], qty, "%.2f" % (float(price) * qty)))
        o = self.fake.add_order(status=status, email=email, items=its, **kw)
        r = self.deliver_order(o["id"])
        assert r.status_code == 200, r.text
        self.delivery_jobs_done()
        wait_for(lambda: self.api.get("/v1/returns", params={"order_id": o["id"]}).status_code == 200)
        return o

    def settings(self, **changes):
        r = self.api.put("/v1/returns/settings", json=changes)
        assert r.status_code == 200, r.text
        return r.json()

    def create(self, order, lines, resolution="refund", key=None, expect=201):
        """lines = [(index of the order's line item, quantity, reason[, extra fields])]"""
        out = []
        for line in lines:
            i, q, reason = line[:3]
            d = {"line_item_id": order["line_items"][i]["id"], "quantity": q, "reason": reason}
            if len(line) > 3:
                d.update(line[3])
            out.append(d)
        body = {"order_id": order["id"], "resolution": resolution, "lines": out}
        headers = {"Idempotency-Key": key} if key else {}
        r = self.api.post("/v1/returns", json=body, headers=headers)
        assert r.status_code == expect, r.text
        return r.json()

    def act(self, rid, action, body=None, expect=200, key=None):
        headers = {"Idempotency-Key": key} if key else {}
        r = self.api.post(f"/v1/returns/{rid}/{action}", json=body, headers=headers)
        assert r.status_code == expect, r.text
        return r.json()

    def get(self, rid):
        r = self.api.get(f"/v1/returns/{rid}")
        assert r.status_code == 200, r.text
        return r.json()

    def receive_all(self, ret, restock=True, condition="resellable"):
        lines = [{"line_item_id": l["line_item_id"], "quantity_received": l["quantity"],
                  "condition": condition, "restock": restock} for l in ret["lines"]]
        return self.act(ret["id"], "receive", {"lines": lines})

    def wait_state(self, rid, states, timeout=15.0):
        return wait_for(lambda: (lambda g: g if g["state"] in states else None)(self.get(rid)),
                        timeout, what=f"return {rid} in {states}")


@pytest.fixture
def shop(woo_svc, woo_admin, fake):  # noqa: F811
    s = ReturnsShop(woo_svc, woo_admin, fake)
    yield s
    s.close()
