"""Trigram indexes (PostgreSQL's `pg_trgm`) for the inbox's free-text search. Django
writes `icontains` as `UPPER(column::text) LIKE UPPER('%term%')`; a GIN index on that
expression with `gin_trgm_ops` finds the rows from the term's trigrams instead of reading
every row. Used by migrations; on other databases they do nothing and the search reads
the rows as before."""

import logging

from django.db import DatabaseError, migrations

log = logging.getLogger(__name__)


def trigrams_available(schema_editor):
    """Create the `pg_trgm` extension if it is missing; False if it cannot be (not
    PostgreSQL, or a database user without the CREATE privilege: the search then works
    without the indexes; docs/inbox.md, "Search", says how to add them later). Needs a
    migration with `atomic = False`, where a refused statement does not abort the ones
    after it."""
    if schema_editor.connection.vendor != "postgresql":
        return False
    try:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        log.warning("no trigram indexes for the search (pg_trgm: %s)", error)
        return False
    return True


def create_trigram_indexes(schema_editor, table, indexes):
    """`indexes`: {name: column}. Built CONCURRENTLY, so the table takes writes meanwhile
    (a million tasks: 14 s for title and description on the bench machine)."""
    if not trigrams_available(schema_editor):
        return
    for name, column in indexes.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON {table} USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_trigram_indexes(schema_editor, indexes):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in indexes:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def trigram_indexes(table, indexes):
    """The migration operation that adds `indexes` ({name: column}) to `table`, and drops
    them when migrated backwards. Its migration needs `atomic = False`."""

    def forwards(apps, schema_editor):
        create_trigram_indexes(schema_editor, table, indexes)

    def backwards(apps, schema_editor):
        drop_trigram_indexes(schema_editor, indexes)

    return migrations.RunPython(forwards, backwards, elidable=False)
