"""The review page in a real browser: headless Chromium (Debian's
/usr/bin/chromium) driven by playwright-core through
tests/browser/review_page.mjs.

A request is prepared (completed order -> email in the SMTP sink); the
script opens the link from the email, clicks the 5th star of one product
and the 2nd of another, types a title and a text for each, submits and
waits for "Thank you", and saves a screenshot. The reviews must then exist
through the API, with what was typed.

Needs: chromium (apt, scripts/install-deps), node, and
`cd tests/browser && npm install --no-audit --no-fund`. Skipped only when
/usr/bin/chromium is absent.
"""

import os
import shutil
import tempfile
from pathlib import Path

from browser_helpers import assert_png, browser_ready, run_browser_script  # noqa: F401
from reviews_helpers import (rshop, rv_admin, rv_db, rv_svc, sink, token_of,  # noqa: F401
                             unique_email, wfake)

SCRIPT = "review_page.mjs"


def test_review_page_in_headless_chromium(rshop, browser_ready):
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=4)
    kettle = shop.fake.add_product("Kettle", "40.00")["id"]
    toaster = shop.fake.add_product("Toaster", "25.00")["id"]
    email = unique_email("browser")
    order = shop.completed_order([kettle, toaster], email, first_name="Bea")
    [mail] = shop.wait_mails(email)
    link = mail.review_link

    shot_dir = Path(tempfile.mkdtemp(prefix="aftersale-shot-"))
    shot = shot_dir / "review-page.png"
    try:
        _, out = run_browser_script(browser_ready, SCRIPT, link, shot,
                                    f"{kettle}:5:Boils fast, quiet too.", f"{toaster}:2:Burns one side.")
        assert out["ok"] and out["status"].startswith("Thank you"), out
        assert out["errors"] == [], out
        assert out["checked"] == {str(kettle): "5", str(toaster): "2"}, out
        assert out["title"] == f"Review your order from {shop.name}", out
        # The page talked to no one but the service: the page, then the API.
        assert out["requests"][0].startswith("GET /review"), out
        assert f"POST /v1/public/review-requests/{token_of(link)}/reviews" in out["requests"], out
        assert_png(shot, min_bytes=5000)
        if os.environ.get("KEEP_SCREENSHOT"):
            shutil.copy(shot, os.environ["KEEP_SCREENSHOT"])
    finally:
        shutil.rmtree(shot_dir, ignore_errors=True)

    # What was clicked and typed is what aftersale stored.
    got = {r["product_id"]: r for r in shop.reviews()}
    assert set(got) == {kettle, toaster}
    assert (got[kettle]["rating"], got[kettle]["status"]) == (5, "approved")
    assert (got[toaster]["rating"], got[toaster]["status"]) == (2, "pending")
    assert got[kettle]["title"] == "5 stars" and got[kettle]["body"] == "Boils fast, quiet too."
    assert got[toaster]["body"] == "Burns one side."
    assert got[kettle]["reviewer_email"] == email and got[kettle]["order_id"] == order["id"]
    assert shop.request_for_order(order["id"])["status"] == "answered"
    shop.wait_published(got[kettle]["id"])


def test_review_page_in_the_browsers_language(rshop, browser_ready):
    """The shop writes Polish by default; a browser that asks for German gets
    the page, its button and the script's status line in German."""
    shop = rshop
    shop.settings(delay="PT0S", reminder_count=0, auto_approve_min_rating=4)
    r = shop.api.put("/v1/messaging/settings",
                     json={"default_locale": "pl", "accent_color": "#0f766e"})
    assert r.status_code == 200, r.text
    kettle = shop.fake.add_product("Wasserkocher", "40.00")["id"]
    email = unique_email("browser-de")
    shop.completed_order([kettle], email, first_name="Jonas")
    [mail] = shop.wait_mails(email)
    assert mail.subject.startswith("Jak oceniasz"), mail.subject
    shot_dir = Path(tempfile.mkdtemp(prefix="aftersale-shot-"))
    shot = shot_dir / "review-page-de.png"
    results = {}
    try:
        for locale, expect in (("de-DE", "Vielen Dank"),):
            env = dict(os.environ, PAGE_LOCALE=locale, EXPECT_STATUS=expect)
            results[locale] = run_browser_script(browser_ready, SCRIPT, mail.review_link, shot,
                                                 f"{kettle}:4:Sehr gut.", env=env, expect_ok=False)
            if os.environ.get("KEEP_SCREENSHOT") and locale == "de-DE":
                shutil.copy(shot, os.environ["KEEP_SCREENSHOT"])
    finally:
        shutil.rmtree(shot_dir, ignore_errors=True)
    code, out = results["de-DE"]
    assert code == 0 and out["ok"], out
    assert out["lang"] == "de" and out["button"] == "Bewertung senden", out
    assert out["title"] == f"Bewerten Sie Ihre Bestellung bei {shop.name}", out
    assert out["status"] == "Vielen Dank! Ihre Bewertung wurde gesendet.", out
    assert out["errors"] == [], out
    # Without a language of its own the reader gets the shop's (Polish),
    # here telling that the product is reviewed.
    page = shop.anon.get("/review?token=" + token_of(mail.review_link),
                         headers={"Accept-Language": "pl"})
    assert "Oceniono: dziękujemy!" in page.text
    [review] = shop.reviews()
    assert review["rating"] == 4 and review["body"] == "Sehr gut."

