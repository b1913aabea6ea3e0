import pytest


@pytest.fixture(autouse=True)
def _fresh_table_cache():
    # Test transactions roll back, so ids come back; compiled tables must not leak.
    from orchestrate.engine.decisions import clear_table_cache

    clear_table_cache()
