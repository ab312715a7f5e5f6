"""Loyalty: an order's points do not depend on how its deliveries arrive.

The property (docs/loyalty.md, "Order of events"): for any interleaving,
duplication and order of the deliveries of an order, the final ledger
equals the one the same deliveries give one after the other.

- test_refund_racing_the_earn_is_not_lost: the reported reproduction. The
  customer's account row is held locked (psycopg2) while a completed order
  and then a partial refund of it arrive, so the earn waits on the lock
  while the refund is processed. The balance must go 200 -> 350 (earn 200,
  refund -50), not 400 (the refund lost because it ran before the earn).
- test_any_delivery_order_gives_the_in_order_ledger: randomised, seeded
  (LOYALTY_PROPERTY_SEED, else random; printed on failure), 1,000 trials
  (LOYALTY_PROPERTY_TRIALS; 400 by default under ASan). Each trial is one order of its own
  customer, made in the fake shop as a history of snapshots (pending,
  processing, refunds before or after completion, completion, partial and
  full refunds, cancellation), with tiers in play (some customers reach a
  tier by a signup bonus before the order, others by the order itself).
  Every snapshot is sent 1-5 times, all trials' deliveries shuffled
  together and sent concurrently to one shop; the same snapshots are sent
  strictly in order, each processed before the next, to a reference shop
  (in rounds: the k-th snapshot of every order, then wait until all is processed).
  The per-order entries (source, reason, points, uncollected) and the
  balance must be equal in both, and equal to a Python model of the rules
  of docs/loyalty.md. Two shop configurations (earning on completion with
  half-up rounding, and earning on payment with rounding down). `aftersale
  loyalty verify` must be clean afterwards.
"""

import http.client
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from aftersale_it import HTTP_TIMEOUT, make_response, openapi_check
from loyalty_helpers import (LoyalShop, assert_verified, fake, loyal,  # noqa: F401
                             loyalty_verified, wait_for, woo_admin, woo_db, woo_svc)
from woo_helpers import CHECK_OPENAPI, delivery_headers, php_json

TRIAL_KINDS = ("woo.delivery", "woo.order_fetch", "loyalty.order", "loyalty.earn",
               "loyalty.reverse", "loyalty.signup")


def shops_idle(conn, shop_ids, timeout=60.0):
    """Wait until no delivery or loyalty job of these shops is pending or
    running (conn: psycopg2). Polls at 5 ms, backing off to 50 ms, so that
    dozens of waiting threads do not load the database."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM jobs WHERE shop_id = ANY(%s)"
                        " AND status IN ('pending', 'running') AND kind = ANY(%s)",
                        (list(shop_ids), list(TRIAL_KINDS)))
            busy = cur.fetchone()[0]
        if busy == 0:
            return
        assert time.monotonic() < deadline, f"{busy} jobs of shops {shop_ids} still busy"
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


# --------------------------------------------------------------------------
# the reported reproduction


def test_refund_racing_the_earn_is_not_lost(loyal, pg, woo_svc, base_env):
    loyal.settings(points_per_unit="1", rounding="down", earn_status="completed", tiers=[])
    email = "race@example.com"
    loyal.completed_order("200.00", email=email)
    acct = loyal.account_by_email(email)
    assert acct["balance"] == 200, acct
    o = loyal.order("200.00", email=email)

    holder = pg.connect(woo_svc.db)
    holder.autocommit = False
    watcher = pg.connect(woo_svc.db)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT balance FROM loyalty_accounts WHERE shop_id = %s AND id = %s"
                        " FOR UPDATE", (loyal.id, acct["id"]))
        loyal.fake.complete_order(o["id"])
        assert loyal.deliver_order(o["id"]).status_code == 200

        def earn_waits_on_the_lock():
            with watcher.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                            " AND wait_event_type = 'Lock' AND query LIKE '%%loyalty_accounts%%'",
                            (woo_svc.db,))
                return cur.fetchone()[0] > 0
        wait_for(earn_waits_on_the_lock, 10, what="the earn to wait on the account lock")
        loyal.fake.refund_order(o["id"], "50.00")
        assert loyal.deliver_order(o["id"]).status_code == 200

        def refund_seen():
            with watcher.cursor() as cur:
                cur.execute("SELECT count(*) FROM events WHERE shop_id = %s AND order_id = %s"
                            " AND kind = 'order.refunded'", (loyal.id, o["id"]))
                return cur.fetchone()[0] == 1
        wait_for(refund_seen, 10, what="the refund to be processed")
        time.sleep(2.0)  # the refund's loyalty job runs (or retries) while the earn waits
    finally:
        holder.rollback()
        holder.close()
        watcher.close()
    loyal.loyalty_idle(timeout=20)
    acct = loyal.account(acct["id"])
    entries = [(x["reason"], x["delta"], x["order_id"]) for x in loyal.ledger(acct["id"])]
    assert ("refund", -50, o["id"]) in entries, entries
    assert acct["balance"] == 350, (acct, entries)
    assert_verified(pg, base_env, woo_svc.db)


def test_legacy_earn_and_reverse_jobs_reconcile_the_order(loyal, pg, woo_svc, base_env):
    """Rows of the per-event kinds of earlier versions (loyalty.earn,
    loyalty.reverse) may be pending in a database at upgrade, in any order:
    each reconciles its event's order. Here the reverse is due first, which
    lost the refund before."""
    loyal.settings(points_per_unit="1", rounding="down", earn_status="completed", tiers=[])
    order_id, refund_id, email = 987001, 987002, "legacy@example.com"
    summary = {"order_id": order_id, "status": "completed", "customer_id": 0, "email": email,
               "first_name": "Leg", "currency": "EUR", "total": "80.00",
               "shipping_country": "DE", "date_modified_gmt": "2026-11-30T10:00:00",
               "items": [{"line_item_id": 1, "product_id": 1, "variation_id": 0, "name": "Mug",
                          "quantity": 1, "subtotal": "80.00", "total": "80.00"}]}
    refund = dict(summary, refund_id=refund_id, amount="20.00", reason="", refunded_total="20.00",
                  order_total="80.00", full=False)
    conn = pg.connect(woo_svc.db)
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            ids = {}
            for kind, payload, key in (("order.completed", summary, f"order.completed:{order_id}"),
                                       ("order.refunded", refund, f"order.refunded:{refund_id}")):
                cur.execute("INSERT INTO events (shop_id, kind, order_id, payload, dedupe_key)"
                            " VALUES (%s, %s, %s, %s::jsonb, %s) RETURNING id",
                            (loyal.id, kind, order_id, json.dumps(payload), key))
                ids[kind] = cur.fetchone()[0]
            for kind, event, delay in (("loyalty.reverse", "order.refunded", "-2 seconds"),
                                       ("loyalty.earn", "order.completed", "0 seconds")):
                cur.execute("INSERT INTO jobs (shop_id, kind, payload, dedupe_key, run_at)"
                            " VALUES (%s, %s, %s::jsonb, %s, now() + %s::interval)",
                            (loyal.id, kind, json.dumps({"event_id": ids[event], "kind": event}),
                             f"event:{ids[event]}", delay))
            cur.execute("NOTIFY aftersale_jobs")
        conn.commit()
    finally:
        conn.close()
    loyal.loyalty_idle(timeout=20)
    acct = loyal.account_by_email(email)
    entries = [(x["reason"], x["delta"], x["source"]["id"]) for x in loyal.ledger(acct["id"])]
    assert entries == [("earn", 80, str(order_id)), ("refund", -20, str(refund_id))], entries
    assert acct["balance"] == 60, acct
    legacy = [j for j in loyal.jobs() if j["kind"] in ("loyalty.earn", "loyalty.reverse")]
    assert len(legacy) == 2 and all(j["status"] == "done" for j in legacy), legacy
    assert_verified(pg, base_env, woo_svc.db)


# --------------------------------------------------------------------------
# the model: docs/loyalty.md in Python


def milli(s):
    return int(Decimal(s) * 1000)


def round_rule(n, d, rule):
    q, r = divmod(n, d)
    if rule == "down" or r == 0:
        return q
    if rule == "up":
        return q + 1
    return q + (1 if 2 * r >= d else 0)  # half_up


def reversal(earned, taken, refund, total, full):
    if earned <= 0 or taken >= earned:
        return 0
    left = earned - taken
    if full:
        return left
    if refund <= 0:
        return 0
    if total <= 0 or refund >= total:
        return left
    return min(round_rule(earned * refund, total, "half_up"), left)


def paid(snap):
    st = snap["status"]
    return st in ("processing", "completed") or (
        snap.get("date_paid_gmt") and st not in ("pending", "failed", "on-hold"))


def completed(snap):
    return snap["status"] == "completed" or bool(snap.get("date_completed_gmt"))


def expected_entries(cfg, trial):
    """{(source_kind, source_id): (reason, delta, uncollected)} and the balance."""
    snaps = trial["snaps"]
    entries = {}
    lifetime = cfg["signup"] if trial["signup"] else 0
    balance = lifetime
    earning = any(paid(s) for s in snaps) if cfg["earn_status"] == "processing" else \
        any(completed(s) for s in snaps)
    if not earning:
        return entries, balance
    amount = sum(milli(li["total"]) for li in snaps[0]["line_items"])
    mult = 1000
    for t in cfg["tiers"]:
        if lifetime >= t["threshold"]:
            mult = milli(t["multiplier"])
    earned = round_rule(amount * milli(cfg["points_per_unit"]) * mult, 10 ** 9, cfg["rounding"])
    oid = str(trial["order_id"])
    entries[("order", oid)] = ("earn", earned, 0)
    balance += earned
    last = snaps[-1]
    total = milli(last["total"])
    taken, running = 0, 0
    for r in sorted(last["refunds"], key=lambda r: r["id"]):
        amt = milli(r["total"].lstrip("-"))
        running += amt
        take = reversal(earned, taken, amt, total, running >= total)
        if take:
            entries[("refund", str(r["id"]))] = ("refund", -take, 0)
            taken += take
            balance -= take
    if any(s["status"] == "cancelled" for s in snaps) and any(completed(s) for s in snaps):
        take = reversal(earned, taken, 0, 0, True)
        if take:
            entries[("cancel", oid)] = ("cancel", -take, 0)
            balance -= take
    return entries, balance


# --------------------------------------------------------------------------
# trials


CONFIGS = [
    {"name": "on-completion", "points_per_unit": "1.5", "rounding": "half_up",
     "earn_status": "completed", "signup": 60,
     "tiers": [{"name": "Silver", "threshold": 50, "multiplier": "1.25"},
               {"name": "Gold", "threshold": 400, "multiplier": "1.5"}]},
    {"name": "on-payment", "points_per_unit": "1", "rounding": "down",
     "earn_status": "processing", "signup": 100,
     "tiers": [{"name": "Gold", "threshold": 100, "multiplier": "2"}]},
]


def configure(shop, cfg):
    shop.settings(points_per_unit=cfg["points_per_unit"], rounding=cfg["rounding"],
                  earn_status=cfg["earn_status"], bonuses={"signup": cfg["signup"]},
                  tiers=cfg["tiers"])


def cents(rng, lo, hi):
    return Decimal(rng.randint(lo, hi)) / 100


def make_trial(rng, fake, product, n, tag):
    """One order's history in the fake: a list of snapshots, oldest first."""
    guest = rng.random() < 0.25
    cid = 0 if guest else 500000 + n
    email = f"{tag}-{n}@example.com"
    items = [(product, 1, str(cents(rng, 100, 30000))) for _ in range(rng.randint(1, 3))]
    start = "pending" if rng.random() < 0.3 else "processing"
    o = fake.add_order(status=start, customer_id=cid, email=email, items=items)
    oid = o["id"]
    snaps = [fake.get_order(oid)]
    total = Decimal(o["total"])
    refunded = Decimal(0)

    def refund(full=False):
        nonlocal refunded
        left = total - refunded
        if left <= 0:
            return
        amt = left if full else min(left, cents(rng, 1, max(1, int(left * 100))))
        fake.refund_order(oid, str(amt))
        refunded += amt
        snaps.append(fake.get_order(oid))

    if start == "pending":
        snaps.append(fake.update_order(oid, status="processing"))
    if rng.random() < 0.2:
        refund()  # before completion: taken back once the order earns
    if rng.random() < 0.15:  # cancelled without completing
        snaps.append(fake.update_order(oid, status="cancelled"))
    else:
        if refunded < total and rng.random() < 0.85:
            snaps.append(fake.complete_order(oid))
        for _ in range(rng.randint(0, 3)):
            refund(full=rng.random() < 0.25)
        if refunded < total and rng.random() < 0.2:
            snaps.append(fake.update_order(oid, status="cancelled"))
    return {"n": n, "order_id": oid, "customer_id": cid, "email": email,
            "signup": (not guest) and rng.random() < 0.5, "snaps": snaps}


class Sender:
    """Signed deliveries over one kept-alive HTTP/1.1 connection per thread
    (thousands of them: a new connection and a PHP-style encoding per send
    would be most of the test's time). Every response is contract-checked."""

    def __init__(self, port):
        self.port = port
        self.local = threading.local()

    def send(self, shop_id, path, secret, topic, body):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                timeout=HTTP_TIMEOUT)
        headers = dict(delivery_headers(topic, body, secret))
        try:
            conn.request("POST", path, body=body, headers=headers)
            hr = conn.getresponse()
            payload = hr.read()
        except (OSError, http.client.HTTPException):
            conn.close()  # the server closed a kept-alive connection: once more, fresh
            conn.request("POST", path, body=body, headers=headers)
            hr = conn.getresponse()
            payload = hr.read()
        resp = make_response("POST", f"http://127.0.0.1:{self.port}{path}", hr.status, hr.reason,
                             hr.getheaders(), payload)
        if CHECK_OPENAPI:
            openapi_check(resp)
        # No resend of a 503: WooCommerce never resends a delivery, and the
        # receiver no longer waits on job transactions nor answers 503 for a
        # busy pool or lock within WEBHOOK_DB_WAIT_MS (docs/reliability.md).
        # The callers assert 200.
        return resp


def customer_payload(trial):
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return {"id": trial["customer_id"], "email": trial["email"], "first_name": "Pro",
            "last_name": "Perty", "date_created_gmt": now, "date_modified_gmt": now}


def order_ledgers(pg, db, shop_id):
    """{order_id: {(source_kind, source_id): (reason, delta, uncollected)}} and
    {customer key: balance} of a shop."""
    rows = pg.query(db, "SELECT order_id, source_kind, source_id, reason, delta, uncollected"
                        " FROM loyalty_ledger WHERE shop_id = %s AND order_id IS NOT NULL",
                    (shop_id,))
    ledgers = {}
    for oid, kind, sid, reason, delta, unc in rows:
        ledgers.setdefault(oid, {})[(kind, sid)] = (reason, delta, unc)
    accts = pg.query(db, "SELECT customer_id, email, balance FROM loyalty_accounts"
                         " WHERE shop_id = %s AND merged_into IS NULL", (shop_id,))
    balances = {}
    for cid, email, balance in accts:
        balances[("c", cid) if cid else ("e", email)] = balance
    return ledgers, balances


def customer_key(trial):
    return ("c", trial["customer_id"]) if trial["customer_id"] else ("e", trial["email"])


def test_any_delivery_order_gives_the_in_order_ledger(woo_svc, woo_admin, fake, pg, base_env):
    seed = int(os.environ.get("LOYALTY_PROPERTY_SEED") or random.SystemRandom().randrange(2 ** 32))
    # 1,000 trials in `make test`; under ASan (about twice as slow) 400 by
    # default, to stay inside the per-test timeout on a busy machine.
    default = 400 if os.environ.get("AFTERSALE_SANITIZED") == "1" else 1000
    ntrials = int(os.environ.get("LOYALTY_PROPERTY_TRIALS") or default)
    assert ntrials >= 1, ntrials
    rng = random.Random(seed)
    why = f"LOYALTY_PROPERTY_SEED={seed} LOYALTY_PROPERTY_TRIALS={ntrials}"
    print(why)  # pytest shows a failing test's output: the seed is never lost
    t0 = time.monotonic()
    db = woo_svc.db
    product = fake.add_product("Property Mug", "10.00")["id"]
    groups = []
    for ci, cfg in enumerate(CONFIGS):
        shop = LoyalShop(woo_svc, woo_admin, fake)
        refs = [LoyalShop(woo_svc, woo_admin, fake)]  # the in-order reference
        for s in [shop] + refs:
            configure(s, cfg)
        n = ntrials // len(CONFIGS) + (1 if ci < ntrials % len(CONFIGS) else 0)
        trials = [make_trial(rng, fake, product, len(groups) * 100000 + i, f"p{seed}-{ci}")
                  for i in range(n)]
        groups.append((cfg, shop, refs, trials))
    all_ids = [s.id for _, shop, refs, _ in groups for s in [shop] + refs]

    # Signup bonuses first, in every shop, so a customer's tier before the
    # order is the same however the order's deliveries are processed.
    def signups(args):
        shop, trial = args
        r = shop.deliver("customer.created", customer_payload(trial))
        assert r.status_code == 200, (why, r.text)
    work = [(s, t) for _, shop, refs, trials in groups for t in trials if t["signup"]
            for s in [shop, refs[0]]]
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(signups, work))
    watch = pg.connect(db)
    shops_idle(watch, all_ids)
    t_setup = time.monotonic() - t0

    # Reference, in rounds: round k sends the k-th snapshot of every trial
    # that has one, then waits until the reference shops have processed
    # everything, jobs included. So each order's deliveries arrive one after
    # the other, each processed before the next; orders are independent
    # (one customer each), so running them side by side changes nothing.
    ref_ids = [refs[0].id for _, _, refs, _ in groups]

    def in_order():
        conn = pg.connect(db)
        try:
            with ThreadPoolExecutor(8) as ex:
                for k in range(max(len(t["snaps"]) for _, _, _, ts in groups for t in ts)):
                    batch = [(refs[0], php_json(t["snaps"][k]).strip().encode("utf-8"))
                             for _, _, refs, ts in groups for t in ts if len(t["snaps"]) > k]
                    list(ex.map(send, batch))
                    shops_idle(conn, ref_ids, timeout=90)
        finally:
            conn.close()

    # Under test: every snapshot 1-5 times, all trials shuffled together, concurrently.
    sender = Sender(woo_svc.port)
    sends = []
    for _, shop, _, trials in groups:
        for t in trials:
            for snap in t["snaps"]:
                body = php_json(snap).strip().encode("utf-8")
                sends += [(shop, body)] * rng.randint(1, 5)
    rng.shuffle(sends)
    failures = []

    def send(args):
        shop, body = args
        try:
            r = sender.send(shop.id, shop.hook_path, shop.secret, "order.updated", body)
            assert r.status_code == 200, r.text
        except Exception as exc:  # collected: a thread's assertion would be lost
            failures.append(repr(exc))

    ref_thread = threading.Thread(target=lambda: _run(in_order, failures))
    t1 = time.monotonic()
    ref_thread.start()
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(send, sends))
    t_sent = time.monotonic() - t1
    ref_thread.join(timeout=300)
    t_ref = time.monotonic() - t1
    assert not failures, (why, failures[:5])
    shops_idle(watch, all_ids, timeout=120)
    watch.close()
    t_idle = time.monotonic() - t1

    bad = []
    for cfg, shop, refs, trials in groups:
        got, got_bal = order_ledgers(pg, db, shop.id)
        ref_led, ref_bal = {}, {}
        for ref in refs:
            led, bal = order_ledgers(pg, db, ref.id)
            ref_led.update(led)
            ref_bal.update(bal)
        for t in trials:
            want, want_bal = expected_entries(cfg, t)
            oid, key = t["order_id"], customer_key(t)
            g, r = got.get(oid, {}), ref_led.get(oid, {})
            gb, rb = got_bal.get(key, 0), ref_bal.get(key, 0)
            if not (g == r == want and gb == rb == want_bal):
                bad.append({"config": cfg["name"], "trial": t["n"], "order_id": oid,
                            "shuffled": sorted(g.items()), "in_order": sorted(r.items()),
                            "model": sorted(want.items()), "balances": (gb, rb, want_bal),
                            "snapshots": [(s["status"], [x["total"] for x in s["refunds"]])
                                          for s in t["snaps"]]})
    assert not bad, (f"{why}: {len(bad)} of {ntrials} trials differ"
                     f" (shuffled != in order: {sum(b['shuffled'] != b['in_order'] for b in bad)},"
                     f" in order != model: {sum(b['in_order'] != b['model'] for b in bad)});"
                     f" first: {bad[:3]}")
    assert_verified(pg, base_env, db)
    # the trials exercised what they should: refunds, cancellations, tiers, waiting refunds
    kinds = {k for _, shop, _, _ in groups for led in order_ledgers(pg, db, shop.id)[0].values()
             for (k, _) in led}
    if ntrials >= 200:
        assert kinds == {"order", "refund", "cancel"}, (why, kinds)
    for _, shop, refs, _ in groups:
        for s in [shop] + refs:
            s.close()
    print(f"{ntrials} trials, {len(sends)} deliveries, seed {seed}: setup {t_setup:.1f}s,"
          f" shuffled sent {t_sent:.1f}s, in-order done {t_ref:.1f}s, all idle {t_idle:.1f}s,"
          f" total {time.monotonic() - t0:.1f}s")


def _run(fn, failures):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - reported by the caller
        failures.append("reference: " + repr(exc))
