"""The report pages: who may see them, what they show, CSV downloads that equal the tables,
and clear errors for wrong filters. Figures come from `reports_data` (worked out in
tests/tasks_inbox/selectors/test_reports.py)."""

import csv
import io
import json
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from tests.factories import GroupFactory, UserFactory
from tests.tasks_inbox.reports_data import NOW, build_history

pytestmark = pytest.mark.django_db

RANGE = {"date_from": "2026-03-02", "date_to": "2026-03-15"}
PAGES = {
    "/reports/": ["figures", "throughput"],
    "/reports/steps/": ["steps"],
    "/reports/people/": ["people", "groups"],
    "/reports/variants/": ["variants"],
}
CSV_NAMES = [name for names in PAGES.values() for name in names]
# Every filter at once: bob's manager tasks of the purchase request in the managers' queue.
FILTERED = {**RANGE, "workflow": "purchase", "version": "1", "step": "manager",
            "group": "managers", "assignee": "bob"}  # fmt: skip


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def history(db):
    return build_history()


@pytest.fixture
def manager(db):
    """maria, in sla-viewers (the group that holds the permission)."""
    user = UserFactory(username="maria")
    group = Group.objects.get_or_create(name="sla-viewers")[0]
    group.permissions.add(Permission.objects.get(codename="view_reports"))
    user.groups.add(group)
    return user


@pytest.fixture
def viewer(client, manager):
    client.force_login(manager)
    return client


class Tables(HTMLParser):
    """Rows of text of each report table of a page, by its `data-table` name (key figures
    as (term, value) rows)."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-table" in attrs:
            self.current = self.tables.setdefault(attrs["data-table"], [])
        elif (
            self.current is not None
            and tag in ("tr", "div")
            and (tag == "tr" or attrs.get("class") == "figure-card")
        ):
            self.row = []
            self.current.append(self.row)
        elif self.row is not None and tag in ("th", "td", "dt", "dd"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td", "dt", "dd") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "section":
            self.current = self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(response):
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- who may see them -----------------------------------------------------------------
@pytest.mark.parametrize("url", [*PAGES, "/reports/csv/steps/"])
def test_anonymous_people_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/reports/")


@pytest.mark.parametrize("url", [*PAGES, "/reports/csv/steps/"])
def test_people_without_the_permission_get_403(client, url):
    client.force_login(UserFactory(username="bob"))
    assert client.get(url).status_code == 403


def test_the_nav_links_to_reports_only_for_those_allowed(client, manager):
    client.force_login(UserFactory(username="bob"))
    assert b'href="/reports/"' not in client.get("/inbox/").content
    client.force_login(manager)
    assert b'href="/reports/"' in client.get("/inbox/").content


@pytest.mark.parametrize("url", [*PAGES, *(f"/reports/csv/{n}/" for n in CSV_NAMES)])
def test_members_of_sla_viewers_read_every_page_and_csv(client, url):
    # The group and its permission as the migration made them (nothing granted here).
    user = UserFactory(username="vera")
    user.groups.add(Group.objects.get(name="sla-viewers"))
    client.force_login(user)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", [*PAGES, *(f"/reports/csv/{n}/" for n in CSV_NAMES)])
def test_the_permission_given_to_a_person_is_enough(client, url):
    user = UserFactory(username="olga")
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    client.force_login(user)
    assert client.get(url).status_code == 200


def test_superusers_see_reports(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get("/reports/").status_code == 200


# --- what they show -------------------------------------------------------------------
def test_overview_shows_the_key_figures_and_the_bottleneck(viewer, history):
    response = viewer.get("/reports/", RANGE)
    assert response.status_code == 200
    figures = dict(page_tables(response)["figures"])
    assert figures["Instances started"] == "10"
    assert figures["Completed"] == "6"
    assert figures["Running"] == "2"
    assert figures["Failed (incident)"] == "1"
    assert figures["Cycle time, median (h)"] == "6.0"
    assert figures["Cycle time, 90th percentile (h)"] == "18.0"
    assert figures["Tasks on time (%)"] == "57.1"  # 4 of 7
    assert figures["Tasks breached now"] == "1"
    assert figures["Straight-through rate (%)"] == "16.7"  # 1 of 6
    assert figures["First-pass yield (%)"] == "66.7"  # 4 of 6
    assert page_tables(response)["throughput"] == [
        ["Week of", "Started", "Completed"],
        ["2026-03-02", "3", "3"],
        ["2026-03-09", "7", "4"],
    ]
    content = response.content.decode()
    assert "Review (Expense claim): median wait 312 h (13 days), 100 % late" in content
    assert 'id="chart-throughput" type="application/json"' in content


def test_steps_table_bottleneck_first(viewer, history):
    rows = page_tables(viewer.get("/reports/steps/", RANGE))["steps"]
    assert rows[0][:4] == ["Step", "Workflow", "Volume", "Decided"]
    assert rows[1] == ["Review", "Expense claim", "2", "1", "312.0", "312.0", "2.0", "2.0",
                       "0.0", "1", "0", "0"]  # fmt: skip
    assert rows[2][0] == "Director approval"
    assert rows[2][6:9] == ["", "", ""]  # never claimed, no due time
    assert rows[3] == ["Manager approval", "Purchase request", "8", "6", "1.5", "5.0", "2.0",
                       "4.0", "66.7", "2", "1", "1"]  # fmt: skip


def test_people_and_groups(viewer, history):
    tables = page_tables(viewer.get("/reports/people/", RANGE))
    assert tables["people"][1:] == [
        ["carol", "1", "1", "2", "0.8", "50.0"],
        ["erin", "1", "0", "1", "2.0", "0.0"],
        ["bob", "0", "0", "4", "2.0", "75.0"],
        ["dave", "0", "0", "1", "", ""],
    ]
    assert tables["groups"][1] == ["managers", "3", "1", "7", "2.0", "57.1"]


def test_variants(viewer, history):
    rows = page_tables(viewer.get("/reports/variants/", RANGE))["variants"]
    assert rows[1] == ["start → manager → done", "3", "50.0", "2.0", "8.4"]
    assert len(rows) == 5


def test_filters_narrow_the_report_and_links_keep_them(viewer, history):
    params = {**RANGE, "workflow": "purchase", "version": "2"}
    response = viewer.get("/reports/steps/", params)
    rows = page_tables(response)["steps"]
    assert [row[0] for row in rows[1:]] == ["Manager approval"]
    content = response.content.decode()
    query = "date_from=2026-03-02&amp;date_to=2026-03-15&amp;workflow=purchase&amp;version=2"
    assert f'href="/reports/csv/steps/?{query}"' in content
    assert f'href="/reports/people/?{query}"' in content


@pytest.mark.parametrize("params", [RANGE, FILTERED], ids=["range", "every filter"])
@pytest.mark.parametrize(("url", "name"), [(u, n) for u, names in PAGES.items() for n in names])
def test_every_csv_equals_its_table(viewer, history, url, name, params):
    shown = page_tables(viewer.get(url, params))[name]
    download = viewer.get(f"/reports/csv/{name}/", params)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{name}-2026-03-02-2026-03-15.csv"' in download["Content-Disposition"]
    rows = csv_rows(download)
    if name == "figures":
        rows = rows[1:]  # the page shows the figures as cards, without a header row
    assert rows == shown
    assert len(rows) > 1


def test_every_filter_at_once(viewer, history):
    # Bob's manager tasks: instances 1, 2 and 9 (worked out in the selector tests); waits
    # 1, 2, 4, 6 h (p90 at 3.7: 4 + 0.7 * 2); handling 2, 2, 2, 6 h (p90 2 + 0.7 * 4).
    overview = page_tables(viewer.get("/reports/", FILTERED))
    figures = dict(overview["figures"])
    assert (figures["Instances started"], figures["Completed"]) == ("3", "3")
    assert figures["Cycle time, median (h)"] == "12.0"
    assert figures["Tasks on time (%)"] == "75.0"
    assert overview["throughput"][1:] == [["2026-03-02", "2", "2"], ["2026-03-09", "1", "1"]]
    assert page_tables(viewer.get("/reports/steps/", FILTERED))["steps"][1:] == [
        ["Manager approval", "Purchase request", "4", "4", "3.0", "5.4", "2.0", "4.8", "75.0",
         "1", "0", "1"],
    ]  # fmt: skip
    tables = page_tables(viewer.get("/reports/people/", FILTERED))
    assert tables["people"][1:] == [["bob", "0", "0", "4", "2.0", "75.0"]]
    assert tables["groups"][1:] == [["managers", "0", "0", "4", "2.0", "75.0"]]
    paths = [row[0] for row in page_tables(viewer.get("/reports/variants/", FILTERED))["variants"]]
    assert paths[1:] == [
        "start → manager → director → done",
        "start → manager → done",
        "start → manager → manager → done",
    ]


def test_a_range_without_work_says_so(viewer, history):
    empty = {"date_from": "2025-01-06", "date_to": "2025-01-19"}
    assert "Nothing in this range." in viewer.get("/reports/variants/", empty).content.decode()
    # Steps with live tasks stay listed (breached now), but nothing to chart or rank.
    response = viewer.get("/reports/steps/", empty)
    assert [row[:4] + row[10:11] for row in page_tables(response)["steps"][1:]] == [
        ["Manager approval", "Purchase request", "0", "0", "1"],
        ["Review", "Expense claim", "0", "0", "0"],
    ]
    assert "Bottleneck" not in response.content.decode()
    assert chart_specs(response) == {}
    figures = dict(page_tables(viewer.get("/reports/", empty))["figures"])
    assert figures["Instances started"] == "0"
    # No rate without anything to divide by: an empty cell (shown as a dash), not 0.
    assert figures["Tasks on time (%)"] == ""
    assert figures["Cycle time, median (h)"] == ""
    assert figures["Tasks breached now"] == "1"  # instance 4's task, whatever the range


def chart_specs(response):
    """The charts' JSON (json_script) of a page, by id."""
    content = response.content.decode()
    specs = {}
    for chunk in content.split('<script id="chart-')[1:]:
        name, rest = chunk.split('"', 1)
        body = rest.split(">", 1)[1].split("</script>", 1)[0]
        specs[name] = json.loads(body)
    return specs


def test_charts_tell_series_apart_without_colour_and_match_the_tables(viewer, history):
    response = viewer.get("/reports/", RANGE)
    (throughput,) = chart_specs(response).values()
    # Bars and a line (reports.js draws it dashed with diamond points), not two colours.
    assert [s["style"] for s in throughput["series"]] == ["bar", "line"]
    table = page_tables(response)["throughput"][1:]
    assert throughput["labels"] == [row[0] for row in table]
    assert throughput["series"][0]["data"] == [int(row[2]) for row in table]  # completed
    assert throughput["series"][1]["data"] == [int(row[1]) for row in table]  # started

    response = viewer.get("/reports/steps/", RANGE)
    (steps,) = chart_specs(response).values()
    # Solid and hatched bars.
    assert [(s["label"], s["style"]) for s in steps["series"]] == [
        ("Median wait", "bar"),
        ("Median handling", "hatched"),
    ]
    assert steps["labels"] == [
        "Review (Expense claim)",
        "Director approval (Purchase request)",
        "Manager approval (Purchase request)",
    ]
    assert steps["series"][0]["data"] == [312.0, 14.0, 1.5]
    assert steps["series"][1]["data"] == [2.0, None, 2.0]  # the director was never claimed


def test_csv_cells_are_not_taken_for_formulas(viewer, history):
    group = GroupFactory(name="=HYPERLINK(1)")
    user = UserFactory(username="+ben")
    from tasks_inbox.models import Task

    Task.objects.filter(status="open").update(candidate_group=group, assignee=user)
    people = csv_rows(viewer.get("/reports/csv/people/", RANGE))
    groups = csv_rows(viewer.get("/reports/csv/groups/", RANGE))
    assert "'+ben" in [row[0] for row in people]
    assert "'=HYPERLINK(1)" in [row[0] for row in groups]


def test_names_are_escaped(viewer, history):
    from orchestrate.models import WorkflowDefinition

    WorkflowDefinition.objects.filter(key="expense").update(name="<b>Claims</b>")
    content = viewer.get("/reports/steps/", RANGE).content.decode()
    assert "&lt;b&gt;Claims&lt;/b&gt;" in content
    assert "<b>Claims</b>" not in content


# --- wrong filters ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-03-20", "date_to": "2026-03-01"}, "The first day comes after"),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"version": "2"}, "Choose a workflow to filter by its version."),
        ({"workflow": "purchase", "version": "7"}, "purchase has no version 7."),
        ({"workflow": "nope"}, "Select a valid choice."),
        ({"assignee": "nobody"}, "Nobody has the username “nobody”."),
        ({"date_from": "2020-01-01", "date_to": "2026-03-01"}, "three years or less"),
    ],
)
def test_wrong_filters_are_errors_on_their_fields(viewer, history, params, message):
    response = viewer.get("/reports/", params)
    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert "Check the filters" in content
    assert 'data-table="figures"' not in content
    download = viewer.get("/reports/csv/figures/", params)
    assert download.status_code == 400
    assert message in download.content.decode()


def test_unknown_csv_table_is_404(viewer):
    assert viewer.get("/reports/csv/salaries/").status_code == 404


def test_defaults_to_the_last_90_days(viewer, history):
    response = viewer.get("/reports/")
    assert response.status_code == 200
    assert "17 Dec 2025 to 16 Mar 2026" in response.content.decode()


def test_pages_take_a_bounded_number_of_queries(viewer, history, django_assert_max_num_queries):
    # User, permissions (2), the form's choices (4), the nav's task counts (8), then the
    # report's own aggregates (overview 12, steps 5): the count does not grow with the data.
    with django_assert_max_num_queries(27):
        viewer.get("/reports/", RANGE)
    with django_assert_max_num_queries(20):
        viewer.get("/reports/steps/", RANGE)


def test_the_demo_manager_may_read_reports(client):
    call_command("seed_demo", stdout=io.StringIO())
    maria = get_user_model().objects.get(username="maria")
    assert maria.has_perm("tasks_inbox.view_reports")
    client.force_login(maria)
    assert client.get("/reports/").status_code == 200
