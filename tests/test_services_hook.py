"""REQUIRE_SERVICES=1 turns skips into failures; without it a skip stays a skip."""

import pytest

from tests.services import postgres_missing_reason, redis_missing_reason

pytest_plugins = ["pytester"]

# The inner runs load only the hook module: no Django, no cache in the temporary folder.
# The module is already imported by conftest, so pytest cannot rewrite its asserts (it has
# none); that warning is noise here.
PLUGIN_ARGS = (
    "-p",
    "tests.require_services",
    "-p",
    "no:django",
    "-p",
    "no:cacheprovider",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)

SKIPPING_TESTS = """
import pytest

def test_needs_redis():
    pytest.skip("needs Redis")

@pytest.mark.skipif(True, reason="needs Chromium")
def test_needs_chromium():
    pass

@pytest.mark.xfail(reason="known bug")
def test_known_bug():
    assert False

def test_plain():
    pass
"""


def run(pytester, *args):
    pytester.makepyfile(test_inner=SKIPPING_TESTS)
    return pytester.runpytest(*PLUGIN_ARGS, "-rA", *args)


def test_skips_fail_when_services_are_required(pytester, monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    result = run(pytester)
    # The skip inside the test fails its call; the skipif marker fails its setup (an error).
    result.assert_outcomes(passed=1, failed=1, errors=1, xfailed=1)
    output = result.stdout.str()
    assert "REQUIRE_SERVICES=1 demands that it runs: needs Redis" in output
    assert "REQUIRE_SERVICES=1 demands that it runs: needs Chromium" in output
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_skips_stay_skips_without_the_variable(pytester, monkeypatch):
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)
    result = run(pytester)
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_a_skipped_module_fails_when_services_are_required(pytester, monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    pytester.makepyfile(
        test_module_skip="""
        import pytest
        pytest.importorskip("no_such_module_for_the_hook_test")

        def test_never_collected():
            pass
        """
    )
    result = pytester.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*demands that it runs*no_such_module_for_the_hook_test*"])


@pytest.mark.parametrize(
    ("engine", "missing"),
    [
        ("django.db.backends.postgresql", False),
        ("django.db.backends.sqlite3", True),
    ],
)
def test_postgres_missing_reason(engine, missing):
    reason = postgres_missing_reason(engine)
    assert bool(reason) is missing
    if missing:
        assert "needs PostgreSQL" in reason


def test_redis_missing_reason_for_another_broker():
    assert "needs Redis" in redis_missing_reason("filesystem://")


def test_redis_missing_reason_when_nothing_answers():
    # Port 1 is never a Redis server; the connection is refused at once.
    assert "does not answer PING" in redis_missing_reason("redis://127.0.0.1:1/0")
