"""Survey responses: link invitations, the public API behind the token,
one response per invitation (double and concurrent submissions), changed
answers, conditions, refused tokens, versions, and the merchant's list and
follow-up."""

import threading

from surveys_helpers import (create_survey, invitations, link_invitation, put_answers,  # noqa: F401
                             questions, rshop, rv_admin, rv_db, rv_svc, sink, survey,
                             unique_email, wfake, list_all, db)
from reviews_helpers import ReviewShop, jwt_claims
from loyalty_helpers import claims_for, mint
from aftersale_it import assert_problem


def _order(shop, email=None, country="SK", total="20.00"):
    mug = shop.fake.add_product("Mug", total)["id"]
    o = shop.fake.add_order(status="processing", email=email or unique_email("r"), first_name="Ann",
                            items=[(mug, 1, total)], billing={"country": country})
    shop.deliver_order(o["id"])
    shop.complete(o["id"])
    return o


def test_link_invitation_public_get_put_and_change(rshop):
    shop = rshop
    s = create_survey(shop)            # a draft: the trigger makes no invitation first
    o = _order(shop)
    link = link_invitation(shop, s["id"], o["id"], status=(201,))
    assert link["url"] == f"{shop.svc.url}/s/{link['token']}"
    inv = link["invitation"]
    assert (inv["channel"], inv["status"], inv["order_id"], inv["version"]) == \
        ("link", "sent", o["id"], 1)
    claims = jwt_claims(link["token"])
    assert claims["scope"] == "survey" and claims["rid"] == link["id"]
    assert claims["aud"] == f"shop:{shop.id}"
    # Asking again gives the same invitation, with a token.
    again = link_invitation(shop, s["id"], o["id"], status=(200,))
    assert again["id"] == link["id"]

    r = shop.anon.get(f"/v1/public/survey-invitations/{link['token']}")
    assert r.status_code == 200, r.text
    pub = r.json()
    assert pub["invitation_id"] == link["id"] and pub["response"] is None
    assert [q["id"] for q in pub["questions"]] == ["nps", "why", "src", "csat", "ces"]
    assert pub["shop_name"] == shop.name and pub["status"] == "sent"

    # A detractor must say why (visible and... not required: optional) ; required nps missing = 422.
    assert_problem(put_answers(shop, link["token"], {"csat": 4}), 422, "invalid-field",
                   "answers.nps")
    assert_problem(put_answers(shop, link["token"], {"nps": 11}), 422, "invalid-field",
                   "answers.nps")
    assert_problem(put_answers(shop, link["token"], {"nps": 5, "src": ["radio"]}), 422,
                   "invalid-field", "answers.src")
    r = put_answers(shop, link["token"], {"nps": 3, "why": "Late", "src": ["web", "other"]},
                    other={"src": "a blog"})
    assert r.status_code == 201, r.text
    assert r.json()["answers"] == {"nps": 3, "why": "Late", "src": ["web", "other"]}
    assert r.json()["other"] == {"src": "a blog"} and r.json()["dropped"] == []
    # Changed: now a promoter; the follow-up for detractors is hidden, so dropped.
    r = put_answers(shop, link["token"], {"nps": 10, "why": "Late", "csat": 5})
    assert r.status_code == 200, r.text
    assert r.json()["answers"] == {"nps": 10, "csat": 5} and r.json()["dropped"] == ["why"]
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert (resp["score"], resp["answers"], resp["version"], resp["order_id"], resp["country"]) == \
        (10, {"nps": 10, "csat": 5}, 1, o["id"], "SK")
    assert invitations(shop, s["id"])[0]["status"] == "answered"
    assert invitations(shop, s["id"])[0]["response_id"] == resp["id"]
    pub = shop.anon.get(f"/v1/public/survey-invitations/{link['token']}").json()
    assert pub["response"]["answers"] == {"nps": 10, "csat": 5}


def test_double_and_concurrent_submissions_give_one_response(rshop, pg):
    shop = rshop
    s = create_survey(shop, status="active")
    o = _order(shop)
    tok = link_invitation(shop, s["id"], o["id"])["token"]
    codes = []
    barrier = threading.Barrier(8)

    def submit(score):
        from woo_helpers import client
        c = client(shop.svc.url)
        try:
            barrier.wait(5)
            r = c.put(f"/v1/public/survey-invitations/{tok}", json={"answers": {"nps": score}})
            codes.append((score, r.status_code))
        finally:
            c.close()
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(c for _, c in codes) == [200] * 7 + [201], codes
    rows = db(pg, shop, "SELECT count(*), max(answers->>'nps') FROM survey_responses"
                        " WHERE shop_id = %s AND survey_id = %s", (shop.id, s["id"]))
    assert rows[0][0] == 1
    # The aggregates count it once, with its last answer.
    agg = dict(db(pg, shop, "SELECT facet, sum(n)::int FROM survey_daily WHERE shop_id = %s"
                            " AND survey_id = %s GROUP BY facet HAVING sum(n) <> 0",
                  (shop.id, s["id"])))
    assert agg == {"#sent": 1, "#response": 1, "nps": 1, f"nps={rows[0][1]}": 1}, agg
    # Again, sequentially: still one.
    assert put_answers(shop, tok, {"nps": 9}).status_code == 200
    assert len(list_all(shop.api, f"/v1/surveys/{s['id']}/responses")) == 1


def test_refused_tokens(rshop, rv_svc, rv_admin, wfake, sink):
    shop = rshop
    s = create_survey(shop, status="active")
    o = _order(shop)
    link = link_invitation(shop, s["id"], o["id"])
    tok = link["token"]
    head, body, sig = tok.split(".")
    tampered = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    assert_problem(shop.anon.get(f"/v1/public/survey-invitations/{tampered}"), 401, "unauthorized")
    expired = mint(shop.token_secret, claims_for(shop.id, email="x@example.com", scope="survey",
                                                 ttl=-10, rid=link["id"]))
    assert_problem(put_answers(shop, expired, {"nps": 1}), 401, "unauthorized")
    review_scope = shop.token(link["id"], scope="review")
    assert_problem(shop.anon.get(f"/v1/public/survey-invitations/{review_scope}"), 403,
                   "forbidden")
    # Another shop's valid token naming this invitation's id finds nothing of this shop.
    other = ReviewShop(rv_svc, rv_admin, wfake, sink)
    try:
        foreign = mint(other.token_secret, claims_for(other.id, email="x@example.com",
                                                      scope="survey", rid=link["id"]))
        assert_problem(shop.anon.get(f"/v1/public/survey-invitations/{foreign}"), 404, "not-found")
        assert_problem(put_answers(shop, foreign, {"nps": 1}), 404, "not-found")
        # This shop's secret with the other shop's audience: bad signature.
        forged = mint(shop.token_secret, claims_for(other.id, email="x@example.com",
                                                    scope="survey", rid=link["id"]))
        assert_problem(shop.anon.get(f"/v1/public/survey-invitations/{forged}"), 401,
                       "unauthorized")
    finally:
        other.close()
    assert list_all(shop.api, f"/v1/surveys/{s['id']}/responses") == []


def test_expired_or_cancelled_invitation_refuses_answers(rshop, pg):
    shop = rshop
    s = create_survey(shop, status="active")
    o = _order(shop)
    link = link_invitation(shop, s["id"], o["id"])
    assert put_answers(shop, link["token"], {"nps": 8}).status_code == 201
    db(pg, shop, "UPDATE survey_invitations SET expires_at = now() - interval '1 second'"
                 " WHERE shop_id = %s AND id = %s", (shop.id, link["id"]))
    assert_problem(put_answers(shop, link["token"], {"nps": 2}), 409, "conflict")
    assert [i["id"] for i in invitations(shop, s["id"], status="answered")] == [link["id"]]
    # An unanswered link past its expiry shows as expired, and the filter finds it so.
    o2 = _order(shop)
    unanswered = link_invitation(shop, s["id"], o2["id"])
    db(pg, shop, "UPDATE survey_invitations SET expires_at = now() - interval '1 second'"
                 " WHERE shop_id = %s AND id = %s", (shop.id, unanswered["id"]))
    assert [(i["id"], i["status"]) for i in invitations(shop, s["id"], status="expired")] == \
        [(unanswered["id"], "expired")]
    assert invitations(shop, s["id"], status="sent") == []
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert resp["answers"] == {"nps": 8}


def test_versions_keep_old_responses(rshop):
    shop = rshop
    s = create_survey(shop, status="active")
    o1 = _order(shop)
    t1 = link_invitation(shop, s["id"], o1["id"])["token"]
    assert put_answers(shop, t1, {"nps": 9, "ces": 6}).status_code == 201
    q2 = questions()
    q2[0]["label"] = {"en": "Would you recommend us?"}
    del q2[4]                                            # drop the CES question
    r = shop.api.patch(f"/v1/surveys/{s['id']}", json={"questions": q2})
    assert r.status_code == 200, r.text
    v2 = r.json()
    assert (v2["version"], v2["current_version"], len(v2["questions"])) == (2, 2, 4)
    v1 = survey(shop, s["id"], version=1)
    assert v1["version"] == 1 and v1["current_version"] == 2 and len(v1["questions"]) == 5
    assert v1["questions"][0]["label"] == {"en": "Recommend us?"}
    # A new invitation asks version 2; the old response keeps version 1 and its CES answer.
    o2 = _order(shop)
    link2 = link_invitation(shop, s["id"], o2["id"])
    assert link2["invitation"]["version"] == 2
    assert_problem(put_answers(shop, link2["token"], {"nps": 7, "ces": 3}), 422,
                   "invalid-field", "answers.ces")
    assert put_answers(shop, link2["token"], {"nps": 7}).status_code == 201
    resps = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert [(x["version"], x["answers"]) for x in resps] == \
        [(1, {"nps": 9, "ces": 6}), (2, {"nps": 7})]
    # The old invitation still answers with version 1's questions.
    assert put_answers(shop, t1, {"nps": 10, "ces": 7}).status_code == 200
    # Editing again while version 2 has a response: version 3.
    r = shop.api.patch(f"/v1/surveys/{s['id']}", json={"questions": questions()})
    assert r.json()["version"] == 3


def test_list_filters_and_follow_up(rshop):
    shop = rshop
    s = create_survey(shop, status="active")
    given = [(2, "the box was 100% crushed"), (6, "slow_delivery"), (9, None), (10, "Great")]
    ids = []
    for score, why in given:
        o = _order(shop)
        tok = link_invitation(shop, s["id"], o["id"])["token"]
        ans = {"nps": score}
        if why:
            ans["why" if score <= 6 else "src"] = why if score <= 6 else ["web", "other"]
        other = {"src": why} if why and score > 6 else None
        r = put_answers(shop, tok, ans, **({"other": other} if other else {}))
        assert r.status_code == 201, r.text
    base = f"/v1/surveys/{s['id']}/responses"
    all_ = list_all(shop.api, base)
    ids = [x["id"] for x in all_]
    assert [x["score"] for x in list_all(shop.api, base, score_max=6)] == [2, 6]
    assert [x["score"] for x in list_all(shop.api, base, score_min=9)] == [9, 10]
    assert [x["score"] for x in list_all(shop.api, base, q="CRUSHED")] == [2]
    assert [x["score"] for x in list_all(shop.api, base, q="100%")] == [2]
    assert [x["score"] for x in list_all(shop.api, base, q="w_d")] == [6]
    assert [x["score"] for x in list_all(shop.api, base, q="great")] == [10]
    assert list_all(shop.api, base, q="%") == [all_[0]]
    assert list_all(shop.api, base, to="2000-01-01T00:00:00Z") == []
    assert len(list_all(shop.api, base, **{"from": "2000-01-01T00:00:00Z"})) == 4
    assert_problem(shop.api.get(base, params={"score_min": "11"}), 400, "malformed", "score_min")

    r = shop.api.patch(f"/v1/survey-responses/{ids[0]}",
                       json={"follow_up": "contacted", "note": "Called her"})
    assert r.status_code == 200, r.text
    assert (r.json()["follow_up"], r.json()["note"]) == ("contacted", "Called her")
    assert r.json()["answers"] == all_[0]["answers"]
    r = shop.api.patch(f"/v1/survey-responses/{ids[0]}", json={"follow_up": "resolved"})
    assert (r.json()["follow_up"], r.json()["note"]) == ("resolved", "Called her")
    assert [x["id"] for x in list_all(shop.api, base, follow_up="resolved")] == [ids[0]]
    assert_problem(shop.api.patch(f"/v1/survey-responses/{ids[0]}", json={"follow_up": "done"}),
                   422, "invalid-field", "follow_up")
    assert_problem(shop.api.patch("/v1/survey-responses/999999", json={"note": None}), 404,
                   "not-found")


def test_score_link_get_records_nothing_post_records(rshop):
    shop = rshop
    s = create_survey(shop, status="active")
    o = _order(shop)
    link = link_invitation(shop, s["id"], o["id"])
    # The trigger had scheduled this order's invitation (active survey): the link sends it now.
    assert (link["invitation"]["channel"], link["invitation"]["status"]) == ("link", "sent")
    assert link["invitation"]["sent_at"] and link["invitation"]["expires_at"]
    path = f"/s/{link['token']}"
    # A prefetcher opening all eleven links records nothing.
    for v in range(11):
        r = shop.anon.get(path, params={"q": "nps", "v": str(v)})
        assert r.status_code == 200, r.text
        assert "script-src" not in r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert f'name="a.nps" value="{v}" checked' in r.text
    assert '<legend>Recommend us? <span class="req">(required)</span></legend>' in r.text
    assert r.text.count('name="a.nps"') == 11
    assert list_all(shop.api, f"/v1/surveys/{s['id']}/responses") == []
    # The form's POST records the score as a partial answer.
    r = shop.anon.post(path, data="q=nps&v=4",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "(4)" in r.text, r.text
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert resp["answers"] == {"nps": 4} and resp["complete"] is True
    # Then the rest of the answers through the API, and the score changed again by the page:
    # the other answers are kept (merged).
    assert put_answers(shop, link["token"], {"nps": 4, "why": "Late", "csat": 2}).status_code == 200
    r = shop.anon.post(path, data="q=nps&v=5",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    [resp] = list_all(shop.api, f"/v1/surveys/{s['id']}/responses")
    assert resp["answers"] == {"nps": 5, "why": "Late", "csat": 2}
    for body in ("q=nps&v=11", "q=why&v=3", "v=3", ""):
        r = shop.anon.post(path, data=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422, (body, r.status_code)
    assert shop.anon.get("/s/not-a-token").status_code == 401
    assert shop.anon.get(f"/s/{shop.token(link['id'], scope='review')}").status_code == 403
