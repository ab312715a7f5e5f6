"""Survey definitions: CRUD, templates, versions and the 422s that name
their field. Every response is checked against openapi/openapi.yaml by the
client (see conftest.py)."""

from surveys_helpers import (create_survey, db, questions, rshop, rv_admin, rv_db,  # noqa: F401
                             rv_svc, sink, survey, wfake, list_all)
from aftersale_it import assert_problem


def test_create_get_list_patch_archive(rshop):
    shop = rshop
    s = create_survey(shop, name="After purchase", status="active",
                      trigger={"event": "order.completed", "delay": "PT48H"},
                      audience={"countries": ["SK"]}, sampling_rate=0.5, recontact_days=30)
    assert (s["name"], s["status"], s["version"], s["current_version"]) == \
        ("After purchase", "active", 1, 1)
    assert s["trigger"] == {"event": "order.completed", "delay": "P2D"}
    assert s["audience"]["countries"] == ["SK"] and s["audience"]["customers"] == "all"
    assert s["sampling_rate"] == 0.5 and s["recontact_days"] == 30 and s["expiry"] == "P30D"
    assert [q["id"] for q in s["questions"]] == ["nps", "why", "src", "csat", "ces"]
    assert s["questions"][1]["required"] is False and s["questions"][2]["other"] is True
    assert survey(shop, s["id"]) == s

    other = create_survey(shop, name="Second")
    page1 = shop.api.get("/v1/surveys", params={"limit": 1}).json()
    assert [x["id"] for x in page1["items"]] == [s["id"]] and page1["next_cursor"]
    assert [x["id"] for x in list_all(shop.api, "/v1/surveys")] == [s["id"], other["id"]]
    assert [x["id"] for x in list_all(shop.api, "/v1/surveys", status="draft")] == [other["id"]]

    # PATCH merges trigger and audience key by key; without responses the
    # questions change in place (same version).
    r = shop.api.patch(f"/v1/surveys/{s['id']}", json={
        "status": "paused", "trigger": {"delay": "PT30S"}, "audience": {"customers": "repeat"},
        "questions": questions()[:1]})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["status"] == "paused" and p["trigger"] == {"event": "order.completed", "delay": "PT30S"}
    assert p["audience"]["countries"] == ["SK"] and p["audience"]["customers"] == "repeat"
    assert p["version"] == 1 and len(p["questions"]) == 1

    r = shop.api.delete(f"/v1/surveys/{s['id']}")
    assert r.status_code == 200 and r.json()["status"] == "archived"
    assert shop.api.delete(f"/v1/surveys/{s['id']}").json()["status"] == "archived"
    assert_problem(shop.api.patch(f"/v1/surveys/{s['id']}", json={"name": "x"}), 409,
                   "conflict")
    assert_problem(shop.api.patch(f"/v1/surveys/{s['id']}", json={"status": "archived"}), 422,
                   "invalid-field", "status")


def test_other_shop_cannot_see_a_survey(rshop, rv_svc, rv_admin, wfake, sink):
    from reviews_helpers import ReviewShop
    s = create_survey(rshop)
    other = ReviewShop(rv_svc, rv_admin, wfake, sink)
    try:
        assert_problem(other.api.get(f"/v1/surveys/{s['id']}"), 404, "not-found")
        assert_problem(other.api.patch(f"/v1/surveys/{s['id']}", json={"name": "x"}), 404,
                       "not-found")
        assert_problem(other.api.delete(f"/v1/surveys/{s['id']}"), 404, "not-found")
        assert list_all(other.api, "/v1/surveys") == []
    finally:
        other.close()


def test_templates(rshop):
    shop = rshop
    r = shop.api.get("/v1/survey-templates")
    assert r.status_code == 200
    names = [t["name"] for t in r.json()["items"]]
    assert names == ["post_purchase_nps", "delivery_csat", "checkout_ces", "how_did_you_hear"]
    s = create_survey(shop, template="post_purchase_nps")
    assert s["name"] == "Post-purchase NPS with a follow-up"
    assert [q["kind"] for q in s["questions"]] == ["nps", "text", "text"]
    assert s["questions"][2]["show_if"] == {"question": "nps", "lte": 6}
    h = create_survey(shop, template="how_did_you_hear", name="Source", sampling_rate=0.1)
    assert h["name"] == "Source" and h["audience"]["customers"] == "first"
    assert h["sampling_rate"] == 0.1 and h["questions"][0]["other"] is True
    assert_problem(shop.api.post("/v1/surveys", json={"template": "nope"}), 422,
                   "invalid-field", "template")


def test_invalid_definitions_name_the_field(rshop):
    shop = rshop
    q = questions()
    cases = []
    bad = questions(); bad[1]["show_if"]["question"] = "csat"          # a later question
    cases.append(({"questions": bad}, "questions[1].show_if.question"))
    bad = questions(); bad[1]["show_if"] = {"question": "nps", "lte": 11}
    cases.append(({"questions": bad}, "questions[1].show_if.lte"))
    bad = questions(); bad[3]["show_if"] = {"question": "src", "in": ["web", "radio"]}
    cases.append(({"questions": bad}, "questions[3].show_if.in[1]"))
    bad = questions(); bad[4]["id"] = "nps"
    cases.append(({"questions": bad}, "questions[4].id"))
    bad = questions(); bad[0]["label"] = {"en": ""}
    cases.append(({"questions": bad}, "questions[0].label.en"))
    bad = questions(); bad[2]["choices"] = []
    cases.append(({"questions": bad}, "questions[2].choices"))
    bad = questions(); bad[0]["kind"] = "stars"
    cases.append(({"questions": bad}, "questions[0].kind"))
    cases.append(({"questions": [dict(q[0], id=f"q{i}") for i in range(21)]}, "questions"))
    cases.append(({"questions": q, "trigger": {"event": "order.paid"}}, "trigger.event"))
    cases.append(({"questions": q, "trigger": {"delay": "P1M"}}, "trigger.delay"))
    cases.append(({"questions": q, "audience": {"countries": ["sk"]}}, "audience.countries[0]"))
    cases.append(({"questions": q, "sampling_rate": 2}, "sampling_rate"))
    cases.append(({"questions": q, "colour": "red"}, "colour"))
    cases.append(({}, "name"))
    for body, field in cases:
        body.setdefault("name", "X") if field != "name" else None
        r = shop.api.post("/v1/surveys", json=body)
        assert_problem(r, 422, "invalid-field", field)
    assert list_all(shop.api, "/v1/surveys") == []


def test_order_delivered_trigger_is_accepted(rshop):
    s = create_survey(rshop, trigger={"event": "order.delivered", "delay": "P1D"})
    assert s["trigger"] == {"event": "order.delivered", "delay": "P1D"}
