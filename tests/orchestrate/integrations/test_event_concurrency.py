"""The same event posted twice at the same moment is handled once. Needs PostgreSQL
(real concurrent transactions; SQLite serialises writers)."""

import threading

import pytest
from django.db import connection

from orchestrate.models import InboundEvent, Instance
from orchestrate.services.definitions import import_workflow
from orchestrate.services.events import receive_event
from tests.services import require_postgres

from .test_events_api import event, order_document

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_copies_at_once_start_one_instance():
    require_postgres()
    import_workflow(order_document(), publish=True)
    barrier = threading.Barrier(2)
    results = [None, None]

    def post(index):
        try:
            barrier.wait(timeout=10)
            results[index] = receive_event(event=event()).duplicate
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [False, True]
    assert InboundEvent.objects.count() == 1
    assert Instance.objects.count() == 1
