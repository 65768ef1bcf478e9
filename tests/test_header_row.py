"""The header row of a CSV file (issue 15, "delimiter, header row and 'missing' words as page choices"):
title lines above the header are detected and left out, the user can choose another line, and a file
without a header row loads with its columns named by position (column_1, ...) and mapped by hand.
Row numbers in rejects stay the file's own line numbers throughout."""

from __future__ import annotations

import csv
import pathlib

import pytest

from crmlens import ingest
from crmlens.ingest import header
from tests import xlsx
from tests.conftest import fetch, rejects_of, shown_text

CDNOW = pathlib.Path(__file__).parent / "fixtures" / "cdnow" / "CDNOW_sample.txt"

# A report with a title line and a blank line above its header (line 3); the bad amount is on line 5.
TITLED = (
    "订单报表 2024-01\n"
    "\n"
    "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间\n"
    "A1,tom,10.5,交易成功,2024-01-02 10:00:00\n"
    "A2,amy,x,交易关闭,2024-01-03 11:00:00\n"
    "A3,tom,20,交易成功,2024-01-04 12:00:00\n"
)


def test_title_lines_above_the_header_are_found_and_left_out(tmp_path, db):
    path = tmp_path / "report.csv"
    path.write_text(TITLED, encoding="utf-8")
    headers, _, _, used, detected, top = ingest.open_header(path)
    assert (used, detected) == (3, 3)
    assert headers == ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单创建时间"]
    assert top[0] == ["订单报表 2024-01"] and top[1] == []
    [r] = ingest.load_files([path], db=db, max_reject_share=0.5)
    # 3 data lines: A1 and A3 load, A2's amount is rejected, named by its line in the file (5).
    assert (r.table, r.layout, r.n_read, r.n_loaded, r.header_row) == ("orders", "taobao_order_report", 3, 2, 3)
    assert rejects_of(r) == [(5, "amount", "x", "invalid_double")]
    assert fetch(db, "select order_id, customer_id, amount from orders order by 1") == [("A1", "tom", 10.5),
                                                                                       ("A3", "tom", 20.0)]


def test_a_gb18030_report_with_a_title_line(tmp_path, db):
    path = tmp_path / "淘宝订单.csv"
    path.write_bytes(TITLED.encode("gb18030"))
    [r] = ingest.load_files([path], db=db, max_reject_share=0.5)
    assert (r.encoding, r.header_row, r.n_loaded) == ("gb18030", 3, 2)
    assert rejects_of(r) == [(5, "amount", "x", "invalid_double")]
    assert fetch(db, "select customer_id from orders order by order_id") == [("tom",), ("tom",)]


def test_the_users_choice_of_header_row_wins(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(TITLED, encoding="utf-8")
    headers, *_ = ingest.open_header(path, header_row=1)
    assert headers[0] == "订单报表 2024-01"  # as DuckDB alone would read it: the title taken for the header
    options = ingest.FileOptions(header_row=3)
    assert ingest.inspect_file(path, options=options).n_read == 3


@pytest.mark.parametrize("text", [
    "customer_id,name\nK1,Li\nK2,Wang\n",  # a plain header on line 1
    "a,b,c\n1,2,3\n",  # short
    "Sales 2024\nregion,2023,2024\nNorth,1,2\n",  # under the title, a line with numbers: not plainly a header
    "only one column\nx\ny\n",
    "id,name\nK1,Li,Wei,Zhang\nK2,Ou,Yang,Min\n",  # a short header over ragged rows of text: still line 1
    "",
])
def test_detection_leaves_plain_files_as_they_were(tmp_path, text):
    rows = [next(csv.reader([line]), []) for line in text.splitlines()]
    assert header.detect(rows) == 1


def test_a_file_without_a_header_row_maps_its_columns_by_position(tmp_path, db):
    """The real CDNOW sample (tests/fixtures/cdnow: no header row, fields apart by spaces), as it is."""
    options = ingest.FileOptions(table="orders", delimiter=ingest.WHITESPACE, header_row=0, mapping={
        "customer_id": "column_1", "order_date": "column_3", "quantity": "column_4", "amount": "column_5"})
    [r] = ingest.load_files([CDNOW], db=db, options=[options])
    with open(CDNOW, newline="") as fh:
        lines = [line.split() for line in fh if line.strip()]
    assert (r.n_read, r.n_loaded, r.n_rejected, r.generated_ids) == (len(lines), len(lines), 0, True)
    assert r.headers == ["column_1", "column_2", "column_3", "column_4", "column_5"]
    total = round(sum(float(f[4]) for f in lines), 2)
    assert fetch(db, "select round(sum(amount), 2), count(distinct customer_id) from orders") == [
        (total, len({f[0] for f in lines}))]
    # The first line is data, not a header: its order is there, with its line number 1 in the generated id.
    assert fetch(db, "select customer_id, order_date::varchar, amount from orders where order_id = 'CDNOW_sample.txt#1'") \
        == [(lines[0][0], "1997-01-01", float(lines[0][4]))]


def test_rejects_of_a_file_without_a_header_count_from_line_1(tmp_path, db):
    path = tmp_path / "rows.csv"
    path.write_text("K1,2024-01-05,10\nK2,not a date,4\nK3,2024-01-09,100\n")
    options = ingest.FileOptions(table="orders", header_row=0, mapping={
        "customer_id": "column_1", "order_date": "column_2", "amount": "column_3"})
    [r] = ingest.load_files([path], db=db, options=[options], max_reject_share=0.5)
    assert (r.n_read, r.n_loaded) == (3, 2)
    assert rejects_of(r) == [(2, "order_date", "not a date", "invalid_date")]


def test_a_file_without_a_header_row_leaves_no_saved_mapping(tmp_path, db):
    path = tmp_path / "rows.csv"
    path.write_text("K1,2024-01-05,10\nK2,2024-01-06,4\n")
    options = ingest.FileOptions(table="orders", header_row=0, mapping={
        "customer_id": "column_1", "order_date": "column_2", "amount": "column_3"})
    ingest.load_files([path], db=db, options=[options])
    # Any other file as wide would have the same names by position: nothing is remembered for them.
    assert ingest.saved_mapping(["column_1", "column_2", "column_3"], db) is None


@pytest.mark.parametrize("row", [-1, 31, "3", True])
def test_a_header_row_that_is_none_is_refused_with_a_message(tmp_path, row):
    path = tmp_path / "report.csv"
    path.write_text(TITLED, encoding="utf-8")
    with pytest.raises(ingest.IngestError) as e:
        ingest.inspect_file(path, options=ingest.FileOptions(header_row=row))
    assert "report.csv" in str(e.value) and "header row" in str(e.value)


def test_a_sheet_without_a_header_row(tmp_path, db):
    path = tmp_path / "rows.xlsx"
    xlsx.write(path, {"Sheet1": [["K1", "2024-01-05", 10], ["K2", "2024-01-06", 4]]})
    options = ingest.FileOptions(table="orders", header_row=0, mapping={
        "customer_id": "column_1", "order_date": "column_2", "amount": "column_3"})
    [r] = ingest.load_files([path], db=db, options=[options])
    assert (r.n_read, r.n_loaded, r.header_row) == (2, 2, 0)
    assert fetch(db, "select customer_id, amount from orders order by 1") == [("K1", 10.0), ("K2", 4.0)]


def test_a_sheets_header_row_can_be_chosen(tmp_path):
    path = tmp_path / "t.xlsx"
    xlsx.write(path, {"S": [["Report"], ["customer_id", "name"], ["K1", "Li"]]})
    assert ingest.open_header(path)[3:5] == (2, 2)
    headers, _, _, used, detected, _ = ingest.open_header(path, header_row=1)
    assert (headers[0], used, detected) == ("Report", 1, 2)


@pytest.mark.parametrize("text, row", [
    ("订单报表 2024-01\n\n订单编号,客户,金额\nA1,C1,10\n", 3),
    ("导出人：张敏,,导出时间：2025-04-01\n订单编号,客户,金额\nA1,C1,10\n", 2),  # key: value notes, padded
    ("Exported on 2024-01-02 10:00\ncustomer_id,name,city\nK1,Li,Beijing\n", 2),
])
def test_title_lines_of_reports(text, row):
    rows = [next(csv.reader([line]), []) for line in text.splitlines()]
    assert header.detect(rows) == row


# --- the Data page (AppTest) ---------------------------------------------------------------------

def test_data_page_shows_the_header_row_and_lets_the_user_choose_no_header(db_env):
    from crmlens import store
    from tests.conftest import app_test

    at = app_test()
    at.switch_page("pages/data.py").run()
    at.file_uploader[0].set_value(("report.csv", TITLED.encode("utf-8"), "text/csv")).run()
    choice = next(s for s in at.selectbox if s.key and s.key.startswith("header_"))
    assert choice.value == 3
    assert any("header is on row 3" in c.value for c in at.caption)
    assert any("Taobao / Tmall" in shown_text(i.value) for i in at.info)  # the layout is recognised under the title
    assert [m.value for m in at.metric][:3] == ["3", "2", "1"]

    # A file of data rows only: "no header row", then its columns mapped by their values.
    before = store.snapshot(db_env).version
    at.file_uploader[0].set_value(("rows.csv", b"N1,C1,2024-09-01,120\nN2,C2,2024-09-02,80\n", "text/csv")).run()
    choice = next(s for s in at.selectbox if s.key and s.key.startswith("header_"))
    assert choice.value == 1
    assert any("looks like data" in w.value for w in at.warning)
    choice.set_value(0).run()
    assert any("No header row" in i.value for i in at.info)
    table = next(s for s in at.selectbox if s.key and s.key.startswith("table_"))
    table.set_value("orders").run()
    mapping = {"order_id": "column_1", "customer_id": "column_2", "order_date": "column_3", "amount": "column_4"}
    for column, name in mapping.items():
        box = next(s for s in at.selectbox if s.key and s.key.endswith(f"_orders_{column}"))
        assert "e.g." in box.format_func(name)  # the choices show each column's values
        box.set_value(name).run()
    assert not at.error
    assert [m.value for m in at.metric][:3] == ["2", "2", "0"]
    at.button[0].click().run()
    assert not at.exception
    assert "rows.csv: 2 rows loaded into Orders" in shown_text(at.success[0].value)
    rows = store.snapshot(db_env).query("select order_id, customer_id, amount from orders where order_id like 'N%' order by 1")
    assert rows.values.tolist() == [["N1", "C1", 120.0], ["N2", "C2", 80.0]]
    assert store.snapshot(db_env).version == before + 1


def test_the_command_line_takes_a_header_row(tmp_path, db):
    from click.testing import CliRunner

    from crmlens.cli import cli

    path = tmp_path / "rows.csv"
    path.write_text("K1,2024-01-05,10\nK2,2024-01-06,4\n")
    mapping = tmp_path / "m.json"
    mapping.write_text('{"table": "orders", "columns": {"customer_id": "column_1", "order_date": "column_2", '
                       '"amount": "column_3"}}')
    result = CliRunner().invoke(cli, ["load", str(path), "--db", str(db), "--header-row", "0",
                                      "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "no header row" in result.output and "rows.csv#1, rows.csv#2" in result.output
    assert fetch(db, "select order_id, amount from orders order by 1") == [("rows.csv#1", 10.0), ("rows.csv#2", 4.0)]
    titled = tmp_path / "report.csv"
    titled.write_text(TITLED, encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", str(titled), "--db", str(tmp_path / "b.duckdb"), "--max-rejects", "0.5"])
    assert result.exit_code == 0, result.output
    assert "header on line 3: the 2 line(s) above it left out" in result.output
    assert "rejected row 5, column amount" in result.output


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16"])
def test_a_utf16_report_with_a_title_line(tmp_path, db, encoding):
    path = tmp_path / "report.csv"
    path.write_bytes(TITLED.encode(encoding))  # utf-16: with a byte-order mark; utf-16-le: without
    [r] = ingest.load_files([path], db=db, max_reject_share=0.5)
    assert (r.header_row, r.n_loaded) == (3, 2)
    assert rejects_of(r) == [(5, "amount", "x", "invalid_double")]
