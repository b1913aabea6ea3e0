"""Guards for tests that need a real service: they skip with the reason when it is absent.

Call one at the start of a test or fixture. Under REQUIRE_SERVICES=1 (CI) the skip
becomes a failure, so a missing service cannot pass unnoticed.
"""

import pytest
import redis
from django.conf import settings


def postgres_missing_reason(engine):
    """Why a database with this Django ENGINE is not PostgreSQL, or None when it is."""
    if "postgresql" in engine:
        return None
    return f"needs PostgreSQL (DATABASE_URL=postgres://...); the database engine is {engine}"


def redis_missing_reason(broker_url):
    """Why this broker URL is not a Redis that answers PING, or None when it is."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return f"needs Redis (CELERY_BROKER_URL=redis://...); the broker is {broker_url}"
    client = redis.Redis.from_url(broker_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"needs Redis, but {broker_url} does not answer PING ({exc})"
    finally:
        client.close()
    return None


def require_postgres():
    """Skip the calling test unless the default database is PostgreSQL."""
    reason = postgres_missing_reason(settings.DATABASES["default"]["ENGINE"])
    if reason:
        pytest.skip(reason)


def require_redis():
    """Skip the calling test unless CELERY_BROKER_URL is a Redis that answers PING."""
    reason = redis_missing_reason(settings.CELERY_BROKER_URL)
    if reason:
        pytest.skip(reason)
    return settings.CELERY_BROKER_URL
