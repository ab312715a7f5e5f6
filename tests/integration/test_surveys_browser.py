"""The survey answer page in a real browser, keyboard only: headless
Chromium (Debian's /usr/bin/chromium) driven by playwright-core through
tests/browser/survey_page.mjs.

A detractor (score 3) is asked "What went wrong?" after posting the score,
first submits it empty (the error, tied to the field, the other text kept),
then answers; a promoter (10) is asked "What did you like most?" instead.
No script on the page, every control labelled, every fieldset with a
legend, no console error. The answers must then be stored, one response
per invitation. The detractor's error step is saved as
build/artifacts/screenshots/survey_page.png (CI artefact).

Needs: chromium (apt, scripts/install-deps), node, and
`cd tests/browser && npm install --no-audit --no-fund`. Skipped only when
/usr/bin/chromium is absent.
"""

from browser_helpers import SHOTS, assert_png, browser_ready, run_browser_script  # noqa: F401
from surveys_helpers import (create_survey, link_invitation, list_all, rshop,  # noqa: F401
                             rv_admin, rv_db, rv_svc, sink, unique_email, wfake)
from test_surveys_page import PATHS

SCRIPT = "survey_page.mjs"


def _run(node, url, shot, path):
    _, out = run_browser_script(node, SCRIPT, url, shot, path)
    assert out["ok"], out
    # Accessible and clean at every step.
    assert out["unlabelled"] == [] and out["fieldsets_without_legend"] == 0, out
    assert out["scripts"] == 0, out
    assert out["errors"] == [], out
    assert [c for c in out["console"] if c.startswith(("error", "warning"))] == [], out
    assert out["lang"] == "en", out
    return out


def _order(shop):
    mug = shop.fake.add_product("Mug", "20.00")["id"]
    return shop.completed_order([mug], unique_email("chrome"))


def test_survey_page_by_keyboard_in_headless_chromium(rshop, browser_ready):
    shop = rshop
    s = create_survey(shop, name="NPS", questions=PATHS)
    det = link_invitation(shop, s["id"], _order(shop)["id"])
    pro = link_invitation(shop, s["id"], _order(shop)["id"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "survey_page.png"

    out = _run(browser_ready, det["url"], shot, "detractor")
    assert out["checked"] == "3", out
    start, follow, error, end = out["steps"]
    assert start["legends"] == ["Recommend us? (required)"], start
    assert "What went wrong? (required)" not in start["labels"]
    assert "What went wrong? (required)" in follow["labels"], follow
    assert "What did you like most?" not in follow["legends"]
    assert error["alert"] and "What went wrong?" in error["alert"], error
    assert out["error_text"] == "Please answer this question.", out
    assert out["wrong_described_by"] == "e-wrong", out
    assert out["kept_more"] == "The box was dented.", out
    assert end["h1"] == "Thank you for your feedback", end
    # Form posts to the page itself, nothing else (no API call, no third party).
    assert set(out["requests"]) == {f"GET /s/{det['token']}", f"POST /s/{det['token']}"}, out
    assert_png(shot, min_bytes=5000)

    out = _run(browser_ready, pro["url"], SHOTS / "survey_page_promoter.png", "promoter")
    assert out["checked"] == "10" and out["liked"] == "fast", out
    follow = out["steps"][1]
    assert follow["legends"] == ["Recommend us? (required)", "What did you like most?"], follow
    assert "What went wrong? (required)" not in follow["labels"]

    by_inv = {r["invitation_id"]: r for r in list_all(shop.api,
                                                      f"/v1/surveys/{s['id']}/responses")}
    assert set(by_inv) == {det["id"], pro["id"]}
    assert by_inv[det["id"]]["answers"] == {"nps": 3, "wrong": "It came a week late.",
                                            "more": "The box was dented."}
    assert by_inv[det["id"]]["complete"] is True
    assert by_inv[pro["id"]]["answers"] == {"nps": 10, "liked": "fast"}
