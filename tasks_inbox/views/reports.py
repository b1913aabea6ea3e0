"""SLA reports for managers: overview, steps, people and groups, variants.

Who: holders of `tasks_inbox.view_reports` (the group `sla-viewers` has it). Anonymous
people are sent to log in; anybody else gets a 403. Every table is built once here, as
text cells, and both the page and its CSV download show those cells, so the two agree.
"""

import csv
import dataclasses
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from tasks_inbox.forms_reports import ReportFilterForm
from tasks_inbox.selectors import reports

from .base import url_with

PERMISSION = "tasks_inbox.view_reports"


# --- cells ------------------------------------------------------------------------------
def one_decimal(value):
    """Rounded half up, as people round by hand (0.75 is 0.8); the first rounding drops
    the noise of float arithmetic (0.7499999999 is 0.75)."""
    exact = Decimal(str(round(value, 6)))
    return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def hours(seconds):
    """Hours with one decimal, empty without a value."""
    return "" if seconds is None else one_decimal(seconds / 3600)


def percent(ratio):
    return "" if ratio is None else one_decimal(ratio * 100)


def short_hours(seconds):
    """'1.5 h', '20 h'; two days and more also in days: '312 h (13 days)'."""
    h = seconds / 3600
    text = f"{h:.0f} h" if h >= 10 else f"{h:.1f} h"
    return f"{text} ({h / 24:.0f} days)" if h >= 48 else text


@dataclasses.dataclass
class Table:
    name: str  # in the CSV's URL and file name
    title: str
    columns: list
    rows: list
    caption: str = ""
    # Column indexes holding numbers (right-aligned).
    numeric: tuple = ()

    @property
    def header(self):
        return [(column, i in self.numeric) for i, column in enumerate(self.columns)]

    @property
    def cells(self):
        """Rows of (text, is_numeric) for the template."""
        return [[(cell, i in self.numeric) for i, cell in enumerate(row)] for row in self.rows]


def step_label(row):
    return f"{row['step_name']} ({row['workflow_name']})"


def bottleneck_sentence(row):
    """'Manager approval (Purchase request): median wait 20 h, 34 % late'."""
    if row is None or row["wait_median"] is None:
        return ""
    late = (
        f"{row['late_rate'] * 100:.0f} % late" if row["late_rate"] is not None else "no due times"
    )
    return f"{step_label(row)}: median wait {short_hours(row['wait_median'])}, {late}"


# --- the tables -------------------------------------------------------------------------
def figures_table(filters):
    o = reports.overview(filters)
    rows = [
        ["Instances started", str(o["started"])],
        ["Completed", str(o["completed"])],
        ["Running", str(o["running"])],
        ["Failed (incident)", str(o["failed"])],
        ["Cancelled", str(o["cancelled"])],
        ["Cycle time, median (h)", hours(o["cycle_median"])],
        ["Cycle time, 90th percentile (h)", hours(o["cycle_p90"])],
        ["Tasks on time (%)", percent(o["on_time_rate"])],
        ["Tasks decided with a due time", str(o["tasks_with_due"])],
        ["Tasks breached now", str(o["breached_now"])],
        ["Straight-through rate (%)", percent(o["straight_through_rate"])],
        ["First-pass yield (%)", percent(o["first_pass_yield"])],
    ]
    return Table(
        "figures",
        "Key figures",
        ["Figure", "Value"],
        rows,
        caption=(
            "Instances started in the range and what became of them; tasks decided in the"
            " range. Breached now: live tasks past their due time today, whatever the range."
        ),
        numeric=(1,),
    )


def throughput_table(filters):
    weeks = reports.throughput(filters)
    rows = [[f"{w['week']:%Y-%m-%d}", str(w["started"]), str(w["completed"])] for w in weeks]
    return Table(
        "throughput",
        "Throughput per week",
        ["Week of", "Started", "Completed"],
        rows,
        caption="Instances started and completed per week (weeks start on Monday).",
        numeric=(1, 2),
    )


STEP_COLUMNS = [
    "Step",
    "Workflow",
    "Volume",
    "Decided",
    "Median wait (h)",
    "90th pct wait (h)",
    "Median handling (h)",
    "90th pct handling (h)",
    "On time (%)",
    "Late",
    "Breached now",
    "Escalations",
]


def steps_table(filters, rows=None):
    rows = reports.steps(filters) if rows is None else rows
    cells = [
        [
            r["step_name"],
            r["workflow_name"],
            str(r["volume"]),
            str(r["decided"]),
            hours(r["wait_median"]),
            hours(r["wait_p90"]),
            hours(r["handling_median"]),
            hours(r["handling_p90"]),
            percent(r["on_time_rate"]),
            str(r["late"]),
            str(r["breached_now"]),
            str(r["escalations"]),
        ]
        for r in rows
    ]
    return Table(
        "steps",
        "Steps, bottleneck first",
        STEP_COLUMNS,
        cells,
        caption=(
            "Ranked by median wait, then by the share decided late. Volume: tasks created in"
            " the range; the other figures: tasks decided in the range. Wait: created until"
            " claimed; handling: claimed until decided, less time on hold for an answer."
        ),
        numeric=tuple(range(2, len(STEP_COLUMNS))),
    )


WORKLOAD_COLUMNS = ["Open", "Overdue", "Decided", "Median handling (h)", "On time (%)"]


def _workload_table(name, title, first, rows, caption):
    cells = [
        [
            r["name"],
            str(r["open"]),
            str(r["overdue"]),
            str(r["decided"]),
            hours(r["handling_median"]),
            percent(r["on_time_rate"]),
        ]
        for r in rows
    ]
    return Table(name, title, [first, *WORKLOAD_COLUMNS], cells, caption, numeric=(1, 2, 3, 4, 5))


def people_table(filters):
    return _workload_table(
        "people",
        "People",
        "Person",
        reports.people(filters),
        "Open and overdue: tasks they hold now. Decided: in the range, by them.",
    )


def groups_table(filters):
    return _workload_table(
        "groups",
        "Groups",
        "Group",
        reports.groups(filters),
        "Tasks by the group whose queue they were in.",
    )


def variants_table(filters, rows=None):
    rows = reports.variants(filters) if rows is None else rows
    cells = [
        [
            r["path"],
            str(r["instances"]),
            percent(r["share"]),
            hours(r["cycle_median"]),
            hours(r["cycle_p90"]),
        ]
        for r in rows
    ]
    return Table(
        "variants",
        "Variants",
        ["Path", "Instances", "Share (%)", "Median cycle time (h)", "90th pct cycle time (h)"],
        cells,
        caption="The steps completed instances went through, in order; most frequent first.",
        numeric=(1, 2, 3, 4),
    )


TABLES = {
    "figures": figures_table,
    "throughput": throughput_table,
    "steps": steps_table,
    "people": people_table,
    "groups": groups_table,
    "variants": variants_table,
}

PAGES = {
    "overview": "Overview",
    "steps": "Steps",
    "people": "People and groups",
    "variants": "Variants",
}


# --- charts -----------------------------------------------------------------------------
def throughput_chart(table):
    return {
        "type": "throughput",
        "title": "Instances per week",
        "labels": [row[0] for row in table.rows],
        "series": [
            {"label": "Completed", "data": [int(row[2]) for row in table.rows], "style": "bar"},
            {"label": "Started", "data": [int(row[1]) for row in table.rows], "style": "line"},
        ],
        "unit": "instances",
        "category": "Week of (Monday)",
    }


def _chart_hours(seconds):
    """Hours for a chart; None (no bar, no label) without a value."""
    return None if seconds is None else float(one_decimal(seconds / 3600))


def steps_chart(rows, limit=10):
    shown = rows[:limit]
    return {
        "type": "steps",
        "title": "Median wait and handling per step (hours)",
        "labels": [step_label(r) for r in shown],
        "series": [
            {
                "label": "Median wait",
                "data": [_chart_hours(r["wait_median"]) for r in shown],
                "style": "bar",
            },
            {
                "label": "Median handling",
                "data": [_chart_hours(r["handling_median"]) for r in shown],
                "style": "hatched",
            },
        ],
        "unit": "hours",
    }


# --- views ------------------------------------------------------------------------------
class ReportAccessMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Anonymous: to the login page; logged in without the permission: 403."""

    permission_required = PERMISSION


class ReportView(ReportAccessMixin, View):
    """One report page: the filters, its charts and tables, a CSV link per table."""

    page = "overview"

    def get(self, request):
        form = ReportFilterForm(request.GET)
        context = {"form": form, "page": self.page, "nav_active": "reports"}
        if not form.is_valid():
            context["tabs"] = self._tabs({})
            return render(request, "tasks_inbox/reports/report.html", context, status=400)
        filters = form.report_filters()
        params = form.params()
        tables, charts, bottleneck = self._content(filters)
        for table in tables:
            table.csv_url = url_with(reverse("reports:csv", args=[table.name]), params)
        context.update(
            tabs=self._tabs(params),
            range_label=form.range_label(),
            tables=tables,
            charts=charts,
            bottleneck=bottleneck,
            filtered=bool(params),
        )
        return render(request, "tasks_inbox/reports/report.html", context)

    def _tabs(self, params):
        return [
            {
                "label": label,
                "url": url_with(reverse(f"reports:{page}"), params),
                "current": page == self.page,
            }
            for page, label in PAGES.items()
        ]

    def _content(self, filters):
        """(tables, charts, bottleneck sentence) of this page."""
        if self.page == "overview":
            throughput = throughput_table(filters)
            rows = reports.steps(filters)
            return (
                [figures_table(filters), throughput],
                [throughput_chart(throughput)],
                bottleneck_sentence(rows[0] if rows else None),
            )
        if self.page == "steps":
            rows = reports.steps(filters)
            return (
                [steps_table(filters, rows)],
                # No chart of empty bars when nothing was decided in the range.
                [steps_chart(rows)] if any(r["wait_median"] is not None for r in rows) else [],
                bottleneck_sentence(rows[0] if rows else None),
            )
        if self.page == "people":
            return [people_table(filters), groups_table(filters)], [], ""
        return [variants_table(filters)], [], ""


class ReportCsvView(ReportAccessMixin, View):
    """A report table as CSV, with the same filters (query string) as the page."""

    def get(self, request, name):
        builder = TABLES.get(name)
        if builder is None:
            raise Http404("No such report table.")
        form = ReportFilterForm(request.GET)
        if not form.is_valid():
            errors = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in form.errors.items()
            )
            return HttpResponse(
                f"Wrong filters: {errors}", status=400, content_type="text/plain; charset=utf-8"
            )
        table = builder(form.report_filters())
        first, last = form.cleaned_data["first_day"], form.cleaned_data["last_day"]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{name}-{first:%Y-%m-%d}-{last:%Y-%m-%d}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(
                [cell if i in table.numeric else csv_text(cell) for i, cell in enumerate(row)]
            )
        return response


def csv_text(cell):
    """A text cell that a spreadsheet would take for a formula (=, +, -, @ first) gets a
    leading apostrophe: names come from people and workflow authors."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
