"""python -m crmlens: demo data, loading CSV files, metrics as JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pathlib
import sys

import click

from crmlens import contract, i18n, ingest, metrics, model, period, store, viewparams
from crmlens.ingest import layouts as ingest_layouts


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


db_option = click.option(
    "--db", type=click.Path(dir_okay=False), default=None,
    help="DuckDB file, or a DuckLake catalog such as \"ducklake:postgres:dbname=crmlens host=db\" with its data "
         "folder in $CRMLENS_DATA_PATH (default: $CRMLENS_DB or data/crm.duckdb).",
)


@click.group()
def cli() -> None:
    """CRM Lens: customer-relationship analytics from your CRM, shop and ticket exports."""


@cli.command()
@db_option
@click.option("--customers", "n_customers", default=5000, show_default=True, help="Number of customers.")
@click.option("--seed", default=42, show_default=True, help="Random seed; the same seed gives the same data.")
def demo(db: str | None, n_customers: int, seed: int) -> None:
    """Write a realistic demo data set (replaces every table).

    Example: python -m crmlens demo --db /tmp/demo.duckdb --customers 300
    """
    from crmlens import demo as demo_data

    tables = demo_data.generate(n_customers=n_customers, seed=seed)
    try:
        ingest.load_tables(tables, db=db, source=f"demo (customers={n_customers}, seed={seed})")
    except (store.StoreBusy, store.NotOurDatabase) as e:
        raise _fail(str(e)) from e
    for name, table in tables.items():
        click.echo(f"{name}: {table.num_rows:,} rows")
    click.echo(f"written to {store.db_path(db)}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@db_option
@click.option("--table", type=click.Choice(sorted(contract.TABLES)), default=None,
              help="Load into this table instead of detecting it from the columns and file name.")
@click.option("--mode", type=click.Choice(list(ingest.MODES)), default="replace", show_default=True,
              help="replace: the file becomes the table's content; append: its rows are added; "
                   "update: rows whose id is loaded fill in the columns the file has, new ids are added.")
@click.option("--append", "append_flag", is_flag=True, help="Same as --mode append.")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help='A column mapping (JSON: {"table": "orders", "columns": {"order_id": "Invoice", ...}}): the '
                   'columns it names override what is detected, null leaves a column out, and a value "=text" '
                   'puts that text in every row (e.g. "stage": "=lead").')
@click.option("--encoding", type=click.Choice(ingest.ENCODINGS), default=None,
              help="The files' encoding (default: detected).")
@click.option("--delimiter", type=click.Choice(["comma", "semicolon", "tab", "bar", "whitespace"]), default=None,
              help="What separates the fields (default: detected); whitespace = runs of spaces.")
@click.option("--day-first", is_flag=True, help="Read ambiguous dates like 03/01/2024 as 3 January.")
@click.option("--max-rejects", default=ingest.MAX_REJECT_SHARE, show_default=True,
              help="Largest share of rows that may be rejected before the load is refused (0-1).")
@click.option("--sheet", default=None, help="An Excel workbook's sheet (default: the one with the most filled rows).")
@click.option("--missing", default="", help='More words that mean "missing" in these files, comma-separated '
                                            '(besides empty, NA, N/A, null, none, -, ?, 无), e.g. "unknown,n.a.".')
@click.option("--header-row", type=click.IntRange(0, 30), default=None,
              help="The line holding the column names (default: detected, past title lines); 0: the files have no "
                   "header row, their columns are column_1, column_2, ... (name them in --mapping).")
def load(files, db, table, mode, append_flag, mapping_file, encoding, delimiter, day_first, max_rejects, sheet,
         missing, header_row) -> None:
    """Load CSV files: all of them or none (the data is unchanged on any error).

    Example: python -m crmlens load customers.csv orders.csv
    """
    options = dataclasses.replace(_file_options(mapping_file, table, encoding), sheet=sheet,
                                  missing=tuple(w.strip() for w in missing.split(",") if w.strip()),
                                  header_row=header_row)
    if delimiter:
        options = dataclasses.replace(options, delimiter=DELIMITERS[delimiter])
    try:
        results = ingest.load_files(list(files), db=db, mode="append" if append_flag else mode,
                                    day_first=day_first, max_reject_share=max_rejects,
                                    options=[options] * len(files))
    except ingest.IngestError as e:
        if e.rejects is not None and len(e.rejects):
            click.echo(e.rejects.head(20).to_string(index=False), err=True)
        raise _fail(f"{e}\nNothing was loaded; the data is unchanged.") from e
    except (store.StoreBusy, store.NotOurDatabase) as e:
        raise _fail(f"{e}\nNothing was loaded; the data is unchanged.") from e
    _after_load(db)
    for r in results:
        if r.is_order_lines:
            click.echo(f"{r.file_name} -> {r.table}: {r.n_lines:,} order lines loaded as {r.n_loaded:,} orders "
                       f"({r.n_cancelled:,} cancelled), {r.n_rejected:,} rows rejected (encoding {r.encoding})")
        elif r.is_status_log:
            click.echo(f"{r.file_name} -> {r.table}: {r.n_changes:,} status changes loaded as {r.n_loaded:,} tickets, "
                       f"{r.n_rejected:,} rows rejected (encoding {r.encoding})")
        else:
            click.echo(f"{r.file_name} -> {r.table}: {r.n_loaded:,} rows loaded, {r.n_rejected:,} rejected "
                       f"(encoding {r.encoding})")
        if r.header_row != 1:
            click.echo("  no header row: columns named column_1, column_2, ..." if r.header_row == 0 else
                       f"  header on line {r.header_row}: the {r.header_row - 1} line(s) above it left out")
        if getattr(r, "generated_ids", False):
            first = r.header_row + 1
            click.echo(f"  no order id in the file: each line got one from the file name and row number "
                       f"({r.file_name}#{first}, {r.file_name}#{first + 1}, ...)")
        if getattr(r, "layout", ""):
            click.echo(f"  recognised as {ingest_layouts.by_id(r.layout).title('en')}: columns mapped by its layout")
        if r.saved_mapping:
            click.echo("  columns mapped as saved for files with this header"
                       + (f" (its fixed values not used for {', '.join(r.kept_own_columns)}: the file has them)"
                          if r.kept_own_columns else ""))
        for g in getattr(r, "guesses", []):
            if not g.taken:
                click.echo(f"  column {g.header} not mapped to {g.column}: "
                           f"{i18n.translate('en', 'importer.guess.reason.' + g.reason)} "
                           f"(values: {', '.join(g.values)}); name it in --mapping if it is")
        for _, rej in r.rejects.head(10).iterrows():
            click.echo(f"  rejected row {rej['row']}, column {rej['column']}: "
                       f"{ingest.describe_reason(rej['reason'])} ({rej['value']!r})")


def _after_load(db) -> None:
    from crmlens.digest import run as digest_run

    digest_run.after_load(db)  # alerts are checked in a process of their own; the load is done


def _file_options(mapping_file: str | None, table: str | None, encoding: str | None) -> ingest.FileOptions:
    if not mapping_file:
        return ingest.FileOptions(table=table, encoding=encoding)
    try:
        saved = json.loads(pathlib.Path(mapping_file).read_text(encoding="utf-8"))
        return ingest.FileOptions(table=table or saved["table"], mapping=dict(saved["columns"]), encoding=encoding,
                                  partial=True)
    except (ValueError, KeyError, TypeError) as e:
        raise _fail(f"{mapping_file}: not a mapping file ({e}); expected "
                    '{"table": "orders", "columns": {"order_id": "Invoice", ...}}') from e


DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "bar": "|", "whitespace": ingest.WHITESPACE}


@cli.command(name="metrics")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the only format for now).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Period start (default: 365 days before --end).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Period end (default: the newest date in the data).")
@click.option("--params", "view_params", default="",
              help='Filters and settings as a page\'s address (and a digest) keeps them, e.g. '
                   '"segment=business&churn_days=60"; each view takes the keys it knows, '
                   'period=START&period=END is the period.')
@click.option("--data-version", "data_version", type=click.IntRange(min=0), default=None,
              help="The figures as of this earlier data version (a shared link's v=): DuckLake keeps every "
                   "load's snapshot; the DuckDB file store cannot open older versions.")
def metrics_cmd(db, as_json, start, end, view_params, data_version) -> None:
    """Headline figures of every view as JSON.

    Example: python -m crmlens metrics --json --start 2026-01-01 --end 2026-06-30 --params "segment=business"
    """
    try:
        ingest.ensure_derived(db)
        snap = store.snapshot(db)
        if data_version is not None and data_version != snap.version:
            latest, snap = snap, store.snapshot_at(data_version, db)
            if not model.is_current(snap):
                raise _fail(f"data version {data_version} was loaded by an older CRM Lens, whose figures this one "
                            f"cannot reproduce exactly (the latest is {latest.version})")
    except store.VersionUnavailable as e:
        raise _fail(f"data version {e.version} cannot be opened: " + (
            "this DuckDB file store keeps no older versions to read (DuckLake does)" if e.reason == "no_history"
            else f"no load of this store made it, or its history was expired (the latest is {snap.version})")) from e
    except store.NoData as e:
        raise _fail(f"no database at {e}; run `python -m crmlens demo` or load CSV files first") from e
    except store.NotOurDatabase as e:
        raise _fail(f"{e}; point --db (or CRMLENS_DB) at a CRM Lens database") from e
    except (store.StoreBusy, OSError) as e:
        raise _fail(f"the database was written by an older CRM Lens and could not be brought up to date ({e}); "
                    "run this again when no load is running, with write access to its folder") from e
    end_date = end.date() if end else None
    start_date = start.date() if start else (end_date - dt.timedelta(days=364) if end_date else None)
    if start_date and end_date and start_date > end_date:
        raise _fail("--start must not be after --end")
    pairs, params_period = _view_params(view_params)
    if params_period and (start or end):
        raise _fail("give the period once: period=START&period=END in --params, or --start/--end")
    default_start, default_end = period.default_period(snap)
    start_date, end_date = params_period or (start_date or default_start, end_date or default_end)
    try:
        settings = viewparams.for_views(snap, pairs, start_date, end_date)
    except viewparams.Refused as e:
        raise _fail(f"--params: {e}") from e
    result = metrics.collect(snap, start_date, end_date, settings)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _view_params(text: str):
    """--params as pairs (lang and v dropped, as in a digest) and the period it names, if any."""
    from crmlens.digest import model as digest_model

    try:
        pairs = digest_model.parse_params(text)
        return pairs, digest_model.params_period(pairs)
    except digest_model.InvalidSetting as e:
        raise _fail(f"--params: {e}") from e


@cli.command(name="versions")
@db_option
def versions_cmd(db) -> None:
    """List the data versions kept to roll back to (the snapshot each load replaced)."""
    from crmlens import versions

    kept = versions.kept(db)
    if not kept:
        click.echo("no earlier version is kept yet")
    for version, path in kept.items():
        click.echo(f"version {version}: {path}")


def _recorded_change(change, db) -> int:
    """Run a change that is recorded as a load (rollback, clear); on refusal say that nothing changed."""
    try:
        new = change()
    except (ingest.IngestError, store.StoreBusy, store.NotOurDatabase) as e:
        raise _fail(f"{e}\nNothing was changed.") from e
    _after_load(db)
    return new


@cli.command(name="rollback")
@click.argument("version", type=int)
@db_option
def rollback_cmd(version, db) -> None:
    """Make the data that of a kept VERSION (a new, recorded load; the history, mappings and digests stay)."""
    from crmlens import versions

    new = _recorded_change(lambda: versions.rollback(version, db), db)
    click.echo(f"rolled back to version {version}: the data is now version {new}")


@cli.command(name="clear")
@click.argument("table", type=click.Choice(sorted(contract.TABLES)))
@db_option
def clear_cmd(table, db) -> None:
    """Delete every row of TABLE (a new, recorded load that can be rolled back)."""
    from crmlens import versions

    new = _recorded_change(lambda: versions.clear(table, db), db)
    click.echo(f"{table} cleared: the data is now version {new}")


@cli.command(name="migrate")
@click.option("--from", "source", required=True, help="The store to copy from (a DuckDB file, or a ducklake: address).")
@click.option("--to", "target", required=True,
              help='The store to copy into, e.g. "ducklake:postgres:dbname=crmlens host=db" (data folder: '
                   '$CRMLENS_DATA_PATH).')
def migrate_cmd(source, target) -> None:
    """Copy every table and the load history of one store into another, in one write.

    Example: CRMLENS_DATA_PATH=/srv/crmlens-data/ python -m crmlens migrate --from data/crm.duckdb
    --to "ducklake:postgres:dbname=crmlens host=127.0.0.1"
    """
    if str(store.db_path(source)) == str(store.db_path(target)):
        raise _fail("--from and --to name the same store")
    try:
        ingest.ensure_derived(source)
        version = store.attempts(lambda: store.copy_store(source, target))
    except store.NoData as e:
        raise _fail(f"no database at {e}: nothing to copy") from e
    except (store.StoreBusy, store.NotOurDatabase) as e:
        raise _fail(f"{e}\nNothing was copied.") from e
    click.echo(f"copied {store.db_path(source)} into {store.db_path(target)}: the data is version {version} there")


@cli.command(name="hash-password")
@click.password_option(prompt="Password", confirmation_prompt=True)
def hash_password(password: str) -> None:
    """Print a salted hash of a password, for admin_password_hash / viewer_password_hash.

    Example: python -m crmlens hash-password   (then put the line it prints in .streamlit/secrets.toml)
    """
    from crmlens import access

    click.echo(access.hash_password(password))


def _digest_commands() -> None:
    from crmlens.digest import commands as digest_commands

    for command in digest_commands.COMMANDS:
        cli.add_command(command)


_digest_commands()


def main() -> None:
    cli(prog_name="python -m crmlens")


if __name__ == "__main__":
    sys.exit(main())
