"""Integration harness: a real PostgreSQL, the real binary, HTTP from outside.

What this file owns
  * PgCluster: a throwaway PostgreSQL 15 cluster (initdb as user postgres,
    trust auth, fsync off, a free port on 127.0.0.1, a private socket dir).
  * Service: one `aftersale serve` process with its own env, port and log
    files; stop() sends SIGTERM and checks exit 0 and a clean stderr (no
    AddressSanitizer / UBSan / LeakSanitizer reports).
  * Client: a requests.Session bound to a base URL with a default timeout;
    every response goes through openapi_check.check() (the contract in
    openapi/openapi.yaml) once tests/integration/openapi_check.py exists.
  * Fixtures: pg (session cluster), service (migrated db + serving),
    admin (admin client), new_shop (factory), service_factory (extra
    instances with custom env), fresh_db (an empty database), cli (run
    any subcommand of the binary).

Invariants
  * Everything started here is stopped at the end, even on failure: fixture
    finalizers first, an atexit hook as a last resort.
  * Nothing waits without a timeout: HTTP requests (10 s), subprocesses,
    and every test is bounded by a SIGALRM watchdog (TEST_TIMEOUT_S).

Environment
  AFTERSALE_BIN            binary under test (default: <repo>/build/aftersale)
  AFTERSALE_REQUIRE_OPENAPI_CHECK=1
                           fail (instead of skipping the check) when
                           openapi_check.py is missing
  PG_BIN                   PostgreSQL bin dir (default /usr/lib/postgresql/15/bin)
"""

import atexit
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from requests.structures import CaseInsensitiveDict

# Test modules import the helpers below as `aftersale_it`: a unique name that
# another directory's conftest.py (also imported as "conftest") cannot shadow.
sys.modules["aftersale_it"] = sys.modules[__name__]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AFTERSALE_BIN = os.environ.get("AFTERSALE_BIN", str(REPO / "build" / "aftersale"))
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
HTTP_TIMEOUT = 10.0
TEST_TIMEOUT_S = int(os.environ.get("TEST_TIMEOUT_S", "120"))
MAX_BODY_BYTES = 65536

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

# Every process / cluster started by this module, for the atexit safety net.
_LIVE_PROCS = set()
_LIVE_CLUSTERS = set()
_LOCK = threading.Lock()

# Secrets handed out during the session; the logs must never contain them.
ISSUED_SECRETS = set()


# --------------------------------------------------------------------------
# small utilities


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_secret_key():
    return secrets.token_hex(32)


def _require_binary():
    if not os.access(AFTERSALE_BIN, os.X_OK):
        pytest.fail(f"service binary {AFTERSALE_BIN} missing: run `make` (or set AFTERSALE_BIN)",
                    pytrace=False)


def _scan_sanitizer(text):
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


# --------------------------------------------------------------------------
# PostgreSQL


class PgCluster:
    """A private PostgreSQL cluster owned by the postgres user."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="aftersale-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.logfile = self.base / "postgres.log"
        self.sock.mkdir(mode=0o700)
        shutil.chown(self.base, "postgres", "postgres")
        shutil.chown(self.sock, "postgres", "postgres")
        os.chmod(self.base, 0o755)  # root-owned tests read the log; data stays 0700
        self.port = free_port()
        self.running = False
        self._pg(["initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "-D", str(self.data)], timeout=120)
        with _LOCK:
            _LIVE_CLUSTERS.add(self)

    def _pg(self, args, timeout=60, check=True):
        cmd = ["runuser", "-u", "postgres", "--", str(PG_BIN / args[0])] + args[1:]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=self.base)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n"
                               f"{p.stdout.decode(errors='replace')}\n{self.log_text()}")
        return p

    def log_text(self):
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def start(self):
        opts = (f"-c port={self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.sock} -c fsync=off "
                f"-c full_page_writes=off -c synchronous_commit=off -c max_connections=200")
        self._pg(["pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                  "-o", opts, "start"], timeout=90)
        self.running = True

    def stop(self, mode="fast"):
        if not self.running:
            return
        p = self._pg(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"],
                     timeout=60, check=False)
        if p.returncode != 0:
            self._kill_postmaster()
        self.running = False

    def _kill_postmaster(self):
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass

    def destroy(self):
        try:
            self.stop()
        finally:
            with _LOCK:
                _LIVE_CLUSTERS.discard(self)
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, db):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def connect(self, db="postgres"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db,
                                connect_timeout=10)
        conn.autocommit = True
        return conn

    def create_db(self, name=None):
        name = name or f"db_{secrets.token_hex(6)}"
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return name

    def query(self, db, sql, params=None):
        conn = self.connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()


# --------------------------------------------------------------------------
# HTTP client


_checker = None
_checker_loaded = False


def _openapi_checker():
    """openapi_check.check, imported lazily; None while the module does not exist."""
    global _checker, _checker_loaded
    if not _checker_loaded:
        try:
            import openapi_check  # noqa: WPS433 (lazy on purpose)
            _checker = openapi_check.check
        except ModuleNotFoundError as exc:
            if exc.name != "openapi_check":
                raise
            if os.environ.get("AFTERSALE_REQUIRE_OPENAPI_CHECK") == "1":
                raise
            _checker = None
        _checker_loaded = True
    return _checker


def openapi_check(resp):
    check = _openapi_checker()
    if check is not None:
        check(resp)


def _remember_secrets(resp):
    """Collect every secret the service hands out, to search the logs for them later."""
    try:
        body = resp.json()
    except ValueError:
        return
    if isinstance(body, dict):
        for k in ("api_key", "webhook_secret", "token_secret"):
            v = body.get(k)
            if isinstance(v, str) and len(v) >= 16:
                ISSUED_SECRETS.add(v)


class Client:
    """requests.Session bound to one service, with a default timeout and the contract check.

    Every response is passed to openapi_check.check(); requests that must not be
    checked do not exist: use raw_http() only where requests cannot speak the
    protocol, and it checks too.
    """

    def __init__(self, base_url, token=None, check=True):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.token = token
        self.check = check
        self.history = []  # (method, path, status)

    def with_token(self, token):
        return Client(self.base_url, token, self.check)

    def request(self, method, path, *, token=..., headers=None, timeout=HTTP_TIMEOUT, **kw):
        h = {}
        tok = self.token if token is ... else token
        if tok is not None:
            h["Authorization"] = f"Bearer {tok}"
        if headers:
            h.update(headers)
        h = {k: v for k, v in h.items() if v is not None}
        resp = self.session.request(method, self.base_url + path, headers=h, timeout=timeout,
                                    allow_redirects=False, **kw)
        self.history.append((method, path, resp.status_code))
        _remember_secrets(resp)
        if self.check:
            openapi_check(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.session.close()


def make_response(method, url, status, reason, headers, body):
    """Wrap a response read off a raw socket as a requests.Response (for check())."""
    resp = requests.Response()
    resp.status_code = status
    resp.reason = reason
    resp.headers = CaseInsensitiveDict(headers)
    resp._content = body
    resp.url = url
    resp.encoding = "utf-8"
    resp.request = requests.Request(method, url).prepare()
    return resp


def read_http_response(sock, method, url):
    """Parse one HTTP response from a connected socket; returns a checked requests.Response."""
    hr = http.client.HTTPResponse(sock, method=method)
    hr.begin()
    body = hr.read()
    resp = make_response(method, url, hr.status, hr.reason, hr.getheaders(), body)
    resp.raw_version = hr.version
    openapi_check(resp)
    return resp


def raw_http(port, data, method, path, timeout=HTTP_TIMEOUT):
    """Send raw bytes to 127.0.0.1:port and parse the response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_http_response(s, method, f"http://127.0.0.1:{port}{path}")


# --------------------------------------------------------------------------
# problem and shape helpers (import with `from aftersale_it import ...`)


RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
API_KEY_RE = re.compile(r"^ask_[A-Za-z0-9_-]{43}$")
SHOP_FIELDS = {"id", "name", "url", "consumer_key_hint", "currency", "timezone",
               "created_at", "updated_at"}
CREATE_EXTRA = {"api_key", "api_key_id", "webhook_secret", "token_secret"}


def assert_problem(resp, status, ptype, field=None):
    """Assert an RFC 9457 problem with the given status and /problems/<ptype>."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text[:500]}"
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/problem+json", ctype
    body = resp.json()
    assert isinstance(body, dict), body
    assert body.get("type") == f"/problems/{ptype}", body
    assert body.get("status") == status, body
    for k in ("title", "detail", "request_id"):
        assert isinstance(body.get(k), str) and body[k], f"problem without {k}: {body}"
    assert body["request_id"] == resp.headers.get("X-Request-Id"), (body, dict(resp.headers))
    if field is not None:
        assert body.get("field") == field, f"expected field {field!r}: {body}"
    return body


def assert_shop_shape(shop):
    assert set(shop) == SHOP_FIELDS, f"shop keys {sorted(shop)}"
    assert isinstance(shop["id"], int) and shop["id"] >= 1
    assert RFC3339_UTC.match(shop["created_at"]), shop["created_at"]
    assert RFC3339_UTC.match(shop["updated_at"]), shop["updated_at"]


def json_keys(obj):
    """Every key anywhere in a JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from json_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from json_keys(v)


_counter = itertools.count(1)


def shop_body(**overrides):
    n = next(_counter)
    tag = secrets.token_hex(4)
    body = {
        "name": f"Shop {n} {tag}",
        "url": f"https://shop{n}-{tag}.example",
        "consumer_key": f"ck_{secrets.token_hex(20)}",
        "consumer_secret": f"cs_{secrets.token_hex(20)}",
        "currency": "EUR",
        "timezone": "Europe/Bratislava",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


# --------------------------------------------------------------------------
# the service


def run_cli(args, env, timeout=60, input=None):
    """Run the binary with args; returns CompletedProcess (text)."""
    _require_binary()
    full_env = dict(os.environ)
    for k, v in env.items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = str(v)
    p = subprocess.run([AFTERSALE_BIN] + list(args), env=full_env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, text=True, input=input,
                       errors="replace")
    bad = _scan_sanitizer(p.stderr)
    assert not bad, f"sanitizer report from `aftersale {' '.join(args)}`:\n" + p.stderr[-6000:]
    return p


class Service:
    """One `aftersale serve` process."""

    def __init__(self, env, logdir, name="svc", args=("serve",)):
        _require_binary()
        self.env = dict(os.environ)
        for k, v in env.items():
            if v is None:
                self.env.pop(k, None)
            else:
                self.env[k] = str(v)
        self.port = int(self.env["PORT"]) if str(self.env.get("PORT", "")).isdigit() else None
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = self.env.get("ADMIN_TOKEN")
        logdir.mkdir(parents=True, exist_ok=True)
        self.out_path = logdir / f"{name}.stdout.log"
        self.err_path = logdir / f"{name}.stderr.log"
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([AFTERSALE_BIN] + list(args), env=self.env,
                                     stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.returncode = None
        self.stopped = False
        with _LOCK:
            _LIVE_PROCS.add(self.proc)

    # -- logs
    def stdout(self):
        return self.out_path.read_text(errors="replace")

    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def logs(self):
        return self.stdout() + "\n" + self.stderr()

    def log_records(self):
        """Every JSON object line on stdout and stderr."""
        recs = []
        for line in self.logs().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    recs.append(obj)
        return recs

    # -- lifecycle
    def wait_healthy(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode} during start-up:\n"
                                   f"{self.stderr()[-4000:]}\n{self.stdout()[-2000:]}")
            try:
                r = requests.get(self.url + "/healthz", timeout=2)
                if r.status_code == 200:
                    return self
                last = r.status_code
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.05)
        raise RuntimeError(f"service not healthy after {timeout}s (last: {last}):\n"
                           f"{self.stderr()[-4000:]}")

    def wait_exit(self, timeout=10.0):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._forget()
        return self.returncode

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.returncode = self.proc.wait(timeout=10)
        self.stopped = True
        self._forget()

    def _forget(self):
        with _LOCK:
            _LIVE_PROCS.discard(self.proc)
        for f in (self._out, self._err):
            if not f.closed:
                f.close()

    def stop(self, check=True):
        """SIGTERM; assert exit 0 within 10 s and no sanitizer report on stderr.

        If a test already reaped the process (wait_exit), only the stderr scan runs.
        """
        reaped_by_test = self.returncode is not None
        died_early = None if reaped_by_test else self.proc.poll()
        if not reaped_by_test:
            self.terminate()
            if self.wait_exit(10.0) is None:
                self.kill()
                if check:
                    raise AssertionError(f"service did not exit within 10 s of SIGTERM:\n"
                                         f"{self.stderr()[-4000:]}")
                return None
        rc = self.returncode
        self.stopped = True
        if check:
            bad = _scan_sanitizer(self.stderr())
            assert not bad, ("sanitizer report:\n" + "\n".join(bad[:50]) + "\n"
                             + self.stderr()[-6000:])
            if died_early is not None:
                raise AssertionError(f"service had already exited ({died_early}) before SIGTERM:\n"
                                     f"{self.stderr()[-4000:]}")
            if not reaped_by_test:
                assert rc == 0, f"exit code {rc} after SIGTERM:\n{self.stderr()[-4000:]}"
        return rc

    def client(self, token=None):
        return Client(self.url, token)


def _atexit_cleanup():
    with _LOCK:
        procs = list(_LIVE_PROCS)
        clusters = list(_LIVE_CLUSTERS)
    for p in procs:
        try:
            p.kill()
            p.wait(timeout=5)
        except Exception:  # noqa: BLE001 (last-resort cleanup)
            pass
    for c in clusters:
        try:
            c.destroy()
        except Exception:  # noqa: BLE001
            pass


atexit.register(_atexit_cleanup)


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(autouse=True)
def _watchdog():
    """No test may hang: SIGALRM after TEST_TIMEOUT_S raises in the test."""
    def boom(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT_S}s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="aftersale-it-"))
    yield d
    if os.environ.get("KEEP_LOGS") != "1":
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pg():
    _require_binary()
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def secret_key():
    return random_secret_key()


@pytest.fixture(scope="session")
def admin_token():
    return "adm_" + secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def db_name(pg):
    return pg.create_db("aftersale")


@pytest.fixture(scope="session")
def base_env(pg, db_name, secret_key, admin_token):
    """The env of the main service; copy and change it for extra instances."""
    return {
        "DATABASE_URL": pg.url(db_name),
        "BIND": "127.0.0.1",
        "PORT": None,  # filled per instance
        "ADMIN_TOKEN": admin_token,
        "AFTERSALE_SECRET_KEY": secret_key,
        "THREADS": "4",
        "DB_POOL_SIZE": "8",
        "LOG_LEVEL": "info",
        "MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    }


@pytest.fixture(scope="session")
def migrated(base_env):
    p = run_cli(["migrate"], base_env)
    assert p.returncode == 0, f"migrate failed ({p.returncode}):\n{p.stderr}\n{p.stdout}"
    return True


class ServiceFactory:
    def __init__(self, base_env, logdir):
        self.base_env = base_env
        self.logdir = logdir
        self.services = []
        self._n = itertools.count(1)

    def start(self, env=None, wait=True, name=None, args=("serve",)):
        e = dict(self.base_env)
        e["PORT"] = str(free_port())
        if env:
            e.update(env)
        svc = Service(e, self.logdir, name or f"extra{next(self._n)}", args=args)
        self.services.append(svc)
        if wait:
            svc.wait_healthy()
        return svc

    def stop_all(self):
        errors = []
        for svc in self.services:
            if not svc.stopped:
                try:
                    svc.stop(check=True)
                except AssertionError as exc:
                    errors.append(str(exc))
        self.services.clear()
        return errors


@pytest.fixture(scope="session")
def service(base_env, migrated, workdir):
    """The main service, migrated and serving, for the whole session."""
    env = dict(base_env)
    env["PORT"] = str(free_port())
    svc = Service(env, workdir / "logs", "main")
    try:
        svc.wait_healthy()
    except Exception:
        svc.kill()
        raise
    yield svc
    leaked = [s for s in ISSUED_SECRETS | {env["ADMIN_TOKEN"]} if s in svc.logs()]
    svc.stop(check=True)
    assert not leaked, f"secrets found in the service log: {[s[:8] + '...' for s in leaked]}"


@pytest.fixture
def service_factory(base_env, migrated, workdir):
    """Start extra service instances with custom env; all are stopped (and checked) at teardown."""
    f = ServiceFactory(base_env, workdir / "logs")
    yield f
    errors = f.stop_all()
    assert not errors, "\n".join(errors)


@pytest.fixture
def fresh_db(pg):
    """An empty database in the session cluster; returns (name, url)."""
    name = pg.create_db()
    return name, pg.url(name)


@pytest.fixture
def cli(base_env):
    """cli(args, **env_overrides) -> CompletedProcess with the main service's env."""
    def run(args, timeout=60, **env):
        e = dict(base_env)
        e.pop("PORT")
        e.update(env)
        return run_cli(args, e, timeout=timeout)
    return run


@pytest.fixture(scope="session")
def admin(service, admin_token):
    c = Client(service.url, admin_token)
    yield c
    c.close()


@pytest.fixture(scope="session")
def anon(service):
    c = Client(service.url)
    yield c
    c.close()


@pytest.fixture(scope="session")
def new_shop(admin, service):
    """new_shop(**field_overrides) -> (create response json, Client with the shop's api key)."""
    def make(**overrides):
        body = shop_body(**overrides)
        r = admin.post("/v1/shops", json=body)
        assert r.status_code == 201, f"shop create failed: {r.status_code} {r.text}"
        shop = r.json()
        shop["_input"] = body  # what we sent, for tests that need the plaintext
        return shop, Client(service.url, shop["api_key"])
    return make


def public_shop(shop):
    """The shop object part of a create response."""
    return {k: v for k, v in shop.items() if k in SHOP_FIELDS}
