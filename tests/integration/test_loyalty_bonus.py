"""Loyalty: bonuses, accounts that merge, expiry.

Signup bonus paid once; a guest who registers keeps their history (one
account), and a guest account is merged into an existing customer account;
birthday and anniversary bonuses paid once per year, also across a restart;
referrals pay both sides once, on the referee's first order; points expire
oldest-first.

Two things cannot be done through the API and are simulated in the
database, each in one transaction that keeps the ledger consistent (the
entry's balance_after is the account's balance plus the delta, and the
account's balance and lifetime move with it), exactly like the service's
own loyalty_ledger_append: an *old* earning (created a year ago, for the
anniversary; created months ago and already past its expires_at, for
expiry). The ledger is append-only (a trigger refuses UPDATE and DELETE)
and expires_at is set from now() at insert, so inserting a historical entry
is the only honest way to have points that are already due to expire.
"""

import datetime as dt
import zoneinfo

from aftersale_it import assert_problem, free_port
from loyalty_helpers import (LoyalShop, assert_ledger_consistent, assert_verified,  # noqa: F401
                             client, fake, loyal, loyalty_verified, run_daily_now, woo_admin,
                             woo_db, woo_svc)
from woo_helpers import new_migrated_db, service_env


def insert_old_credit(pg, db, shop_id, account_id, delta, created_ago, expires_in=None,
                      reason="earn", source_kind="order", source_id=None):
    """Append a historical credit (see the module docstring). created_ago and
    expires_in are SQL intervals ('1 year', '-60 days'); returns the entry id."""
    conn = pg.connect(db)
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT balance FROM loyalty_accounts WHERE shop_id = %s AND id = %s"
                        " FOR UPDATE", (shop_id, account_id))
            balance = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO loyalty_ledger (shop_id, account_id, delta, reason, source_kind,"
                " source_id, order_id, balance_after, uncollected, expires_at, note, actor,"
                " created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, 0,"
                "  CASE WHEN %s::text IS NULL THEN NULL ELSE now() + %s::interval END,"
                "  'historical entry inserted by the test', 'test', now() - %s::interval)"
                " RETURNING id",
                (shop_id, account_id, delta, reason, source_kind,
                 source_id or f"hist-{account_id}-{created_ago}-{delta}", balance + delta,
                 expires_in, expires_in, created_ago))
            entry_id = cur.fetchone()[0]
            cur.execute("UPDATE loyalty_accounts SET balance = balance + %s,"
                        " lifetime = lifetime + %s WHERE shop_id = %s AND id = %s",
                        (delta, delta, shop_id, account_id))
        conn.commit()
    finally:
        conn.close()
    return entry_id


def entries_of(entries, **match):
    return [e for e in entries if all((e["source"]["kind"] if k == "kind" else e[k]) == v
                                      for k, v in match.items())]


# --------------------------------------------------------------------------
# signup and merges


def test_signup_bonus_paid_once(loyal, pg, woo_svc):
    loyal.settings(bonuses={"signup": 40})
    cust = loyal.customer_created(701, "new.customer@example.com")
    loyal.deliver("customer.created", cust, delivery_id="c" * 32)          # replayed
    loyal.deliver("customer.updated", dict(cust, first_name="Renamed"))
    loyal.loyalty_idle()
    acct = loyal.account_by_email("new.customer@example.com")
    assert acct["customer_id"] == 701
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(e["reason"], e["delta"], e["source"]) for e in entries] == \
        [("bonus", 40, {"kind": "signup", "id": "701"})]
    assert acct["balance"] == 40 and acct["lifetime_points"] == 40


def test_guest_who_registers_keeps_one_account_with_history(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down", bonuses={"signup": 40})
    loyal.completed_order("10.00", email="guest.one@example.com")
    loyal.completed_order("5.00", email="Guest.One@example.com ")
    guest = loyal.account_by_email("guest.one@example.com")
    assert guest["customer_id"] is None and guest["balance"] == 15
    loyal.customer_created(702, "GUEST.ONE@example.com")
    accounts = loyal.accounts(email="guest.one@example.com")
    assert len(accounts) == 1, accounts
    acct = loyal.account(accounts[0]["id"])
    assert acct["id"] == guest["id"] and acct["customer_id"] == 702
    acct, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, acct["id"])
    assert [(e["reason"], e["delta"]) for e in entries] == \
        [("earn", 10), ("earn", 5), ("bonus", 40)]
    assert acct["balance"] == 55
    # the registered customer's next order lands in the same account
    loyal.completed_order("3.00", email="guest.one@example.com", customer_id=702)
    assert loyal.account(acct["id"])["balance"] == 58
    assert len(loyal.accounts(email="guest.one@example.com")) == 1


def test_guest_account_merges_into_the_existing_customer_account(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down", bonuses={"signup": 40})
    loyal.completed_order("30.00", email="c.old@example.com", customer_id=703)
    cust = loyal.account_by_email("c.old@example.com")
    assert cust["customer_id"] == 703 and cust["balance"] == 30
    loyal.completed_order("12.00", email="c.new@example.com")
    guest = loyal.account_by_email("c.new@example.com")
    assert guest["customer_id"] is None and guest["balance"] == 12
    loyal.customer_created(703, "c.new@example.com")
    guest = loyal.account(guest["id"])
    assert guest["merged_into"] == cust["id"] and guest["balance"] == 0
    cust, entries = assert_ledger_consistent(loyal, pg, woo_svc.db, cust["id"])
    assert [(e["reason"], e["delta"]) for e in entries] == \
        [("earn", 30), ("merge_in", 12), ("bonus", 40)]
    assert cust["balance"] == 82 and cust["lifetime_points"] == 82
    _, gentries = assert_ledger_consistent(loyal, pg, woo_svc.db, guest["id"])
    assert [(e["reason"], e["delta"]) for e in gentries] == [("earn", 12), ("merge_out", -12)]
    # a later guest order with the merged email goes to the customer, whose email
    # (per customer.created) it now is; not to a new guest account
    loyal.completed_order("2.00", email="c.new@example.com")
    assert loyal.account(cust["id"])["balance"] == 84
    assert loyal.account(guest["id"])["balance"] == 0


# --------------------------------------------------------------------------
# referrals


def test_referral_pays_both_once_on_the_first_order(loyal, pg, woo_svc):
    loyal.settings(points_per_unit="1", rounding="down",
                   bonuses={"referrer": 100, "referee": 50})
    r = loyal.api.post("/v1/loyalty/referrals",
                       json={"referrer_email": "Alice@Example.com",
                             "referee_email": "bob@example.com"})
    assert r.status_code == 201, r.text
    ref = r.json()
    assert ref["referrer_email"] == "alice@example.com"
    assert ref["referee_email"] == "bob@example.com" and ref["status"] == "pending"
    assert_problem(loyal.api.post("/v1/loyalty/referrals",
                                  json={"referrer_email": "carol@example.com",
                                        "referee_email": "BOB@example.com"}), 409, "conflict")
    assert_problem(loyal.api.post("/v1/loyalty/referrals",
                                  json={"referrer_email": "dan@example.com",
                                        "referee_email": " DAN@example.com"}), 422,
                   "invalid-field", field="referee_email")
    assert_problem(loyal.api.post("/v1/loyalty/referrals",
                                  json={"referrer_email": "not-an-email",
                                        "referee_email": "erin@example.com"}), 422,
                   "invalid-field", field="referrer_email")
    o1 = loyal.completed_order("20.00", email="bob@example.com")
    loyal.completed_order("10.00", email="bob@example.com")
    bob = loyal.account_by_email("bob@example.com")
    bob, bentries = assert_ledger_consistent(loyal, pg, woo_svc.db, bob["id"])
    assert sorted((e["reason"], e["source"]["kind"], e["delta"]) for e in bentries) == \
        sorted([("earn", "order", 20), ("bonus", "referee", 50), ("earn", "order", 10)])
    assert bob["balance"] == 80
    alice = loyal.account_by_email("alice@example.com")
    alice, aentries = assert_ledger_consistent(loyal, pg, woo_svc.db, alice["id"])
    assert [(e["reason"], e["source"]["kind"], e["delta"]) for e in aentries] == \
        [("bonus", "referrer", 100)]
    rows = pg.query(woo_svc.db, "SELECT status, order_id FROM loyalty_referrals"
                                " WHERE shop_id = %s AND id = %s", (loyal.id, ref["id"]))
    assert rows == [("paid", o1["id"])]


# --------------------------------------------------------------------------
# expiry


def test_points_expire_oldest_first(loyal, pg, base_env, woo_svc):
    db = woo_svc.db
    s = loyal.settings(points_per_unit="1", rounding="down", expiry_months=2,
                       redemption={"points_per_unit": 100, "min_points": 100})
    assert s["expiry_months"] == 2
    loyal.completed_order("50.00", email="expiry@example.com")
    acct = loyal.account_by_email("expiry@example.com")
    fresh = loyal.ledger(acct["id"])[0]
    assert fresh["reason"] == "earn" and fresh["expires_at"] is not None
    exp = dt.datetime.strptime(fresh["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    days = (exp - dt.datetime.utcnow()).days
    assert 58 <= days <= 62, fresh["expires_at"]   # two months from now
    h1 = insert_old_credit(pg, db, loyal.id, acct["id"], 300, "90 days", "-60 days")
    h2 = insert_old_credit(pg, db, loyal.id, acct["id"], 200, "40 days", "-10 days")
    h3 = insert_old_credit(pg, db, loyal.id, acct["id"], 70, "50 days", "10 days")
    assert loyal.account(acct["id"])["balance"] == 620
    r = loyal.redeem(acct["id"], 100)                # spends the oldest-expiring first
    assert r.status_code == 201, r.text
    loyal.loyalty_idle()
    result = run_daily_now(pg, db, loyal.id)
    assert result["accounts_expired"] >= 1, result
    acct, entries = assert_ledger_consistent(loyal, pg, db, acct["id"])
    expiries = [e for e in entries if e["reason"] == "expiry"]
    assert [(e["source"]["id"], e["delta"]) for e in expiries] == \
        [(str(h1), -200), (str(h2), -200)], entries
    assert acct["balance"] == 120
    h3_entry = next(e for e in entries if e["id"] == h3)
    assert acct["expiring_soon"] == {"points": 70, "first_expiry": h3_entry["expires_at"]}
    # again: nothing more expires
    run_daily_now(pg, db, loyal.id)
    assert len(loyal.ledger(acct["id"])) == len(entries)
    assert loyal.account(acct["id"])["balance"] == 120
    assert_verified(pg, base_env, db)


# --------------------------------------------------------------------------
# birthday and anniversary: once per year, also across a restart


def test_birthday_and_anniversary_paid_once_per_year_across_restart(
        pg, base_env, service_factory, admin_token, fake):  # noqa: F811
    tz = "America/Los_Angeles"
    db = new_migrated_db(pg, base_env)
    svc = service_factory.start(env=service_env(pg, db, free_port()), name="loyalty-daily-1")
    admin = client(svc.url, admin_token)
    shop = LoyalShop(svc, admin, fake, timezone=tz)
    try:
        shop.settings(points_per_unit="1", rounding="down",
                      bonuses={"birthday": 25, "anniversary": 30})
        shop.completed_order("10.00", email="bday@example.com")
        acct = shop.account_by_email("bday@example.com")
        today = dt.datetime.now(zoneinfo.ZoneInfo(tz)).date()
        r = shop.api.put(f"/v1/loyalty/accounts/{acct['id']}/birthday",
                         json={"month": today.month, "day": today.day})
        assert r.status_code == 200, r.text
        assert r.json()["birthday"] == {"month": today.month, "day": today.day}
        # an old first order: a year ago today (see the module docstring)
        insert_old_credit(pg, db, shop.id, acct["id"], 5, "1 year", None,
                          source_id="900001")
        result = run_daily_now(pg, db, shop.id)
        assert result["birthdays"] == 1 and result["anniversaries"] == 1, result
        run_daily_now(pg, db, shop.id)

        def bonuses():
            entries = shop.ledger(acct["id"])
            return sorted((e["source"]["kind"], e["source"]["id"], e["delta"])
                          for e in entries if e["reason"] == "bonus")
        expected = sorted([("birthday", f"{today.year}:{acct['id']}", 25),
                           ("anniversary", f"{today.year}:{acct['id']}", 30)])
        assert bonuses() == expected
        shop.close()
        admin.close()
        svc.stop()
        # a new process on the same database
        svc = service_factory.start(env=service_env(pg, db, free_port()), name="loyalty-daily-2")
        admin = client(svc.url, admin_token)
        shop.svc = svc
        shop.api = client(svc.url, shop.api_key)
        shop.anon = client(svc.url)
        run_daily_now(pg, db, shop.id)
        assert bonuses() == expected
        acct, _ = assert_ledger_consistent(shop, pg, db, acct["id"])
        assert acct["balance"] == 10 + 5 + 25 + 30
    finally:
        shop.close()
        admin.close()
    assert_verified(pg, base_env, db)
