"""Hostile and broken files (issue 21): each is refused with a clear message, or loads with exact rejects.

Every file is generated here. A refusal must name the file, say what to do, carry none of
DuckDB's own wording ("ignore_errors", "Possible fixes", "Invalid Input Error"), and leave
the database byte-identical. Row numbers follow a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gzip
import json
import os
import pathlib
import random

import pytest

from crmlens import i18n, ingest, store
from crmlens.ingest import decode, read
from tests.conftest import fetch, load_texts, rejects_of, sha256

ORDERS = "order_id,customer_id,order_date,amount\n"
DUCKDB_WORDS = ("ignore_errors", "Possible fixes", "Possible Solution", "Invalid Input Error", "Binder Error",
                "TransactionContext", "read_csv", "strict_mode", "Traceback", "LINE 1")


@pytest.fixture
def db(tmp_path) -> pathlib.Path:
    """A database holding two customers and one order, to check that refusals leave it alone."""
    return load_texts(tmp_path / "crm.duckdb", {"customers.csv": "customer_id,name\nC1,Ann\nC2,Bo\n",
                                                "orders.csv": ORDERS + "S1,C1,2024-01-02,10\n"})


def refused(db: pathlib.Path, path: pathlib.Path, *words: str, name: str | None = None, **load) -> ingest.IngestError:
    """Load `path`; assert it is refused with a clear message and the database is byte-identical."""
    before = sha256(db)
    name = name or path.name
    with pytest.raises(ingest.IngestError) as err:
        ingest.load_files([path], db=db, file_names=[name], **load)
    message = str(err.value)
    assert message.startswith(f"{name}: "), message
    for word in words:
        assert word in message, message
    for word in DUCKDB_WORDS:
        assert word not in message, message
    assert sha256(db) == before
    if err.value.key:  # the same refusal in Chinese, for the Data page
        assert err.value.message("zh") != message and name in err.value.message("zh")
    return err.value


def write(tmp_path: pathlib.Path, name: str, data: bytes | str) -> pathlib.Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- files that are refused ------------------------------------------------------------------

random.seed(21)
REFUSED = {
    "empty.csv": (b"", "empty"),
    "blank_lines.csv": (b" \r\n\r\n\t\n", "empty"),
    "header_only.csv": (ORDERS.encode(), "no data rows"),
    "byte_order_mark_only.csv": (codecs.BOM_UTF8, "empty"),
    "image.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "not a text CSV file"),
    "workbook.csv": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(40), "not a text CSV file"),
    "compressed.csv": (gzip.compress((ORDERS + "O1,C1,2024-01-01,5\n").encode()), "not a text CSV file"),
    "noise.csv": (bytes(random.randrange(256) for _ in range(4096)), "not a text CSV file"),
    "document.csv": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "required column"),
    "login_page.csv": (b"<!DOCTYPE html>\n<html><body><form>password</form></body></html>\n", "required column"),
    "orders_without_amount.csv": (b"order_id,customer_id,order_date\nO1,C1,2024-01-01\n", "amount"),
    "one_long_row.csv": ((ORDERS + "O1,C1,2024-01-01,5\nO2,C1,2024-01-01," + "9" * 2_100_000 + "\n").encode(),
                         "row 3 is too long"),
    "too_wide.csv": ((",".join(["order_id", "customer_id", "order_date", "amount"] + [f"x{i}" for i in range(1997)])
                      + "\n" + ",".join(["O1", "C1", "2024-01-01", "5"] + ["v"] * 1997) + "\n").encode(),
                     "2,001 columns; at most 2,000"),
    "far_too_wide.csv": ((",".join(f"c{i}" for i in range(100_000)) + "\n" + "v," * 99_999 + "v\n").encode(),
                         "100,000 columns; at most 2,000"),  # DuckDB ran out of memory sniffing it
    "all_in_the_year_20255.csv": ((ORDERS + "".join(f"O{i},C1,20255-03-0{i},5\n" for i in range(1, 4))).encode(),
                                  "row 2, column order_date, date outside the plausible range"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_hostile_file_is_refused_and_the_database_is_unchanged(tmp_path, db, name):
    data, words = REFUSED[name]
    refused(db, write(tmp_path, name, data), words)


def test_a_device_a_pipe_and_a_folder_are_refused_without_being_read(tmp_path, db):
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    for path, name in ((pathlib.Path("/dev/zero"), "zero.csv"), (fifo, "export.csv"), (tmp_path, "folder.csv")):
        refused(db, path, "not a file but a folder, a device or a pipe", "Choose the exported CSV file", name=name)


def test_a_missing_file_is_named(tmp_path, db):
    refused(db, tmp_path / "nope.csv", "file not found")


# --- mapping files with bad values (item 8) ----------------------------------------------------

@pytest.mark.parametrize("options, words", [
    ({"table": "orders; drop table customers"}, ["table 'orders; drop table customers'", "does not exist", "orders"]),
    ({"table": ["orders"]}, ["table ['orders']", "does not exist"]),
    ({"table": "orders", "mapping": {"status": 5}}, ["column status the value 5", "header of the file"]),
    ({"table": "orders", "mapping": {"amount": ["Betrag"]}}, ["column amount the value ['Betrag']"]),
    ({"table": "orders", "mapping": {"order_id; drop table orders": "order_id"}}, ["column 'order_id; drop table orders'"]),
    ({"table": "orders", "mapping": ["order_id", "amount"]}, ["column: header pairs"]),
    ({"encoding": "../../etc/passwd"}, ["encoding '../../etc/passwd'", "utf-8"]),
])
def test_bad_mapping_values_are_refused_with_a_message(tmp_path, db, options, words):
    path = write(tmp_path, "orders.csv", ORDERS + "O1,C1,2024-01-01,5\n")
    before = sha256(db)
    with pytest.raises(ingest.IngestError) as err:
        ingest.load_files([path], db=db, options=[ingest.FileOptions(**options)])
    assert str(err.value).startswith("orders.csv: ")
    for word in words:
        assert word in str(err.value)
    assert sha256(db) == before


def test_the_cli_refuses_a_bad_mapping_file_without_a_traceback(tmp_path, db):
    from click.testing import CliRunner

    from crmlens.cli import cli
    path = write(tmp_path, "orders.csv", ORDERS + "O1,C1,2024-01-01,5\n")
    mapping = write(tmp_path, "mapping.json", json.dumps({"table": "orders; drop table customers",
                                                          "columns": {"status": 5}}))
    before = sha256(db)
    result = CliRunner().invoke(cli, ["load", str(path), "--db", str(db), "--mapping", str(mapping)])
    assert result.exit_code == 1
    assert "table 'orders; drop table customers', which does not exist" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert sha256(db) == before


# --- dates, numbers, scores and time zones (items 4 and 7) -----------------------------------

@pytest.mark.parametrize("value", ["20255-03-01", "9999-12-31", "2300-01-01", "1899-12-31", "01/01/1066"])
def test_an_implausible_date_is_a_reject_with_its_row(tmp_path, db, value):
    text = ORDERS + "".join(f"O{i},C1,2024-01-{i:02d},5\n" for i in range(1, 21)) + f"O99,C1,{value},5\n"
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert rejects_of(r) == [(22, "order_date", value, "implausible_date")]
    assert (r.n_loaded, r.n_rejected) == (20, 1)
    assert fetch(db, "select max(order_date) from orders") == [(dt.date(2024, 1, 20),)]


def test_the_date_window_is_a_setting(tmp_path, db):
    text = ORDERS + "O1,C1,2024-01-01,5\nO2,C1,2019-12-31,5\nO3,C1,2027-01-01,5\n"
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db, max_reject_share=1,
                            date_window=(dt.date(2020, 1, 1), dt.date(2026, 12, 31)))
    assert rejects_of(r) == [(3, "order_date", "2019-12-31", "implausible_date"),
                             (4, "order_date", "2027-01-01", "implausible_date")]
    assert ingest.plausible_dates(dt.date(2026, 12, 1)) == (dt.date(1900, 1, 1), dt.date(2027, 12, 2))


def test_a_date_time_in_the_year_20255_is_a_reject_too(tmp_path, db):
    text = "created_at,category\n2024-05-01 10:00,price\n20255-05-01 10:00,price\n" + "2024-05-02 09:00,price\n" * 20
    [r] = ingest.load_files([write(tmp_path, "complaints.csv", text)], db=db)
    assert rejects_of(r) == [(3, "created_at", "20255-05-01 10:00", "implausible_date")]


def test_the_date_window_can_be_set_for_the_server(tmp_path, db, monkeypatch):
    monkeypatch.setenv("CRMLENS_EARLIEST_DATE", "2024-01-02")
    monkeypatch.setenv("CRMLENS_DAYS_AHEAD", "0")
    assert ingest.plausible_dates(dt.date(2024, 6, 30)) == (dt.date(2024, 1, 2), dt.date(2024, 6, 30))
    text = ORDERS + "O1,C1,2024-01-01,5\nO2,C1,2024-01-02,5\n"
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db, max_reject_share=1)
    assert rejects_of(r) == [(2, "order_date", "2024-01-01", "implausible_date")]


@pytest.mark.parametrize("setting, value", [("CRMLENS_EARLIEST_DATE", "1900-13-01"), ("CRMLENS_DAYS_AHEAD", "a year"),
                                            ("CRMLENS_DAYS_AHEAD", "-1"), ("CRMLENS_DAYS_AHEAD", "1e309")])
def test_a_date_window_setting_that_cannot_be_read_stops_loading(tmp_path, db, monkeypatch, setting, value):
    monkeypatch.setenv(setting, value)
    before = sha256(db)
    with pytest.raises(ingest.IngestError) as err:
        ingest.load_files([write(tmp_path, "orders.csv", ORDERS + "O1,C1,2024-01-01,5\n")], db=db)
    assert str(err.value).startswith(f"Loading is stopped: the setting {setting} is '{value}'")
    assert sha256(db) == before


@pytest.mark.parametrize("value", ["inf", "-inf", "1e309", "Infinity", "-1e400"])
def test_an_infinite_amount_is_a_reject(tmp_path, db, value):
    text = ORDERS + "".join(f"O{i},C1,2024-01-01,{i}\n" for i in range(1, 21)) + f"O99,C1,2024-01-01,{value}\n"
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert rejects_of(r) == [(22, "amount", value, "not_finite")]
    assert fetch(db, "select sum(amount) from orders") == [(210.0,)]  # 1 + ... + 20


def test_scores_off_their_scale_are_rejects(tmp_path, db):
    complaints = ("created_at,category,satisfaction\n2024-01-01 10:00,price,5\n2024-01-01 10:00,price,7\n"
                  "2024-01-01 10:00,price,0\n2024-01-01 10:00,price,1\n")
    [r] = ingest.load_files([write(tmp_path, "complaints.csv", complaints)], db=db, max_reject_share=1)
    assert rejects_of(r) == [(3, "satisfaction", "7", "out_of_range"), (4, "satisfaction", "0", "out_of_range")]
    surveys = "customer_id,survey_date,nps,satisfaction\nC1,2024-01-01,10,5\nC2,2024-01-01,11,4\nC1,2024-02-01,-1,6\n"
    [r] = ingest.load_files([write(tmp_path, "surveys.csv", surveys)], db=db, max_reject_share=1)
    assert rejects_of(r) == [(3, "nps", "11", "out_of_range"), (4, "nps", "-1", "out_of_range"),
                             (4, "satisfaction", "6", "out_of_range")]
    assert fetch(db, "select customer_id, nps, satisfaction from surveys") == [("C1", 10.0, 5.0)]


@pytest.mark.parametrize("value", ["2024-01-01 10:00+25:00", "2024-01-01T10:00:00-15:00", "2024-01-01 10:00:00+0860"])
def test_a_time_zone_that_does_not_exist_is_a_reject(tmp_path, db, value):
    text = "created_at,category\n2024-01-01 10:00+08:00,price\n" + f"{value},price\n" + "2024-01-02 10:00+14:00,price\n" * 20
    [r] = ingest.load_files([write(tmp_path, "complaints.csv", text)], db=db)
    assert rejects_of(r) == [(3, "created_at", value, "invalid_time_zone")]
    assert fetch(db, "select min(created_at) from complaints") == [(dt.datetime(2024, 1, 1, 2, 0),)]


def test_every_new_reason_is_in_words_in_both_languages():
    for reason in ("implausible_date", "not_finite", "out_of_range", "invalid_time_zone", "invalid_text",
                   "conflicting_order"):
        assert i18n.catalog("en")[f"data.reason.{reason}"] != i18n.catalog("zh")[f"data.reason.{reason}"]
        assert ingest.describe_reason(reason) == i18n.catalog("en")[f"data.reason.{reason}"]


# --- line ends and encodings (items 5 and 10) -------------------------------------------------

EXPECTED = [("O1", "C1", dt.date(2024, 1, 1), 5.0), ("O2", "C1", dt.date(2024, 1, 2), 6.0),
            ("O3", "C2", dt.date(2024, 1, 3), 7.0), ("O4", "C2", dt.date(2024, 1, 4), 8.0)]
ROWS = ["order_id,customer_id,order_date,amount", "O1,C1,2024-01-01,5", "O2,C1,2024-01-02,6",
        "O3,C2,2024-01-03,7", "O4,C2,2024-01-04,8"]


@pytest.mark.parametrize("name, data", [
    ("mixed_line_ends.csv", ("\r\n".join(ROWS[:2]) + "\n" + ROWS[2] + "\r" + "\r\n".join(ROWS[3:]) + "\n").encode()),
    ("mac_line_ends.csv", "\r".join(ROWS).encode() + b"\r"),
    ("windows_line_ends.csv", "\r\n".join(ROWS).encode() + b"\r\n"),
    ("utf16le_without_bom.csv", ("\n".join(ROWS) + "\n").encode("utf-16-le")),
    ("utf16be_without_bom.csv", ("\r\n".join(ROWS) + "\r\n").encode("utf-16-be")),
])
def test_line_ends_and_encodings_that_load_exactly(tmp_path, db, name, data):
    [r] = ingest.load_files([write(tmp_path, name, data)], db=db)
    assert (r.n_read, r.n_loaded, r.n_rejected) == (4, 4, 0)
    assert fetch(db, "select order_id, customer_id, order_date, amount from orders order by 1") == EXPECTED


def test_a_chinese_gbk_file_with_mixed_line_ends_loads(tmp_path, db):
    text = "客户编号,客户名称,地区\r\nK1,王芳,华东\nK2,李雷,华北\rK3,张伟,华南\r\n"
    [r] = ingest.load_files([write(tmp_path, "客户.csv", text.encode("gb18030"))], db=db)
    assert (r.encoding, r.table, r.n_loaded, r.n_rejected) == ("gb18030", "customers", 3, 0)
    assert fetch(db, "select customer_id, name, region from customers order by 1") == [
        ("K1", "王芳", "华东"), ("K2", "李雷", "华北"), ("K3", "张伟", "华南")]


def test_a_quote_never_closed_does_not_swallow_the_next_rows(tmp_path, db):
    text = ORDERS + 'O1,C1,2024-01-01,"5\nO2,C1,2024-01-02,6\nO3,C2,2024-01-03,7\n'
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert (r.n_read, r.n_loaded, r.n_rejected) == (3, 3, 0)
    assert fetch(db, "select order_id, amount from orders order by 1") == [("O1", 5.0), ("O2", 6.0), ("O3", 7.0)]


def test_a_crlf_split_between_two_reads_is_one_line_end(tmp_path, monkeypatch):
    path = write(tmp_path, "o.csv", "\r\n".join(ROWS) + "\r\n")
    cut = len(ROWS[0]) + 1  # the first chunk ends with the header's \r
    monkeypatch.setattr(decode, "CHUNK_BYTES", cut)
    assert decode.needs_copy(path, "utf-8") == (False, 0)
    mixed = write(tmp_path, "m.csv", "\r\n".join(ROWS[:3]) + "\r" + "\n".join(ROWS[3:]))
    assert decode.needs_copy(mixed, "utf-8") == (True, 0)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_the_clean_copy_is_the_same_text_whatever_the_read_size(tmp_path, monkeypatch, chunk):
    text = "id,名前\r\nK1,王\rK2,李\nK3,\"a\r\nb\"\r\r\nK4,x\r"
    path = write(tmp_path, "o.csv", text.encode() + b"\xff")
    monkeypatch.setattr(decode, "CHUNK_BYTES", chunk)
    assert decode.needs_copy(path, "utf-8") == (True, 1)
    copy = decode.clean_copy(path, "utf-8")
    try:
        assert copy.read_bytes().decode() == "id,名前\nK1,王\nK2,李\nK3,\"a\nb\"\n\nK4,x\n\ufffd"
    finally:
        copy.unlink()


def test_sniffing_a_mixed_file_happens_outside_the_write_transaction(tmp_path, db, monkeypatch):
    """DuckDB's sniffer fails on mixed line ends; inside the writer that aborted the whole load."""
    sniffed_in = []
    real = read._sniff_delimiter

    def spy(con, source):
        sniffed_in.append(con)
        return real(con, source)

    writers = []
    real_writer = store.writer

    @contextlib.contextmanager
    def spy_writer(*args, **kwargs):
        with real_writer(*args, **kwargs) as con:
            writers.append(con)
            yield con

    monkeypatch.setattr(read, "_sniff_delimiter", spy)
    monkeypatch.setattr(store, "writer", spy_writer)
    data = "\r\n".join(ROWS[:2]) + "\n" + ROWS[2] + "\r" + "\r\n".join(ROWS[3:])
    [r] = ingest.load_files([write(tmp_path, "orders.csv", data)], db=db)
    assert r.n_loaded == 4 and r.delimiter == ","
    assert len(sniffed_in) == 1 and len(writers) == 1 and sniffed_in[0] is not writers[0]


def test_utf16_without_bom_is_not_called_binary(tmp_path):
    path = write(tmp_path, "o.csv", ("\n".join(ROWS) + "\n").encode("utf-16-le"))
    read.check_file(path, "o.csv")
    assert ingest.detect_encoding(path) == "utf-16-le"


def test_a_chinese_utf8_file_with_one_bad_byte_loads_with_that_row_rejected(tmp_path, db):
    text = "客户编号,客户名称,地区\n" + "".join(f"K{i},客户{i},华东\n" for i in range(1, 21))
    data = text.encode().replace("客户7,".encode(), "客户".encode() + b"\xff7,")
    [r] = ingest.load_files([write(tmp_path, "客户.csv", data)], db=db)
    assert r.encoding == "utf-8" and r.table == "customers"
    assert rejects_of(r) == [(8, "客户名称", "客户\ufffd7", "invalid_text")]
    assert fetch(db, "select count(*), min(name) from customers") == [(19, "客户1")]


def test_a_file_that_is_not_utf8_chosen_as_utf8_says_so_row_by_row(tmp_path, db):
    data = "customer_id,name\n" + "".join(f"K{i},Müller\n" for i in range(1, 5))
    err = refused(db, write(tmp_path, "customers.csv", data.encode("cp1252")), "row 2, column name",
                  "bytes that are not UTF-8", options=[ingest.FileOptions(encoding="utf-8")])
    assert len(err.rejects) == 4


def test_refusals_from_duckdb_are_told_in_the_users_terms():
    import duckdb
    con = duckdb.connect()
    with pytest.raises(duckdb.Error) as raised:
        con.execute("select * from read_csv('/nonexistent/x.csv')")
    problem = read.csv_problem(raised.value, "x.csv", "utf-8")
    assert str(problem).startswith("x.csv: could not be read as a CSV file")
    for word in ("Possible", "ignore_errors", "LINE 1", "Error:"):
        assert word not in str(problem)


# --- wide files (item 6) ---------------------------------------------------------------------

@pytest.mark.parametrize("n_columns", [250, 999, 2000])
def test_wide_files_load_with_their_extra_columns(tmp_path, db, n_columns):
    extra = [f"attr {i}" for i in range(n_columns - 4)]
    header = ",".join(["order_id", "customer_id", "order_date", "amount", *extra])
    rows = [",".join([f"O{r}", "C1", "2024-01-01", str(r), *(f"v{r}.{i}" for i in range(len(extra)))]) for r in (1, 2, 3)]
    [r] = ingest.load_files([write(tmp_path, f"wide_{n_columns}.csv", "\n".join([header, *rows]) + "\n")], db=db)
    assert (r.n_loaded, r.n_rejected, len(r.extras)) == (3, 0, n_columns - 4)
    last = list(r.extras)[-1]
    assert last == f"attr_{n_columns - 5}"
    assert fetch(db, f'select order_id, amount, "{last}" from orders order by 1') == [
        ("O1", 1.0, f"v1.{n_columns - 5}"), ("O2", 2.0, f"v2.{n_columns - 5}"), ("O3", 3.0, f"v3.{n_columns - 5}")]


def test_odd_headers_become_safe_column_names(tmp_path, db):
    header = ORDERS.strip() + ",_row,_v0,,," + "h" * 20_000 + ',"two\nlines",x,X'
    [r] = ingest.load_files([write(tmp_path, "orders.csv", header + "\nO1,C1,2024-01-01,5,a,b,c,d,e,f,g,h\n")], db=db)
    assert list(r.extras) == ["row_1", "v0", "column06", "column07", "h" * 60, "two_lines", "x", "x_1"]
    assert fetch(db, "select row_1, v0, column06, column07, two_lines, x, x_1 from orders") == [
        ("a", "b", "c", "d", "f", "g", "h")]


def test_nan_is_a_missing_amount_and_plus_inf_is_not_finite(tmp_path, db):
    text = ORDERS + "".join(f"O{i},C1,2024-01-01,{i}\n" for i in range(1, 40)) + "O98,C1,2024-01-01,NaN\nO99,C1,2024-01-01,+inf\n"
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert rejects_of(r) == [(41, "amount", None, "missing_value"), (42, "amount", "+inf", "not_finite")]


# --- table detection (item 11) ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["dup_headers_case.csv", "ticket_export.csv", "customers_orders.csv", "survey.csv"])
def test_columns_beat_the_file_name(tmp_path, db, name):
    # Complete order columns, headers repeated in another case; each name hints at another table.
    text = "order_id,Order_ID,customer_id,order_date,amount,status,Status\nO1,x,C1,2024-01-01,5,a,b\n"
    [r] = ingest.load_files([write(tmp_path, name, text)], db=db)
    assert r.table == "orders"
    assert fetch(db, "select order_id, customer_id, amount, status from orders") == [("O1", "C1", 5.0, "a")]


# --- saved mappings and order lines (item 12) -------------------------------------------------

def test_a_saved_fixed_value_gives_way_to_the_files_own_column_and_is_reported(tmp_path, db):
    header = "order_id,customer_id,order_date,amount,status,product\n"
    first = write(tmp_path, "march.csv", header + "O1,C1,2024-03-01,5,paid,tea\n")
    chosen = {"order_id": "order_id", "customer_id": "customer_id", "order_date": "order_date", "amount": "amount",
              "status": "=completed", "product": "=coffee"}
    [r] = ingest.load_files([first], db=db, options=[ingest.FileOptions(table="orders", mapping=chosen)])
    assert not r.saved_mapping
    assert fetch(db, "select status, product from orders") == [("completed", "coffee")]  # as the user chose
    second = write(tmp_path, "april.csv", header + "O2,C2,2024-04-01,6,refunded,cake\n")
    preview = ingest.inspect_file(second, db=db)
    assert preview.saved_mapping and preview.kept_own_columns == ["product", "status"]
    [r] = ingest.load_files([second], db=db)
    assert r.saved_mapping and r.kept_own_columns == ["product", "status"]
    assert fetch(db, "select status, product from orders") == [("refunded", "cake")]  # the file's own values


def test_a_saved_fixed_value_still_fills_a_column_the_file_lacks(tmp_path, db):
    header = "order_id,customer_id,order_date,amount\n"
    chosen = {"status": "=completed"}
    ingest.load_files([write(tmp_path, "a.csv", header + "O1,C1,2024-03-01,5\n")], db=db,
                      options=[ingest.FileOptions(table="orders", mapping=chosen, partial=True)])
    [r] = ingest.load_files([write(tmp_path, "b.csv", header + "O2,C1,2024-04-01,5\n")], db=db)
    assert r.saved_mapping and r.kept_own_columns == []
    assert fetch(db, "select order_id, status from orders") == [("O2", "completed")]


@pytest.mark.parametrize("table, mapping_json", [
    ("orders; drop table customers", '{"order_id": "order_id"}'),
    ("orders", '{"status": 5}'),
    ("orders", "not json"),
    ("orders", '["order_id"]'),
])
def test_a_saved_mapping_edited_into_nonsense_is_not_used(tmp_path, db, table, mapping_json):
    path = write(tmp_path, "orders.csv", ORDERS + "O1,C1,2024-01-01,5\n")
    with store.writer(db) as con:
        con.execute("delete from mappings")
        con.execute("insert into mappings values ($s, $t, $m, current_localtimestamp())",
                    {"s": ingest.header_signature(ORDERS.strip().split(",")), "t": table, "m": mapping_json})
    [r] = ingest.load_files([path], db=db)
    assert (r.table, r.n_loaded, r.saved_mapping) == ("orders", 1, False)


def test_one_repeated_order_id_with_another_product_is_a_duplicate_not_order_lines(tmp_path, db):
    text = ORDERS.replace("\n", ",product\n") + "".join(f"O{i},C{i},2024-01-{i:02d},{i},tea\n" for i in range(1, 21))
    text += "O3,C9,2024-02-01,99,cake\n"  # another customer's order under the same id
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert not r.is_order_lines
    assert rejects_of(r) == [(22, "order_id", "O3", "duplicate_key")]
    assert fetch(db, "select customer_id, amount, product from orders where order_id = 'O3'") == [("C3", 3.0, "tea")]


def test_order_lines_naming_another_customer_are_rejected_not_merged(tmp_path, db):
    text = ("order_id,customer_id,order_date,amount,product\n"
            "O1,C1,2024-01-01,5,a\nO1,C1,2024-01-01,6,b\nO2,C2,2024-01-01,1,a\nO2,C2,2024-01-01,2,b\n"
            "O2,C1,2024-01-01,7,c\n")
    [r] = ingest.load_files([write(tmp_path, "lines.csv", text)], db=db, max_reject_share=0.25)
    assert r.is_order_lines and (r.n_lines, r.n_loaded) == (4, 2)
    assert rejects_of(r) == [(6, "customer_id", "C1", "conflicting_order")]
    assert fetch(db, "select order_id, customer_id, amount from orders order by 1") == [("O1", "C1", 11.0),
                                                                                        ("O2", "C2", 3.0)]


# --- values that must stay inert -------------------------------------------------------------

def test_formulas_sql_and_markup_in_values_and_headers_are_stored_as_text(tmp_path, db):
    text = ('order_id,customer_id,order_date,amount,"note""; drop table orders; --",<b>x</b>\n'
            'O1,C1,2024-01-01,5,"=HYPERLINK(""http://evil.example"")",[a](http://evil.example)\n'
            "O2,'; drop table customers; --,2024-01-02,6,@SUM(1),![t](http://evil.example/t.png)\n")
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert r.extras == {'note_drop_table_orders': 'note"; drop table orders; --', "b_x_b": "<b>x</b>"}
    assert fetch(db, "select customer_id, note_drop_table_orders, b_x_b from orders order by order_id") == [
        ("C1", '=HYPERLINK("http://evil.example")', "[a](http://evil.example)"),
        ("'; drop table customers; --", "@SUM(1)", "![t](http://evil.example/t.png)")]
    assert fetch(db, "select count(*) from customers") == [(2,)]


def test_the_clean_copy_is_removed_after_the_load(tmp_path, db, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    data = "\r\n".join(ROWS[:2]) + "\n" + ROWS[2] + "\r" + "\r\n".join(ROWS[3:])
    ingest.load_files([write(tmp_path, "orders.csv", data)], db=db)
    refused(db, write(tmp_path, "bad.csv", b"order_id\r\nO1\rO2\n"), "amount")
    assert list((tmp_path / "tmp").iterdir()) == []


# --- the Data page -----------------------------------------------------------------------------

def test_data_page_shows_a_refusal_in_the_readers_language(db_env):
    from tests.conftest import app_test, shown_text
    before = sha256(db_env)
    at = app_test("data", lang="中文")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    at.file_uploader[0].set_value(("订单.csv", png, "text/csv")).run()
    assert not at.exception
    assert shown_text(at.error[0].value).startswith("订单.csv：这不是文本 CSV 文件")
    assert at.button[0].disabled
    assert sha256(db_env) == before


def test_data_page_says_a_saved_fixed_value_gives_way_to_the_files_own_column(db_env, tmp_path):
    from tests.conftest import app_test
    header = "order_id,customer_id,order_date,amount,status\n"
    first = write(tmp_path, "march.csv", header + "M1,C1,2024-03-01,5,paid\n")
    ingest.load_files([first], db=db_env, mode="append", options=[ingest.FileOptions(
        table="orders", mapping={"status": "=completed"}, partial=True)])
    at = app_test("data")
    at.file_uploader[0].set_value(("april.csv", (header + "A1,C1,2024-04-01,6,refunded\n").encode(), "text/csv")).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "The saved mapping's fixed value for status is not used: this file has its own column." in captions
    at.button[0].click().run()
    assert fetch(db_env, "select status from orders where order_id = 'A1'") == [("refunded",)]


def test_the_cli_says_when_a_saved_mapping_is_used(tmp_path, db):
    from click.testing import CliRunner

    from crmlens.cli import cli
    header = "order_id,customer_id,order_date,amount,status\n"
    ingest.load_files([write(tmp_path, "march.csv", header + "M1,C1,2024-03-01,5,paid\n")], db=db, options=[
        ingest.FileOptions(table="orders", mapping={"status": "=completed"}, partial=True)])
    april = write(tmp_path, "april.csv", header + "A1,C1,2024-04-01,6,refunded\n")
    result = CliRunner().invoke(cli, ["load", str(april), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        "  columns mapped as saved for files with this header (its fixed values not used for status: the file has them)")


def test_data_page_loads_a_file_with_mixed_line_ends(db_env):
    from tests.conftest import app_test, shown_text
    at = app_test("data")
    data = "\r\n".join(ROWS[:2]) + "\n" + ROWS[2] + "\r" + "\r\n".join(ROWS[3:])
    at.file_uploader[0].set_value(("mixed.csv", data.replace("O", "M").encode(), "text/csv")).run()
    assert not at.error
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert shown_text(at.success[0].value) == "mixed.csv: 4 rows loaded into Orders, 0 rejected."
    assert fetch(db_env, "select order_id, amount from orders where order_id like 'M%' order by 1") == [
        ("M1", 5.0), ("M2", 6.0), ("M3", 7.0), ("M4", 8.0)]


def test_running_out_of_memory_while_checking_is_a_refusal_not_a_traceback(tmp_path, db, monkeypatch):
    import duckdb

    from crmlens.ingest import stage

    def exhausted(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 32.0 KiB")

    monkeypatch.setattr(stage, "_staged", exhausted)
    refused(db, write(tmp_path, "orders.csv", ORDERS + "O1,C1,2024-01-01,5\n"),
            "too large to check in the memory this server has", "Split it into smaller files")


def test_every_refusal_key_is_in_both_catalogs():
    import re
    root = pathlib.Path(__file__).resolve().parents[1] / "crmlens" / "ingest"
    keys = {k for path in root.glob("*.py") for k in re.findall(r'refuse\(\s*"([\w.]+)"', path.read_text())}
    keys |= {f"ingest.{area}.missing_{n}" for area in ("table", "mapping") for n in ("one", "many")}
    assert len(keys) > 20
    assert keys - set(i18n.catalog("en")) == set() and keys - set(i18n.catalog("zh")) == set()
