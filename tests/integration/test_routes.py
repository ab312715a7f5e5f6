"""`aftersale routes`: the route table, and that it matches openapi/openapi.yaml."""

import re

import pytest

LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*) (\S+)$")


@pytest.fixture(scope="module")
def route_lines(cli):
    p = cli(["routes"], timeout=15)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert lines, "routes printed nothing"
    return lines


@pytest.fixture(scope="module")
def cli(base_env):
    from aftersale_it import run_cli

    def run(args, timeout=60):
        e = dict(base_env)
        e.pop("PORT")
        return run_cli(args, e, timeout=timeout)
    return run


def parsed(lines):
    out = []
    for l in lines:
        m = LINE.match(l)
        assert m, f"not 'METHOD PATTERN AUTH': {l!r}"
        out.append(m.groups())
    return out


def test_routes_prints_method_pattern_auth_lines(route_lines):
    assert parsed(route_lines)


def test_routes_have_no_duplicates(route_lines):
    pairs = [(m, p) for m, p, _ in parsed(route_lines)]
    assert len(pairs) == len(set(pairs))


def test_routes_patterns_use_braced_params(route_lines):
    for _, pattern, _ in parsed(route_lines):
        assert ":" not in pattern and "<" not in pattern, pattern
        for seg in pattern.split("/")[1:]:
            if "{" in seg or "}" in seg:
                assert re.fullmatch(r"\{[a-z_]+\}", seg), pattern


def test_routes_include_the_foundation_routes(route_lines):
    got = set(parsed(route_lines))
    expected = {
        ("GET", "/healthz", "none"),
        ("GET", "/readyz", "none"),
        ("GET", "/metrics", "none"),
        ("GET", "/v1/shops", "admin"),
        ("POST", "/v1/shops", "admin"),
        ("GET", "/v1/shops/{id}", "admin"),
        ("PATCH", "/v1/shops/{id}", "admin"),
        ("POST", "/v1/shops/{id}/api-keys", "admin"),
        ("GET", "/v1/shops/{id}/api-keys", "admin"),
        ("DELETE", "/v1/shops/{id}/api-keys/{key_id}", "admin"),
        ("GET", "/v1/shop", "shop"),
        ("PATCH", "/v1/shop", "shop"),
    }
    assert expected <= got, sorted(expected - got)


def test_routes_equal_openapi_paths(route_lines):
    try:
        import openapi_check
    except ModuleNotFoundError as exc:
        if exc.name != "openapi_check":
            raise
        pytest.skip("tests/integration/openapi_check.py not written yet")
    ours = {(m, p) for m, p, _ in parsed(route_lines)}
    spec = set(openapi_check.spec_routes())
    assert ours == spec, f"only in routes: {sorted(ours - spec)}; only in openapi: {sorted(spec - ours)}"
