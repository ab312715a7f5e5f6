"""The job queue as seen from outside: retries with backoff, dead jobs and
their retry through the API, a crash with a pending job, a shop that never
answers, the webhook set-up job, and GET /v1/jobs.
"""

import signal
import time

import pytest

from aftersale_it import assert_problem, free_port
from woo_helpers import (ACTION_COMPLETED, TOPICS, FakeWoo, Linked,  # noqa: F401
                         answered, client, fake, fake_fail_nth_webhook_create, fake_order_answers,
                         linked, new_migrated_db, order_calls, service_env, wait_for,
                         wc_error_bare, woo_admin, woo_db, woo_svc)


def action(shop, order_id, **kw):
    r = shop.deliver(ACTION_COMPLETED, {"action": "woocommerce_order_status_completed",
                                        "arg": order_id}, **kw)
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    return r


def fetch_job(shop, order_id, timeout=10.0):
    return shop.find_job("woo.order_fetch", lambda j: j["payload"].get("order_id") == order_id,
                         timeout=timeout)


# --------------------------------------------------------------------------
# webhook set-up: retried until done, one webhook per topic


def test_webhook_setup_retries_after_500s_and_creates_each_webhook_once(linked):
    f = linked.fake
    f.fail_next(1, 500, path_prefix="/webhooks")  # attempt 1: GET /webhooks fails
    fake_fail_nth_webhook_create(f, 4)            # attempt 2: the 4th create fails
    r = linked.api.post("/v1/woocommerce/webhooks")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["kind"] == "woo.webhooks_setup" and body["status"] == "pending"
    assert r.headers["Location"] == f"/v1/jobs/{body['job_id']}"
    job = linked.wait_job(body["job_id"], ("done", "dead"))
    assert job["status"] == "done", job
    assert job["attempts"] == 3
    assert sorted(c["topic"] for c in job["result"]["created"]) == sorted(TOPICS[3:])
    assert sorted(job["result"]["existing"]) == sorted(TOPICS[:3])
    hooks = list(f.webhooks.values())
    assert sorted(h["topic"] for h in hooks) == sorted(TOPICS)  # exactly one per topic
    for h in hooks:
        assert h["delivery_url"] == linked.hook_url
        assert h["secret"] == linked.secret and h["status"] == "active"
    creates = f.calls(path_prefix="/webhooks", method="POST")
    assert len(answered(creates)) == 8 and len(creates) == 9
    # every create's ping reached the service and was answered 200 (while the job waited)
    assert len(f.pings) == 8
    assert all(p["status"] == 200 and p["url"] == linked.hook_url for p in f.pings), f.pings
    # the shop's deliveries are accepted: the secret is the shop's own
    statuses = f.fire("order.updated", f.add_order(status="completed")["id"])
    assert statuses and statuses[0][0] == 200
    # running it again creates nothing
    r = linked.api.post("/v1/woocommerce/webhooks", json={})
    job = linked.wait_job(r.json()["job_id"])
    assert job["result"]["created"] == [] and sorted(job["result"]["existing"]) == sorted(TOPICS)
    assert len(f.webhooks) == 8


def test_webhook_setup_without_public_url_is_409(linked, service_factory, pg, woo_svc):
    svc = service_factory.start(env={"DATABASE_URL": pg.url(woo_svc.db), "PUBLIC_URL": None,
                                     "WORKERS": "0"})
    api = client(svc.url, linked.api_key)
    assert_problem(api.post("/v1/woocommerce/webhooks"), 409, "conflict")
    api.close()
    assert linked.jobs(kind="woo.webhooks_setup") == []


def test_webhook_setup_rejects_unknown_fields(linked):
    assert_problem(linked.api.post("/v1/woocommerce/webhooks", json={"url": "x"}), 422,
                   "invalid-field", field="url")


# --------------------------------------------------------------------------
# dead jobs and their retry


def test_fetch_of_an_order_the_shop_does_not_have_goes_dead_then_retry_succeeds(linked):
    f = linked.fake
    missing = 4242
    action(linked, missing)
    job = linked.wait_job(fetch_job(linked, missing)["id"], ("dead",))
    assert job["attempts"] == 1  # a 404 cannot heal by itself: no retries
    assert "404" in job["last_error"] and "woocommerce_rest_shop_order_invalid_id" in job["last_error"]
    assert job["finished_at"] is not None
    st = linked.api.get("/v1/woocommerce/status").json()
    assert st["jobs"]["dead"] == 1 and "404" in st["jobs"]["last_error"]
    # the shop gets the order; the operator sends the job round again
    f.add_order(status="completed", id=missing)
    r = linked.api.post(f"/v1/jobs/{job['id']}/retry")
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["id"] == job["id"] and again["status"] == "pending" and again["attempts"] == 0
    assert again["finished_at"] is None
    done = linked.wait_job(job["id"])
    assert done["attempts"] == 1 and done["result"] == {"order_id": missing}
    assert len(linked.events(kind="order.completed", order_id=missing)) == 1
    assert len(answered(order_calls(f, missing))) == 1
    # a job that is not dead cannot be retried
    assert_problem(linked.api.post(f"/v1/jobs/{job['id']}/retry"), 409, "conflict")
    assert_problem(linked.api.post("/v1/jobs/987654321/retry"), 404, "not-found")
    assert_problem(linked.api.post("/v1/jobs/abc/retry"), 400, "malformed", field="id")


def test_retryable_failures_go_dead_after_max_attempts_then_retry_succeeds(linked):
    f = linked.fake
    o = f.add_order(status="completed")
    f.fail_next(8, 500, path_prefix=f"/orders/{o['id']}")
    action(linked, o["id"])
    job = linked.wait_job(fetch_job(linked, o["id"])["id"], ("dead",), timeout=20)
    assert job["attempts"] == job["max_attempts"] == 8
    assert job["last_error"].startswith("HTTP 500")
    calls = order_calls(f, o["id"])
    assert len(calls) == 8 and all(c["outcome"] == "failed" for c in calls)
    assert linked.events(kind="order.completed", order_id=o["id"]) == []
    # the fake is healthy again (its 8 failures are used up)
    r = linked.api.post(f"/v1/jobs/{job['id']}/retry", json={})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    done = linked.wait_job(job["id"])
    assert done["attempts"] == 1
    assert len(answered(order_calls(f, o["id"]))) == 1
    assert len(linked.events(kind="order.completed", order_id=o["id"])) == 1


def test_job_retried_twice_then_done_records_attempts(linked):
    f = linked.fake
    o = f.add_order(status="completed")
    f.fail_next(2, 500, path_prefix=f"/orders/{o['id']}")
    action(linked, o["id"])
    job = linked.wait_job(fetch_job(linked, o["id"])["id"])
    assert job["attempts"] == 3
    assert job["last_error"] is None or job["last_error"].startswith("HTTP 500")
    assert len(order_calls(f, o["id"])) == 3 and len(answered(order_calls(f, o["id"]))) == 1
    assert len(linked.events(kind="order.completed", order_id=o["id"])) == 1


def test_woocommerce_error_with_bare_number_data_reaches_last_error(linked):
    """WordPress answers HTTP 500 with "data":404 for some errors (refunds);
    the fake is made to answer GET /orders/{id} that way."""
    f = linked.fake
    oid = 5151
    fake_order_answers(f, oid, wc_error_bare("woocommerce_rest_invalid_order_id",
                                             "Invalid order ID.", 404))
    action(linked, oid)
    fid = fetch_job(linked, oid)["id"]
    job = wait_for(lambda: (lambda j: j if j["last_error"] else None)(linked.job(fid)),
                   what="the fetch job's first failure")
    assert job["status"] in ("pending", "running", "dead")  # HTTP 500: retryable
    err = job["last_error"]
    assert "HTTP 500" in err, err
    assert "woocommerce_rest_invalid_order_id" in err and "Invalid order ID." in err, err
    assert "404" in err, err
    assert f.consumer_secret not in err and "oauth_signature" not in err


# --------------------------------------------------------------------------
# crash and restart


def test_job_pending_at_sigkill_runs_exactly_once_after_restart(pg, base_env, service_factory,
                                                                 admin_token, fake):
    db = new_migrated_db(pg, base_env)
    port = free_port()
    first = service_factory.start(env=service_env(pg, db, port, WORKERS="0"), name="kill-1")
    admin = client(first.url, admin_token)
    shop = Linked(first, admin, fake)
    o = fake.add_order(status="completed")
    action(shop, o["id"])
    r = shop.api.post("/v1/woocommerce/sync")
    assert r.status_code == 202
    sync_id = r.json()["job_id"]
    pending = shop.jobs(status="pending")
    assert {j["kind"] for j in pending} >= {"woo.delivery", "woo.sync"}
    first.kill()  # SIGKILL
    assert first.returncode == -9
    assert fake.calls() == []

    second = service_factory.start(env=service_env(pg, db, free_port()), name="kill-2")
    api = client(second.url, shop.api_key)
    shop.api, shop.svc = api, second
    shop.wait_job(sync_id)
    shop.delivery_jobs_done()
    wait_for(lambda: shop.events(kind="order.completed", order_id=o["id"]),
             what="the order.completed event")
    time.sleep(0.3)  # nothing more may happen: give a second run the chance to show
    assert len(shop.events(kind="order.completed", order_id=o["id"])) == 1
    assert len(order_calls(fake, o["id"])) == 1
    assert len(fake.calls(path_prefix="/orders", method="GET")) == 2  # the fetch and one sync page
    jobs = shop.jobs()
    assert [j["kind"] for j in jobs if j["kind"] == "woo.delivery"] == ["woo.delivery"]
    assert all(j["attempts"] == 1 for j in jobs if j["status"] == "done")
    api.close()
    admin.close()


def test_job_running_at_sigkill_runs_again_after_its_lease(pg, base_env, service_factory,
                                                            admin_token, fake):
    db = new_migrated_db(pg, base_env)
    first = service_factory.start(env=service_env(pg, db, free_port(), WOO_TIMEOUT_MS="20000"),
                                  name="lease-1")
    admin = client(first.url, admin_token)
    shop = Linked(first, admin, fake)
    o = fake.add_order(status="completed")
    fake.timeout_seconds = 20
    fake.fail_next(1, "timeout", path_prefix=f"/orders/{o['id']}")
    action(shop, o["id"])
    fid = fetch_job(shop, o["id"])["id"]
    wait_for(lambda: order_calls(fake, o["id"]), what="the fetch to reach the shop")
    assert shop.job(fid)["status"] == "running"
    first.kill()
    second = service_factory.start(env=service_env(pg, db, free_port()), name="lease-2")
    shop.api, shop.svc = client(second.url, shop.api_key), second
    job = shop.wait_job(fid, timeout=15)  # JOB_LEASE_S=5
    assert job["attempts"] == 2
    assert len(answered(order_calls(fake, o["id"]))) == 1
    assert len(shop.events(kind="order.completed", order_id=o["id"])) == 1
    shop.api.close()
    admin.close()


# --------------------------------------------------------------------------
# a shop that never answers


@pytest.mark.parametrize("workers", ["2", "3"], ids=["default_workers", "three_workers"])
def test_shop_that_never_answers_does_not_hold_up_other_shops_or_http(
        pg, base_env, service_factory, admin_token, workers):
    """Shop A has three jobs whose calls hang (WOO_TIMEOUT_MS=1000); shop B's
    action fetch must still complete at once, and HTTP stays fast. WORKERS=2
    is the default: two threads that may call shops (plus one for database-only
    jobs), and one slow shop holds at most one of them."""
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port(), WOO_TIMEOUT_MS="1000",
                                                WORKERS=workers), name="deadshop" + workers)
    admin = client(svc.url, admin_token)
    dead = FakeWoo("ck_dead" + "0" * 33, "cs_dead" + "0" * 33).start()
    live = FakeWoo("ck_live" + "0" * 33, "cs_live" + "0" * 33).start()
    try:
        dead.timeout_seconds = 60
        dead.fail_next(10000, "timeout")
        a, b = Linked(svc, admin, dead), Linked(svc, admin, live)
        for i in range(3):
            action(a, 100 + i)
        wait_for(lambda: dead.calls(), what="shop A's first call to hang")
        t0 = time.monotonic()
        ob = live.add_order(status="completed")
        action(b, ob["id"])
        wait_for(lambda: b.events(kind="order.completed", order_id=ob["id"]), timeout=5,
                 what="shop B's event")
        waited = time.monotonic() - t0
        assert waited < 2.0, f"shop B waited {waited:.1f}s behind shop A's hanging calls"
        anon = client(svc.url)
        slowest = {}
        for _ in range(10):
            for path, c in (("/v1/shop", b.api), ("/v1/woocommerce/status", b.api),
                            ("/healthz", anon)):
                t = time.monotonic()
                assert c.get(path).status_code == 200
                slowest[path] = max(slowest.get(path, 0), time.monotonic() - t)
        anon.close()
        assert all(v < 0.5 for v in slowest.values()), slowest
        # shop A's jobs are still trying, with a timeout as their error
        def timed_out():
            jobs = a.jobs(kind="woo.order_fetch")
            return jobs if any(j["last_error"] and "timeout" in j["last_error"]
                               for j in jobs) else None
        jobs = wait_for(timed_out, timeout=5, what="a timeout in shop A's last_error")
        assert len(jobs) == 3 and all(j["status"] in ("pending", "running") for j in jobs)
        # one of shop A's calls at a time: each starts after the previous timed out
        calls = dead.calls()
        assert all(c["outcome"] == "timeout" for c in calls)
        starts = [c["time"] for c in calls]
        assert all(b2 - a2 >= 0.9 for a2, b2 in zip(starts, starts[1:])), starts
    finally:
        dead.stop()
        live.stop()
        admin.close()


def test_a_claim_racing_an_uncommitted_claim_of_the_same_shop_takes_nothing(
        pg, base_env, service_factory, admin_token):
    """The outbound claim checked "no running job of this shop" against its
    snapshot only: a claim that was not yet committed elsewhere (another
    worker or instance) was invisible, and a second job of the same shop
    was claimed beside it. Here the other claim is ours, held open in a
    transaction; the service must not call the shop for the second job
    until ours is gone. The database holds the rule now (a unique index on
    a shop's running job), so the service's claim waits and then takes
    nothing."""
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port(), WORKERS="2"),
                                name="claimrace")
    admin = client(svc.url, admin_token)
    shop = FakeWoo("ck_race" + "0" * 33, "cs_race" + "0" * 33).start()
    conn = pg.connect(db)
    try:
        a = Linked(svc, admin, shop)
        sid = str(a.id)
        wait_for(lambda: not pg.query(db, "SELECT 1 FROM jobs WHERE shop_id = %s AND"
                                          " status = 'running'", (sid,)),
                 timeout=10, what="the first sync to finish")
        pg.query(db, "INSERT INTO jobs (shop_id, kind, payload, run_at) VALUES"
                     " (%s, 'woo.order_fetch', '{\"order_id\": 901}', now() + interval '1 hour'),"
                     " (%s, 'woo.order_fetch', '{\"order_id\": 902}', now() + interval '1 hour')",
                 (sid, sid))
        (first,), (second,) = pg.query(db, "SELECT id FROM jobs WHERE shop_id = %s AND kind ="
                                           " 'woo.order_fetch' ORDER BY id", (sid,))
        conn.autocommit = False
        with conn.cursor() as cur:      # our claim of the first job, not committed
            cur.execute("UPDATE jobs SET status = 'running', attempts = 1,"
                        " lease_until = now() + interval '1 hour' WHERE id = %s", (first,))
        pg.query(db, "UPDATE jobs SET run_at = now() WHERE id = %s", (second,))
        time.sleep(2.0)                 # many polls of the service's workers
        assert [c["path"] for c in shop.calls() if "/orders/90" in c["path"]] == []
        conn.commit()
        time.sleep(1.0)
        rows = pg.query(db, "SELECT id, status FROM jobs WHERE shop_id = %s AND kind ="
                            " 'woo.order_fetch' ORDER BY id", (sid,))
        assert rows == [(first, "running"), (second, "pending")], rows
        # our job goes away: the second one runs now
        pg.query(db, "UPDATE jobs SET status = 'done', lease_until = NULL WHERE id = %s",
                 (first,))
        wait_for(lambda: [c for c in shop.calls() if c["path"].endswith("/orders/902")],
                 timeout=10, what="the second job's call once the first is done")
    finally:
        conn.rollback()
        conn.close()
        shop.stop()
        admin.close()


# --------------------------------------------------------------------------
# GET /v1/jobs


def test_jobs_list_filters_and_paging(linked):
    f = linked.fake
    for _ in range(3):
        linked.deliver_order(f.add_order(status="processing")["id"])
    linked.delivery_jobs_done()
    every = linked.jobs()
    kinds = [j["kind"] for j in every]
    assert kinds.count("woo.delivery") == 3 and kinds.count("woo.sync") == 1  # + periodic sync
    periodic = [j for j in every if j["kind"] == "woo.sync"][0]
    assert periodic["dedupe_key"] == "periodic" and periodic["status"] == "pending"
    assert [j["id"] for j in every] == sorted(j["id"] for j in every)
    assert {j["status"] for j in linked.jobs(kind="woo.delivery")} == {"done"}
    # each order also asks the shop for its products' categories (an outbound
    # job of its own, woo.product_categories): wait for those to finish too
    wait_for(lambda: all(j["status"] == "done"
                         for j in linked.jobs(kind="woo.product_categories")),
             10, what="the category fetches")
    # the two periodic jobs every shop has: reconciliation and the loyalty daily run
    assert sorted(j["kind"] for j in linked.jobs(status="pending")) == ["loyalty.daily", "woo.sync"]
    assert len(linked.jobs(status="done", kind="woo.delivery")) == 3
    assert linked.jobs(status="dead") == [] and linked.jobs(kind="nope") == []
    r = linked.api.get("/v1/jobs", params={"limit": 2})
    assert len(r.json()["items"]) == 2 and r.json()["next_cursor"]
    r2 = linked.api.get("/v1/jobs", params={"limit": 2, "cursor": r.json()["next_cursor"]})
    assert [j["id"] for j in r.json()["items"] + r2.json()["items"]] == [j["id"] for j in every][:4]
    one = every[1]
    got = linked.api.get(f"/v1/jobs/{one['id']}")
    assert got.status_code == 200 and got.json()["id"] == one["id"]
    for bad in ("failed", "", "DONE"):
        assert_problem(linked.api.get("/v1/jobs", params={"status": bad}), 400, "malformed",
                       field="status")
    for bad in ("", "k" * 65):
        assert_problem(linked.api.get("/v1/jobs", params={"kind": bad}), 400, "malformed",
                       field="kind")
    assert_problem(linked.api.get("/v1/jobs", params={"limit": 101}), 400, "malformed",
                   field="limit")
    assert_problem(linked.api.post(f"/v1/jobs/{one['id']}/retry", json={"force": True}), 422,
                   "invalid-field", field="force")
    assert_problem(linked.api.get("/v1/jobs/0"), 400, "malformed", field="id")
    assert_problem(linked.api.get("/v1/jobs/987654321"), 404, "not-found")


def test_jobs_of_another_shop_are_invisible(linked, woo_svc, woo_admin):
    other = Linked(woo_svc, woo_admin, linked.fake)
    mine = linked.jobs()
    assert mine
    assert_problem(other.api.get(f"/v1/jobs/{mine[0]['id']}"), 404, "not-found")
    assert_problem(other.api.post(f"/v1/jobs/{mine[0]['id']}/retry"), 404, "not-found")
    assert {j["id"] for j in other.jobs()}.isdisjoint({j["id"] for j in mine})
    other.close()



def test_sigterm_during_a_hanging_shop_call_stops_within_the_grace(pg, base_env,
                                                                   service_factory, admin_token,
                                                                   fake):
    """SIGTERM must not wait out WOO_TIMEOUT_MS (20 s by default) of a call to a
    shop that does not answer: past SHUTDOWN_GRACE_S an orchestrator sends
    SIGKILL, and the job would then sit 'running' until its lease (JOB_LEASE_S) ends."""
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port(), WOO_TIMEOUT_MS="20000",
                                                SHUTDOWN_GRACE_S="2"), name="term")
    admin = client(svc.url, admin_token)
    shop = Linked(svc, admin, fake)
    fake.timeout_seconds = 60
    fake.fail_next(1, "timeout", path_prefix="/orders")
    action(shop, 777)
    fid = fetch_job(shop, 777)["id"]
    wait_for(lambda: order_calls(fake, 777), what="the call to hang")
    t0 = time.monotonic()
    svc.terminate()
    rc = svc.wait_exit(6)
    took = time.monotonic() - t0
    if rc is None:
        svc.kill()
    admin.close()
    assert rc == 0 and took < 4.0, f"exit {rc} {took:.1f}s after SIGTERM (grace 2 s)"
    status = pg.query(db, "SELECT status FROM jobs WHERE id = %s", (fid,))[0][0]
    assert status == "pending", "the interrupted job must be released, not left running"


def test_lease_is_renewed_while_a_slow_call_runs(pg, base_env, service_factory, admin_token,
                                                 fake):
    """A call that takes longer than JOB_LEASE_S (5 s) is not taken over by
    another process while its own process is alive: the lease is renewed
    (every JOB_LEASE_S/4), so the shop is called once at a time."""
    db = new_migrated_db(pg, base_env)
    first = service_factory.start(env=service_env(pg, db, free_port(), WOO_TIMEOUT_MS="12000"),
                                  name="renew-1")
    admin = client(first.url, admin_token)
    shop = Linked(first, admin, fake)
    other = service_factory.start(env=service_env(pg, db, free_port(), WOO_TIMEOUT_MS="12000"),
                                  name="renew-2")  # either may claim the job
    o = fake.add_order(status="completed")
    fake.timeout_seconds = 8  # then the fake drops the connection: attempt 1 fails
    fake.fail_next(1, "timeout", path_prefix=f"/orders/{o['id']}")
    action(shop, o["id"])
    fid = fetch_job(shop, o["id"])["id"]
    job = shop.wait_job(fid, timeout=20)
    assert job["attempts"] == 2
    calls = order_calls(fake, o["id"])
    assert len(calls) == 2 and calls[0]["outcome"] == "timeout", calls
    # attempt 2 started only after attempt 1 gave up (~8 s), not when 5 s had passed
    assert calls[1]["time"] - calls[0]["time"] >= 7.5, calls
    assert len(shop.events(kind="order.completed", order_id=o["id"])) == 1
    assert not [r for r in first.log_records() + other.log_records()
                if r.get("msg", "").startswith("job outcome dropped")]
    shop.close()
    admin.close()


def test_job_outliving_its_lease_runs_again_and_the_late_outcome_is_fenced(
        pg, base_env, service_factory, admin_token, fake):
    """Attempt 1's process freezes (SIGSTOP) in the middle of its call, so
    its lease (JOB_LEASE_S=5) is no longer renewed and lapses; a second
    process takes the job over and finishes it; when the first wakes up,
    attempt 1's late failure must not overwrite that."""
    db = new_migrated_db(pg, base_env)
    first = service_factory.start(env=service_env(pg, db, free_port(), WOO_TIMEOUT_MS="8000"),
                                  name="fence-1")
    admin = client(first.url, admin_token)
    shop = Linked(first, admin, fake)
    o = fake.add_order(status="completed")
    fake.timeout_seconds = 6.5  # then the fake drops the connection: attempt 1 fails late
    fake.fail_next(1, "timeout", path_prefix=f"/orders/{o['id']}")
    action(shop, o["id"])
    fid = fetch_job(shop, o["id"])["id"]
    wait_for(lambda: order_calls(fake, o["id"]), what="attempt 1's call")
    first.proc.send_signal(signal.SIGSTOP)
    try:
        second = service_factory.start(env=service_env(pg, db, free_port()), name="fence-2")
        shop.api = client(second.url, shop.api_key)
        job = shop.wait_job(fid, timeout=15)
        assert job["attempts"] == 2
        assert len(order_calls(fake, o["id"])) == 2
    finally:
        first.proc.send_signal(signal.SIGCONT)
    # attempt 1 gives up (the fake dropped it) and reports its failure: dropped
    wait_for(lambda: [r for r in first.log_records() if r.get("job_id") == fid
                      and r.get("attempt") == 1], timeout=10, what="attempt 1's late outcome")
    late = [r for r in first.log_records() if r.get("job_id") == fid]
    assert [r["msg"] for r in late] == [
        "job outcome dropped: its lease ran out and another attempt owns it"], late
    job = shop.job(fid)
    assert (job["status"], job["attempts"], job["last_error"]) == ("done", 2, None), job
    assert job["result"] == {"order_id": o["id"]}
    assert len(shop.events(kind="order.completed", order_id=o["id"])) == 1
    shop.close()
    admin.close()
