"""Running the browser scripts of tests/browser from pytest.

Each script (review_page.mjs, survey_page.mjs, returns_portal.mjs here; the
real shop's plugin_*.mjs and admin_*.mjs through tests/realwoo/real_helpers.py)
drives Debian's /usr/bin/chromium through playwright-core and prints one JSON
line on stdout. `require_browser` checks what they need (skips only when
Chromium is absent), `run_browser_script` runs one and returns its exit code
and that JSON. Screenshots meant as CI artefacts go to SHOTS
(build/artifacts/screenshots/).
"""

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
BROWSER_DIR = REPO / "tests" / "browser"
SHOTS = REPO / "build" / "artifacts" / "screenshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NODE_TIMEOUT_S = 60


def require_browser(install_hint="cd tests/browser && npm install --no-audit --no-fund"):
    """The path of node, once Chromium, node and playwright-core are there.

    Skips the test only when /usr/bin/chromium is absent; a missing node or
    playwright-core fails it (`install_hint` says how to install the latter).
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium (scripts/install-deps)")
    node = shutil.which("node")
    assert node, "node is missing: apt-get install -y nodejs (scripts/install-deps)"
    assert (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(), (
        f"playwright-core is not installed: {install_hint}")
    return node


@pytest.fixture
def browser_ready():
    """node's path, the browser scripts' needs checked (see require_browser)."""
    return require_browser()


def run_browser_script(node, script, *args, env=None, timeout=NODE_TIMEOUT_S, expect_ok=True):
    """Run tests/browser/`script` with `args`; returns (exit code, its JSON line).

    Fails when the script printed no JSON line, and with `expect_ok` also
    when it did not exit 0; stdout and stderr are in the message.
    """
    p = subprocess.run([node, str(BROWSER_DIR / script), *map(str, args)], cwd=BROWSER_DIR,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert lines and (p.returncode == 0 or not expect_ok), (
        f"{script} {' '.join(map(str, args))[:200]}: exit {p.returncode}\n"
        f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
    return p.returncode, json.loads(lines[-1])


def assert_png(path, min_bytes=0):
    """`path` is a PNG file (a screenshot) of at least `min_bytes`."""
    path = Path(path)
    assert path.is_file(), f"no screenshot {path}"
    assert path.read_bytes()[:8] == PNG_MAGIC, path
    assert path.stat().st_size > min_bytes, f"{path}: {path.stat().st_size} bytes"


def png(width, height):
    """A real PNG (RGB stripes) the browser decodes, made without PIL: the
    photo the returns portal's scripts attach."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"".join(bytes((x * 5 % 256, y * 7 % 256, 120)) for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
