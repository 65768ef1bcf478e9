"""A ticket system's status log (one row per status change) loads as one complaint per ticket
(crmlens.ingest.status_log). Volvo IT's published incident log was detected as orders and refused; a log with a
category column was refused as duplicate ticket ids."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner

from crmlens import cli, contract, ingest
from crmlens.ingest import stage
from tests.conftest import PUBLIC_DATA, app_test, fetch, load_texts, rejects_of

# Worked out by hand, ticket by ticket (times of the changes, UTC):
# T1: new 09:00, in progress 10:00, resolved 12:00, closed 13:00 -> opened 09:00, answered 10:00, resolved 12:00 (not
#     at closed: the first closing change after the last open one), status closed, severity high (its latest)
# T2: in progress 08:00, resolved 09:00, in progress 11:00 (reopened) -> answered 08:00 (it opened in progress),
#     not resolved (it ends open), status in progress
# T3: queued 07:00 -> not answered, not resolved, status queued
# T4: new 08:00, resolved 09:00, in progress 10:00, resolved 15:00, closed 16:00 -> answered 09:00, resolved 15:00
# a change without a ticket number: a ticket of its own (as a row without an id in a list of tickets), not answered
LOG = """Ticket Number,Status Changed At,Status,Category,Priority,Customer
T1,2025-03-03 09:00,New,Delivery,low,C1
T1,2025-03-03 10:00,In Progress,Delivery,low,C1
T2,2025-03-04 08:00,In Progress,Billing,medium,C2
T1,2025-03-03 12:00,Resolved,Delivery,high,C1
T3,2025-03-05 07:00,Queued,,,C3
T2,2025-03-04 09:00,Resolved,Billing,medium,C2
T1,2025-03-03 13:00,Closed,Delivery,high,C1
T2,2025-03-04 11:00,In Progress,Billing,medium,C2
T4,2025-03-06 08:00,New,Delivery,low,C1
T4,2025-03-06 09:00,Resolved,Delivery,low,C1
T4,2025-03-06 10:00,In Progress,Delivery,low,C1
T4,2025-03-06 15:00,Resolved,Delivery,low,C1
T4,2025-03-06 16:00,Closed,Delivery,low,C1
,2025-03-07 08:00,New,Price,low,C2
"""


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour)


def test_a_status_log_folds_into_one_complaint_per_ticket(tmp_path):
    db = load_texts(tmp_path / "crm.duckdb", {"ticket_log.csv": LOG})
    got = fetch(db, "select complaint_id, created_at, first_response_at, resolved_at, status, category, severity, "
                    "customer_id from complaints order by complaint_id nulls last")
    assert got == [
        ("T1", _at(3, 9), _at(3, 10), _at(3, 12), "Closed", "Delivery", "high", "C1"),
        ("T2", _at(4, 8), _at(4, 8), None, "In Progress", "Billing", "medium", "C2"),
        ("T3", _at(5, 7), None, None, "Queued", None, None, "C3"),
        ("T4", _at(6, 8), _at(6, 9), _at(6, 15), "Closed", "Delivery", "low", "C1"),
        (None, _at(7, 8), None, None, "New", "Price", "low", "C2"),
    ]


def test_the_load_says_how_many_changes_made_how_many_tickets(tmp_path):
    (tmp_path / "ticket_log.csv").write_text(LOG, encoding="utf-8")
    [result] = ingest.load_files([tmp_path / "ticket_log.csv"], db=tmp_path / "crm.duckdb")
    assert (result.table, result.n_changes, result.n_loaded, result.n_rejected) == ("complaints", 14, 5, 0)
    assert result.is_status_log and not result.is_order_lines


def test_the_command_line_says_how_many_changes_made_how_many_tickets(tmp_path):
    (tmp_path / "ticket_log.csv").write_text(LOG, encoding="utf-8")
    result = CliRunner().invoke(cli.cli, ["load", str(tmp_path / "ticket_log.csv"), "--db", str(tmp_path / "crm.duckdb")])
    assert result.exit_code == 0, result.output
    assert "ticket_log.csv -> complaints: 14 status changes loaded as 5 tickets, 0 rows rejected" in result.output


def test_a_repeated_ticket_id_in_a_list_of_tickets_is_still_a_duplicate(tmp_path):
    """Below half of the rows on a repeated id, a repeat is a mistake in the export: rejected, never merged."""
    rows = [f"K{i},2025-03-0{i},delivery,open" for i in range(1, 8)] + ["K1,2025-03-09,price,closed"]
    (tmp_path / "complaints.csv").write_text("complaint_id,created_at,category,status\n" + "\n".join(rows) + "\n",
                                             encoding="utf-8")
    [result] = ingest.load_files([tmp_path / "complaints.csv"], db=tmp_path / "crm.duckdb", max_reject_share=0.5)
    assert not result.is_status_log
    assert [(row, reason) for row, _, _, reason in rejects_of(result)] == [(9, "duplicate_key")]


def _volvo_tickets() -> dict[str, list[dict]]:
    """The public Volvo IT log read here with the csv module: each request's changes in the file's order."""
    tickets: dict[str, list[dict]] = {}
    with open(PUBLIC_DATA / "volvo_incidents_status_log_5000.csv", newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            tickets.setdefault(row["SR Number"], []).append(row)
    return tickets


@pytest.fixture(scope="module")
def volvo(tmp_path_factory):
    db = tmp_path_factory.mktemp("volvo") / "crm.duckdb"
    [result] = ingest.load_files([PUBLIC_DATA / "volvo_incidents_status_log_5000.csv"], db=db)
    return db, result


def test_the_volvo_incident_log_loads_as_its_requests(volvo):
    db, result = volvo
    tickets = _volvo_tickets()
    assert (result.table, result.n_changes, result.n_loaded, result.n_rejected) == (
        "complaints", sum(len(v) for v in tickets.values()), len(tickets), 0)
    # the latest status of each request (its changes are in time order in the file)
    latest = {sr: rows[-1]["Status"] for sr, rows in tickets.items()}
    got = dict(fetch(db, "select complaint_id, status from complaints"))
    assert got == latest
    assert sum(1 for s in latest.values() if s != "Completed") == 1  # the request the sample cuts off


def test_the_volvo_requests_latest_impact_is_their_severity(volvo):
    """`SR Latest Impact` names no severity column, but "impact" is one of its words and its values (Low, Medium, High)
    are severities: it is taken, and the import says so. Each request's severity is its latest change's impact."""
    db, result = volvo
    assert result.mapping["severity"] == "SR Latest Impact"
    [guess] = [g for g in result.guesses if g.column == "severity"]
    assert guess.taken and set(guess.values) == {"Medium", "Low", "High"}
    latest = {sr: rows[-1]["SR Latest Impact"] for sr, rows in _volvo_tickets().items()}
    assert dict(fetch(db, "select complaint_id, severity from complaints")) == latest


@pytest.mark.parametrize(("header", "values", "taken"), [
    ("Ticket Priority", ["P1 - urgent", "P2", "low", "Low", "3"], False),  # 3 of 5 distinct values, under 80%
    ("Ticket Priority", ["2 - High", "low", "Low", "3", "紧急"], True),
    ("Business Impact", ["Lost a big order", "None", "Delayed shipment"], False),
    ("客户优先级", ["高", "中", "低"], True),
    ("Impactful", ["High", "Low"], None),  # not a word of the header: not a candidate at all
])
def test_a_header_with_a_severity_word_is_taken_only_for_severity_values(header, values, taken):
    from crmlens.ingest import guess

    table = contract.TABLES["complaints"]
    assert "severity" not in contract.match_columns(table, ["created_at", "category", header]) or header == "Impactful"
    mapping = contract.match_columns(table, ["created_at", "category", header], words=True)
    if taken is None:
        assert "severity" not in mapping
        return
    assert mapping["severity"] == header
    kept, guesses = guess.check(table, mapping, {"severity"}, {header: values})
    assert ("severity" in kept) is taken
    assert [g.reason for g in guesses] == ([""] if taken else ["not_severity"])


IMPACT_THEN_PRIORITY = ("ticket_id,created_at,category,Impact Area,Ticket Priority\n"
                        "T1,2024-01-02,billing,Finance,High\n"
                        "T2,2024-01-03,delivery,Warehouse,low\n"
                        "T3,2024-01-04,delivery,Warehouse,Medium\n")


def test_a_severity_word_whose_values_are_no_severities_passes_to_the_next_header_with_one(tmp_path):
    """`Impact Area` comes first and has the word "impact", but its values are departments; `Ticket Priority` has
    severities: the import and the Data page's preview both take Ticket Priority, say so, and keep Impact Area as a
    column of its own."""
    from crmlens.ingest import guess

    path = tmp_path / "tickets.csv"
    path.write_text(IMPACT_THEN_PRIORITY, encoding="utf-8")
    table = contract.TABLES["complaints"]
    assert contract.match_columns(table, IMPACT_THEN_PRIORITY.splitlines()[0].split(","), words=True)[
        "severity"] == "Impact Area"  # the first header with the word: doubted by its values
    mapping, guesses = guess.guess_file(path, "tickets.csv", table)
    assert mapping["severity"] == "Ticket Priority"
    [shown] = [g for g in guesses if g.column == "severity"]
    assert (shown.header, shown.taken, set(shown.values)) == ("Ticket Priority", True, {"High", "low", "Medium"})
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([path], db=db)
    assert result.mapping["severity"] == "Ticket Priority"
    assert [(g.header, g.taken) for g in result.guesses if g.column == "severity"] == [("Ticket Priority", True)]
    assert fetch(db, "select complaint_id, severity, impact_area from complaints order by 1") == [
        ("T1", "High", "Finance"), ("T2", "low", "Warehouse"), ("T3", "Medium", "Warehouse")]


def test_no_header_with_a_severity_word_has_severities_then_none_is_taken(tmp_path):
    """Both headers with a severity word hold other things: severity stays empty, and the guess shown is the first
    header's, doubted (not_severity)."""
    path = tmp_path / "tickets.csv"
    path.write_text(IMPACT_THEN_PRIORITY.replace("High", "Gold").replace("low", "Silver").replace("Medium", "Gold"),
                    encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([path], db=db)
    assert "severity" not in result.mapping
    assert [(g.header, g.reason) for g in result.guesses if g.column == "severity"] == [("Impact Area", "not_severity")]
    assert fetch(db, "select count(*) from complaints where severity is not null") == [(0,)]


def test_a_severity_word_neither_chooses_a_files_table_nor_undoes_a_saved_fixed_value(tmp_path):
    """Matched by a word only, a header is a guess the values must bear out: it never counts towards the table a file
    is for (an activities list with a Customer Priority stays activities) nor takes a saved "=high" severity's place."""
    from crmlens.ingest import mappings

    headers = ["Customer ID", "Date", "Type", "Owner", "Customer Priority"]
    assert stage.detect_table(headers, "export.csv").name == "activities"
    db = tmp_path / "crm.duckdb"
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,created_at,category,Business Impact\nT1,2024-01-02,billing,Lost a big order\n",
                       encoding="utf-8")
    ingest.load_files([tickets], db=db, options=[ingest.FileOptions(
        table="complaints", mapping={"severity": "=high"}, partial=True)])
    saved = mappings.saved_mapping(["ticket_id", "created_at", "category", "Business Impact"], db)
    assert saved.mapping["severity"] == "=high" and saved.kept_own == ()
    assert fetch(db, "select severity from complaints") == [("high",)]


def test_a_volvo_request_reopened_after_months_is_resolved_at_its_last_resolution(volvo):
    """1-364285768: opened 2010-03-31 15:59:42+01:00 already accepted (answered at once), worked on again in 2012,
    resolved 2012-05-03 10:10:12+01:00 and closed a week later."""
    db, _ = volvo
    [row] = fetch(db, "select created_at, first_response_at, resolved_at from complaints "
                      "where complaint_id = '1-364285768'")
    assert row == (dt.datetime(2010, 3, 31, 14, 59, 42), dt.datetime(2010, 3, 31, 14, 59, 42),
                   dt.datetime(2012, 5, 3, 9, 10, 12))


def _values(array) -> list:
    """A figure's array as Plotly sends it: a list, or typed binary ({"dtype": "i2", "bdata": base64})."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_the_complaints_page_reads_the_volvo_requests(volvo, monkeypatch):
    db, _ = volvo
    monkeypatch.setenv("CRMLENS_DB", str(db))
    tickets = _volvo_tickets()
    first = min(rows[0]["Change Date+Time"][:10] for rows in tickets.values())
    at = app_test("complaints", lang="English", period=[first, "2013-12-31"])
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Complaints"] == f"{len(tickets):,}"
    assert shown["Open now"] == "1"
    # the log has no SLA: the breach card says its hours are the page's settings, defaults until changed
    breach = next(m for m in at.metric if m.label == "SLA breach rate")
    assert "the page's defaults until you change them" in breach.proto.help
    # no request has a category: the headline says so instead of "(not given), 100.0% of the complaints"
    assert [c.value for c in at.caption if c.value.startswith("**Top cause:** not known")] != []
    assert not [m.value for m in at.markdown if "(not given)" in m.value]
    # the period runs to 2013 and the log stops in May 2012: no month after the data's last day is drawn (as a zero
    #   bar marked "partial", with the backlog falling to zero)
    last_change = max(row["Change Date+Time"][:7] for rows in tickets.values() for row in rows)
    volume = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith("Complaints per month"))
    months = [x[:7] for x in volume["data"][0]["x"]]
    assert months[0] == first[:7] and months[-1] == last_change == "2012-05"
    assert sum(_values(volume["data"][0]["y"])) == len(tickets)
    # the requests carry no customer id: the breakdown's table has no "Customers" column of zeros
    by_category = next(d.value for d in at.dataframe if "Complaints" in d.value.columns and "Category" in d.value.columns)
    assert "Customers" not in by_category.columns


# Worked out by hand: changes at the same time count in the file's order; a change without a status only dates the
# ticket; the file's rows need not be in time order.
# T5: new 09:00, in progress 10:00, resolved 10:00 (same time, after it in the file) -> resolved 10:00
# T6: (blank) 13:00 listed first; new 09:00, (blank) 10:00, closed 12:00 -> status closed, answered and resolved 12:00
LOG_TIES = """Ticket Number,Status Changed At,Status,Category
T6,2025-03-03 13:00,,Delivery
T5,2025-03-03 09:00,New,Price
T5,2025-03-03 10:00,In Progress,Price
T5,2025-03-03 10:00,Resolved,Price
T6,2025-03-03 09:00,New,Delivery
T6,2025-03-03 10:00,,Delivery
T6,2025-03-03 12:00,Closed,Delivery
"""

# A 工单 log with days only: G1 待处理, 处理中, 已解决 on one day -> answered and resolved that day;
# G2 待处理 03-03, 处理中 03-04, 已解决 03-04, 已关闭 03-05 -> resolved 03-04 (已解决, not 已关闭)
LOG_DAYS = """工单号,状态变更时间,状态,投诉类型
G1,2025-03-03,待处理,物流
G1,2025-03-03,处理中,物流
G1,2025-03-03,已解决,物流
G2,2025-03-03,待处理,价格
G2,2025-03-04,处理中,价格
G2,2025-03-04,已解决,价格
G2,2025-03-05,已关闭,价格
"""


def test_changes_at_the_same_time_and_changes_without_a_status(tmp_path):
    db = load_texts(tmp_path / "crm.duckdb", {"ticket_log.csv": LOG_TIES})
    got = fetch(db, "select complaint_id, created_at, first_response_at, resolved_at, status from complaints "
                    "order by complaint_id")
    assert got == [("T5", _at(3, 9), _at(3, 10), _at(3, 10), "Resolved"),
                   ("T6", _at(3, 9), _at(3, 12), _at(3, 12), "Closed")]


def test_a_log_of_days_in_chinese(tmp_path):
    db = load_texts(tmp_path / "crm.duckdb", {"工单流转记录.csv": LOG_DAYS})
    got = fetch(db, "select complaint_id, created_at, first_response_at, resolved_at, status, category from complaints "
                    "order by complaint_id")
    assert got == [("G1", _at(3, 0), _at(3, 0), _at(3, 0), "已解决", "物流"),
                   ("G2", _at(3, 0), _at(4, 0), _at(4, 0), "已关闭", "价格")]


def test_a_logs_own_resolution_time_wins_and_rejects_no_change(tmp_path):
    """Each change's time is the log's created_at: a resolution before a later change is no error there."""
    text = ("ticket_id,status_changed_at,status,resolved_at\n"
            "T1,2025-03-03 09:00,New,\nT1,2025-03-03 12:00,Resolved,2025-03-03 11:30\n"
            "T1,2025-03-03 13:00,Closed,2025-03-03 11:30\n")
    (tmp_path / "log.csv").write_text(text, encoding="utf-8")
    [result] = ingest.load_files([tmp_path / "log.csv"], db=tmp_path / "crm.duckdb")
    assert (result.n_changes, result.n_loaded, result.n_rejected) == (3, 1, 0)
    assert fetch(tmp_path / "crm.duckdb", "select resolved_at, status from complaints") == [
        (dt.datetime(2025, 3, 3, 11, 30), "Closed")]


@pytest.mark.parametrize("mode", ["append", "update"])
def test_part_of_a_log_is_not_added_to_the_tickets_loaded(tmp_path, mode):
    """Each ticket is folded from all its changes: a week's changes added to last week's tickets would lose them."""
    (tmp_path / "ticket_log.csv").write_text(LOG, encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files([tmp_path / "ticket_log.csv"], db=db)
    before = fetch(db, "select * from complaints order by all")
    (tmp_path / "next_week.csv").write_text(LOG_TIES, encoding="utf-8")
    with pytest.raises(ingest.IngestError) as refused:
        ingest.load_files([tmp_path / "next_week.csv"], db=db, mode=mode)
    assert "is a status log" in str(refused.value) and "Replace the table's data" in str(refused.value)
    assert fetch(db, "select * from complaints order by all") == before


@pytest.mark.parametrize("headers", ["customer_id,name,created,status", "客户编号,客户名称,创建时间,状态",
                                     "Subscription ID,Customer ID,Status,Created", "order_id,status,status_changed_at",
                                     "订单号,状态,状态变更时间"])
def test_a_list_with_a_date_and_a_status_is_no_list_of_complaints(headers):
    """Without a ticket number, a file needs a category to be complaints: a customer list with a creation date and a
    status must not replace the complaints."""
    try:
        table = stage.detect_table(headers.split(","), "export.csv").name
    except ingest.IngestError:
        table = None
    assert table != "complaints"


def test_a_ticket_lists_opening_time_wins_over_its_last_status_change():
    headers = "Ticket Number,Status Changed At,Opened At,Status,Category".split(",")
    assert contract.match_columns(contract.COMPLAINTS, headers)["created_at"] == "Opened At"
    headers = "工单号,状态,状态变更时间,创建时间,投诉类型".split(",")
    assert contract.match_columns(contract.COMPLAINTS, headers)["created_at"] == "创建时间"


@pytest.mark.parametrize("page, words", [
    ("loyalty", "No orders and no customers are loaded: the ladder places"),
    ("overview", "No orders and no customers are loaded")])
def test_pages_without_orders_or_customers_say_so(volvo, monkeypatch, page, words):
    """Only the Volvo tickets loaded: the Loyalty page failed with a TypeError (no customer count), after warning that
    "the customer list has no partner flag"; the Overview spoke of a customer list or a subscription export. The
    Loyalty page then drew its rule settings and eight tabs around the notice: it now says what to load and stops."""
    db, _ = volvo
    monkeypatch.setenv("CRMLENS_DB", str(db))
    at = app_test(page, lang="English", period=["2010-03-31", "2012-05-31"])
    assert not at.exception
    assert [i.value for i in at.info if words in i.value] != []
    assert not [w.value for w in at.warning if "partner flag" in w.value]
    if page == "loyalty":
        assert (len(at.main.tabs), len(at.main.expander), len(at.main.number_input)) == (0, 0, 0)


def test_the_data_page_says_when_a_category_is_required(volvo, monkeypatch):
    """A complaints file with ticket numbers needs no category column: "category (required)" read as if the Volvo log
    could not load."""
    db, _ = volvo
    monkeypatch.setenv("CRMLENS_DB", str(db))
    at = app_test("data", lang="English")
    assert not at.exception
    listed = [m.value for m in at.markdown if "`complaint_id`" in m.value]
    assert listed and "`category` (required without complaint_id)" in listed[0]
    assert "`created_at` (required)" in listed[0]
