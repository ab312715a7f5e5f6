"""Survey invitations from completed orders: the delay, the audience
filters, deterministic sampling, the recontact window, one invitation per
(survey, order), and cancellation on a full refund or a cancellation."""

import datetime as dt

from surveys_helpers import (create_survey, invitations, outcomes, rshop, rv_admin,  # noqa: F401
                             rv_db, rv_svc, sampled, schedule_result, sink, unique_email,
                             wait_for, wfake)


def _completed(shop, products, email, country="SK", **kw):
    o = shop.fake.add_order(status="processing", email=email, first_name="Ann",
                            items=products, billing={"country": country}, **kw)
    shop.deliver_order(o["id"])
    shop.complete(o["id"])
    return shop.fake.get_order(o["id"])


def test_delay_audience_and_recontact(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00")["id"]
    a = create_survey(shop, name="A", status="active",
                      trigger={"event": "order.completed", "delay": "PT5S"},
                      audience={"countries": ["SK"], "min_total": "15.00"}, recontact_days=30)
    b = create_survey(shop, name="B", status="active", trigger={"delay": "PT0S"},
                      audience={"customers": "first", "exclude_products": [999]})
    draft = create_survey(shop, name="C")
    e1, e2 = unique_email("sk"), unique_email("de")

    o1 = _completed(shop, [(mug, 2, "20.00")], e1)
    res = schedule_result(shop, o1["id"])
    assert outcomes(res) == {a["id"]: "scheduled", b["id"]: "scheduled"}, res
    assert draft["id"] not in outcomes(res)
    [inv] = invitations(shop, a["id"])
    assert (inv["order_id"], inv["email"], inv["status"], inv["channel"], inv["country"],
            inv["first_order"], inv["version"]) == (o1["id"], e1, "scheduled", "email", "SK",
                                                    True, 1)
    completed = dt.datetime.fromisoformat(o1["date_completed_gmt"])
    assert inv["due_at"] == (completed + dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    [binv] = invitations(shop, b["id"])
    assert binv["due_at"] == completed.strftime("%Y-%m-%dT%H:%M:%SZ")

    # Another country; a total below the range.
    o2 = _completed(shop, [(mug, 2, "20.00")], e2, country="DE")
    assert outcomes(schedule_result(shop, o2["id"]))[a["id"]] == \
        "billing country not in the audience"
    o3 = _completed(shop, [(mug, 1, "10.00")], e2)
    assert outcomes(schedule_result(shop, o3["id"]))[a["id"]] == "order total below min_total"
    # The same customer again: within A's recontact window, and no longer a first order for B.
    o4 = _completed(shop, [(mug, 3, "30.00")], e1)
    got = outcomes(schedule_result(shop, o4["id"]))
    assert got == {a["id"]: "invited to this survey within the recontact window",
                   b["id"]: "not a first order"}, got
    assert [i["order_id"] for i in invitations(shop, a["id"])] == [o1["id"]]
    assert invitations(shop, a["id"], order_id=o4["id"]) == []


def test_sampling_is_the_documented_hash(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "10.00")["id"]
    s = create_survey(shop, name="Half", status="active", sampling_rate=0.5, recontact_days=0,
                      trigger={"delay": "PT1M"})
    orders = [_completed(shop, [(mug, 1, "10.00")], unique_email("s"))["id"] for _ in range(12)]
    for oid in orders:
        schedule_result(shop, oid)
    invited = sorted(i["order_id"] for i in invitations(shop, s["id"]))
    expected = sorted(o for o in orders if sampled(s["id"], o, 0.5))
    assert invited == expected, (invited, expected)
    assert 0 < len(invited) < len(orders)


def test_refund_and_cancel_cancel_a_scheduled_invitation(rshop):
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Later", status="active", trigger={"delay": "P1D"},
                      recontact_days=0)
    full = _completed(shop, [(mug, 1, "9.00")], unique_email("full"))
    part = _completed(shop, [(mug, 2, "18.00")], unique_email("part"))
    canc = _completed(shop, [(mug, 1, "9.00")], unique_email("canc"))
    for o in (full, part, canc):
        assert outcomes(schedule_result(shop, o["id"]))[s["id"]] == "scheduled"

    shop.fake.refund_order(full["id"], "9.00", reason="broken")
    shop.deliver_order(full["id"])
    shop.fake.refund_order(part["id"], "9.00", reason="one of two")
    shop.deliver_order(part["id"])
    shop.fake.update_order(canc["id"], status="cancelled")
    shop.deliver_order(canc["id"])

    def status_of(oid):
        [inv] = invitations(shop, s["id"], order_id=oid)
        return inv
    inv = wait_for(lambda: (lambda i: i if i["status"] == "cancelled" else None)(
        status_of(full["id"])), 10, what="the refunded order's invitation cancelled")
    assert inv["cancel_reason"] == "order refunded"
    inv = wait_for(lambda: (lambda i: i if i["status"] == "cancelled" else None)(
        status_of(canc["id"])), 10, what="the cancelled order's invitation cancelled")
    assert inv["cancel_reason"] == "order cancelled"
    # The partial refund's cancel job ran and kept its invitation.
    wait_for(lambda: any(j["status"] == "done" and j["result"] == {"cancelled": 0}
                         for j in shop.jobs(kind="surveys.cancel")), 10)
    assert status_of(part["id"])["status"] == "scheduled"


def test_paused_and_archived_surveys_invite_nobody(rshop):
    from surveys_helpers import link_invitation, put_answers
    shop = rshop
    mug = shop.fake.add_product("Mug", "9.00")["id"]
    s = create_survey(shop, name="Life", status="active", trigger={"delay": "P1D"},
                      recontact_days=0)
    o1 = _completed(shop, [(mug, 1, "9.00")], unique_email("one"))
    assert outcomes(schedule_result(shop, o1["id"]))[s["id"]] == "scheduled"
    linked = _completed(shop, [(mug, 1, "9.00")], unique_email("link"))
    schedule_result(shop, linked["id"])
    link = link_invitation(shop, s["id"], linked["id"])
    assert shop.api.patch(f"/v1/surveys/{s['id']}", json={"status": "paused"}).status_code == 200
    o2 = _completed(shop, [(mug, 1, "9.00")], unique_email("two"))
    assert s["id"] not in outcomes(schedule_result(shop, o2["id"]))
    # Archiving cancels what is still scheduled and closes the links.
    assert shop.api.delete(f"/v1/surveys/{s['id']}").status_code == 200
    [inv] = invitations(shop, s["id"], order_id=o1["id"])
    assert (inv["status"], inv["cancel_reason"]) == ("cancelled", "survey archived")
    r = put_answers(shop, link["token"], {"nps": 9})
    assert r.status_code == 409, r.text
    assert shop.api.post(f"/v1/surveys/{s['id']}/invitations",
                         json={"order_id": o2["id"]}).status_code == 409
