"""The returns portal in a real browser: headless Chromium (Debian's
/usr/bin/chromium) driven by playwright-core through
tests/browser/returns_portal.mjs.

A guest finds their order by number and billing email, asks to return one
of two items as damaged with a photo chosen in the line's file input, and
gets the request page with its RMA number and the photo shown. The shop
API must then hold that request, with the photo's exact bytes on that
line. Screenshot: build/artifacts/screenshots/returns-portal.png.

Needs: chromium (apt, scripts/install-deps), node, and
`cd tests/browser && npm install --no-audit --no-fund`. Skipped only when
/usr/bin/chromium is absent.
"""

import shutil
import tempfile
from pathlib import Path

from browser_helpers import SHOTS, assert_png, browser_ready, png, run_browser_script  # noqa: F401
from returns_helpers import fake, shop, woo_admin, woo_db, woo_svc  # noqa: F401

SCRIPT = "returns_portal.mjs"


def test_guest_returns_an_item_with_a_photo_in_headless_chromium(shop, browser_ready):
    shop.settings(instructions="Pack it well.")
    o = shop.order([("Teapot", "35.00", 1), ("Tray", "12.00", 1)], email="guest.b@example.com")
    teapot, tray = (li["id"] for li in o["line_items"])
    photo = png(64, 48)
    tmp = Path(tempfile.mkdtemp(prefix="aftersale-portal-"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "returns-portal.png"
    try:
        (tmp / "teapot.png").write_bytes(photo)
        _, out = run_browser_script(browser_ready, SCRIPT, f"{shop.svc.url}/returns?shop={shop.id}", shot,
                                    o["id"], "guest.b@example.com", teapot, tmp / "teapot.png")
        assert out["ok"] and out["errors"] == [] and out["failed"] == [], out
        # No console errors but the one 404 of the favicon Chromium asks for
        # by itself (not a request of the page: every request the page made
        # answered below 400, `failed` is empty).
        assert [c for c in out["console"]
                if "status of 404" not in c] == [] and len(out["console"]) <= 1, out
        assert out["state"] == "requested" and out["title"] == "Return requested", out
        assert [(i["width"], i["alt"]) for i in out["images"]] == [(64, "Photo 1: Teapot")], out
        # the browser talked to the service only: the form, two posts, the photo
        paths = [r.split(" ", 1)[1] for r in out["requests"] if r != "GET /favicon.ico"]
        assert paths[:3] == ["/returns", "/returns", "/returns"], out
        assert [r for r in paths[3:] if not r.startswith("/returns/photos/")] == [], out
        assert_png(shot)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # the shop sees the request, one line, and the photo's very bytes on it
    [ret] = shop.api.get("/v1/returns", params={"order_id": o["id"]}).json()["items"]
    assert ret["rma"] == out["rma"] and ret["created_by"] == "customer"
    assert [(l["line_item_id"], l["quantity"], l["reason"], l["note"]) for l in ret["lines"]] == \
        [(teapot, 1, "damaged", "Arrived <b>cracked</b>")]
    assert tray not in [l["line_item_id"] for l in ret["lines"]]
    [ph] = ret["photos"]
    assert ph["line_item_id"] == teapot and ph["media_type"] == "image/png"
    got = shop.api.get(f"/v1/returns/{ret['id']}/photos/{ph['id']}")
    assert got.status_code == 200 and got.content == photo
