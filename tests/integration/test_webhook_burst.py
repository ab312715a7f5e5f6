"""A burst of webhook deliveries: every one answered 2xx, every one stored once.

WooCommerce never retries a failed delivery (woocommerce-api.md §4.6): a 503
from the receive route loses that delivery until the next reconciliation. So
under a burst the receive route must not answer 503 for contention: not for
a lock held by job processing, not for a duplicate id being inserted at the
same moment, not for the pool.

The burst: BURST_DELIVERIES (200) deliveries, BURST_CONCURRENCY (32) at a
time, each on its own HTTP/1.0 connection like WC_Webhook::deliver(), for a
few orders only (many distinct snapshots of each, plus the action topic),
with most deliveries being exact replays (same body, same delivery id) of
another one. Job processing of the first deliveries runs while the burst is
still arriving, so the receive route and the workers touch the same orders.

Asserted: every answer is 2xx; every distinct body is stored exactly once
and processed by exactly one woo.delivery job; replays are answered as
duplicates. No timing assertion: the answer times and the causes of any
non-2xx answer (the service's "request failed" log lines) are printed as the
measurement (docs/reliability.md, "Webhook bursts").
"""

import os
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from woo_helpers import (ACTION_COMPLETED, delivery_headers, fake, linked, php_json,  # noqa: F401
                         raw_post, wait_for, woo_admin, woo_db, woo_svc)

DELIVERIES = int(os.environ.get("BURST_DELIVERIES") or 200)
CONCURRENCY = int(os.environ.get("BURST_CONCURRENCY") or 32)
ORDERS = 4
SNAPSHOTS = 8  # distinct order.updated bodies per order


def _percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def _build_burst(linked, rng):
    """[(topic, body bytes, delivery id)]: distinct deliveries first in the
    list's multiset, then replays of them, all shuffled together."""
    fake = linked.fake
    distinct = []
    for n in range(ORDERS):
        oid = fake.add_order(status="processing", email=f"burst{n}@example.com")["id"]
        for k in range(SNAPSHOTS):
            fake.update_order(oid, customer_note=f"snapshot {k}")
            body = php_json(fake.webhook_payload("order.updated", oid)).strip().encode()
            distinct.append(("order.updated", body, secrets.token_hex(16)))
        fake.complete_order(oid)
        body = php_json(fake.webhook_payload(ACTION_COMPLETED, oid)).strip().encode()
        distinct.append((ACTION_COMPLETED, body, secrets.token_hex(16)))
    assert len({b for _, b, _ in distinct}) == len(distinct)  # really distinct
    sends = list(distinct)
    while len(sends) < DELIVERIES:
        sends.append(rng.choice(distinct))  # a replay: same body, same delivery id
    rng.shuffle(sends)
    return distinct, sends


def _failure_log_lines(svc):
    recs = [r for r in svc.log_records() if r.get("msg") == "request failed"]
    return [f"{r.get('kind')} {r.get('sqlstate')} {r.get('detail')}" for r in recs]


def test_burst_every_delivery_answered_2xx_and_stored_once(linked, woo_svc, pg):
    seed = int(os.environ.get("BURST_SEED") or random.SystemRandom().randrange(2 ** 32))
    print(f"BURST_SEED={seed} BURST_DELIVERIES={DELIVERIES} BURST_CONCURRENCY={CONCURRENCY}")
    rng = random.Random(seed)
    distinct, sends = _build_burst(linked, rng)
    failed_before = len(_failure_log_lines(woo_svc))
    start = threading.Barrier(min(CONCURRENCY, len(sends)))

    def send(item):
        topic, body, delivery_id = item
        if threading.get_ident() not in started:
            started.add(threading.get_ident())
            start.wait(timeout=30)  # all threads fire together: a burst, not a trickle
        headers = delivery_headers(topic, body, linked.secret, delivery_id=delivery_id)
        t0 = time.monotonic()
        r = raw_post(linked.svc.port, linked.hook_path, body, headers, timeout=60)
        return item, r, time.monotonic() - t0

    started = set()
    with ThreadPoolExecutor(CONCURRENCY) as ex:
        results = list(ex.map(send, sends))

    statuses = [r.status_code for _, r, _ in results]
    times = [t for _, _, t in results]
    non2xx = [(r.status_code, r.text[:200]) for _, r, _ in results if not 200 <= r.status_code < 300]
    causes = _failure_log_lines(woo_svc)[failed_before:]
    print(f"answers: {len(results)}, non-2xx: {len(non2xx)}, "
          f"statuses: { {s: statuses.count(s) for s in set(statuses)} }, "
          f"p50 {_percentile(times, 50) * 1000:.0f} ms, p99 {_percentile(times, 99) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    for c in sorted(set(causes)):
        print(f"  cause x{causes.count(c)}: {c}")
    assert not non2xx, (f"{len(non2xx)} of {len(results)} deliveries not answered 2xx "
                        f"(WooCommerce never resends them): {non2xx[:5]}; causes: {causes[:5]}")

    # Each distinct body stored once; the first answer for it says so, every
    # other one is a duplicate of that same row.
    ids_by_body = {}
    for (topic, body, _), r, _ in results:
        j = r.json()
        assert j["status"] == "received", j
        if not j["duplicate"]:
            assert body not in ids_by_body, "a body was stored twice"
            ids_by_body[body] = j["id"]
    assert set(ids_by_body) == {b for _, b, _ in distinct}
    assert sum(1 for _, r, _ in results if r.json()["duplicate"]) == len(sends) - len(distinct)

    rows = pg.query(woo_svc.db, "SELECT id, body FROM webhook_deliveries WHERE shop_id = %s",
                    (linked.id,))
    stored = {bytes(b): i for i, b in rows}
    assert len(rows) == len(distinct) and stored == ids_by_body

    # Every stored delivery processed by exactly one woo.delivery job.
    def processed():
        n = pg.query(woo_svc.db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s"
                     " AND status = 'processed'", (linked.id,))[0][0]
        return n == len(distinct)
    wait_for(processed, timeout=60, what="every stored delivery to be processed")
    jobs = pg.query(woo_svc.db, "SELECT payload->>'delivery', count(*) FROM jobs"
                    " WHERE shop_id = %s AND kind = 'woo.delivery' GROUP BY 1", (linked.id,))
    assert sorted(int(d) for d, _ in jobs) == sorted(ids_by_body.values())
    assert all(n == 1 for _, n in jobs)
    linked.delivery_jobs_done(timeout=60)
