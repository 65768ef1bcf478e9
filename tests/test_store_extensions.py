"""DuckDB's extensions load offline from their pip packages, through the one function that knows how."""

from __future__ import annotations

import contextlib

import pytest

from crmlens import store

# The extension each package holds, by the name DuckDB lists it under once loaded.
PINNED = {"encodings": "encodings", "excel": "excel", "ducklake": "ducklake", "postgres": "postgres_scanner",
          "httpfs": "httpfs"}


def test_a_connection_never_installs_or_autoloads_from_the_network():
    with contextlib.closing(store.connect()) as con:
        settings = dict(con.execute("select name, value from duckdb_settings() where name in "
                                    "('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_each_pinned_extension_loads_from_its_package(name):
    path = store.extension_file(name)
    assert path is not None and path.is_file(), f"duckdb-extension-{name} is not installed for this DuckDB"
    assert path.name == f"{PINNED[name]}.duckdb_extension"  # DuckDB finds the entry point by the file name
    with contextlib.closing(store.connect()) as con:
        store.load_extension(con, name)
        loaded = {r[0] for r in con.execute("select extension_name from duckdb_extensions() where loaded").fetchall()}
    assert PINNED[name] in loaded


def test_a_gb18030_csv_reads_with_the_encodings_extension(tmp_path):
    csv = tmp_path / "gbk.csv"
    csv.write_bytes("客户编号,金额\nC1,12.5\n".encode("gb18030"))
    with contextlib.closing(store.connect()) as con:
        store.load_extension(con, "encodings")
        rows = con.execute("select * from read_csv($f, encoding = 'gb18030', header = true)", {"f": str(csv)}).fetchall()
        names = [d[0] for d in con.description]
    assert names == ["客户编号", "金额"] and rows == [("C1", 12.5)]
