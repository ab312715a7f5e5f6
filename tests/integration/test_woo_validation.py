"""Values from WooCommerce that look right but cannot be stored, and a job
whose database work fails inside a batch.

A signed delivery with date_modified_gmt 2026-02-30T10:00:00, year 0000,
month 13 or a line quantity of 3,000,000,000 passes every shape check;
PostgreSQL refuses it. Each must be recorded as a failed delivery whose
note names the field, in one attempt, and must not disturb the valid
deliveries processed in the same batch. And a job whose database work
fails inside a batch rolls back to its own savepoint: its failure and the
other jobs' completion are recorded in the same transaction.

To put many jobs in one batch, the deliveries are received by a service
without workers (WORKERS=0) and then processed by a second service with
workers, which claims them all at once.
"""

import pytest

from aftersale_it import free_port
from woo_helpers import (Linked, client, fake, new_migrated_db, order_row,  # noqa: F401
                         service_env, wait_for)


@pytest.fixture
def linked_like(pg, base_env, service_factory, admin_token, fake):
    """A shop linked to the fake on a service of its own: (Linked, pg, db)."""
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port()), name="valid-hdr")
    admin = client(svc.url, admin_token)
    shop = Linked(svc, admin, fake)
    yield shop, pg, db
    shop.close()
    admin.close()


def bad_orders(f):
    """(field the note must name, order body) for each impossible value."""
    cases = []

    def case(field, **change):
        body = f.webhook_payload("order.updated", f.add_order(status="completed")["id"])
        for k, v in change.items():
            if k == "quantity":
                body["line_items"][0]["quantity"] = v
            elif k == "refund_total":
                body["refunds"] = [{"id": 77, "reason": "", "total": v}]
            else:
                body[k] = v
        cases.append((field, body))

    case("date_modified_gmt", date_modified_gmt="2026-02-30T10:00:00")
    case("date_modified_gmt", date_modified_gmt="0000-06-01T10:00:00")
    case("date_modified_gmt", date_modified_gmt="2026-13-01T10:00:00")
    case("date_created_gmt", date_created_gmt="2025-02-29T10:00:00")
    case("date_completed_gmt", date_completed_gmt="2026-04-31T10:00:00")
    case("line_items[0].quantity", quantity=3000000000)
    case("line_items[0].quantity", quantity=-2)
    case("refunds[0].total", refund_total="-1e3")
    case("currency", currency="eu")
    case("customer_id", customer_id=-4)
    return cases


def test_impossible_values_fail_their_delivery_once_naming_the_field(
        pg, base_env, service_factory, admin_token, fake):
    db = new_migrated_db(pg, base_env)
    receiver = service_factory.start(env=service_env(pg, db, free_port(), WORKERS="0"),
                                     name="valid-recv")
    admin = client(receiver.url, admin_token)
    shop = Linked(receiver, admin, fake)
    f = fake
    sent = []  # (expected field or None, order id, delivery id)
    good = [f.add_order(status="completed") for _ in range(3)]
    r = shop.deliver_order(good[0]["id"])
    sent.append((None, good[0]["id"], r.json()["id"]))
    for field, body in bad_orders(f):
        r = shop.deliver("order.updated", body)
        assert r.status_code == 200 and r.json()["status"] == "received", r.text
        sent.append((field, body["id"], r.json()["id"]))
        if len(sent) == 5:
            r = shop.deliver_order(good[1]["id"])
            sent.append((None, good[1]["id"], r.json()["id"]))
    r = shop.deliver("customer.updated", {"id": 91, "email": "c@example.com",
                                          "date_created_gmt": "2023-02-29T00:00:00",
                                          "date_modified_gmt": "2023-03-01T00:00:00"})
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    bad_customer = r.json()["id"]
    r = shop.deliver_order(good[2]["id"])
    sent.append((None, good[2]["id"], r.json()["id"]))
    assert len({d for _, _, d in sent}) == len(sent)

    # one service with workers takes them all in one batch
    worker = service_factory.start(env=service_env(pg, db, free_port()), name="valid-work")
    shop.api, shop.svc = client(worker.url, shop.api_key), worker
    shop.delivery_jobs_done(timeout=20)

    jobs = {j["payload"]["delivery"]: j for j in shop.jobs(kind="woo.delivery")}
    rows = dict((d, (st, note)) for d, st, note in pg.query(
        db, "SELECT id, status, note FROM webhook_deliveries WHERE shop_id = %s", (shop.id,)))
    for field, order_id, delivery in sent:
        job = jobs[delivery]
        assert job["status"] == "done" and job["attempts"] == 1, job  # never retried
        status, note = rows[delivery]
        if field is None:
            assert status == "processed", (order_id, status, note)
            assert order_row(pg, db, shop.id, order_id)[0] == "completed"
            assert len(shop.events(kind="order.completed", order_id=order_id)) == 1
        else:
            assert status == "failed", (field, status, note)
            assert note.startswith(field + " "), (field, note)
            assert job["result"] == {"status": "failed", "outcome": note}, job
            assert order_row(pg, db, shop.id, order_id) is None, field
            assert shop.events(order_id=order_id) == []
    status, note = rows[bad_customer]
    assert status == "failed" and note.startswith("date_created_gmt "), note
    assert jobs[bad_customer]["attempts"] == 1
    assert pg.query(db, "SELECT count(*) FROM customers WHERE shop_id = %s", (shop.id,))[0][0] == 0
    # nothing was refused by PostgreSQL: no job failed, none was retried
    assert [r for r in worker.log_records() if r.get("msg", "").startswith("job ")
            and r.get("level") in ("warn", "error")] == []
    shop.api.close()
    admin.close()


def test_a_job_whose_database_work_fails_rolls_back_only_itself(pg, base_env, service_factory,
                                                                admin_token, fake):
    """JOB_TEST_KINDS=1: test.db_work inserts an event, then (payload fail)
    runs SELECT 1 / 0. Eleven such jobs, the sixth failing, are committed at
    once and claimed as one batch."""
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port(), JOB_TEST_KINDS="1"),
                                name="savepoint")
    admin = client(svc.url, admin_token)
    shop = Linked(svc, admin, fake)
    conn = pg.connect(db)
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("INSERT INTO jobs (shop_id, kind, payload, max_attempts)"
                    " SELECT %s, 'test.db_work', jsonb_build_object('fail', i = 6), 1"
                    " FROM generate_series(1, 11) i RETURNING id, payload", (shop.id,))
        made = cur.fetchall()
    conn.commit()
    conn.close()
    failing = [i for i, p in made if p["fail"]]
    assert len(failing) == 1
    failing = failing[0]

    def finished():
        rows = pg.query(db, "SELECT id, status, attempts, last_error, finished_at, updated_at"
                        " FROM jobs WHERE kind = 'test.db_work' ORDER BY id")
        return rows if all(r[1] in ("done", "dead") for r in rows) else None
    rows = wait_for(finished, timeout=15, what="the test jobs to finish")
    by_id = {r[0]: r for r in rows}
    dead = by_id.pop(failing)
    assert dead[1] == "dead" and dead[2] == 1 and "division by zero" in dead[3], dead
    assert all(r[1] == "done" and r[2] == 1 and r[3] is None for r in by_id.values()), rows
    # each claim records its whole batch in one transaction (now() is the
    # same for all of its jobs); two workers may split the eleven between
    # two claims (SKIP LOCKED), but the failing one was recorded inside a
    # batch, not rolled back with it nor split into single-job transactions
    stamps = {r[4] for r in rows}
    assert len(stamps) <= 2 and dead[5] in stamps, (sorted(stamps), dead[5])
    # the failing job's own write was rolled back, the others' were kept
    keys = {k for (k,) in pg.query(db, "SELECT dedupe_key FROM events WHERE kind = 'test.db_work'")}
    assert keys == {f"test.db_work:{i}" for i in by_id}
    recs = [r for r in svc.log_records() if r.get("job_id") == failing]
    assert [r["msg"] for r in recs] == ["job dead"], recs
    assert not [r for r in svc.log_records() if r.get("msg") in ("job batch failed",
                                                                 "job retry not recorded")]
    admin.close()
    shop.close()


def test_a_retried_job_fails_again_under_its_own_savepoint(pg, base_env, service_factory,
                                                           admin_token, fake):
    """A job that failed before runs under a savepoint at once (attempt > 1):
    it fails its three attempts, each recorded, and the jobs committed with
    it are done once each."""
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port(), JOB_TEST_KINDS="1"),
                                name="savepoint-retry")
    admin = client(svc.url, admin_token)
    shop = Linked(svc, admin, fake)
    conn = pg.connect(db)
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("INSERT INTO jobs (shop_id, kind, payload, max_attempts)"
                    " SELECT %s, 'test.db_work', jsonb_build_object('fail', i = 1), 3"
                    " FROM generate_series(1, 6) i RETURNING id, payload", (shop.id,))
        made = cur.fetchall()
    conn.commit()
    conn.close()
    failing = next(i for i, p in made if p["fail"])

    def finished():
        rows = pg.query(db, "SELECT id, status, attempts, last_error FROM jobs"
                        " WHERE kind = 'test.db_work' ORDER BY id")
        return rows if all(r[1] in ("done", "dead") for r in rows) else None
    rows = {r[0]: r for r in wait_for(finished, timeout=15, what="the test jobs to finish")}
    assert rows.pop(failing)[1:3] == ("dead", 3)
    assert all(r[1:] == ("done", 1, None) for r in rows.values()), rows
    keys = [k for (k,) in pg.query(db, "SELECT dedupe_key FROM events WHERE kind = 'test.db_work'")]
    assert sorted(keys) == sorted(f"test.db_work:{i}" for i in rows)
    msgs = [r["msg"] for r in svc.log_records() if r.get("job_id") == failing]
    assert msgs == ["job failed, will retry", "job failed, will retry", "job dead"], msgs
    assert not [r for r in svc.log_records() if r.get("msg") in ("job batch failed",
                                                                 "job retry not recorded")]
    admin.close()
    shop.close()


def test_an_impossible_value_in_a_fetched_order_fails_its_fetch_once_naming_the_field(
        pg, base_env, service_factory, admin_token, fake):
    """The action topic makes aftersale GET the order; the shop answers one
    with line quantity 3,000,000,000: the fetch job is dead after one
    attempt, its last_error naming the field, and nothing is stored."""
    from woo_helpers import _Resp, fake_order_answers
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port()), name="valid-fetch")
    admin = client(svc.url, admin_token)
    shop = Linked(svc, admin, fake)
    o = fake.add_order(status="completed")
    bad = fake.webhook_payload("order.updated", o["id"])
    bad["line_items"][0]["quantity"] = 3000000000
    fake_order_answers(fake, o["id"], _Resp(200, bad))
    r = shop.deliver("action.woocommerce_order_status_completed",
                     {"action": "woocommerce_order_status_completed", "arg": o["id"]})
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    job = shop.find_job("woo.order_fetch", timeout=10)
    job = shop.wait_job(job["id"], ("dead",), timeout=10)
    assert job["attempts"] == 1, job
    assert "line_items[0].quantity" in job["last_error"], job
    assert order_row(pg, db, shop.id, o["id"]) is None
    assert shop.events(order_id=o["id"]) == []
    admin.close()
    shop.close()


def test_a_value_the_database_refuses_fails_its_delivery_once(pg, base_env, service_factory,
                                                              admin_token, fake):
    """Defence in depth behind the validators: this test's own database gets
    a CHECK the validators know nothing of (quantity < 1000); a delivery that
    trips it is rolled back alone (a savepoint around the apply) and recorded
    as failed with PostgreSQL's reason, in one attempt, and a valid delivery
    in the same batch is processed."""
    db = new_migrated_db(pg, base_env)
    pg.query(db, "ALTER TABLE order_items ADD CONSTRAINT test_quantity CHECK (quantity < 1000)")
    receiver = service_factory.start(env=service_env(pg, db, free_port(), WORKERS="0"),
                                     name="check-recv")
    admin = client(receiver.url, admin_token)
    shop = Linked(receiver, admin, fake)
    good = fake.add_order(status="completed")
    bad = fake.webhook_payload("order.updated", fake.add_order(status="completed")["id"])
    bad["line_items"][0]["quantity"] = 5000
    d_bad = shop.deliver("order.updated", bad).json()["id"]
    d_good = shop.deliver_order(good["id"]).json()["id"]
    worker = service_factory.start(env=service_env(pg, db, free_port()), name="check-work")
    shop.api, shop.svc = client(worker.url, shop.api_key), worker
    shop.delivery_jobs_done(timeout=20)
    rows = dict((d, (st, note)) for d, st, note in pg.query(
        db, "SELECT id, status, note FROM webhook_deliveries WHERE shop_id = %s", (shop.id,)))
    assert rows[d_bad][0] == "failed" and "test_quantity" in rows[d_bad][1], rows[d_bad]
    assert rows[d_good][0] == "processed", rows[d_good]
    jobs = {j["payload"]["delivery"]: j for j in shop.jobs(kind="woo.delivery")}
    assert jobs[d_bad]["status"] == "done" and jobs[d_bad]["attempts"] == 1, jobs[d_bad]
    assert order_row(pg, db, shop.id, bad["id"]) is None  # the order upsert went back too
    assert shop.events(order_id=bad["id"]) == []
    assert len(shop.events(kind="order.completed", order_id=good["id"])) == 1
    shop.api.close()
    admin.close()


def test_header_bytes_that_are_not_text_do_not_lose_the_delivery(linked_like):
    """X-WC-Webhook-Topic and X-WC-Webhook-Delivery-ID arrive as raw bytes;
    bytes that are not UTF-8 used to fail the INSERT (the shop got an error
    and the delivery was lost). The topic becomes "unknown" (ignored) and a
    delivery id that is not text is not kept; the delivery is stored."""
    shop, pg, db = linked_like
    o = shop.fake.add_order(status="completed")
    body = shop.fake.webhook_payload("order.updated", o["id"])
    r = shop.deliver("order.updat\xe9", body)  # sent as Latin-1: byte 0xE9
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ignored" and r.json()["duplicate"] is False
    r = shop.deliver("order.updated", body, delivery_id="abc\xff\x01")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"
    rows = pg.query(db, "SELECT topic, delivery_id FROM webhook_deliveries WHERE shop_id = %s"
                    " ORDER BY id", (shop.id,))
    assert [t for t, _ in rows] == ["unknown", "order.updated"], rows
    assert rows[1][1] is None, rows  # the id that was not text
    shop.delivery_jobs_done()
    assert len(shop.events(kind="order.completed", order_id=o["id"])) == 1
