"""The two service routes the plugin's customer pages use.

- POST /v1/orders/{order_id}/survey-link: which survey of channel `link`
  the shop shows with an order (the thank-you page), as a link invitation,
  idempotent per (survey, order); audience, sample and recontact as for
  email; the trigger never emails a link survey.
- GET /v1/me/review-requests: a customer's open review requests, with a
  customer token of scope `reviews`; never another customer's.

Fixtures: reviews_helpers.py / surveys_helpers.py (own service and database
per module, fake shop).
"""

import secrets

from surveys_helpers import (create_survey, invitations, list_all, questions, rshop,  # noqa: F401
                             rv_admin, rv_db, rv_svc, schedule_result, outcomes, sink, unique_email,
                             wait_order, wfake)
from reviews_helpers import jwt_claims, path_of, token_of
from loyalty_helpers import claims_for, mint
from aftersale_it import assert_problem

LINK = {"channel": "link", "trigger": {"event": "order.placed", "delay": "PT0S"}}


def _placed(shop, email, country="SK", total="20.00", customer_id=0):
    """A paid order, not completed: what the thank-you page sees."""
    mug = shop.fake.add_product("Mug", total)["id"]
    o = shop.fake.add_order(status="processing", email=email, first_name="Ann",
                            customer_id=customer_id, items=[(mug, 1, total)],
                            billing={"country": country})
    shop.deliver_order(o["id"])
    return o


def _link(shop, order_id, status=(200, 201), **body):
    r = shop.api.post(f"/v1/orders/{order_id}/survey-link", json=body or None)
    assert r.status_code in status, r.text
    return r.json()


def test_order_survey_link_picks_the_matching_link_survey_once(rshop):
    shop = rshop
    email_survey = create_survey(shop, name="Email NPS", status="active")
    de_only = create_survey(shop, name="DE", status="active", audience={"countries": ["DE"]},
                            **LINK)
    shown = create_survey(shop, name="Thank-you NPS", status="active", **LINK)
    assert (shown["channel"], shown["trigger"]["event"]) == ("link", "order.placed")
    assert email_survey["channel"] == "email"
    o = _placed(shop, unique_email("ty"))
    wait_order_known(shop, o["id"])

    link = _link(shop, o["id"], status=(201,))
    assert link["survey_id"] == shown["id"]
    assert [x["survey_id"] for x in link["outcomes"]] == [de_only["id"], shown["id"]]
    q = link["question"]
    assert (q["id"], q["kind"], q["label"], q["required"]) == \
        ("nps", "nps", {"en": "Recommend us?"}, True)
    inv = link["invitation"]
    assert (inv["channel"], inv["status"], inv["order_id"], inv["id"]) == \
        ("link", "sent", o["id"], link["invitation_id"])
    claims = jwt_claims(link["token"])
    assert (claims["scope"], claims["rid"], claims["aud"]) == \
        ("survey", link["invitation_id"], f"shop:{shop.id}")
    assert link["url"] == f"{shop.svc.url}/s/{link['token']}"
    # One invitation for the order, of the shown survey only.
    assert [i["order_id"] for i in invitations(shop, shown["id"])] == [o["id"]]
    assert invitations(shop, de_only["id"]) == []
    assert invitations(shop, email_survey["id"]) == []

    # The score form of the thank-you page posts to the service's page.
    r = shop.anon.post(path_of(link["url"]), data={"q": "nps", "v": "9"})
    assert r.status_code == 200, r.text
    [resp] = list_all(shop.api, f"/v1/surveys/{shown['id']}/responses")
    assert (resp["answers"], resp["order_id"], resp["score"]) == ({"nps": 9}, o["id"], 9)
    # A reload: the same invitation (200), and after answering it says so.
    again = _link(shop, o["id"], status=(200,))
    assert again["invitation_id"] == link["invitation_id"]
    assert again["invitation"]["status"] == "answered"


def test_first_call_creates_and_outcomes_say_why_others_were_left_out(rshop):
    shop = rshop
    de_only = create_survey(shop, name="DE", status="active", audience={"countries": ["DE"]},
                            **LINK)
    shown = create_survey(shop, name="TY", status="active", **LINK)
    o = _placed(shop, unique_email("ty2"))
    wait_order_known(shop, o["id"])
    r = shop.api.post(f"/v1/orders/{o['id']}/survey-link", json={"event": "order.placed"})
    assert r.status_code == 201, r.text
    assert r.json()["outcomes"] == [
        {"survey_id": de_only["id"], "outcome": "billing country not in the audience"},
        {"survey_id": shown["id"], "outcome": "invited"}]


def wait_order_known(shop, order_id):
    """The order is in the snapshot (its webhook's job ran): /v1/events has it."""
    from woo_helpers import wait_for
    wait_for(lambda: list_all(shop.api, "/v1/events", order_id=order_id), 10.0, interval=0.05,
             what=f"order {order_id}'s events")


def test_no_link_survey_unknown_order_and_bad_event(rshop):
    shop = rshop
    r = _link(shop, 987654321)
    assert r == {"survey_id": None, "invitation_id": None, "token": None, "url": None,
                 "question": None, "invitation": None,
                 "outcomes": [{"survey_id": None, "outcome": "order unknown"}]}
    o = _placed(shop, unique_email("none"))
    wait_order_known(shop, o["id"])
    create_survey(shop, name="draft link", **LINK)          # a draft is never shown
    assert _link(shop, o["id"])["outcomes"] == [
        {"survey_id": None, "outcome": "no active link survey for this event"}]
    assert_problem(shop.api.post(f"/v1/orders/{o['id']}/survey-link",
                                 json={"event": "order.paid"}), 422, "invalid-field", "event")
    assert_problem(shop.api.post(f"/v1/orders/{o['id']}/survey-link", json={"x": 1}), 422,
                   "invalid-field", "x")
    # Nothing emits order.placed: an email survey cannot have it.
    r = shop.api.post("/v1/surveys", json={"name": "bad", "questions": questions(),
                                           "trigger": {"event": "order.placed"}})
    assert_problem(r, 422, "invalid-field", "trigger.event")
    r = shop.api.post("/v1/surveys", json={"name": "bad", "questions": questions(),
                                           "channel": "sms"})
    assert_problem(r, 422, "invalid-field", "channel")
    assert shop.anon.post(f"/v1/orders/{o['id']}/survey-link").status_code == 401


def test_recontact_window_and_the_trigger_never_emails_a_link_survey(rshop):
    shop = rshop
    email = unique_email("again")
    ty = create_survey(shop, name="TY", status="active", **LINK)
    later = create_survey(shop, name="completed link", status="active", channel="link",
                          trigger={"event": "order.completed", "delay": "PT0S"})
    o1 = _placed(shop, email)
    wait_order_known(shop, o1["id"])
    assert _link(shop, o1["id"], status=(201,))["survey_id"] == ty["id"]
    o2 = _placed(shop, email)
    wait_order_known(shop, o2["id"])
    second = _link(shop, o2["id"])
    assert second["survey_id"] is None
    assert second["outcomes"] == [{"survey_id": ty["id"],
                                   "outcome": "invited to this survey within the recontact window"}]
    # Completed: the trigger schedules no email for the link survey...
    shop.complete(o1["id"])
    wait_order(shop, o1["id"])
    assert later["id"] not in outcomes(schedule_result(shop, o1["id"]))
    assert invitations(shop, later["id"]) == []
    # ...which the shop shows at that moment instead.
    shown = _link(shop, o1["id"], status=(201,), event="order.completed")
    assert shown["survey_id"] == later["id"]


# ---- GET /v1/me/review-requests ---------------------------------------------


def _me(shop, token, **query):
    return shop.anon.get("/v1/me/review-requests", params=query,
                         headers={"Authorization": f"Bearer {token}"})


def test_me_review_requests_lists_own_open_requests_only(rshop):
    shop = rshop
    mug = shop.fake.add_product("Blue Mug", "12.00")["id"]
    pot = shop.fake.add_product("Tea Pot", "30.00")["id"]
    ann, bob = unique_email("ann"), unique_email("bob")
    o_ann = shop.completed_order([mug, pot], ann, customer_id=41)
    o_bob = shop.completed_order([mug], bob, customer_id=42)
    o_guest = shop.completed_order([pot], ann)               # a guest order, same email
    req_ann = shop.request_for_order(o_ann["id"])
    shop.request_for_order(o_bob["id"])
    req_guest = shop.request_for_order(o_guest["id"])

    tok = mint(shop.token_secret, claims_for(shop.id, sub=41, scope="reviews"))
    r = _me(shop, tok)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["id"] for i in body["items"]] == [req_ann["id"]] and body["next_cursor"] is None
    item = body["items"][0]
    assert (item["order_id"], item["status"]) == (o_ann["id"], "scheduled")
    assert item["products"] == [{"product_id": mug, "name": "Blue Mug", "reviewed": False},
                                {"product_id": pot, "name": "Tea Pot", "reviewed": False}]
    link = item["review_url"]
    assert link.startswith(f"{shop.svc.url}/review?token=")
    claims = jwt_claims(token_of(link))
    assert (claims["scope"], claims["rid"], claims["email"]) == ("review", req_ann["id"], ann)
    # The link works on the service's review API.
    assert shop.public(token_of(link)).json()["request_id"] == req_ann["id"]

    # Another customer's token sees only their own.
    bob_tok = mint(shop.token_secret, claims_for(shop.id, sub=42, scope="reviews"))
    assert [i["order_id"] for i in _me(shop, bob_tok).json()["items"]] == [o_bob["id"]]
    nobody = mint(shop.token_secret, claims_for(shop.id, sub=43, scope="reviews"))
    assert _me(shop, nobody).json() == {"items": [], "next_cursor": None}
    # An email-only token reaches the guest request of that email, never Ann's account's.
    guest = mint(shop.token_secret, claims_for(shop.id, email=ann, scope="reviews"))
    assert [i["id"] for i in _me(shop, guest).json()["items"]] == [req_guest["id"]]

    # Refused: no token, tampered, another scope, another shop's secret.
    assert _me(shop, "").status_code == 401
    head, payload, sig = tok.split(".")
    assert _me(shop, f"{head}.{payload}.{sig[:-2]}AA").status_code == 401
    assert_problem(_me(shop, mint(shop.token_secret, claims_for(shop.id, sub=41))), 403, "forbidden")
    assert _me(shop, mint("not the secret", claims_for(shop.id, sub=41,
                                                         scope="reviews"))).status_code == 401
    # Paging.
    page = _me(shop, tok, limit=1)
    assert page.status_code == 200 and page.json()["next_cursor"] is None
    assert _me(shop, tok, limit=0).status_code == 400


def test_me_review_requests_hides_answered_and_paginates(rshop):
    shop = rshop
    email = unique_email("pg")
    reqs = []
    for _ in range(3):
        mug = shop.fake.add_product("Mug", "5.00")["id"]
        o = shop.completed_order([mug], email, customer_id=77)
        reqs.append(shop.request_for_order(o["id"]))
    tok = mint(shop.token_secret, claims_for(shop.id, sub=77, scope="reviews"))
    p1 = _me(shop, tok, limit=2).json()
    assert [i["id"] for i in p1["items"]] == [reqs[2]["id"], reqs[1]["id"]]
    p2 = _me(shop, tok, limit=2, cursor=p1["next_cursor"]).json()
    assert [i["id"] for i in p2["items"]] == [reqs[0]["id"]] and p2["next_cursor"] is None
    # Reviewing every product of one request closes it for the list.
    item = p2["items"][0]
    token = token_of(item["review_url"])
    r = shop.submit(token, [{"product_id": item["products"][0]["product_id"], "rating": 5,
                             "body": "Lovely"}])
    assert r.status_code in (200, 201), r.text
    left = [i["id"] for i in _me(shop, tok).json()["items"]]
    assert left == [reqs[2]["id"], reqs[1]["id"]], left


# ---- privacy of surveys (export and erasure) ---------------------------------


def test_survey_invitations_and_responses_are_exported_and_erased(rshop, rv_svc, pg):
    from test_privacy import dump_hits
    shop = rshop
    tag = secrets.token_hex(3)
    email = unique_email("sue")
    first, why, other = f"Sulamith{tag}", f"The parcel smelled of smoke {tag}", f"a podcast {tag}"
    s = create_survey(shop, name="TY", status="active", **LINK)
    mug = shop.fake.add_product("Mug", "20.00")["id"]
    o = shop.fake.add_order(status="processing", email=email, first_name=first,
                            items=[(mug, 1, "20.00")], billing={"country": "SK"})
    shop.deliver_order(o["id"])
    wait_order_known(shop, o["id"])
    link = _link(shop, o["id"], status=(201,))
    r = shop.anon.put(f"/v1/public/survey-invitations/{link['token']}", json={
        "answers": {"nps": 3, "why": why, "src": ["web", "other"]}, "other": {"src": other}})
    assert r.status_code == 201, r.text
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    r = shop.api.patch(f"/v1/survey-responses/{resp['id']}",
                       json={"follow_up": "contacted", "note": f"Called {first}"})
    assert r.status_code == 200, r.text
    report = shop.api.get(f"/v1/surveys/{s['id']}/report").json()

    x = shop.api.get("/v1/customers/export", params={"email": email}).json()
    [inv] = x["surveys"]["invitations"]
    assert (inv["email"], inv["first_name"], inv["order_id"]) == (email, first, o["id"])
    [rs] = x["surveys"]["responses"]
    assert rs["answers"]["why"] == why and rs["other"] == {"src": other}
    needles = [email, first, why, other]
    assert {n for _, n in dump_hits(pg, rv_svc.db, shop.id, needles)} == set(needles)

    r = shop.api.post("/v1/customers/erase", json={"email": email})
    assert r.status_code == 200, r.text
    counts = r.json()["erased"]
    assert counts["survey_invitations"] == 1 and counts["survey_responses"] == 1, counts
    assert dump_hits(pg, rv_svc.db, shop.id, needles) == []
    after = shop.api.get("/v1/customers/export", params={"email": email}).json()["surveys"]
    [rs] = after["responses"]
    assert rs["answers"] == {"nps": 3, "why": "[erased]", "src": ["web", "other"]}
    assert rs["other"] == {"src": "[erased]"} and rs["note"] == "[erased]"
    assert after["invitations"][0]["email"].endswith("@erased.invalid")
    # Scores stay: the report is the same; a second erasure changes nothing.
    assert shop.api.get(f"/v1/surveys/{s['id']}/report").json() == report
    again = shop.api.post("/v1/customers/erase", json={"email": email}).json()["erased"]
    assert again["survey_invitations"] == 0 and again["survey_responses"] == 0, again


def test_an_order_not_known_yet_is_decided_on_the_shops_facts(rshop):
    shop = rshop
    de_only = create_survey(shop, name="DE", status="active", audience={"countries": ["DE"]},
                            **LINK)
    shown = create_survey(shop, name="TY", status="active", audience={"min_total": "30.00"},
                          **LINK)
    email = unique_email("early")
    mug = shop.fake.add_product("Mug", "40.00")["id"]
    o = shop.fake.add_order(status="processing", email=email, first_name="Eve",
                            items=[(mug, 1, "40.00")], billing={"country": "SK"})
    # No webhook delivered: aftersale does not know the order.
    assert _link(shop, o["id"])["outcomes"] == [{"survey_id": None, "outcome": "order unknown"}]
    facts = {"email": email.upper(), "first_name": "Eve", "country": "sk", "total": "40.00",
             "customer_id": 0, "product_ids": [mug]}
    link = _link(shop, o["id"], status=(201,), event="order.placed", order=facts)
    assert link["survey_id"] == shown["id"], link
    assert link["outcomes"] == [
        {"survey_id": de_only["id"], "outcome": "billing country not in the audience"},
        {"survey_id": shown["id"], "outcome": "invited"}]
    inv = link["invitation"]
    assert (inv["email"], inv["first_name"], inv["country"], inv["first_order"]) == \
        (email, "Eve", "SK", True)
    # Below the survey's min_total: not shown.
    small = shop.fake.add_order(status="processing", email=unique_email("small"),
                                items=[(mug, 1, "10.00")])
    r = _link(shop, small["id"], order=dict(facts, email="small@example.com", total="10.00"))
    assert r["survey_id"] is None and r["outcomes"][-1] == \
        {"survey_id": shown["id"], "outcome": "order total below min_total"}
    # Once the webhook is processed the snapshot decides; the invitation stays the same.
    shop.deliver_order(o["id"])
    wait_order_known(shop, o["id"])
    again = _link(shop, o["id"], status=(200,))
    assert again["invitation_id"] == link["invitation_id"]
    for bad, field in [({"total": "40.00"}, "order.email"),
                       (dict(facts, total="forty"), "order.total"),
                       (dict(facts, product_ids=[0]), "order.product_ids"),
                       (dict(facts, phone="1"), "order.phone")]:
        assert_problem(shop.api.post(f"/v1/orders/{o['id']}/survey-link", json={"order": bad}),
                       422, "invalid-field", field)
