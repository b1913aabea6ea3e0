# The inbox's search finds instances by a part of their business key from a trigram index
# (PostgreSQL only), not by reading every instance; plan in BENCHMARKS.md ("Fourth pass").

from django.db import migrations

from orchestrate.trigram import trigram_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("orchestrate", "0013_perf_instance_started_by_index"),
    ]

    operations = [
        trigram_indexes("orchestrate_instance", {"instance_business_key_trgm_idx": "business_key"})
    ]
