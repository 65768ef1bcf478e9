"""Issue 21, item 8 (the database half): a text file, an empty file, a DuckDB file cut short or a
DuckDB database CRM Lens did not write, at the database path: a clear message on every page, no
traceback, no server path, and nothing ever written into the file."""

from __future__ import annotations

import hashlib
import pathlib

import duckdb
import pytest
from click.testing import CliRunner

from crmlens import cli, ingest, store
from tests.conftest import FIXTURES, app_test

PAGES = [None, "funnel", "loyalty", "churn", "complaints", "data"]


def crm_database(path: pathlib.Path) -> pathlib.Path:
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=path)
    return path


def cut_short(path: pathlib.Path, keep: float) -> pathlib.Path:
    data = crm_database(path.with_name("whole.duckdb")).read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def damaged(path: pathlib.Path) -> pathlib.Path:
    """Whole in size, but the bytes of its blocks overwritten (a bad disk): checksums fail on reading."""
    data = bytearray(crm_database(path.with_name("whole.duckdb")).read_bytes())
    for start in range(12288 + 4096, len(data), 262144):
        data[start:start + 100_000] = b"\x5a" * 100_000
    path.write_bytes(bytes(data))
    return path


def foreign(path: pathlib.Path) -> pathlib.Path:
    con = duckdb.connect(str(path))
    con.execute("create table invoices as select range as invoice_id, range * 2.5 as amount from range(100)")
    con.close()
    return path


def written(data: bytes):
    def make(path: pathlib.Path) -> pathlib.Path:
        path.write_bytes(data)
        return path
    return make


BAD = {  # name: (make the file, the message's reason)
    "text": (written(b"customer_id,name\nC1,Ann\n"), "unreadable"),
    "zero bytes": (written(b""), "unreadable"),
    "4 KB of zeros": (written(b"\0" * 4096), "unreadable"),
    "cut in half": (lambda p: cut_short(p, 0.5), "unreadable"),
    "cut to a tenth": (lambda p: cut_short(p, 0.1), "unreadable"),
    "damaged blocks": (damaged, "unreadable"),
    "foreign DuckDB": (foreign, "foreign"),
}
MESSAGES = {"unreadable": "The database file cannot be read", "foreign": "a DuckDB database that CRM Lens did not write"}


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", list(BAD))
def test_every_page_says_what_is_wrong_and_leaves_the_file_alone(name, tmp_path, monkeypatch):
    make, reason = BAD[name]
    db = tmp_path / "crm.duckdb"
    make(db)
    before = sha256(db)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    for page in PAGES:
        at = app_test(page)
        assert not at.exception, [e.value for e in at.exception]
        assert MESSAGES[reason] in at.error[0].value
        shown = " ".join(str(getattr(e, "value", "")) for e in (*at.main, *at.sidebar))
        assert str(tmp_path) not in shown and "Traceback" not in shown
        assert not at.metric and not at.dataframe and not at.file_uploader
    assert sha256(db) == before  # not a byte written, by viewers or by the schema upgrade
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".crm")) == []


@pytest.mark.parametrize("name", list(BAD))
def test_loads_and_the_cli_refuse_to_write_into_it(name, tmp_path):
    make, reason = BAD[name]
    db = make(tmp_path / "crm.duckdb")
    before = sha256(db)
    csv = tmp_path / "customers.csv"
    csv.write_text("customer_id,name\nC1,Ann\n")
    with pytest.raises(store.NotOurDatabase) as refused:
        ingest.load_files([csv], db=db)
    assert refused.value.reason == reason
    for args in (["load", str(csv), "--db", str(db)], ["metrics", "--json", "--db", str(db)],
                 ["demo", "--db", str(db), "--customers", "20"]):
        result = CliRunner().invoke(cli.cli, args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert "CRM Lens did not write" in result.output or "cannot be read as a DuckDB database" in result.output
    assert sha256(db) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


def test_a_crm_lens_database_still_opens(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMLENS_DB", str(crm_database(tmp_path / "crm.duckdb")))
    at = app_test(period=["2024-01-01", "2024-12-31"])
    assert not at.error and at.metric
