"""python -m crmlens load / metrics through click's CliRunner, exact output compared.

Numbers for tests/fixtures/tiny are worked out in tests/test_overview_queries.py.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import re
import pathlib

import pytest
from click.testing import CliRunner

from crmlens import store
from crmlens.cli import cli
from tests.conftest import FIXTURES

TINY = sorted((FIXTURES / "tiny").glob("*.csv"))


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def no_default_db(monkeypatch, tmp_path):
    """Never touch data/crm.duckdb: without --db the commands use a missing file in tmp_path."""
    monkeypatch.setenv("CRMLENS_DB", str(tmp_path / "default.duckdb"))


# --- load -----------------------------------------------------------------------------------

def test_load_prints_one_line_per_file(db):
    result = run("load", *TINY, "--db", db)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "complaints.csv -> complaints: 4 rows loaded, 0 rejected (encoding utf-8)",
        "customers.csv -> customers: 4 rows loaded, 0 rejected (encoding utf-8)",
        "opportunities.csv -> opportunities: 4 rows loaded, 0 rejected (encoding utf-8)",
        "orders.csv -> orders: 7 rows loaded, 0 rejected (encoding utf-8)",
    ]
    snap = store.snapshot(db)
    assert snap.version == 1
    assert snap.query("select count(*) as n from orders")["n"][0] == 7


def test_load_lists_rejected_rows(tmp_path, db):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\n"
                    + "".join(f"O{i},C{i},2024-01-0{i},{i}\n" for i in range(1, 10))
                    + "O10,C10,2024-01-10,ten\n")
    result = run("load", path, "--db", db, "--max-rejects", "0.1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "orders.csv -> orders: 9 rows loaded, 1 rejected (encoding utf-8)",
        "  rejected row 11, column amount: not a number ('ten')",
    ]


def test_load_with_table_mode_and_day_first(tmp_path, db):
    first = tmp_path / "people.csv"
    first.write_text("customer_id,signup_date\nC1,03/01/2024\n")
    assert run("load", first, "--db", db, "--table", "customers", "--day-first").exit_code == 0
    more = tmp_path / "people_more.csv"
    more.write_text("customer_id,signup_date\n" + "".join(f"C{i},04/01/2024\n" for i in range(1, 4)))
    result = run("load", more, "--db", db, "--table", "customers", "--mode", "append", "--max-rejects", "0.5")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "people_more.csv -> customers: 2 rows loaded, 1 rejected (encoding utf-8)",
        "  rejected row 2, column customer_id: id already loaded ('C1')",
    ]
    df = store.snapshot(db).query("select customer_id, strftime(signup_date, '%Y-%m-%d') as d from customers order by 1")
    # --day-first read 03/01/2024 as 3 January; the appended file, without it, as 1 April.
    assert df.values.tolist() == [["C1", "2024-01-03"], ["C2", "2024-04-01"], ["C3", "2024-04-01"]]


def test_load_missing_required_column_changes_nothing(tmp_path, db):
    assert run("load", *TINY, "--db", db).exit_code == 0
    before = sha256(db)
    bad = tmp_path / "orders_march.csv"
    bad.write_text("order_id,customer_id,order_date,total_eur\nO9,C1,2024-03-01,5\n")
    result = run("load", TINY[1], bad, "--db", db, "--table", "orders")
    assert result.exit_code == 1
    first, second = result.output.splitlines()
    assert first.startswith("Error: customers.csv: ")
    assert "required columns order_id, order_date, amount are missing for table orders" in first
    assert second == "Nothing was loaded; the data is unchanged."
    result = run("load", bad, "--db", db, "--table", "orders")
    assert result.exit_code == 1
    first, second = result.output.splitlines()
    assert first.startswith("Error: orders_march.csv: ")
    assert "required column amount is missing for table orders" in first
    assert "(found columns: order_id, customer_id, order_date, total_eur)" in first
    assert second == "Nothing was loaded; the data is unchanged."
    assert sha256(db) == before
    assert store.snapshot(db).version == 1


@pytest.mark.parametrize("header, missing", [
    ("order_id,order_date,amount", "customer_id"),
    # customer_id alone would fit surveys: the orders file must still be refused, not loaded there.
    ("order_id,customer_id,order_date", "amount"),
])
def test_load_without_table_names_the_missing_column(tmp_path, db, header, missing):
    bad = tmp_path / "orders.csv"
    bad.write_text(header + "\n" + ",".join(["x"] * 3) + "\n")
    result = run("load", bad, "--db", db)
    assert result.exit_code == 1
    assert result.output.startswith("Error: orders.csv: ")
    assert f"required column {missing} is missing" in result.output
    assert "orders" in result.output.split(":")[2]
    assert result.output.endswith("Nothing was loaded; the data is unchanged.\n")
    assert not db.exists()


def test_load_refused_over_the_reject_limit_shows_the_rejects(tmp_path, db):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\nO1,C1,2024-01-03,5\nO2,C2,someday,5\n")
    result = run("load", path, "--db", db)
    assert result.exit_code == 1
    assert "Error: orders.csv: 1 of 2 rows (50.0%) cannot be loaded, more than the 5% allowed; " \
           "first: row 3, column order_date, not a date ('someday')." in result.output
    assert "Nothing was loaded; the data is unchanged." in result.output
    # The rejects table goes to stderr: file, row, column, value, reason.
    assert re.search(r"^\s*orders.csv\s+3\s+order_date\s+someday\s+invalid_date$", result.stderr, re.M)
    assert not db.exists()


def test_load_while_another_load_holds_the_lock(monkeypatch, db):
    assert run("load", *TINY, "--db", db).exit_code == 0
    before = sha256(db)
    monkeypatch.setattr(store, "writer", functools.partial(store.writer, lock_timeout_s=0.2))
    with open(f"{db}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # flock: a second open file in this process conflicts too
        result = run("load", *TINY, "--db", db)
    assert result.exit_code == 1
    assert result.output == (f"Error: another load into {db} has been running for over 0.2 s; "
                             "wait for it to finish and try again\nNothing was loaded; the data is unchanged.\n")
    assert sha256(db) == before


def test_load_of_a_missing_file(tmp_path, db):
    result = run("load", tmp_path / "nope.csv", "--db", db)
    assert result.exit_code == 1
    assert result.output.startswith("Error: nope.csv: file not found")
    assert not db.exists()


# --- metrics --------------------------------------------------------------------------------

def test_metrics_json_on_the_tiny_fixture(db):
    assert run("load", *TINY, "--db", db).exit_code == 0
    result = run("metrics", "--json", "--db", db, "--start", "2024-07-01", "--end", "2024-12-31")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    overview = out["overview"]
    assert overview["period"] == {"start": "2024-07-01", "end": "2024-12-31"}
    # C1, C2, C3 (no signup date) and C5 (order only) are known by 12-31; C4 signs up in 2025.
    assert overview["customers"] == 4
    # O2 200 + O3 300 + O5 400; O4 cancelled, O7 returned, O6 after the period.
    assert overview["orders"] == 3
    assert overview["revenue"] == 900
    assert overview["n_active_customers"] == 3
    assert overview["n_new_customers"] == 2
    assert overview["n_complaints"] == 2
    assert overview["previous_period"]["amt_revenue"] == 100  # O1
    assert out["data_version"] == 1


def test_metrics_start_defaults_to_365_days_before_end(db):
    assert run("load", *TINY, "--db", db).exit_code == 0
    out = json.loads(run("metrics", "--json", "--db", db, "--end", "2024-12-31").output)
    assert out["overview"]["period"] == {"start": "2024-01-02", "end": "2024-12-31"}
    # O1 100 + O2 200 + O3 300 + O5 400 between 2024-01-02 and 2024-12-31.
    assert out["overview"]["revenue"] == 1000


def test_metrics_start_after_end_is_refused(db):
    assert run("load", *TINY, "--db", db).exit_code == 0
    result = run("metrics", "--json", "--db", db, "--start", "2024-12-31", "--end", "2024-07-01")
    assert result.exit_code == 1
    assert result.output == "Error: --start must not be after --end\n"


@pytest.mark.parametrize("use_env", [False, True])
def test_metrics_on_a_missing_database_says_what_to_do(tmp_path, use_env):
    missing = tmp_path / "default.duckdb" if use_env else tmp_path / "missing.duckdb"
    args = ["metrics", "--json"] + ([] if use_env else ["--db", missing])
    result = run(*args)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no database at {missing}; run `python -m crmlens demo` or load CSV files first\n")
    assert not missing.exists()


def test_a_mapping_file_names_some_columns_and_the_rest_is_detected(db, tmp_path):
    csv = tmp_path / "subscribers.csv"
    csv.write_text("row,Partner,tenure,Churn\n1,Yes,3,Yes\n2,No,40,No\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"table": "customers", "columns": {"customer_id": "row", "is_partner": None}}))
    result = run("load", "--db", db, "--mapping", mapping, csv)
    assert result.exit_code == 0, result.output
    rows = store.snapshot(db).query("select customer_id, is_partner is null as no_partner_flag, partner, "
                                    "tenure_months, churned from customers order by customer_id").values.tolist()
    # tenure and Churn are found by their names; Partner is kept as an extra column, not as is_partner
    assert rows == [["1", True, "Yes", 3.0, True], ["2", True, "No", 40.0, False]]


# --- metrics --params: a view's filters and settings as its page's address keeps them ----------------

CHURN = sorted((FIXTURES / "churn").glob("*.csv"))
Q1 = "period=2024-01-01&period=2024-03-31"


def test_metrics_params_apply_to_the_views_that_take_them(db):
    """tests/fixtures/churn (dates in test_churn_queries.py): segment business = C, D, F."""
    assert run("load", *CHURN, "--db", db).exit_code == 0
    plain = json.loads(run("metrics", "--json", "--db", db, "--start", "2024-01-01", "--end", "2024-03-31").output)
    assert json.loads(run("metrics", "--json", "--db", db, "--params", Q1).output) == plain  # the period alone
    result = run("metrics", "--json", "--db", db, "--params",
                 f"{Q1}&segment=business&churn_days=30&churn_multiplier=0&complaints_follow_days=30")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    # Churn, lost after 30 days for everyone: C (01-15 + 30) and D (02-10 + 30) lost, F back in March. The period
    # churn rate is lost / active at the start, and none of C, D, F was active on 01-01 (C's first lifetime ended
    # 12-31, F's in 2023): no rate (null, not 0%), though both business losses show in the bucket.
    assert out["churn"]["overall_churn_rate"] is None
    assert [p["lost"] for p in out["churn"]["periods"]] == [0, 1, 1]
    # default rule, all customers: active on 01-01 B, C, F; lost by 03-31 B: 1 of 3
    assert plain["churn"]["overall_churn_rate"] == 0.3333
    # Complaints of business customers in Q1: K2 and K3 (both C's), of K1, K2, K3, K5.
    assert (out["complaints"]["total"], plain["complaints"]["total"]) == (2, 4)
    # Complainers and others followed for the same 30 days (data to 03-31): C from its first complaint 01-10 to
    # 02-09, lost only on 02-14: 0 of 1; others D from its first Q1 order 02-10 to 03-11, lost on 03-11: 1 of 1;
    # F's start (03-05) is too recent for 30 days of follow-up: left out.
    assert (out["complaints"]["churn_rate_complainers"], out["complaints"]["churn_rate_others"]) == (0.0, 1.0)
    # Loyalty ladder: C and F clients, D a customer.
    assert (out["loyalty"]["rungs"]["client"], out["loyalty"]["rungs"]["customer"]) == (2, 1)
    # The overview has no filters: unchanged; the keys of every section are those of the plain run.
    assert out["overview"] == plain["overview"]
    assert {k: set(v) for k, v in out.items() if isinstance(v, dict)} == \
           {k: set(v) for k, v in plain.items() if isinstance(v, dict)}


def test_metrics_params_take_the_words_of_either_language(db):
    assert run("load", *CHURN, "--db", db).exit_code == 0
    # churn_grain as the churn page writes it in English and in Chinese: one quarter, Q1 2024.
    en, zh = (json.loads(run("metrics", "--json", "--db", db, "--params", f"{Q1}&churn_grain={g}").output)
              for g in ("Quarters", "按季度"))
    assert en == zh
    assert [p["period"] for p in en["churn"]["periods"]] == ["2024-01-01"]


@pytest.mark.parametrize("params, message", [
    ("segment=wholesale", "segment=wholesale (funnel, loyalty, churn, complaints): not one of the page's options "
                          "(consumer, business)"),
    ("churn_days=0", "churn_days=0 (loyalty, churn, complaints, follow_up, departures): not a whole number from 1 to 3650"),
    ("churn_multiplier=lots", "churn_multiplier=lots (loyalty, churn, complaints, follow_up, departures): not a number "
                              "from 0 to 20"),
    ("churn_grain=Weeks", "churn_grain=Weeks (churn): not one of the page's options (按月, 按季度, Months, Quarters)"),
    ("churn_sort=value", "churn_sort=value: not a filter or setting of any view's headline figures"),
])
def test_metrics_params_refuse_what_a_page_refuses(db, params, message):
    assert run("load", *CHURN, "--db", db).exit_code == 0
    result = run("metrics", "--json", "--db", db, "--params", f"{Q1}&{params}")
    assert result.exit_code == 1
    assert result.output == f"Error: --params: {message}\n"


def test_metrics_params_period_and_start_end_are_not_both_given(db):
    assert run("load", *CHURN, "--db", db).exit_code == 0
    result = run("metrics", "--json", "--db", db, "--start", "2024-01-01", "--params", Q1)
    assert result.exit_code == 1
    assert result.output == "Error: give the period once: period=START&period=END in --params, or --start/--end\n"
