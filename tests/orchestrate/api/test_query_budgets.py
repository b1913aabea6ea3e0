"""Query budget of the instance list: a page of 50 instances costs no more queries than a
page of 5, so a query per row (an N+1) shows as a failure."""

import pytest

from orchestrate.services.instances import start_instance

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/instances/"
# User and permissions, the count, the page, and the live step runs in one prefetch.
INSTANCE_LIST_QUERIES = 7


@pytest.mark.parametrize("size", (5, 50))
def test_the_instance_list_costs_the_same_queries_for_5_or_50_rows(
    api, alice, order_workflow, size, django_assert_max_num_queries
):
    for n in range(size):
        start_instance(workflow_key="order", variables={"order_id": f"o-{n}"}, actor=alice)
    with django_assert_max_num_queries(INSTANCE_LIST_QUERIES):
        response = api.get(INSTANCES, {"page_size": size})
    results = response.json()["results"]
    assert len(results) == size
    assert {row["workflow"] for row in results} == {"order"}
