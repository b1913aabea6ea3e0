# The inbox's search finds a person's tasks by a part of their title or description from
# trigram indexes (PostgreSQL only), combined with the person's index as bitmaps, instead
# of reading each of their tasks; plan in BENCHMARKS.md ("Fourth pass").

from django.db import migrations

from orchestrate.trigram import trigram_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("tasks_inbox", "0008_task_definition"),
        ("orchestrate", "0014_perf_business_key_search_index"),
    ]

    operations = [
        trigram_indexes(
            "tasks_inbox_task",
            {"task_title_trgm_idx": "title", "task_description_trgm_idx": "description"},
        )
    ]
