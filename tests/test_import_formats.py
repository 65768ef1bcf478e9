"""The importer on awkward real-world shapes: order lines, decimal commas, Western encodings,
hand-made and saved column mappings, previews that write nothing, and the CLI's options."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crmlens import ingest
from crmlens.cli import cli
from tests.test_ingest import fetch, rejects_of, sha256, write

# Invoice lines, as a shop exports them: no amount, a cancellation (leading C and negative
# quantity), a line with no customer (a guest order), two lines of one invoice.
LINES = (
    "InvoiceNo;StockCode;Description;Quantity;InvoiceDate;UnitPrice;CustomerID;Country\n"
    "536365;85123A;WHITE HANGING HEART;6;12/01/2010 08:26;2,55;17850;United Kingdom\n"
    "536365;71053;WHITE METAL LANTERN;6;12/01/2010 08:26;3,39;17850;United Kingdom\n"
    "536366;22633;HAND WARMER;6;12/01/2010 08:28;1,85;17850;United Kingdom\n"
    "C536379;D;Discount;-1;12/01/2010 09:41;27,50;14527;United Kingdom\n"
    "536380;22961;JAM MAKING SET;24;12/01/2010 09:41;1,45;;United Kingdom\n"
    "536381;22139;RETROSPOT TEA SET;2;12/02/2010 10:00;4,95;15311;United Kingdom\n"
    "536381;22139;RETROSPOT TEA SET;1;12/02/2010 10:00;4,95;15311;United Kingdom\n"
)


def test_order_lines_are_folded_into_orders_with_cancellations_kept(tmp_path, db):
    [r] = ingest.load_files([write(tmp_path, "invoices.csv", LINES)], db=db)
    # 7 lines make 5 invoices; the 536380 line has no customer: a guest order, loaded (issue 14, item 12).
    assert (r.table, r.n_read, r.n_rejected, r.n_lines, r.n_loaded, r.n_cancelled) == ("orders", 7, 0, 7, 5, 1)
    assert rejects_of(r) == []
    rows = fetch(db, "select order_id, customer_id, amount, quantity, status from orders order by order_id")
    assert rows == [
        ("536365", "17850", pytest.approx(6 * 2.55 + 6 * 3.39), 12.0, None),  # decimal commas: 2,55 = 2.55
        ("536366", "17850", pytest.approx(6 * 1.85), 6.0, None),
        ("536380", None, pytest.approx(24 * 1.45), 24.0, None),  # the guest order
        ("536381", "15311", pytest.approx(3 * 4.95), 3.0, None),  # two lines of one invoice
        ("C536379", "14527", pytest.approx(-27.5), -1.0, "cancelled"),
    ]
    # Cancelled orders are not revenue.
    assert fetch(db, "select sum(amount) from orders where status is distinct from 'cancelled'")[0][0] == \
        pytest.approx(35.64 + 11.10 + 34.80 + 14.85)


def test_a_leading_c_is_no_cancel_marker_when_every_id_has_it(tmp_path, db):
    text = "order_id,customer_id,order_date,product,quantity,unit price\nC1,K1,2024-01-01,a,1,10\nC1,K1,2024-01-01,b,2,5\n"
    [r] = ingest.load_files([write(tmp_path, "o.csv", text)], db=db)
    assert (r.n_lines, r.n_loaded, r.n_cancelled) == (2, 1, 0)
    assert fetch(db, "select order_id, amount, status from orders") == [("C1", 20.0, None)]


def test_duplicate_order_ids_with_one_product_each_are_duplicates_not_lines(tmp_path, db):
    text = "order_id,customer_id,order_date,amount\nO1,K1,2024-01-01,10\nO1,K1,2024-01-01,10\nO2,K2,2024-01-02,5\n"
    [r] = ingest.load_files([write(tmp_path, "o.csv", text)], db=db, max_reject_share=0.5)
    assert not r.is_order_lines
    assert rejects_of(r) == [(3, "order_id", "O1", "duplicate_key")]


@pytest.mark.parametrize("text, expected", [
    ("1.234,56", 1234.56), ("1234,5", 1234.5), ("€ 12,00", 12.0), ("1 234,56", 1234.56),
])
def test_decimal_comma_columns(tmp_path, db, text, expected):
    body = f'order_id;customer_id;order_date;amount\nO1;C1;2024-01-01;{text}\nO2;C1;2024-01-02;"2,50"\n'
    ingest.load_files([write(tmp_path, "orders.csv", body)], db=db)
    assert fetch(db, "select amount from orders order by order_id") == [(expected,), (2.5,)]


def test_western_cp1252_file_is_not_mistaken_for_chinese(tmp_path, db):
    text = "customer_id,name,region\nK1,Müller,Köln\nK2,José,São Paulo\nK3,€uro Shop,Zürich\n"
    path = write(tmp_path, "kunden.csv", text, encoding="cp1252")
    assert ingest.detect_encoding(path) == "cp1252"
    ingest.load_files([path], db=db, table="customers")
    assert fetch(db, "select name, region from customers order by customer_id") == [
        ("Müller", "Köln"), ("José", "São Paulo"), ("€uro Shop", "Zürich")]


def test_chinese_gbk_file_is_still_detected(tmp_path):
    path = write(tmp_path, "客户.csv", "客户编号,客户名称\nC1,上海明亮贸易\n", encoding="gbk")
    assert ingest.detect_encoding(path) == "gb18030"


def test_encoding_can_be_chosen(tmp_path, db):
    path = write(tmp_path, "c.csv", "customer_id,name\nK1,Müller\n", encoding="cp1252")
    ingest.load_files([path], db=db, options=[ingest.FileOptions(encoding="latin-1")])
    assert fetch(db, "select name from customers") == [("Müller",)]


def test_png_renamed_to_csv_is_refused(tmp_path, db):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    with pytest.raises(ingest.IngestError, match="orders.csv: this is not a text CSV file"):
        ingest.load_files([path], db=db)
    assert not db.exists()


def test_ragged_rows_are_padded_not_lost(tmp_path, db):
    text = "customer_id,name,region\nK1,Ann\nK2,Bo,North,extra\nK3,Cy,South\n"
    [r] = ingest.load_files([write(tmp_path, "customers.csv", text)], db=db)
    assert r.n_loaded == 3
    assert fetch(db, "select customer_id, region from customers order by 1") == [("K1", None), ("K2", "North"), ("K3", "South")]


def test_a_mapping_chosen_by_hand_loads_and_is_remembered_for_the_same_header(tmp_path, db):
    text = "单号,客户,日期,实收\nN1,C1,2024-09-01,12\n"
    first = write(tmp_path, "export_1.csv", text)
    with pytest.raises(ingest.IngestError):
        ingest.load_files([first], db=db)  # 客户 and 实收 are no known aliases
    chosen = {"order_id": "单号", "customer_id": "客户", "order_date": "日期", "amount": "实收"}
    ingest.load_files([first], db=db, options=[ingest.FileOptions(table="orders", mapping=chosen)])
    # Next month's export, same header in other spacing: loads in one step with the saved mapping.
    second = write(tmp_path, "export_2.csv", "单号, 客户 ,日期,实收\nN2,C2,2024-10-01,7\n")
    assert ingest.saved_mapping(ingest.read_headers(second), db).mapping == chosen
    ingest.load_files([second], db=db, mode="append")
    assert fetch(db, "select order_id, customer_id, amount from orders order by 1") == [("N1", "C1", 12.0), ("N2", "C2", 7.0)]


def test_a_mapping_naming_a_column_the_file_lacks_is_refused(tmp_path, db):
    path = write(tmp_path, "o.csv", "a,b,c,d\n1,2,2024-01-01,4\n")
    bad = {"order_id": "a", "customer_id": "b", "order_date": "c", "amount": "zz"}
    with pytest.raises(ingest.IngestError, match="o.csv: the mapping names columns .*zz"):
        ingest.load_files([path], db=db, options=[ingest.FileOptions(table="orders", mapping=bad)])


def test_inspect_shows_what_would_load_and_writes_nothing(tmp_path, db):
    ingest.load_files([write(tmp_path, "customers.csv", "customer_id\nK0\n")], db=db)
    before = sha256(db)
    result = ingest.inspect_file(write(tmp_path, "invoices.csv", LINES), options=ingest.FileOptions(table="orders"))
    assert (result.n_read, result.n_loaded, result.n_rejected, result.delimiter) == (7, 5, 0, ";")
    assert list(result.preview["order_id"]) == ["536365", "536366", "C536379", "536380", "536381"]
    assert sha256(db) == before


def test_file_over_the_size_limit_is_refused(tmp_path):
    from crmlens.ingest import read
    path = write(tmp_path, "big.csv", "customer_id\n" + "K1\n" * 1000)
    with pytest.raises(ingest.IngestError, match="big.csv: the file is .* over the .* limit"):
        read.check_file(path, "big.csv", max_bytes=100)


def test_cli_load_with_a_saved_mapping_file_and_encoding(tmp_path, db):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"table": "orders", "columns": {
        "order_id": "No", "customer_id": "Kunde", "order_date": "Datum", "amount": "Betrag"}}))
    path = write(tmp_path, "export.csv", "No;Kunde;Datum;Betrag\n1;Müller;03.01.2024;1.234,50\n", encoding="cp1252")
    result = CliRunner().invoke(cli, ["load", str(path), "--db", str(db), "--mapping", str(mapping),
                                      "--encoding", "cp1252", "--append"])
    assert result.exit_code == 0, result.output
    assert "export.csv -> orders: 1 rows loaded, 0 rejected (encoding cp1252)" in result.output
    assert fetch(db, "select customer_id, order_date::varchar, amount from orders") == [("Müller", "2024-01-03", 1234.5)]


def test_cli_reports_order_lines(tmp_path, db):
    path = write(tmp_path, "invoices.csv", LINES)
    result = CliRunner().invoke(cli, ["load", str(path), "--db", str(db), "--max-rejects", "0.2"])
    assert result.exit_code == 0, result.output
    assert "invoices.csv -> orders: 7 order lines loaded as 5 orders (1 cancelled), 0 rows rejected" in result.output


def test_date_times_with_an_offset_and_no_seconds(tmp_path, db):
    text = "created_at,category\n2024-02-05 10:00+08:00,price\n2024-02-05T23:30-05:00,delivery\n"
    ingest.load_files([write(tmp_path, "complaints.csv", text)], db=db)
    assert [r[0].isoformat() for r in fetch(db, "select created_at from complaints order by category desc")] == [
        "2024-02-05T02:00:00", "2024-02-06T04:30:00"]  # in UTC


def _olist_expected():
    """Counted with the csv module: every lead, and the leads with a closed deal (won)."""
    import csv
    from tests.conftest import PUBLIC_DATA
    with open(PUBLIC_DATA / "olist_marketing_qualified_leads_dataset.csv", newline="") as fh:
        leads = {r["mql_id"]: r for r in csv.DictReader(fh)}
    with open(PUBLIC_DATA / "olist_closed_deals_dataset.csv", newline="") as fh:
        deals = {r["mql_id"]: r for r in csv.DictReader(fh)}
    return leads, deals


def test_a_two_file_crm_pipeline_loads_with_fixed_values_and_update(db):
    # The Olist marketing funnel: a leads export (no stage column: every row is a lead) and a
    # closed-deals export for the leads that were won. Fixed values and update mode load it as is.
    from tests.conftest import PUBLIC_DATA
    leads, deals = _olist_expected()
    ingest.load_files([PUBLIC_DATA / "olist_marketing_qualified_leads_dataset.csv"], db=db, options=[
        ingest.FileOptions(table="opportunities", mapping={
            "opportunity_id": "mql_id", "created_date": "first_contact_date", "source": "origin", "stage": "=lead"})])
    [deal] = ingest.load_files([PUBLIC_DATA / "olist_closed_deals_dataset.csv"], db=db, mode="update", options=[
        ingest.FileOptions(table="opportunities", mapping={
            "opportunity_id": "mql_id", "stage": "=won", "close_date": "won_date", "owner": "sr_id"})])
    assert (deal.n_read, deal.n_rejected) == (len(deals), 0)
    counts = dict(fetch(db, "select stage, count(*) from opportunities group by 1"))
    assert counts == {"lead": len(leads) - len(set(deals) & set(leads)), "won": len(set(deals) & set(leads))}
    # A won lead keeps what the leads file said (its source) and gains the deal's close date and owner.
    some = sorted(set(deals) & set(leads))[0]
    row = fetch(db, f"select source, owner, close_date::varchar from opportunities where opportunity_id = '{some}'")
    assert row == [(leads[some]["origin"] or None, deals[some]["sr_id"], deals[some]["won_date"][:10])]


def test_update_mode_fills_in_and_adds(tmp_path, db):
    ingest.load_files([write(tmp_path, "c.csv", "customer_id,name,region\nK1,Ann,North\nK2,Bo,\n")], db=db)
    ingest.load_files([write(tmp_path, "c2.csv", "customer_id,region\nK2,South\nK3,East\n")], db=db, mode="update")
    assert fetch(db, "select customer_id, name, region from customers order by 1") == [
        ("K1", "Ann", "North"), ("K2", "Bo", "South"), ("K3", None, "East")]


def test_a_saved_mapping_follows_the_files_own_spelling_of_the_headers(tmp_path, db):
    first = write(tmp_path, "a.csv", "Customer ID,Name\nK1,Ann\n")
    ingest.load_files([first], db=db)
    second = write(tmp_path, "b.csv", "customer_id,name\nK2,Bo\n")
    saved = ingest.saved_mapping(ingest.read_headers(second), db)
    assert saved.mapping == {"customer_id": "customer_id", "name": "name"}
    ingest.load_files([second], db=db, mode="append")
    assert fetch(db, "select customer_id, name from customers order by 1") == [("K1", "Ann"), ("K2", "Bo")]


def test_the_same_file_cannot_be_added_twice(tmp_path, db):
    surveys = write(tmp_path, "surveys.csv", "customer_id,nps\nK1,9\nK2,3\n")
    ingest.load_files([surveys], db=db)
    with pytest.raises(ingest.IngestError, match="surveys.csv: this exact file was already loaded into surveys"):
        ingest.load_files([surveys], db=db, mode="append")
    assert fetch(db, "select count(*) from surveys") == [(2,)]
    ingest.load_files([surveys], db=db)  # replace is always fine
    assert fetch(db, "select count(*) from surveys") == [(2,)]
