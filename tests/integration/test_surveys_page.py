"""The survey answer page /s/{token} without JavaScript: plain HTTP GETs and
form POSTs, as a browser without script (or a screen reader's browser)
sends them.

Every question kind rendered accessibly (fieldset/legend, labelled
radios and checkboxes, labels, required marked, errors tied to fields),
the conditions applied server-side step by step (a detractor is asked
"what went wrong?", a promoter something else), one response per
invitation whatever is posted twice or from two tabs, a changed answer,
escaping, refused tokens, the brand frame and the customer's locale.

Fixtures: reviews_helpers.py via surveys_helpers.py (own service and
database per module, a real SMTP sink, a fake shop per test).
"""

import html
import re
import threading
from html.parser import HTMLParser

from surveys_helpers import (create_survey, db, link_invitation, list_all, rshop,  # noqa: F401
                             rv_admin, rv_db, rv_svc, sink, unique_email, wait_for, wfake)
from reviews_helpers import ReviewShop
from loyalty_helpers import claims_for, mint

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

ALL_KINDS = [
    {"id": "nps", "kind": "nps", "required": True, "label": {"en": "Recommend us?"}},
    {"id": "csat", "kind": "csat", "label": {"en": "Satisfied?"}},
    {"id": "ces", "kind": "ces", "label": {"en": "Easy?"}},
    {"id": "stars", "kind": "rating", "label": {"en": "Stars?"}},
    {"id": "via", "kind": "single_choice", "other": True, "label": {"en": "How did you find us?"},
     "choices": [{"id": "web", "label": {"en": "Search"}}, {"id": "tv", "label": {"en": "TV"}}]},
    {"id": "tags", "kind": "multiple_choice", "other": True, "label": {"en": "What did you buy?"},
     "choices": [{"id": "mug", "label": {"en": "Mugs"}}, {"id": "tea", "label": {"en": "Tea"}}]},
    {"id": "note", "kind": "text", "required": True, "label": {"en": "Anything else?"}},
]

# A detractor is asked what went wrong, a promoter what they liked.
PATHS = [
    {"id": "nps", "kind": "nps", "required": True,
     "label": {"en": "Recommend us?", "de": "Würden Sie uns empfehlen?"}},
    {"id": "wrong", "kind": "text", "required": True,
     "label": {"en": "What went wrong?", "de": "Was ist schiefgelaufen?"},
     "show_if": {"question": "nps", "lte": 6}},
    {"id": "liked", "kind": "single_choice", "label": {"en": "What did you like most?"},
     "choices": [{"id": "fast", "label": {"en": "Fast delivery"}},
                 {"id": "price", "label": {"en": "The price"}}],
     "show_if": {"question": "nps", "gte": 9}},
    {"id": "more", "kind": "text", "label": {"en": "Anything else?"}},
]


class Page(HTMLParser):
    """What a page holds for a person and a screen reader: the form's
    controls with their attributes, the labels (for= and wrapping), the
    fieldsets with their legends, the elements by id, scripts."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.controls, self.labels, self.fieldsets, self.ids = [], {}, [], {}
        self.scripts, self.hidden = 0, []
        self._label, self._legend, self._textarea, self._fs = None, None, None, []
        self.raw = text
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids[a["id"]] = (tag, a)
        if tag == "script":
            self.scripts += 1
        if tag == "fieldset":
            self._fs.append({"attrs": a, "legend": "", "controls": []})
        if tag == "legend":
            self._legend = []
        if tag == "label":
            self._label = {"for": a.get("for"), "text": [], "wraps": None}
        if tag in ("input", "textarea"):
            if a.get("type") == "hidden":
                self.hidden.append((a.get("name"), a.get("value")))
            else:
                c = dict(a, tag=tag, fieldset=self._fs[-1]["attrs"].get("id") if self._fs else None)
                self.controls.append(c)
                if self._fs:
                    self._fs[-1]["controls"].append(c)
                if self._label is not None:
                    self._label["wraps"] = a.get("id")
                if tag == "textarea":
                    self._textarea = c
                    c["value"] = ""

    def handle_endtag(self, tag):
        if tag == "legend" and self._legend is not None and self._fs:
            self._fs[-1]["legend"] = "".join(self._legend).strip()
            self._legend = None
        if tag == "fieldset" and self._fs:
            self.fieldsets.append(self._fs.pop())
        if tag == "label" and self._label is not None:
            text = " ".join("".join(self._label["text"]).split())
            for target in {self._label["for"], self._label["wraps"]} - {None}:
                self.labels[target] = text
            self._label = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._legend is not None:
            self._legend.append(data)
        if self._label is not None:
            self._label["text"].append(data)
        if self._textarea is not None:
            self._textarea["value"] += data

    def text_of(self, element_id):
        """The text of an element (one that does not nest its own tag)."""
        m = re.search(r'<(\w+)[^>]*\bid="%s"[^>]*>(.*?)</\1>' % re.escape(element_id), self.raw,
                      re.S)
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(2))).split()) if m else None

    def named(self, name):
        return [c for c in self.controls if c.get("name") == name]

    def checked(self, name):
        return [c["value"] for c in self.named(name) if "checked" in c]

    def shown(self):
        return [v for n, v in self.hidden if n == "shown"]


def _order(shop, email=None):
    mug = shop.fake.add_product("Mug", "20.00")["id"]
    o = shop.fake.add_order(status="processing", email=email or unique_email("p"),
                            first_name="Ann", items=[(mug, 1, "20.00")],
                            billing={"country": "SK"})
    shop.deliver_order(o["id"])
    shop.complete(o["id"])
    return o


def _link(shop, qs, survey=None, **body):
    s = survey or create_survey(shop, name="Page", questions=qs)
    o = _order(shop)
    r = link_invitation(shop, s["id"], o["id"]) if not body else None
    if body:
        wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.completed",
                                  order_id=o["id"]), 10, interval=0.05, what="order")
        r = shop.api.post(f"/v1/surveys/{s['id']}/invitations", json=dict(body, order_id=o["id"]))
        assert r.status_code == 201, r.text
        r = r.json()
    return s, r


def _post(shop, token, shown, answers=(), **kw):
    data = [("form", "page")] + [("shown", q) for q in shown] + list(answers)
    return shop.anon.post(f"/s/{token}", data=data, headers=FORM, **kw)


def _responses(shop, sid):
    return list_all(shop.api, f"/v1/surveys/{sid}/responses")


def test_every_kind_renders_accessibly_in_the_brand(rshop):
    shop = rshop
    r = shop.api.put("/v1/messaging/settings",
                     json={"brand_name": "Acme Tea", "logo_url": "https://cdn.example/logo.png",
                           "accent_color": "#0f766e"})
    assert r.status_code == 200, r.text
    s, link = _link(shop, ALL_KINDS)
    r = shop.anon.get(f"/s/{link['token']}")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "form-action 'self'" in csp
    assert "img-src https: http:" in csp
    assert r.headers["Referrer-Policy"] == "no-referrer" and r.headers["Cache-Control"] == "no-store"
    p = Page(r.text)
    assert p.scripts == 0
    # The brand frame: logo, name, accent colour, heading with the brand name.
    assert '<img src="https://cdn.example/logo.png" alt="">' in r.text
    assert "button{background:#0f766e}" in r.text
    assert "<h1>Acme Tea would like your opinion</h1>" in r.text
    assert '<html lang="en">' in r.text
    # Every question is shown (no conditions); scales and choices are
    # fieldsets with the label as legend, required ones marked.
    legends = {f["attrs"]["id"]: f["legend"] for f in p.fieldsets}
    assert legends == {"q-nps": "Recommend us? (required)", "q-csat": "Satisfied?",
                       "q-ces": "Easy?", "q-stars": "Stars?", "q-via": "How did you find us?",
                       "q-tags": "What did you buy?"}, legends
    assert p.shown() == [q["id"] for q in ALL_KINDS]
    scales = {"nps": range(0, 11), "csat": range(1, 6), "ces": range(1, 8), "stars": range(1, 6)}
    for qid, values in scales.items():
        radios = p.named(f"a.{qid}")
        assert [c["value"] for c in radios] == [str(v) for v in values], qid
        assert all(c["type"] == "radio" and c["fieldset"] == f"q-{qid}" for c in radios)
        assert all(("required" in c) == (qid == "nps") for c in radios), qid
    # Visible labels for every scale value; the stars have their words.
    assert [p.labels[c["id"]] for c in p.named("a.nps")] == [str(v) for v in range(11)]
    # (the stars are aria-hidden: the accessible name is the words)
    assert p.labels["a-stars-3"] == "★★★3 stars"
    assert '<span aria-hidden="true">★★★</span><span class="sr">3 stars</span>' in r.text
    # The ends of the NPS scale in words, tied to the group.
    assert p.ids["q-nps"][1]["aria-describedby"] == "h-nps"
    assert p.text_of("h-nps") == "0 means Not at all likely, 10 means Extremely likely."
    # Choices: radio / checkbox groups, each with its label, plus "other" and its text box.
    assert [(c["type"], c["value"], p.labels[c["id"]]) for c in p.named("a.via")] == \
        [("radio", "web", "Search"), ("radio", "tv", "TV"), ("radio", "other", "Other")]
    assert [(c["type"], c["value"], p.labels[c["id"]]) for c in p.named("a.tags")] == \
        [("checkbox", "mug", "Mugs"), ("checkbox", "tea", "Tea"), ("checkbox", "other", "Other")]
    for qid in ("via", "tags"):
        [box] = p.named(f"o.{qid}")
        assert box["type"] == "text" and p.labels[box["id"]] == "Other, please specify:"
    # The text question: a labelled textarea, required.
    [note] = p.named("a.note")
    assert note["tag"] == "textarea" and "required" in note and note["maxlength"] == "5000"
    assert p.labels[note["id"]] == "Anything else? (required)"
    # Every control of the form has a label.
    assert all(c["id"] in p.labels for c in p.controls), \
        [c["id"] for c in p.controls if c["id"] not in p.labels]
    assert _responses(shop, s["id"]) == []

    # Every kind answered in one post: one complete response.
    r = _post(shop, link["token"], p.shown(),
              [("a.nps", "8"), ("a.csat", "4"), ("a.ces", "6"), ("a.stars", "5"),
               ("a.via", "other"), ("o.via", "A blog"), ("a.tags", "mug"), ("a.tags", "other"),
               ("o.tags", "Cups"), ("a.note", "Lovely")])
    assert r.status_code == 200, r.text
    assert "<h1>Thank you for your feedback</h1>" in r.text
    [resp] = _responses(shop, s["id"])
    assert resp["answers"] == {"nps": 8, "csat": 4, "ces": 6, "stars": 5, "via": "other",
                               "tags": ["mug", "other"], "note": "Lovely"}
    assert resp["other"] == {"via": "A blog", "tags": "Cups"} and resp["complete"] is True
    # Back on the page: everything prefilled, a note that it was answered.
    r = shop.anon.get(f"/s/{link['token']}")
    assert "You have already answered this survey" in r.text
    p2 = Page(r.text)
    assert p2.checked("a.nps") == ["8"] and p2.checked("a.tags") == ["mug", "other"]
    assert p2.checked("a.via") == ["other"] and p2.named("o.via")[0]["value"] == "A blog"
    assert p2.named("a.note")[0]["value"] == "Lovely"


def test_detractor_and_promoter_paths_without_javascript(rshop, pg):
    shop = rshop
    s, det = _link(shop, PATHS)
    _, pro = _link(shop, PATHS, survey=s)
    sid = s["id"]
    # Neither follow-up is shown before the score is given; the button says "Next".
    p = Page(shop.anon.get(f"/s/{det['token']}").text)
    assert p.shown() == ["nps", "more"]
    assert ">Next</button>" in str(shop.anon.get(f"/s/{det['token']}").text)

    # The detractor posts a 3: stored at once, and the page comes back with "What went wrong?".
    r = _post(shop, det["token"], ["nps", "more"], [("a.nps", "3")])
    assert r.status_code == 200, r.text
    p = Page(r.text)
    assert p.shown() == ["nps", "wrong", "more"] and p.checked("a.nps") == ["3"]
    assert p.labels["a-wrong"] == "What went wrong? (required)"
    assert "few more questions" in r.text and "What did you like most?" not in r.text
    [resp] = _responses(shop, sid)
    assert resp["answers"] == {"nps": 3} and resp["complete"] is False
    r = _post(shop, det["token"], p.shown(), [("a.nps", "3"), ("a.wrong", "Late, box dented")])
    assert r.status_code == 200 and "Thank you for your feedback" in r.text, r.text
    [resp] = _responses(shop, sid)
    assert resp["answers"] == {"nps": 3, "wrong": "Late, box dented"} and resp["complete"]

    # The promoter posts a 10: asked what they liked, not what went wrong.
    r = _post(shop, pro["token"], ["nps", "more"], [("a.nps", "10"), ("a.more", "Great")])
    p = Page(r.text)
    assert r.status_code == 200 and p.shown() == ["nps", "liked", "more"], r.text
    assert [c["value"] for c in p.named("a.liked")] == ["fast", "price"]
    assert p.named("a.more")[0]["value"] == "Great"
    assert "What went wrong?" not in r.text
    r = _post(shop, pro["token"], p.shown(),
              [("a.nps", "10"), ("a.liked", "fast"), ("a.more", "Great")])
    assert r.status_code == 200 and "Thank you for your feedback" in r.text
    by_inv = {x["invitation_id"]: x for x in _responses(shop, sid)}
    assert by_inv[pro["id"]]["answers"] == {"nps": 10, "liked": "fast", "more": "Great"}

    # The detractor changes their mind to a 9 with the complaint still in the
    # box: the complaint is no longer asked, so it is not stored, and the
    # promoter's question comes next. Still one response, updated.
    r = _post(shop, det["token"], ["nps", "wrong", "more"],
              [("a.nps", "9"), ("a.wrong", "Late, box dented")])
    p = Page(r.text)
    assert r.status_code == 200 and p.shown() == ["nps", "liked", "more"], r.text
    rows = db(pg, shop, "SELECT answers, created_at < updated_at FROM survey_responses"
                        " WHERE shop_id = %s AND invitation_id = %s", (shop.id, det["id"]))
    assert rows == [({"nps": 9}, True)], rows
    assert len(_responses(shop, sid)) == 2


def test_promoter_thank_you_offers_the_orders_open_review_request(rshop):
    shop = rshop
    s = create_survey(shop, name="Paths", questions=PATHS)
    o_fan, o_meh = _order(shop), _order(shop)
    fan = link_invitation(shop, s["id"], o_fan["id"])
    meh = link_invitation(shop, s["id"], o_meh["id"])
    req = shop.request_for_order(o_fan["id"])
    shop.request_for_order(o_meh["id"])
    r = _post(shop, fan["token"], ["nps", "more"], [("a.nps", "9")])
    r = _post(shop, fan["token"], Page(r.text).shown(), [("a.nps", "9"), ("a.liked", "price")])
    assert "Thank you for your feedback" in r.text, r.text
    m = re.search(r'<a class="review" href="([^"]+)">Review your order</a>', r.text)
    assert m, r.text
    link = html.unescape(m.group(1))
    assert link.startswith(shop.svc.url + "/review?token=")
    assert shop.public(link.split("token=", 1)[1]).json()["request_id"] == req["id"]
    # A passive gets the plain thank-you.
    r = _post(shop, meh["token"], ["nps", "more"], [("a.nps", "8")])
    assert "Thank you for your feedback" in r.text and "/review?token=" not in r.text


def test_one_click_score_then_the_rest(rshop):
    shop = rshop
    s, link = _link(shop, PATHS)
    path = f"/s/{link['token']}"
    # The email's score link: a GET preselects and asks the follow-up of that
    # score, and records nothing.
    r = shop.anon.get(path, params={"q": "nps", "v": "2"})
    p = Page(r.text)
    assert r.status_code == 200 and p.checked("a.nps") == ["2"] and "wrong" in p.shown()
    assert _responses(shop, s["id"]) == []
    # The one-click form's POST records the score and opens the page with the rest.
    r = shop.anon.post(path, data="q=nps&v=2", headers=FORM)
    p = Page(r.text)
    assert r.status_code == 200 and "Your answer (2) is recorded." in r.text, r.text
    assert p.shown() == ["nps", "wrong", "more"] and p.checked("a.nps") == ["2"]
    [resp] = _responses(shop, s["id"])
    assert resp["answers"] == {"nps": 2}
    # Opened again: the score is there, the rest still to answer (not "already answered").
    r = shop.anon.get(path)
    assert Page(r.text).checked("a.nps") == ["2"] and "already answered" not in r.text
    r = _post(shop, link["token"], p.shown(), [("a.nps", "2"), ("a.wrong", "Slow")])
    assert "Thank you for your feedback" in r.text
    [resp] = _responses(shop, s["id"])
    assert resp["answers"] == {"nps": 2, "wrong": "Slow"} and resp["complete"] is True


def test_missing_required_answer_is_a_clear_error_and_loses_nothing(rshop):
    shop = rshop
    s, link = _link(shop, ALL_KINDS)
    shown = [q["id"] for q in ALL_KINDS]
    r = _post(shop, link["token"], shown,
              [("a.csat", "2"), ("a.tags", "tea"), ("a.via", "other"), ("o.via", "A friend"),
               ("a.note", "Kept text")])
    assert r.status_code == 200, r.text
    p = Page(r.text)
    # A summary in an alert, linking to the question's first control...
    summary = re.search(r'<div class="errors" role="alert">(.*?)</div>', r.text).group(1)
    assert '<a href="#a-nps-0">Recommend us?</a>' in summary and "note" not in summary
    # ...and the error tied to the question's group.
    assert p.text_of("e-nps") == "Please answer this question."
    assert "e-nps" in p.ids["q-nps"][1]["aria-describedby"].split()
    assert all(c.get("aria-invalid") == "true" for c in p.named("a.nps"))
    # Every other answer is still on the page and already stored.
    assert p.checked("a.csat") == ["2"] and p.checked("a.tags") == ["tea"]
    assert p.checked("a.via") == ["other"] and p.named("o.via")[0]["value"] == "A friend"
    assert p.named("a.note")[0]["value"] == "Kept text"
    assert "Your other answers are saved." in r.text
    [resp] = _responses(shop, s["id"])
    assert resp["answers"] == {"csat": 2, "tags": ["tea"], "via": "other", "note": "Kept text"}
    assert resp["other"] == {"via": "A friend"} and resp["complete"] is False
    # A refused value (out of the scale, unknown choice, a text too long) is an error
    # on its question; the text comes back as typed; the rest is stored.
    long = "x" * 5001
    r = _post(shop, link["token"], shown,
              [("a.nps", "11"), ("a.csat", "5"), ("a.tags", "tea"), ("a.via", "radio"),
               ("a.note", long)])
    p = Page(r.text)
    assert r.status_code == 200
    assert p.text_of("e-nps") == "Please choose one of the answers shown."
    assert p.text_of("e-via") == "Please choose one of the answers shown."
    assert p.text_of("e-note") == "Please shorten this answer to at most 5000 characters."
    assert p.named("a.note")[0]["value"] == long
    assert p.named("a.note")[0]["aria-describedby"] == "e-note"
    [resp] = _responses(shop, s["id"])
    assert resp["answers"] == {"csat": 5, "tags": ["tea"]}, resp
    # An "other" text over its 500 characters: the error names that limit, the text stays.
    r = _post(shop, link["token"], shown, [("a.via", "other"), ("o.via", "y" * 501)])
    p = Page(r.text)
    assert p.text_of("e-via") == "Please shorten this answer to at most 500 characters."
    assert p.named("o.via")[0]["value"] == "y" * 501 and p.checked("a.via") == ["other"]


def test_double_submit_two_tabs_and_a_changed_answer_make_one_response(rshop, pg):
    shop = rshop
    s, link = _link(shop, PATHS)
    tok = link["token"]
    form = [("a.nps", "7"), ("a.more", "First")]
    # A double click: the same post twice, then five at once.
    assert _post(shop, tok, ["nps", "more"], form).status_code == 200
    assert _post(shop, tok, ["nps", "more"], form).status_code == 200
    codes = []

    def send():
        codes.append(_post(shop, tok, ["nps", "more"], form).status_code)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * 5
    rows = db(pg, shop, "SELECT id, answers FROM survey_responses WHERE shop_id = %s"
                        " AND invitation_id = %s", (shop.id, link["id"]))
    assert len(rows) == 1 and rows[0][1] == {"nps": 7, "more": "First"}, rows
    rid = rows[0][0]
    # Two tabs, both opened before either posts: the later post wins, still one response.
    tab_a = Page(shop.anon.get(f"/s/{tok}").text)
    tab_b = Page(shop.anon.get(f"/s/{tok}").text)
    assert tab_a.shown() == tab_b.shown() == ["nps", "more"]
    assert _post(shop, tok, tab_b.shown(), [("a.nps", "8"), ("a.more", "Tab B")]).status_code == 200
    assert _post(shop, tok, tab_a.shown(), [("a.nps", "5"), ("a.more", "Tab A")]).status_code == 200
    rows = db(pg, shop, "SELECT id, answers FROM survey_responses WHERE shop_id = %s"
                        " AND invitation_id = %s", (shop.id, link["id"]))
    assert rows == [(rid, {"nps": 5, "more": "Tab A"})], rows
    # A changed answer: the response is updated, the text cleared by an empty box.
    r = _post(shop, tok, ["nps", "wrong", "more"], [("a.nps", "6"), ("a.wrong", "Slow"),
                                                    ("a.more", "")])
    assert r.status_code == 200 and "Thank you for your feedback" in r.text, r.text
    [resp] = _responses(shop, s["id"])
    assert resp["id"] == rid and resp["answers"] == {"nps": 6, "wrong": "Slow"}
    assert db(pg, shop, "SELECT created_at < updated_at FROM survey_responses WHERE id = %s",
              (rid,)) == [(True,)]


def test_labels_choices_and_answers_are_escaped(rshop):
    shop = rshop
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    qs = [{"id": "nps", "kind": "nps", "label": {"en": "Rate " + evil}},
          {"id": "pick", "kind": "single_choice", "other": True, "label": {"en": "Pick " + evil},
           "choices": [{"id": "a", "label": {"en": "A " + evil}}]},
          {"id": "txt", "kind": "text", "label": {"en": "Say " + evil}}]
    s, link = _link(shop, qs)
    typed = '</textarea><script>alert(3)</script>'
    r = _post(shop, link["token"], ["nps", "pick", "txt"],
              [("a.nps", "4"), ("a.pick", "other"), ("o.pick", '"><script>alert(4)</script>'),
               ("a.txt", typed)])
    assert r.status_code == 200
    page = shop.anon.get(f"/s/{link['token']}").text
    for text in (page,):
        assert "<script" not in text and "<img" not in text and "onerror=alert(2)>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x" in text
        assert "&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in text
        assert 'value="&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"' in text
    p = Page(page)
    assert p.named("a.txt")[0]["value"] == typed
    assert p.labels["a-pick-a"] == " ".join(("A " + evil).split())
    [resp] = _responses(shop, s["id"])
    assert resp["answers"]["txt"] == typed


def test_refused_tokens_get_a_clear_page(rshop, rv_svc, rv_admin, wfake, sink, pg):
    shop = rshop
    s, link = _link(shop, PATHS)
    tok = link["token"]
    head, body, sig = tok.split(".")
    tampered = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    expired = mint(shop.token_secret, claims_for(shop.id, email="x@example.com", scope="survey",
                                                 ttl=-10, rid=link["id"]))
    for bad in (tampered, expired, "not-a-token"):
        for r in (shop.anon.get(f"/s/{bad}"), _post(shop, bad, ["nps"], [("a.nps", "1")])):
            assert r.status_code == 401 and "<h1>This link does not work</h1>" in r.text, r.text
            assert "<form" not in r.text
    r = shop.anon.get(f"/s/{shop.token(link['id'], scope='review')}")
    assert r.status_code == 403 and "This link does not work" in r.text
    other = ReviewShop(rv_svc, rv_admin, wfake, sink)
    try:
        foreign = mint(other.token_secret, claims_for(other.id, email="x@example.com",
                                                      scope="survey", rid=link["id"]))
        for r in (shop.anon.get(f"/s/{foreign}"), _post(shop, foreign, ["nps"], [("a.nps", "1")])):
            assert r.status_code == 404 and "This survey no longer exists" in r.text, r.text
    finally:
        other.close()
    assert _responses(shop, s["id"]) == []
    # An expired invitation: closed, for the page and for a post.
    db(pg, shop, "UPDATE survey_invitations SET expires_at = now() - interval '1 second'"
                 " WHERE shop_id = %s AND id = %s", (shop.id, link["id"]))
    for r in (shop.anon.get(f"/s/{tok}"), _post(shop, tok, ["nps"], [("a.nps", "1")])):
        assert r.status_code == 409 and "<h1>This survey is closed</h1>" in r.text, r.text
    assert _responses(shop, s["id"]) == []


def test_a_german_customer_gets_german(rshop):
    shop = rshop
    # The shop writes English; the customer's locale is German (de-AT -> de).
    s, link = _link(shop, PATHS, locale="de-AT")
    assert link["invitation"]["locale"] == "de"
    r = shop.anon.get(f"/s/{link['token']}")
    assert r.status_code == 200 and '<html lang="de">' in r.text
    p = Page(r.text)
    assert f"<h1>{shop.name} möchte Ihre Meinung wissen</h1>" in r.text
    assert p.fieldsets[0]["legend"] == "Würden Sie uns empfehlen? (Pflichtfeld)"
    assert ">Weiter</button>" in r.text or ">Absenden</button>" in r.text
    r = _post(shop, link["token"], ["nps", "more"], [("a.nps", "2")])
    assert Page(r.text).labels["a-wrong"] == "Was ist schiefgelaufen? (Pflichtfeld)"
    r = _post(shop, link["token"], ["nps", "more", "wrong"], [("a.nps", "2")])
    assert r.status_code == 200 and "Bitte beantworten Sie diese Frage." in r.text, r.text
    # A language the catalogues lack is refused.
    o = _order(shop)
    wait_for(lambda: list_all(shop.api, "/v1/events", kind="order.completed", order_id=o["id"]),
             10, interval=0.05, what="order")
    r = shop.api.post(f"/v1/surveys/{s['id']}/invitations", json={"order_id": o["id"],
                                                                  "locale": "fr"})
    assert r.status_code == 422 and r.json()["field"] == "locale", r.text


def test_the_email_and_page_follow_the_orders_review_request_locale(rshop):
    """No locale on the invitation: the order's review request's (set by
    POST /v1/review-requests) is the customer's; the email is German too."""
    shop = rshop
    r = shop.api.put("/v1/messaging/settings",
                     json={"contact_policy": {"max_messages": 100, "period": "PT1S"}})
    assert r.status_code == 200, r.text
    s = create_survey(shop, name="NPS", status="active", questions=PATHS, recontact_days=0,
                      trigger={"event": "order.completed", "delay": "PT2S"})
    mug = shop.fake.add_product("Tasse", "9.00")["id"]
    email = unique_email("de")
    o = shop.order([mug], email, first_name="Jonas")
    # The webhook is processed by a job: retry until aftersale knows the order.
    r = wait_for(lambda: (lambda x: x if x.status_code != 422 else None)(
        shop.api.post("/v1/review-requests", json={"order_id": o["id"], "locale": "de"})),
        10, interval=0.1, what="the order to be known")
    assert r.status_code == 201, r.text
    shop.complete(o["id"])
    [mail] = wait_for(lambda: [m for m in shop.mails(email) if "Meinung" in m.subject] or None,
                      15, interval=0.1, what="the German survey email")
    assert mail.subject == f"{shop.name} möchte Ihre Meinung wissen", mail.subject
    [inv] = list_all(shop.api, f"/v1/surveys/{s['id']}/invitations")
    assert inv["locale"] is None
    path = re.search(r"https?://[^/\s]+(/s/[A-Za-z0-9._-]+)", mail.text).group(1)
    r = shop.anon.get(path)
    assert r.status_code == 200 and '<html lang="de">' in r.text, r.text
