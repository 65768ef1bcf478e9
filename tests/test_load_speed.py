"""The shortcuts that make a big load cheaper give exactly what the full rules give.

- Cleaning a value (convert.cleaned): a value with no blank space at its ends that is not a 'missing'
  word is taken as it is; every other value goes through the full trim and pattern.
- A plain number or an ISO date is cast directly, before the layouts and currency rewriting.
- Row numbers come from the staged table's row ids (also inside a load's transaction, where they do not
  start at 0, and when the file has a column named rowid).
- Loading orders rebuilds only the marts that read orders; the others are kept, and equal a full rebuild.
"""

import datetime as dt

import duckdb
import pytest

from crmlens import contract, ingest, model, store, vocab
from crmlens.ingest import convert
from tests.conftest import FIXTURES, fetch, rejects_of

# Before the shortcut: every value took the whole rule.
FULL_RULE = f"if(regexp_full_match(v, '{convert.NULL_PATTERN}', 'i'), null, trim(v, {convert.BLANKS}))"
TRICKY = ["C001", "  C001", "C001 ", "\tC001\n", "\fna", "na\f", " \f NULL \r\n", "NA", "nA", "N/A", "#N/A", "-", "--",
          "---", "?", "??", "无", " 空 ", "无效", "", "   ", "none", "None of it", "nan", "NaN", "naN ", "null-ish",
          "2024-03-01", " 2024-03-01", "1,234.50", "¥1,200", "ab\u00a0", "\u00a0", "e\u0301", "Ｎａ", None]


def test_the_cleaning_shortcut_gives_what_the_full_rule_gives():
    con = duckdb.connect()
    con.execute("create table t (i int, v varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(TRICKY)))
    rows = con.execute(f"select i, {convert.cleaned('v')}, {FULL_RULE} from t order by i").fetchall()
    assert [r[1] for r in rows] == [r[2] for r in rows]
    # and what the rule is, for a few: trimmed, 'missing' words and blanks NULL, any case
    got = dict((TRICKY[i], a) for i, a, _ in rows)
    assert (got["  C001"], got["\tC001\n"], got["\fna"], got["#N/A"], got["无效"], got["   "], got["naN "]) == \
        ("C001", "C001", None, None, "无效", None, None)
    assert got["---"] == "---" and got["Ｎａ"] == "Ｎａ"


def typed(column: contract.Column, values: list[str | None]) -> list:
    con = duckdb.connect()
    con.execute("create temp table _clean (v varchar)")
    con.executemany("insert into _clean values (?)", [(v,) for v in values])
    expr = convert.convert_expr(con, column, "v", False)
    return [r[0] for r in con.execute(f"select {expr} from _clean").fetchall()]


def test_plain_numbers_and_the_rewritten_ones():
    values = ["270.91", "12", "-3.5", "1e3", " 12 ", "1_000", "1,234.5", "¥1,200", "RMB 35", "12%", "5元", "$ 7.25",
              "abc", None]
    assert typed(contract.Column("amount", "DOUBLE"), values) == \
        [270.91, 12.0, -3.5, 1000.0, 12.0, 1000.0, 1234.5, 1200.0, 35.0, 0.12, 5.0, 7.25, None, None]
    assert typed(contract.Column("quantity", "INTEGER"), ["2", "2.0", "1,000", "x"]) == [2, 2, 1000, None]


def test_a_decimal_comma_column_never_takes_the_plain_number_shortcut():
    # Most values are 1.234,5-style, so "1.234" is one thousand two hundred and thirty-four, not 1.234.
    assert typed(contract.Column("amount", "DOUBLE"), ["1.234,5", "2.000,25", "3,5", "1.234"]) == \
        [1234.5, 2000.25, 3.5, 1234.0]


def test_iso_dates_and_the_other_layouts():
    values = ["2024-03-01", "2024-02-30", "2024-3-1", "2024/03/01", "03/01/2024", "2024-03-01 10:30",
              "2024-03-01T23:30:00+02:00", "2024年3月1日", None]
    assert typed(contract.Column("order_date", "DATE"), values) == \
        [dt.date(2024, 3, 1), None, dt.date(2024, 3, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 1),
         dt.date(2024, 3, 1), dt.date(2024, 3, 1), None]
    assert typed(contract.Column("created_at", "TIMESTAMP"), ["2024-03-01", "2024-03-01 10:30"]) == \
        [dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 1, 10, 30)]


@pytest.mark.parametrize("first_header", ["order_id", "rowid"])
def test_rejects_name_the_spreadsheet_row_inside_a_load(tmp_path, first_header):
    """Row ids inside the load's transaction start at a large base; a column named rowid hides them."""
    path = tmp_path / "orders.csv"
    path.write_text(f"{first_header},order_id2,customer_id,order_date,amount\n"
                    "1,O1,C1,2024-03-05,100\n2,O2,C1,2024-03-06,oops\n3,O3,C2,2024-03-07,30\n", encoding="utf-8")
    mapping = {"order_id": "order_id2", "customer_id": "customer_id", "order_date": "order_date", "amount": "amount"}
    results = ingest.load_files([path], db=tmp_path / "crm.duckdb", max_reject_share=0.5,
                                options=[ingest.FileOptions(table="orders", mapping=mapping)])
    assert rejects_of(results[0]) == [(3, "amount", "oops", "invalid_double")]
    assert fetch(tmp_path / "crm.duckdb", "select order_id from orders order by 1") == [("O1",), ("O3",)]


def mart_rows(con, name: str) -> list[tuple]:
    return sorted(con.execute(f"select * from {name}").fetchall(), key=repr)


def test_loading_orders_rebuilds_only_the_marts_that_read_orders(tmp_path):
    db = tmp_path / "crm.duckdb"
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=db)
    kept = {n for n in (*model.STAGING_TABLES, *model.MARTS) if "orders" not in model.inputs(n)}
    assert {"mart_opportunities", "stg_opportunities", "mart_stage_spellings"} <= kept
    assert "mart_customers" not in kept and "mart_loyalty_months" not in kept
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,order_date,amount,status\nN1,C1,2024-05-01,80,completed\n"
                      "N2,C9,2024-06-01,20,completed\n", encoding="utf-8")
    ingest.load_files([orders], db=db, table="orders")
    # every mart as a full rebuild of the same data makes it
    with store.writer(db, new_version=False) as con:
        before = {n: mart_rows(con, n) for n in (*model.STAGING_TABLES, *model.MARTS)}
        assert model._unaffected_tables(con, {"orders"}) == kept
        model.build(con)
        assert {n: mart_rows(con, n) for n in before} == before
        assert ("C9",) in con.execute("select customer_id from mart_customers").fetchall()


def test_a_changed_vocabulary_or_an_older_model_rebuilds_every_mart(tmp_path, monkeypatch):
    db = tmp_path / "crm.duckdb"
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=db)
    with store.writer(db, new_version=False) as con:
        assert model._unaffected_tables(con, {"orders"})
        assert model._unaffected_tables(con, None) == set()
        monkeypatch.setattr(vocab, "rows", lambda: [("non_revenue_status", "storniert")])
        assert model._unaffected_tables(con, {"orders"}) == set()
        monkeypatch.undo()
        con.execute("update model_info set model_version = model_version - 1")
        assert model._unaffected_tables(con, {"orders"}) == set()
