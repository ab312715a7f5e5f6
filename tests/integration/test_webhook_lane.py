"""Outbound webhook deliveries have a lane of their own in the job queue
(sql/020, src/jobs/worker.c): a shop has at most one running job per lane,
and WEBHOOK_WORKERS threads deliver webhooks only. So an endpoint that
takes its time (up to WEBHOOK_TIMEOUT_MS per attempt) holds neither the
shop's WooCommerce calls and mails nor the threads they run on.

The receiver here holds every delivery until the test lets it go (20 s at
most); meanwhile the same shop's WooCommerce sync job must run to its end.
The test asserts order and completion (the sync is done while the
delivery is still held), not durations.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from woo_helpers import client, fake, new_migrated_db, service_env, wait_for  # noqa: F401
from aftersale_it import free_port
from returns_helpers import ReturnsShop

HOLD_S = 20.0


class HoldingReceiver:
    """Answers every POST only once `release` is set (at most HOLD_S)."""

    def __init__(self):
        self.got = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.got.append(self.path)
                outer.release.wait(HOLD_S)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = HoldingReceiver()
    try:
        yield r
    finally:
        r.stop()


def job_of(shop, kind):
    r = shop.api.get("/v1/jobs", params={"kind": kind, "limit": 100})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return items[-1] if items else None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_slow_webhook_endpoint_does_not_hold_the_shops_woocommerce_jobs(
        pg, base_env, service_factory, admin_token, fake, receiver, workers):  # noqa: F811
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(
        pg, db, free_port(), WORKERS=workers, WEBHOOK_WORKERS="1",
        WEBHOOK_ALLOW_PRIVATE="127.0.0.0/8", WEBHOOK_TIMEOUT_MS="30000"), name=f"lane-{workers}")
    admin = client(svc.url, admin_token)
    shop = ReturnsShop(svc, admin, fake)
    try:
        o = shop.order([("Mug", "10.00", 1)], email="lane@example.com")
        r = shop.api.post("/v1/webhook-endpoints",
                          json={"url": receiver.url, "event_types": ["return.created"]})
        assert r.status_code == 201, r.text
        shop.create(o, [(0, 1, "wrong_item")])
        # the delivery has reached the endpoint, which holds it
        wait_for(lambda: receiver.got, 15, interval=0.05, what="the delivery at the endpoint")
        assert job_of(shop, "hooks.deliver")["status"] == "running"
        # the same shop's WooCommerce job runs to its end meanwhile
        r = shop.api.post("/v1/woocommerce/sync")
        assert r.status_code == 202, r.text
        sync_id = r.json()["job_id"]
        done = wait_for(lambda: (lambda j: j if j["status"] == "done" else None)(
            shop.job(sync_id)), 15, interval=0.05, what="the sync job while the webhook waits")
        assert done["attempts"] == 1
        assert not receiver.release.is_set()
        assert job_of(shop, "hooks.deliver")["status"] == "running"
        # let the endpoint answer: the delivery ends too, once
        receiver.release.set()
        wait_for(lambda: (lambda j: j if j["status"] == "done" else None)(
            job_of(shop, "hooks.deliver")), 15, interval=0.05, what="the delivery job")
        assert len(receiver.got) == 1
    finally:
        shop.close()
        admin.close()
