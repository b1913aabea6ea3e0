from django.urls import reverse


def test_admin_login_page_renders(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert b"Username" in response.content


def test_the_web_process_starts_while_the_broker_is_down(tmp_path):
    """gunicorn's import of orchestrate.wsgi prepares sending (load_sending) and freezes
    what loading made; none of it may need the broker, or the pages would go down with it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens there
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    code = "import gc, orchestrate.wsgi; print(gc.get_freeze_count() > 10000)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("True")
