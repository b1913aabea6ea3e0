"""With REQUIRE_SERVICES=1 a skipped test is a failed test.

CI runs the suite against PostgreSQL, Redis and Chromium; a test that skips there because
a service is missing would hide exactly what CI is for. `tests/conftest.py` imports these
hooks; a pytester run loads them with `-p tests.require_services`.
"""

import os

import pytest


def services_required():
    """True when the environment says every service is there (REQUIRE_SERVICES=1)."""
    return os.environ.get("REQUIRE_SERVICES") == "1"


def _skip_reason(longrepr):
    # A skip's longrepr is (path, lineno, "Skipped: <reason>").
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_instead(report):
    report.outcome = "failed"
    report.longrepr = (
        f"skipped, but REQUIRE_SERVICES=1 demands that it runs: {_skip_reason(report.longrepr)}"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip in setup, call or teardown becomes a failure when services are required."""
    report = yield
    # An expected failure (xfail) is reported as skipped too; it is not a missing service.
    if report.skipped and not hasattr(report, "wasxfail") and services_required():
        _fail_instead(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """A module skipped at import (`pytest.importorskip`, module-level skip) fails too."""
    report = yield
    if report.skipped and services_required():
        _fail_instead(report)
    return report
