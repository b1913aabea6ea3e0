"""Every figure of the SLA reports against the history of `reports_data`, computed by hand
(the working is in the comments). Runs on SQLite and on PostgreSQL (CI) alike; on
PostgreSQL the portable percentile form is checked against `percentile_cont` too."""

import datetime

import pytest
from pytest import approx

from orchestrate.models import Instance
from tasks_inbox.selectors import reports
from tasks_inbox.selectors.reports import ReportFilters
from tests.services import require_postgres
from tests.tasks_inbox.reports_data import (
    END,
    NOW,
    START,
    add_instance_no_person_decided,
    build_history,
)

pytestmark = pytest.mark.django_db

H = 3600.0


@pytest.fixture
def history(db):
    return build_history()


def filters(**kwargs):
    return ReportFilters(start=START, end=END, now=NOW, **kwargs)


def test_overview_counts_rates_and_cycle_time(history):
    figures = reports.overview(filters())
    # Started 2-15 March: instances 1-6 and 8-11 (7 started in February).
    assert figures["started"] == 10
    assert figures["completed"] == 6  # 1, 2, 3, 5, 9, 10
    assert figures["running"] == 2  # 4, 11
    assert figures["failed"] == 1  # 6 (incident)
    assert figures["cancelled"] == 1  # 8
    # Cycle times 1, 2, 2, 10, 12, 24 h: median at position 3.5 = 2 + 0.5 * 8 = 6 h;
    # 90th percentile at 5.5 = 12 + 0.5 * 12 = 18 h.
    assert figures["cycle_median"] == approx(6 * H)
    assert figures["cycle_p90"] == approx(18 * H)
    # Straight through: only 5 had no task a person decided.
    assert figures["straight_through"] == 1
    assert figures["straight_through_rate"] == approx(1 / 6)
    # First pass: not 3 (a question), not 9 (manager twice): 1, 2, 5, 10.
    assert figures["first_pass"] == 4
    assert figures["first_pass_yield"] == approx(4 / 6)
    # Decided 2-15 March: 1, 2 (two), 3, 7, 9 (two), 10 = 8; 7 had a due time; on time:
    # 1, 9 (both, one exactly at its due time) and 10.
    assert figures["tasks_decided"] == 8
    assert figures["tasks_with_due"] == 7
    assert figures["tasks_on_time"] == 4
    assert figures["on_time_rate"] == approx(4 / 7)
    # Breached now: 4's task; 11's is past due but its clock stopped before.
    assert figures["breached_now"] == 1


def test_overview_of_an_empty_range_has_no_rates(history):
    empty = ReportFilters(
        start=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        end=datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC),
        now=NOW,
    )
    figures = reports.overview(empty)
    assert figures["started"] == 0
    assert figures["cycle_median"] is None
    assert figures["straight_through_rate"] is None
    assert figures["on_time_rate"] is None
    assert figures["breached_now"] == 1  # now is now, whatever the range


def test_instance_figures_follow_the_task_filters(history):
    # Only instance 2 had a task held by dave.
    figures = reports.overview(filters(assignee="dave"))
    assert (figures["started"], figures["completed"]) == (1, 1)
    assert figures["cycle_median"] == approx(24 * H)
    assert (figures["tasks_decided"], figures["tasks_with_due"]) == (1, 0)
    assert figures["on_time_rate"] is None
    # Version 2 of the purchase request: instance 10 only.
    figures = reports.overview(filters(workflow="purchase", version=2))
    assert (figures["started"], figures["completed"], figures["tasks_on_time"]) == (1, 1, 1)


def test_throughput_per_week(history):
    assert reports.throughput(filters()) == [
        # Started 1, 2, 6; completed 1, 2 and 7 (started in February).
        {"week": datetime.date(2026, 3, 2), "started": 3, "completed": 3},
        {"week": datetime.date(2026, 3, 9), "started": 7, "completed": 4},
    ]


def test_steps_ranked_bottleneck_first(history):
    rows = reports.steps(filters())
    assert [(r["workflow"], r["step"]) for r in rows] == [
        ("expense", "review"),  # median wait 312 h
        ("purchase", "director"),  # 14 h
        ("purchase", "manager"),  # 1.5 h
    ]
    review, director, manager = rows
    assert (review["workflow_name"], review["step_name"]) == ("Expense claim", "Review")
    # Created in range: 6 and 11 (7 was made in February but decided in the range).
    assert (review["volume"], review["decided"], review["with_due"]) == (2, 1, 1)
    assert (review["on_time"], review["late"], review["late_rate"]) == (0, 1, 1.0)
    assert review["wait_median"] == approx(13 * 24 * H)  # 20 Feb 08:00 to 5 March 08:00
    assert review["handling_median"] == approx(2 * H)
    assert (review["breached_now"], review["escalations"]) == (0, 0)

    # Never claimed: it waited until it was decided and has no handling time.
    assert director["step_name"] == "Director approval"
    assert (director["volume"], director["decided"], director["with_due"]) == (1, 1, 0)
    assert director["wait_median"] == approx(14 * H)
    assert director["handling_median"] is None
    assert director["on_time_rate"] is None

    assert manager["step_name"] == "Manager approval"
    assert (manager["volume"], manager["decided"]) == (8, 6)
    assert (manager["with_due"], manager["on_time"], manager["late"]) == (6, 4, 2)
    assert manager["on_time_rate"] == approx(4 / 6)
    # Waits 0, 0.5, 1, 2, 4, 6 h: median 1 + 0.5 * 1 = 1.5 h, p90 4 + 0.5 * 2 = 5 h.
    assert manager["wait_median"] == approx(1.5 * H)
    assert manager["wait_p90"] == approx(5 * H)
    # Handling 0.5 (1 h less 0.5 h on hold), 1, 2, 2, 2, 6 h: median 2 h, p90 2 + 0.5 * 4.
    assert manager["handling_median"] == approx(2 * H)
    assert manager["handling_p90"] == approx(4 * H)
    assert manager["breached_now"] == 1
    # The reminder and the level fired in February are not escalations in the range.
    assert manager["escalations"] == 1


def test_steps_of_one_version(history):
    (manager,) = reports.steps(filters(workflow="purchase", version=2))
    assert (manager["volume"], manager["decided"], manager["on_time"]) == (1, 1, 1)
    assert manager["wait_median"] == approx(0)
    assert manager["handling_median"] == approx(1 * H)


def test_people(history):
    rows = {r["name"]: r for r in reports.people(filters())}
    assert list(rows) == ["carol", "erin", "bob", "dave"]  # overdue, open, then by name
    carol, erin, bob, dave = rows.values()
    assert (carol["open"], carol["overdue"], carol["decided"]) == (1, 1, 2)
    assert carol["on_time_rate"] == approx(1 / 2)  # 3 late, 10 on time
    assert carol["handling_median"] == approx(0.75 * H)  # 0.5 and 1 h
    assert (erin["open"], erin["overdue"], erin["decided"]) == (1, 0, 1)
    assert erin["on_time_rate"] == 0
    assert (bob["open"], bob["decided"], bob["on_time"], bob["with_due"]) == (0, 4, 3, 4)
    assert bob["handling_median"] == approx(2 * H)  # 2, 2, 2, 6 h
    assert (dave["decided"], dave["on_time_rate"], dave["handling_median"]) == (1, None, None)


def test_groups(history):
    rows = {r["name"]: r for r in reports.groups(filters())}
    assert list(rows) == ["managers", "directors"]
    managers, directors = rows.values()
    assert (managers["open"], managers["overdue"]) == (3, 1)  # 4, 6, 11
    assert (managers["decided"], managers["with_due"], managers["on_time"]) == (7, 7, 4)
    # Handling 0.5, 1, 2, 2, 2, 2, 6 h: the 4th.
    assert managers["handling_median"] == approx(2 * H)
    assert (directors["open"], directors["decided"], directors["on_time_rate"]) == (0, 1, None)


def test_people_filtered_by_group(history):
    names = [r["name"] for r in reports.people(filters(group="directors"))]
    assert names == ["dave"]


def test_variants(history):
    rows = reports.variants(filters())
    assert [(r["path"], r["instances"]) for r in rows] == [
        ("start → manager → done", 3),  # 1, 3, 10
        ("start → done", 1),  # 5
        ("start → manager → director → done", 1),  # 2
        ("start → manager → manager → done", 1),  # 9
    ]
    common = rows[0]
    assert common["steps"] == ["start", "manager", "done"]
    assert common["share"] == approx(3 / 6)
    # 1, 2, 10 h: median 2 h; p90 at 2.8 = 2 + 0.8 * 8 = 8.4 h.
    assert common["cycle_median"] == approx(2 * H)
    assert common["cycle_p90"] == approx(8.4 * H)
    assert rows[2]["cycle_median"] == approx(24 * H)


def test_percentiles_match_hand_computed_values(db):
    build_history()
    instances = Instance.objects.filter(ended_at__isnull=False, status="completed")
    stats = reports.percentiles(
        instances, reports.cycle_seconds(), fractions=(0.0, 0.25, 0.5, 1.0), portable=True
    )
    # Cycle times 1, 2, 2, 10, 12, 24 and 7's 13 days 2 h (314 h).
    count, values = stats[()]
    assert count == 7
    assert values == approx([1 * H, 2 * H, 10 * H, 314 * H])


def test_portable_percentiles_equal_percentile_cont(history):
    """PostgreSQL only (CI): the window-function form equals `percentile_cont`."""
    require_postgres()
    tasks = reports.report_tasks(filters()).filter(completed_at__isnull=False)
    by = ("instance__definition__key", "step_key")
    fractions = (0.1, 0.5, 0.75, 0.9, 0.99)
    native = reports.percentiles(tasks, reports.waiting_seconds(), by, fractions, portable=False)
    portable = reports.percentiles(tasks, reports.waiting_seconds(), by, fractions, portable=True)
    assert native.keys() == portable.keys()
    for key, (count, values) in native.items():
        assert portable[key][0] == count
        assert portable[key][1] == approx(values)
    assert reports.variants(filters(), portable=True) == reports.variants(filters())


def test_filter_choices(history):
    choices = reports.filter_choices()
    assert choices["workflows"] == [("expense", "Expense claim"), ("purchase", "Purchase request")]
    assert choices["versions"]["purchase"] == [1, 2]
    assert ("manager", "Manager approval") in choices["steps"]
    # Every group (the migration made sla-viewers).
    assert choices["groups"] == ["directors", "managers", "sla-viewers"]


def test_reports_take_a_fixed_number_of_queries(history, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        reports.overview(filters())
    with django_assert_max_num_queries(6):
        reports.steps(filters())
    with django_assert_max_num_queries(3):
        reports.people(filters())
    with django_assert_max_num_queries(1):
        reports.variants(filters())


# Each filter on every report, worked out by hand. Step "director", group "directors" and
# assignee "dave" all pick instance 2's director task only; workflow "expense" picks
# instances 6 and 11 (7 started in February) and the review tasks of 6, 7 and 11.
ONLY_THE_DIRECTOR_TASK = {
    "overview": {
        "started": 1,  # 2
        "completed": 1,
        "running": 0,
        "failed": 0,
        "cycle_median": 24 * H,
        "tasks_decided": 1,
        "tasks_with_due": 0,
        "breached_now": 0,
        "straight_through": 0,
        "first_pass": 1,
    },
    "throughput": [(datetime.date(2026, 3, 2), 1, 1), (datetime.date(2026, 3, 9), 0, 0)],
    "steps": [("purchase", "director", 1, 1, 14 * H)],
    "people": [("dave", 0, 0, 1)],
    "groups": [("directors", 0, 0, 1)],
    "variants": [("start → manager → director → done", 1, 24 * H)],
}
EXPECTED_BY_FILTER = {
    "step=director": ({"step": "director"}, ONLY_THE_DIRECTOR_TASK),
    "group=directors": ({"group": "directors"}, ONLY_THE_DIRECTOR_TASK),
    "assignee=dave": ({"assignee": "dave"}, ONLY_THE_DIRECTOR_TASK),
    "workflow=expense": (
        {"workflow": "expense"},
        {
            "overview": {
                "started": 2,  # 6 and 11
                "completed": 0,
                "running": 1,  # 11
                "failed": 1,  # 6
                "cycle_median": None,
                "tasks_decided": 1,  # 7's review, decided 5 March, late
                "tasks_with_due": 1,
                "breached_now": 0,  # 6 is due 20 March; 11's clock stopped before its due
                "straight_through": 0,
                "first_pass": 0,
            },
            # Started: 6 (week of 2 March), 11 (week of 9 March); completed: 7 (5 March).
            "throughput": [(datetime.date(2026, 3, 2), 1, 1), (datetime.date(2026, 3, 9), 1, 0)],
            # Created in range: 6, 11; decided: 7 (waited 20 Feb 08:00 to 5 March 08:00).
            "steps": [("expense", "review", 2, 1, 13 * 24 * H)],
            "people": [("erin", 1, 0, 1)],  # holds 11, decided 7
            "groups": [("managers", 2, 0, 1)],  # 6 and 11 open, 7 decided
            "variants": [],  # no completed instance started in the range
        },
    ),
    "workflow=purchase, step=manager, assignee=bob": (
        {"workflow": "purchase", "step": "manager", "assignee": "bob"},
        {
            "overview": {
                "started": 3,  # 1, 2 and 9: bob held their manager tasks
                "completed": 3,
                "running": 0,
                "failed": 0,
                "cycle_median": 12 * H,  # 10, 12, 24 h
                "tasks_decided": 4,  # 1's, 2's and 9's two
                "tasks_with_due": 4,
                "breached_now": 0,
                "straight_through": 0,
                "first_pass": 2,  # 1 and 2 (9 did the manager step twice)
            },
            # Started 1, 2 and 9; completed 1 (2 March), 2 (4 March), 9 (12 March).
            "throughput": [(datetime.date(2026, 3, 2), 2, 2), (datetime.date(2026, 3, 9), 1, 1)],
            "steps": [("purchase", "manager", 4, 4, 3 * H)],  # waits 1, 2, 4, 6 h
            "people": [("bob", 0, 0, 4)],
            "groups": [("managers", 0, 0, 4)],
            "variants": [
                ("start → manager → director → done", 1, 24 * H),
                ("start → manager → done", 1, 10 * H),
                ("start → manager → manager → done", 1, 12 * H),
            ],
        },
    ),
}


@pytest.mark.parametrize("case", list(EXPECTED_BY_FILTER))
def test_every_report_follows_every_filter(history, case):
    given, expected = EXPECTED_BY_FILTER[case]
    f = filters(**given)
    figures = reports.overview(f)
    for name, value in expected["overview"].items():
        assert figures[name] == (value if value is None else approx(value)), name
    assert [(w["week"], w["started"], w["completed"]) for w in reports.throughput(f)] == expected[
        "throughput"
    ]
    assert [
        (r["workflow"], r["step"], r["volume"], r["decided"], approx(r["wait_median"]))
        for r in reports.steps(f)
    ] == expected["steps"]
    assert [(r["name"], r["open"], r["overdue"], r["decided"]) for r in reports.people(f)] == (
        expected["people"]
    )
    assert [(r["name"], r["open"], r["overdue"], r["decided"]) for r in reports.groups(f)] == (
        expected["groups"]
    )
    assert [
        (r["path"], r["instances"], approx(r["cycle_median"])) for r in reports.variants(f)
    ] == expected["variants"]


def test_a_task_no_person_decided_leaves_its_instance_straight_through(history):
    """An escalation's `complete` action decides without a person (no `decided_by`); a
    cancelled task was not decided at all. Instance 12 had one of each."""
    add_instance_no_person_decided()
    figures = reports.overview(filters())
    # Completed: 1, 2, 3, 5, 9, 10 and 12; straight through: 5 and 12.
    assert (figures["completed"], figures["straight_through"]) == (7, 2)
    assert figures["straight_through_rate"] == approx(2 / 7)
