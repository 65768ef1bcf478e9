"""The importer on whitespace-separated files (issue 15.5) and transaction lines without an order id
(15.8), with the CDNOW sample read as the paper's authors published it."""

from __future__ import annotations

import pathlib

import pytest

from crmlens import ingest
from crmlens.ingest import read
from tests.conftest import fetch, shown_text

CDNOW = pathlib.Path(__file__).parent / "fixtures" / "cdnow" / "CDNOW_sample.txt"
CDNOW_HEADER = b"customer_id   sample_id   date   quantity   amount\r\n"


def cdnow_with_header(folder: pathlib.Path, name: str = "cdnow.txt") -> pathlib.Path:
    """The CDNOW sample with a header line (it has none); see tests/fixtures/cdnow/README.md."""
    path = folder / name
    path.write_bytes(CDNOW_HEADER + CDNOW.read_bytes())
    return path


# Three customers; runs of spaces (and a tab) between fields, leading spaces, CRLF ends, a blank line.
SPACED = (
    "  customer_id    order_date     amount\r\n"
    "  K1     2024-01-05     10.50\r\n"
    "  K1     2024-02-01   \t  4\r\n"
    "\r\n"
    "  K2     2024-01-09    100\r\n"
)


def test_whitespace_separated_file_is_detected_and_read_by_columns(tmp_path, db):
    path = tmp_path / "old_system.txt"
    path.write_text(SPACED)
    [r] = ingest.load_files([path], db=db)
    # 3 data lines (the blank one is no row), each a transaction without an order id: file name + row.
    assert (r.table, r.delimiter, r.n_read, r.n_loaded, r.n_rejected, r.generated_ids) == \
        ("orders", "whitespace", 3, 3, 0, True)
    assert fetch(db, "select order_id, customer_id, order_date::varchar, amount from orders order by order_id") == [
        ("old_system.txt#2", "K1", "2024-01-05", 10.5),
        ("old_system.txt#3", "K1", "2024-02-01", 4.0),
        ("old_system.txt#4", "K2", "2024-01-09", 100.0),
    ]


def test_a_comma_file_with_spaces_in_values_is_not_taken_for_whitespace(tmp_path, db):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name\nK1,Li  Wei\nK2,Zhang Min\n")
    [r] = ingest.load_files([path], db=db)
    assert (r.delimiter, r.n_loaded) == (",", 2)
    assert fetch(db, "select name from customers order by customer_id") == [("Li  Wei",), ("Zhang Min",)]


def test_unsure_detection_is_reported_and_the_users_choice_wins(tmp_path, db):
    # One column of names with spaces? Or three columns apart by spaces? The lines do not agree.
    path = tmp_path / "names.txt"
    path.write_text("customer_id name\nK1 Li Wei\nK2 Zhang\nK3 Ou Yang Min\n")
    headers, delimiter, unsure = ingest.read_layout(path)
    assert (headers, unsure) == (["customer_id name"], True)
    # Chosen as whitespace: the widest row (K3, 4 fields) gives DuckDB's reader two unnamed columns more.
    headers, delimiter, unsure = ingest.read_layout(path, delimiter=ingest.WHITESPACE)
    assert (headers, delimiter, unsure) == (["customer_id", "name", "column2", "column3"], "whitespace", False)


def test_a_chosen_delimiter_is_used_as_given(tmp_path, db):
    path = tmp_path / "c.csv"
    path.write_text("customer_id|name\nK1|a;b\nK2|c;d\n")
    [r] = ingest.load_files([path], db=db, options=[ingest.FileOptions(table="customers", delimiter="|")])
    assert (r.delimiter, r.n_loaded) == ("|", 2)
    assert fetch(db, "select name from customers order by 1") == [("a;b",), ("c;d",)]


def test_an_unknown_delimiter_choice_is_refused(tmp_path, db):
    path = tmp_path / "c.csv"
    path.write_text("customer_id\nK1\n")
    with pytest.raises(ingest.IngestError) as e:
        ingest.load_files([path], db=db, options=[ingest.FileOptions(delimiter="xx")])
    assert e.value.key == "ingest.mapping.delimiter"


def test_lines_without_order_id_keep_file_and_row_in_their_id_and_duplicates_stay_apart(tmp_path, db):
    # Two identical lines (same customer, day, amount) are two purchases, not a duplicate.
    path = tmp_path / "tx.csv"
    path.write_text("customer,date,quantity,amount\nK1,2024-03-01,1,5\nK1,2024-03-01,1,5\n")
    [r] = ingest.load_files([path], db=db)
    assert (r.n_loaded, r.n_rejected, r.generated_ids) == (2, 0, True)
    assert fetch(db, "select order_id from orders order by 1") == [("tx.csv#2",), ("tx.csv#3",)]
    assert ingest.stage.generated_order_id("tx.csv", 2) == "tx.csv#2"


def test_a_file_with_an_order_id_keeps_its_own(tmp_path, db):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_date,amount\nA1,K1,2024-01-01,3\n")
    [r] = ingest.load_files([path], db=db)
    assert (r.generated_ids, fetch(db, "select order_id from orders")) == (False, [("A1",)])


def test_cdnow_sample_loads_through_the_importer(tmp_path, db):
    """2,357 customers and 6,919 purchase lines (the paper's counts); total $ counted with the csv-free split."""
    lines = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    total = sum(float(f[4]) for f in lines)
    [r] = ingest.load_files([cdnow_with_header(tmp_path)], db=db)
    assert (r.table, r.delimiter, r.n_read, r.n_loaded, r.n_rejected, r.generated_ids) == \
        ("orders", "whitespace", 6919, 6919, 0, True)
    n_customers, n_orders, amount, first, last = fetch(
        db, "select count(distinct customer_id), count(*), sum(amount), min(order_date)::varchar, "
            "max(order_date)::varchar from orders")[0]
    assert (n_customers, n_orders, first, last) == (len({f[0] for f in lines}), 6919, "1997-01-01", "1998-06-30")
    assert n_customers == 2357
    assert amount == pytest.approx(total)


def test_whitespace_sniffing_reads_only_the_head(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("a b c\n" + "1 2 3\n" * 10)
    assert read.sniff_whitespace(path, "utf-8") == (True, False)
    path.write_text("a;b c\n1;2 3\n")
    assert read.sniff_whitespace(path, "utf-8") == (False, False)


# --- the Data page ------------------------------------------------------------------------------

def _data_page(**query):
    from tests.conftest import app_test
    return app_test("data", **query)


def test_data_page_loads_a_spaced_file_without_ids_and_says_so(db_env):
    at = _data_page()
    at.file_uploader[0].set_value(("old_system.txt", SPACED.encode(), "text/plain")).run()
    assert not at.exception
    assert "old_system.txt#2" in shown_text(at.info[0].value)  # ids made from file name and row
    assert any(m.value.endswith("spaces (runs of spaces)") for m in at.metric)  # the delimiter found
    at.button[0].click().run()
    message = shown_text(at.success[0].value)
    assert "3 rows loaded into Orders" in message and "no order id" in message


def test_data_page_delimiter_choice_lives_in_the_address_and_is_used(db_env):
    # A one-column read of a whitespace file where the lines disagree: the page warns; the choice fixes it.
    text = b"customer_id  order_date  amount\nK1  2024-01-05  3\nK2 2024-01-06 4 extra\n"
    at = _data_page()
    at.file_uploader[0].set_value(("x.txt", text, "text/plain")).run()
    assert "could not be told for sure" in at.warning[0].value
    at.selectbox(key="delimiter").set_value("whitespace").run()
    assert not [w for w in at.warning if "could not be told" in w.value]
    assert [m.value for m in at.metric] == ["2", "2", "0", "utf-8 · spaces (runs of spaces)"]
    # A link with the choice opens with it (the widget is bound to the address, in the words shown).
    linked = _data_page(delimiter="spaces (runs of spaces)")
    linked.file_uploader[0].set_value(("x.txt", text, "text/plain")).run()
    assert linked.selectbox(key="delimiter").value == "whitespace"
    assert [m.value for m in linked.metric] == ["2", "2", "0", "utf-8 · spaces (runs of spaces)"]


def test_cli_load_of_the_cdnow_sample_says_how_lines_got_their_ids(tmp_path, db):
    from click.testing import CliRunner

    from crmlens.cli import cli
    path = cdnow_with_header(tmp_path)
    result = CliRunner().invoke(cli, ["load", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "cdnow.txt -> orders: 6,919 rows loaded, 0 rejected" in result.output
    assert "each line got one from the file name and row number (cdnow.txt#2" in result.output


def test_cli_load_with_a_chosen_delimiter(tmp_path, db):
    from click.testing import CliRunner

    from crmlens.cli import cli
    path = tmp_path / "names.txt"  # lines that disagree (3 and 4 fields): detection is unsure, the choice decides
    path.write_text("customer_id  order_date  amount\nK1  2024-01-05  3\nK2 2024-01-06 4 extra\n")
    refused = CliRunner().invoke(cli, ["load", str(path), "--db", str(db)])
    assert refused.exit_code == 1  # read as one column: no table fits
    result = CliRunner().invoke(cli, ["load", str(path), "--db", str(db), "--delimiter", "whitespace"])
    assert result.exit_code == 0, result.output
    assert fetch(db, "select customer_id, amount from orders order by 1") == [("K1", 3.0), ("K2", 4.0)]
