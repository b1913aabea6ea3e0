"""What operators watch: `/metrics` (Prometheus), JSON log lines with the ids of the work
being done, `/healthz` and the `worker_health` command."""
