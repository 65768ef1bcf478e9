"""Excel workbooks load like CSV files (crmlens/ingest/excel.py): the sheet chosen or the fullest one,
the header row found past title rows, date cells and text dates both read, ids kept as written.
The workbooks are written here with tests/xlsx.py, so the expected values sit next to them."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from crmlens import ingest
from crmlens.cli import cli
from crmlens.ingest import excel
from tests import xlsx
from tests.conftest import fetch

ORDERS = [
    ["2025年3月 订单报表"],  # a title row
    ["导出人：张敏", "", "导出时间：2025-04-01"],  # a second title row, two cells
    [],
    ["订单编号", "客户编号", "下单日期", "金额", "状态"],  # the header: sheet row 4
    [1001, "C1", dt.date(2025, 3, 1), 128.5, "已完成"],  # an id stored as a number, a date cell
    [1002, "C2", dt.datetime(2025, 3, 2, 14, 30), 60, "已取消"],  # a date-time cell
    [1003, "C1", "2025/3/5", "88元", ""],  # a date typed as text, an amount with its unit
    [1004, "C3", "not a date", 10, ""],  # rejected: sheet row 8
]


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "订单.xlsx"
    xlsx.write(path, {"说明": [["本工作簿由系统导出"], ["第二行说明"]], "订单": ORDERS})
    return path


def test_the_fullest_sheet_loads_from_its_header_row(tmp_path, workbook):
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([workbook], db=db, max_reject_share=0.5)
    assert (result.table, result.encoding, result.sheet) == ("orders", "excel", "订单")
    assert result.mapping == {"order_id": "订单编号", "customer_id": "客户编号", "order_date": "下单日期",
                              "amount": "金额", "status": "状态"}
    assert (result.n_read, result.n_loaded, result.n_rejected) == (4, 3, 1)
    # The reject's row is the sheet's row, title rows counted (header on row 4, so 1004 is on row 8).
    assert result.rejects[["row", "column", "reason"]].values.tolist() == [[8, "order_date", "invalid_date"]]
    assert fetch(db, "select order_id, customer_id, order_date, amount, status from orders order by 1") == [
        ("1001", "C1", dt.date(2025, 3, 1), 128.5, "已完成"),
        ("1002", "C2", dt.date(2025, 3, 2), 60.0, "已取消"),
        ("1003", "C1", dt.date(2025, 3, 5), 88.0, None),
    ]


def test_a_sheet_can_be_chosen(tmp_path, workbook):
    path = tmp_path / "two.xlsx"
    xlsx.write(path, {"客户": [["customer_id", "name"], ["C1", "Ann"], ["C2", "Bo"]], "订单": ORDERS})
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([path], db=db, options=[ingest.FileOptions(sheet="客户")])
    assert (result.table, result.sheet, result.n_loaded) == ("customers", "客户", 2)
    with pytest.raises(ingest.IngestError, match="no sheet named 退货"):
        ingest.load_files([path], db=db, options=[ingest.FileOptions(sheet="退货")])


def test_header_row_detection():
    assert excel.header_row([["Report"], ["", ""], ["id", "name", "date"], ["1", "a", "2025-01-01"]]) == 2
    assert excel.header_row([["id", "amount"], ["1", "5"]]) == 0
    # A row of numbers is never a header, however wide.
    assert excel.header_row([["Sales 2025"], ["2024", "2025", "2026"], ["year", "a", "b"]]) == 2


def test_a_file_that_is_no_workbook_is_still_refused_as_binary(tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)  # a damaged zip
    with pytest.raises(ingest.IngestError, match="not a text CSV"):
        ingest.load_files([path], db=tmp_path / "crm.duckdb")


def test_the_command_line_loads_a_workbook(tmp_path, workbook):
    db = tmp_path / "crm.duckdb"
    result = CliRunner().invoke(cli, ["load", "--db", str(db), "--max-rejects", "0.5", str(workbook)])
    assert result.exit_code == 0, result.output
    assert "订单.xlsx -> orders: 3 rows loaded, 1 rejected (encoding excel)" in result.output
    assert "rejected row 8, column order_date" in result.output


def test_the_command_line_takes_a_sheet(tmp_path):
    path = tmp_path / "two.xlsx"
    xlsx.write(path, {"客户": [["customer_id", "name"], ["C1", "Ann"]], "订单": ORDERS})
    db = tmp_path / "crm.duckdb"
    result = CliRunner().invoke(cli, ["load", "--db", str(db), "--sheet", "客户", str(path)])
    assert result.exit_code == 0, result.output
    assert "two.xlsx -> customers: 1 rows loaded" in result.output
