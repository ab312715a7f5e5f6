"""The job workers when things break: PostgreSQL goes away for a while, and
a process is killed (-9) in the middle of a shop's outbound call.

This module stops and restarts its test cluster (PgCluster.stop/start), so
it runs its own services only, each on its own database.
"""

import os
import time

from aftersale_it import free_port
from woo_helpers import (ACTION_COMPLETED, Linked, answered, client, fake,  # noqa: F401
                         new_migrated_db, order_calls, service_env, wait_for)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (/proc/<pid>/stat fields 14, 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def log_lines(svc):
    return svc.stdout().splitlines()


def action(shop, order_id):
    r = shop.deliver(ACTION_COMPLETED, {"action": "woocommerce_order_status_completed",
                                        "arg": order_id})
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    return r


def test_workers_back_off_quietly_while_the_database_is_down(pg, base_env, service_factory,
                                                             admin_token, fake):
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port(), WORKERS="2"),
                                name="outage")
    admin = client(svc.url, admin_token)
    shop = Linked(svc, admin, fake)
    before = fake.add_order(status="completed")
    shop.deliver_order(before["id"])
    wait_for(lambda: shop.events(kind="order.completed", order_id=before["id"]),
             what="an event before the outage")
    time.sleep(0.5)  # idle workers
    lines0 = len(log_lines(svc))
    cpu0 = cpu_seconds(svc.proc.pid)
    t0 = time.monotonic()
    pg.stop()
    try:
        time.sleep(5)
    finally:
        pg.start()
    outage = time.monotonic() - t0
    cpu = cpu_seconds(svc.proc.pid) - cpu0
    during = log_lines(svc)[lines0:]
    seen = f"{cpu:.2f} CPU-seconds and {len(during)} log lines over a {outage:.1f} s outage"
    print(seen)
    assert cpu < 0.25, seen
    assert len(during) <= 5, seen + ":\n" + "\n".join(during[:5])
    # jobs run again once the database is back (within the 5 s backoff cap)
    after = fake.add_order(status="completed")
    t1 = time.monotonic()
    wait_for(lambda: _deliver_when_up(shop, after["id"]), timeout=15,
             what="the service to accept a delivery again")
    # (read from the database: the first request on each pooled connection
    # that went stale in the outage may still answer 503, see db/pool.c)
    wait_for(lambda: pg.query(db, "SELECT 1 FROM events WHERE shop_id = %s AND order_id = %s"
                              " AND kind = 'order.completed'", (shop.id, after["id"])),
             timeout=10, what="an event after the outage")
    assert time.monotonic() - t1 < 10
    msgs = [r["msg"] for r in svc.log_records()]
    assert msgs.count("database unavailable, workers backing off") == 1, msgs[-20:]
    assert msgs.count("database available again, workers resume") == 1, msgs[-20:]
    assert "job retry not recorded" not in msgs and "job batch failed" not in msgs
    shop.close()
    admin.close()


def _deliver_when_up(shop, order_id):
    r = shop.deliver_order(order_id)
    return r.status_code == 200


def test_outbound_work_of_a_shop_resumes_within_30s_after_kill_9(pg, base_env, service_factory,
                                                                admin_token, fake):
    """With the default JOB_LEASE_S: a shop's order fetch hangs in a slow call
    when the process is killed; a new process on the same database must run
    the shop's next due outbound job (another fetch) within 30 s."""
    db = new_migrated_db(pg, base_env)
    env = service_env(pg, db, free_port(), WOO_TIMEOUT_MS="60000")
    env.pop("JOB_LEASE_S")  # the default is what is proven here
    first = service_factory.start(env=env, name="kill9-1")
    admin = client(first.url, admin_token)
    shop = Linked(first, admin, fake)
    stuck = fake.add_order(status="completed")
    fake.timeout_seconds = 90
    fake.fail_next(1, "timeout", path_prefix=f"/orders/{stuck['id']}")
    action(shop, stuck["id"])
    wait_for(lambda: order_calls(fake, stuck["id"]), what="the fetch to hang in the shop")
    # the lease is renewed while the call hangs
    time.sleep(1)
    first.kill()
    t_kill = time.monotonic()
    second_env = dict(env, PORT=str(free_port()))
    second_env["PUBLIC_URL"] = f"http://127.0.0.1:{second_env['PORT']}"
    second = service_factory.start(env=second_env, name="kill9-2")
    shop.api, shop.svc = client(second.url, shop.api_key), second
    nxt = fake.add_order(status="completed")
    action(shop, nxt["id"])
    wait_for(lambda: shop.events(kind="order.completed", order_id=nxt["id"]), timeout=40,
             what="the shop's next fetch after the restart")
    took = time.monotonic() - t_kill
    assert took < 30, f"the shop's outbound work resumed {took:.1f} s after kill -9"
    # the interrupted fetch ran again too, exactly once more, and its event exists once
    wait_for(lambda: shop.events(kind="order.completed", order_id=stuck["id"]), timeout=10,
             what="the interrupted fetch to run again")
    assert len(answered(order_calls(fake, stuck["id"]))) == 1
    assert len(shop.events(kind="order.completed", order_id=stuck["id"])) == 1
    shop.api.close()
    admin.close()
