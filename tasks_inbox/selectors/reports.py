"""SLA reports: where work is late, and why (see docs/reports.md for every definition).

Read-only and computed in the database: counts are conditional aggregates, durations are
differences of timestamps in SQL, percentiles are `percentile_cont` on PostgreSQL and the
same linear interpolation over `ROW_NUMBER()`/`COUNT(*)` windows on SQLite, paths of
instances are ordered `string_agg` (PostgreSQL) or `group_concat` over an ordered window
(SQLite). Python only merges a few aggregated rows per step, person or group.

Every function takes a `ReportFilters`. Task figures count decision tasks only (an `info`
task is a question, not a step's work); instance figures count the instances of the
filtered workflow (and version) that had a decision task matching the step, group and
assignee filters, when any of those is given.
"""

import dataclasses
import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from orchestrate.models import (
    Instance,
    InstanceStatus,
    Step,
    StepRun,
    StepRunStatus,
    WorkflowDefinition,
    WorkflowVersion,
)
from tasks_inbox.models import (
    LIVE_TASK_STATUSES,
    Task,
    TaskKind,
    TaskStatus,
    TaskTimer,
    TimerKind,
    TimerStatus,
)

PERCENTILES = (0.5, 0.9)
# Fractions are exact to a millionth in the portable percentile form.
_SCALE = 1_000_000
PATH_SEPARATOR = " → "
RUNNING_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)


@dataclasses.dataclass(frozen=True)
class ReportFilters:
    """What every report is limited to. `start` is inclusive, `end` exclusive; `now` is the
    moment "breached now" and "open" refer to."""

    start: datetime.datetime
    end: datetime.datetime
    workflow: str = ""  # a definition key
    version: int | None = None  # a version number of `workflow`
    step: str = ""  # a step key
    group: str = ""  # a group name (the task's candidate group)
    assignee: str = ""  # a username (the task's assignee)
    now: datetime.datetime = dataclasses.field(default_factory=timezone.now)


# --- SQL building blocks ----------------------------------------------------------------
class SecondsBetween(Func):
    """Seconds from the second expression to the first (a float), computed in SQL."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL: an interval's seconds (numeric since PostgreSQL 14, cast to float).
        return super().as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores UTC timestamps as text; julianday() reads them, in days.
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _is_postgresql():
    return connection.vendor == "postgresql"


def _percentile_sql(source_sql, groups, fractions, *, portable, materialize=False):
    """SQL selecting `groups`, the row count and one percentile per fraction of column
    `rv` of the rows of `source_sql` (NULL values left out), grouped by `groups`.

    Both forms give `percentile_cont`: the value at position h = 1 + f(n - 1) of the
    sorted values, interpolated linearly between the rows around it. Only code-given
    column names, float literals and `source_sql` (compiled by Django; its parameters are
    passed separately) go into the text.
    """
    cols = ", ".join(groups)
    group_by = f" GROUP BY {cols}" if groups else ""
    lead = f"{cols}, " if groups else ""
    if not portable:
        picks = ", ".join(
            f"percentile_cont({fraction!r}) WITHIN GROUP (ORDER BY rv)" for fraction in fractions
        )
        # `materialize`, for groups that an index holds in order (people by decider): the
        # rows are read once by a scan, then sorted by group. Inlined, PostgreSQL fed the
        # ordered-set aggregate from that index and fetched the rows one by one: 46 s
        # instead of 10 s for a year of the bench (docs/reports.md). Without such an index
        # the inlined form is better: it may sort in parallel.
        source = "src" if materialize else f"({source_sql}) AS src"
        cte = f"WITH src AS MATERIALIZED ({source_sql}) " if materialize else ""
        return (
            f"{cte}SELECT {lead}COUNT(*), {picks} FROM {source} "  # noqa: S608
            f"WHERE rv IS NOT NULL{group_by}"
        )
    # Position h = 1 + t / S in integer arithmetic (t = (n - 1) * f * S): integer division
    # truncates on both databases, where CAST(x AS INTEGER) rounds on PostgreSQL.
    over = f"PARTITION BY {cols}" if groups else ""
    positions = ", ".join(
        f"(COUNT(*) OVER ({over}) - 1) * {round(fraction * _SCALE)} AS t{i}"
        for i, fraction in enumerate(fractions)
    )
    picked = ", ".join(
        f"MAX(t{i}) AS t{i}, "
        f"MAX(CASE WHEN rn = 1 + t{i} / {_SCALE} THEN rv END) AS lo{i}, "
        f"MAX(CASE WHEN rn = 2 + t{i} / {_SCALE} THEN rv END) AS hi{i}"
        for i in range(len(fractions))
    )
    values = ", ".join(
        f"lo{i} + (t{i} - t{i} / {_SCALE} * {_SCALE}) * 1.0 / {_SCALE} "
        f"* (COALESCE(hi{i}, lo{i}) - lo{i})"
        for i in range(len(fractions))
    )
    return (
        f"SELECT {lead}n, {values} FROM ("  # noqa: S608
        f"SELECT {lead}COUNT(*) AS n, {picked} FROM ("
        f"SELECT {lead}rv, ROW_NUMBER() OVER ({over} ORDER BY rv) AS rn, {positions} "
        f"FROM ({source_sql}) AS src WHERE rv IS NOT NULL"
        f") AS ranked{group_by}) AS picked"
    )


def percentiles_of_sql(
    source_sql, params, groups=(), fractions=PERCENTILES, *, portable=None, materialize=False
):
    """{group values: (count, [percentile per fraction])} over the rows of `source_sql`,
    whose value column is `rv` and group columns `groups`. Without groups the key is ().

    `portable` chooses the window-function form (the default on databases other than
    PostgreSQL); PostgreSQL can run both, which the tests use to compare them.
    """
    if portable is None:
        portable = not _is_postgresql()
    sql = _percentile_sql(
        source_sql, list(groups), fractions, portable=portable, materialize=materialize
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = {}
    width = len(groups)
    for row in rows:
        count = row[width] or 0
        if count:
            result[tuple(row[:width])] = (count, [float(v) for v in row[width + 1 :]])
    return result


def percentiles(queryset, value, by=(), fractions=PERCENTILES, *, portable=None, materialize=False):
    """Percentiles of the expression `value` over `queryset`, grouped by the fields `by`:
    {(field values...): (count, [percentile per fraction])}."""
    aliases = {f"rg{i}": F(field) for i, field in enumerate(by)}
    rows = queryset.order_by().annotate(**aliases, rv=value).values(*aliases, "rv")
    sql, params = rows.query.sql_with_params()
    return percentiles_of_sql(
        sql, params, list(aliases), fractions, portable=portable, materialize=materialize
    )


# --- what the reports look at -----------------------------------------------------------
def _task_filter(filters, prefix=""):
    """The workflow, version, step, group and assignee filters on tasks (as a Q)."""
    q = Q(**{f"{prefix}kind": TaskKind.DECISION})
    if filters.workflow:
        q &= Q(**{f"{prefix}instance__definition__key": filters.workflow})
    if filters.version is not None:
        q &= Q(**{f"{prefix}instance__version__number": filters.version})
    if filters.step:
        q &= Q(**{f"{prefix}step_key": filters.step})
    if filters.group:
        q &= Q(**{f"{prefix}candidate_group__name": filters.group})
    if filters.assignee:
        q &= Q(**{f"{prefix}assignee__username": filters.assignee})
    return q


def report_tasks(filters):
    """Decision tasks matching the filters other than the dates."""
    return Task.objects.filter(_task_filter(filters))


def report_instances(filters):
    """Instances matching the filters other than the dates."""
    instances = Instance.objects.all()
    if filters.workflow:
        instances = instances.filter(definition__key=filters.workflow)
    if filters.version is not None:
        instances = instances.filter(version__number=filters.version)
    if filters.step or filters.group or filters.assignee:
        matching = Task.objects.filter(_task_filter(filters), instance=OuterRef("pk"))
        instances = instances.filter(Exists(matching))
    return instances


def _in_range(field, filters):
    return Q(**{f"{field}__gte": filters.start, f"{field}__lt": filters.end})


def _decided_in_range(filters):
    return Q(status=TaskStatus.COMPLETED) & _in_range("completed_at", filters)


def _breached_now(filters):
    """Live and past due; a task on hold for an answer is judged at the pause (its clock
    stopped), as the inbox's SLA badge does."""
    late = Q(paused_at__isnull=True, due_at__lte=filters.now) | Q(
        paused_at__isnull=False, due_at__lte=F("paused_at")
    )
    return Q(status__in=LIVE_TASK_STATUSES, due_at__isnull=False) & late


def _on_time():
    return Q(completed_at__lte=F("due_at"))


def waiting_seconds():
    """Created until claimed (the last claim); a task decided without a claim waited until
    it was decided."""
    return SecondsBetween(Coalesce("claimed_at", "completed_at"), "created_at")


def handling_seconds():
    """Claimed until decided, without the time on hold for an answer (claimed tasks only)."""
    return SecondsBetween("completed_at", "claimed_at") - F("paused_seconds")


def cycle_seconds():
    return SecondsBetween("ended_at", "started_at")


def _ratio(part, whole):
    return part / whole if whole else None


def _pick(stats, key, index):
    entry = stats.get(key)
    return entry[1][index] if entry else None


# --- overview ---------------------------------------------------------------------------
def overview(filters):
    """Key figures of the instances started in the range and the tasks decided in it."""
    cohort = report_instances(filters).filter(_in_range("started_at", filters))
    # Sets of instance ids (of instances started in the range), each read in one pass.
    started = _in_range("instance__started_at", filters)
    needed_person = Task.objects.filter(started, decided_by__isnull=False).values("instance_id")
    asked = Task.objects.filter(started, kind=TaskKind.INFO).order_by().values("instance_id")
    reworked = (
        StepRun.objects.filter(started, status=StepRunStatus.COMPLETED)
        .order_by()
        .values("instance_id", "step_key")
        .annotate(runs=Count("id"))
        .filter(runs__gt=1)
        .values("instance_id")
    )
    completed = Q(status=InstanceStatus.COMPLETED)
    counts = cohort.aggregate(
        started=Count("id"),
        completed=Count("id", filter=completed),
        running=Count("id", filter=Q(status__in=RUNNING_STATUSES)),
        failed=Count("id", filter=Q(status=InstanceStatus.INCIDENT)),
        cancelled=Count("id", filter=Q(status=InstanceStatus.CANCELLED)),
    )
    # Counted the other way round and subtracted: `id IN (set)` in a WHERE clause is a
    # semi-join (the set hashed once), while `NOT IN`, or `IN` inside an aggregate's
    # FILTER, is a subplan that PostgreSQL rescans for every instance once the set outgrows
    # work_mem: over a year of the bench data that took minutes (docs/reports.md).
    done = cohort.filter(completed)
    needed = done.filter(pk__in=needed_person).count()
    missed_first_pass = done.filter(pk__in=asked.union(reworked)).count()
    counts["straight_through"] = counts["completed"] - needed
    counts["first_pass"] = counts["completed"] - missed_first_pass
    cycle = percentiles(cohort.filter(completed), cycle_seconds()).get(())
    # Only the rows some figure counts: decided in the range, or live (breached now).
    tasks = (
        report_tasks(filters)
        .filter(_decided_in_range(filters) | Q(status__in=LIVE_TASK_STATUSES))
        .aggregate(
            decided=Count("id", filter=_decided_in_range(filters)),
            with_due=Count("id", filter=_decided_in_range(filters) & Q(due_at__isnull=False)),
            on_time=Count("id", filter=_decided_in_range(filters) & _on_time()),
            breached_now=Count("id", filter=_breached_now(filters)),
        )
    )
    return {
        **counts,
        "cycle_median": cycle[1][0] if cycle else None,
        "cycle_p90": cycle[1][1] if cycle else None,
        "straight_through_rate": _ratio(counts["straight_through"], counts["completed"]),
        "first_pass_yield": _ratio(counts["first_pass"], counts["completed"]),
        "tasks_decided": tasks["decided"],
        "tasks_with_due": tasks["with_due"],
        "tasks_on_time": tasks["on_time"],
        "on_time_rate": _ratio(tasks["on_time"], tasks["with_due"]),
        "breached_now": tasks["breached_now"],
    }


def _week_start(day):
    return day - datetime.timedelta(days=day.weekday())


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def throughput(filters):
    """Per week (Monday) of the range: instances started, and instances completed."""
    instances = report_instances(filters)
    started = dict(
        instances.filter(_in_range("started_at", filters))
        .annotate(week=TruncWeek("started_at"))
        .order_by()
        .values_list("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )
    completed = dict(
        instances.filter(_in_range("ended_at", filters), status=InstanceStatus.COMPLETED)
        .annotate(week=TruncWeek("ended_at"))
        .order_by()
        .values_list("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )
    started = {_as_date(week): n for week, n in started.items()}
    completed = {_as_date(week): n for week, n in completed.items()}
    first = _week_start(timezone.localtime(filters.start).date())
    last = _week_start(timezone.localtime(filters.end - datetime.timedelta(microseconds=1)).date())
    weeks = []
    week = first
    while week <= last:
        weeks.append(
            {"week": week, "started": started.get(week, 0), "completed": completed.get(week, 0)}
        )
        week += datetime.timedelta(days=7)
    return weeks


# --- per step ---------------------------------------------------------------------------
def step_names(keys):
    """{(workflow key, step key): (workflow name, step name)} from each workflow's latest
    version that has the step."""
    workflows = {w for w, _ in keys}
    steps = {s for _, s in keys}
    names = {}
    rows = (
        Step.objects.filter(version__definition__key__in=workflows, key__in=steps)
        .order_by("version__number")
        .values_list("version__definition__key", "key", "version__definition__name", "name")
    )
    for workflow, key, workflow_name, name in rows:
        names[(workflow, key)] = (workflow_name, name or key)
    return names


def steps(filters):
    """Per step of a workflow, bottleneck first (longest median wait, then most late):
    volume (created in range), decided in range, waiting and handling time (median, 90th
    percentile, of the tasks decided in range), on-time rate, late, breached now and
    escalations fired in range."""
    tasks = report_tasks(filters)
    by = ("instance__definition__key", "step_key")
    counts = (
        tasks.filter(
            _in_range("created_at", filters)
            | _decided_in_range(filters)
            | Q(status__in=LIVE_TASK_STATUSES)
        )
        .order_by()
        .values_list(*by)
        .annotate(
            volume=Count("id", filter=_in_range("created_at", filters)),
            decided=Count("id", filter=_decided_in_range(filters)),
            with_due=Count("id", filter=_decided_in_range(filters) & Q(due_at__isnull=False)),
            on_time=Count("id", filter=_decided_in_range(filters) & _on_time()),
            breached_now=Count("id", filter=_breached_now(filters)),
        )
    )
    decided = tasks.filter(_decided_in_range(filters))
    waits = percentiles(decided, waiting_seconds(), by)
    handling = percentiles(decided.filter(claimed_at__isnull=False), handling_seconds(), by)
    fired = (
        TaskTimer.objects.filter(
            _in_range("fired_at", filters),
            kind=TimerKind.ESCALATION,
            status=TimerStatus.FIRED,
            task__in=tasks,
        )
        .order_by()
        .values_list("task__instance__definition__key", "task__step_key")
        .annotate(n=Count("id"))
    )
    escalations = {(workflow, step): n for workflow, step, n in fired}
    rows = {}
    for workflow, step, volume, n_decided, with_due, on_time, breached in counts:
        rows[(workflow, step)] = {
            "workflow": workflow,
            "step": step,
            "volume": volume,
            "decided": n_decided,
            "with_due": with_due,
            "on_time": on_time,
            "late": with_due - on_time,
            "breached_now": breached,
        }
    names = step_names(list(rows))
    for key, row in rows.items():
        workflow_name, step_name = names.get(key, (key[0], key[1]))
        row.update(
            workflow_name=workflow_name,
            step_name=step_name,
            wait_median=_pick(waits, key, 0),
            wait_p90=_pick(waits, key, 1),
            handling_median=_pick(handling, key, 0),
            handling_p90=_pick(handling, key, 1),
            on_time_rate=_ratio(row["on_time"], row["with_due"]),
            late_rate=_ratio(row["late"], row["with_due"]),
            escalations=escalations.get(key, 0),
        )
    return sorted(
        rows.values(),
        key=lambda r: (
            -(r["wait_median"] or 0),
            -(r["late_rate"] or 0),
            -r["breached_now"],
            r["workflow_name"],
            r["step_name"],
        ),
    )


# --- per person and per group -------------------------------------------------------------
def _workload(filters, holder, decider, *, materialize=False):
    """Rows per holder: open, overdue (live tasks, by `holder`), decided in range, median
    handling time and on-time rate (by `decider`). `materialize`: see `_percentile_sql`."""
    tasks = report_tasks(filters)
    live = (
        tasks.filter(status__in=LIVE_TASK_STATUSES, **{f"{holder}__isnull": False})
        .order_by()
        .values_list(holder)
        .annotate(open=Count("id"), overdue=Count("id", filter=_breached_now(filters)))
    )
    decided = tasks.filter(_decided_in_range(filters), **{f"{decider}__isnull": False})
    done = (
        decided.order_by()
        .values_list(decider)
        .annotate(
            decided=Count("id"),
            with_due=Count("id", filter=Q(due_at__isnull=False)),
            on_time=Count("id", filter=_on_time()),
        )
    )
    handling = percentiles(
        decided.filter(claimed_at__isnull=False),
        handling_seconds(),
        [decider],
        materialize=materialize,
    )
    rows = {}

    def row(name):
        return rows.setdefault(
            name,
            {"name": name, "open": 0, "overdue": 0, "decided": 0, "with_due": 0, "on_time": 0},
        )

    for name, n_open, overdue in live:
        row(name).update(open=n_open, overdue=overdue)
    for name, n_decided, with_due, on_time in done:
        row(name).update(decided=n_decided, with_due=with_due, on_time=on_time)
    for name, entry in rows.items():
        entry["handling_median"] = _pick(handling, (name,), 0)
        entry["on_time_rate"] = _ratio(entry["on_time"], entry["with_due"])
    return sorted(rows.values(), key=lambda r: (-r["overdue"], -r["open"], r["name"]))


def people(filters):
    """Per person: tasks they hold now (open, overdue) and decided in range."""
    # The decider's index would hand the percentiles their rows in order, one by one.
    return _workload(filters, "assignee__username", "decided_by__username", materialize=True)


def groups(filters):
    """Per group (the tasks' candidate group): open and overdue now, decided in range."""
    return _workload(filters, "candidate_group__name", "candidate_group__name")


# --- variants -----------------------------------------------------------------------------
def _paths_sql(source_sql, params):
    """SQL and parameters of one row per instance of `source_sql` (columns rid, rv): its
    path, the step keys of its completed step runs in the order they were entered."""
    runs = connection.ops.quote_name(StepRun._meta.db_table)
    status = StepRunStatus.COMPLETED.value
    # Only `source_sql` (compiled by Django, with its own parameters) and a table name
    # go into the text; the values are parameters.
    if _is_postgresql():
        sql = (
            "SELECT i.rid, i.rv, string_agg(s.step_key, %s ORDER BY s.created_at, s.id) "  # noqa: S608
            f"AS path FROM ({source_sql}) AS i JOIN {runs} AS s ON s.instance_id = i.rid "
            "WHERE s.status = %s GROUP BY i.rid, i.rv"
        )
        return sql, [PATH_SEPARATOR, *params, status]
    # SQLite: group_concat over a window concatenates in the window's order (as an
    # aggregate its order is not defined).
    sql = (
        "SELECT DISTINCT rid, rv, path FROM ("  # noqa: S608
        "SELECT i.rid, i.rv, group_concat(s.step_key, %s) OVER ("
        "PARTITION BY i.rid ORDER BY s.created_at, s.id "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS path "
        f"FROM ({source_sql}) AS i JOIN {runs} AS s ON s.instance_id = i.rid "
        "WHERE s.status = %s) AS walked"
    )
    return sql, [PATH_SEPARATOR, *params, status]


def variants(filters, *, portable=None):
    """The distinct paths that the instances started in the range and completed took,
    most frequent first, with their count and median and 90th percentile cycle time."""
    cohort = report_instances(filters).filter(
        _in_range("started_at", filters), status=InstanceStatus.COMPLETED
    )
    sql, params = (
        cohort.order_by().annotate(rid=F("id"), rv=cycle_seconds()).values("rid", "rv")
    ).query.sql_with_params()
    paths_sql, paths_params = _paths_sql(sql, params)
    stats = percentiles_of_sql(paths_sql, paths_params, ["path"], portable=portable)
    total = sum(count for count, _ in stats.values())
    rows = [
        {
            "path": path,
            "steps": path.split(PATH_SEPARATOR),
            "instances": count,
            "share": _ratio(count, total),
            "cycle_median": values[0],
            "cycle_p90": values[1],
        }
        for (path,), (count, values) in stats.items()
    ]
    return sorted(rows, key=lambda r: (-r["instances"], r["path"]))


# --- the filter form's choices --------------------------------------------------------------
def filter_choices():
    """Workflows (key, name), versions per workflow, human steps (key, name), group names."""
    workflows = list(WorkflowDefinition.objects.order_by("name").values_list("key", "name"))
    versions = {}
    for key, number in WorkflowVersion.objects.order_by("number").values_list(
        "definition__key", "number"
    ):
        versions.setdefault(key, []).append(number)
    human_steps = {}
    for key, name in Step.objects.filter(type="human").order_by("key").values_list("key", "name"):
        human_steps.setdefault(key, name or key)
    group_names = list(Group.objects.order_by("name").values_list("name", flat=True))
    return {
        "workflows": workflows,
        "versions": versions,
        "steps": sorted(human_steps.items(), key=lambda item: item[1].lower()),
        "groups": group_names,
    }


def user_exists(username):
    return get_user_model().objects.filter(username=username).exists()
