"""The model layer: staging views, marts and the macros that hold one definition per concept.

Like a dbt project inside the database file: `stg_*` views read one raw table each and add the
rules that decide what a row counts as (`is_order`, `is_closed`, `status`); `mart_*` tables are
built from them at every load; macros such as `customer_spells` are the one definition of
"lost". Every page query reads these, never a raw table. Everything is built inside the load's
transaction, so readers see a model that matches its data.
"""

from __future__ import annotations

import pathlib

import duckdb
import pandas as pd

from crmlens import store, vocab

MODEL_DIR = pathlib.Path(__file__).resolve().parent.parent / "queries" / "model"
# Raised whenever an object below changes, so that older databases are rebuilt once.
MODEL_VERSION = 13  # 13: stg_opportunities.dated_by; 12: 已关闭 is no revenue (vocabulary); 11: macros value_at_stake, last_followup, order_margin, clv_factor; vocabulary kind consumer_segment
# The churn rule's defaults (a setting on every page that uses it): lost after max(N days, k x the
# customer's usual gap between order days) without an order.
CHURN_DAYS = 90
CHURN_MULTIPLIER = 3.0
# Built in this order (later objects read earlier ones).
STAGING = ("stg_customers", "stg_orders", "stg_opportunities", "stg_opportunity_stage_history",
           "stg_complaints", "stg_surveys", "stg_activities", "stg_owners", "stg_owner_changes", "stg_targets",
           "stg_product_attributes")
# Staging kept as a table rather than a view: its rule reads an aggregate that every query would pay again.
STAGING_TABLES = ("stg_opportunities",)
MARTS = ("mart_customers", "mart_customer_days", "mart_customer_spells", "mart_filter_values", "mart_opportunities",
         "mart_stage_spellings")
MACROS = ("period_as_of", "customer_spells", "lifetimes", "value_at_stake", "last_followup", "order_margin", "clv_factor")
OBJECTS = ("stg_product_attributes", "stg_customers", "stg_orders", "stg_opportunities",
           "stg_opportunity_stage_history", "stg_complaints", "stg_surveys", "stg_activities", "stg_owners",
           "stg_owner_changes", "stg_targets", "mart_customers", "mart_customer_days", "period_as_of", "customer_spells",
           "mart_customer_spells", "lifetimes", "mart_filter_values", "mart_opportunities", "mart_stage_spellings",
           "value_at_stake", "last_followup", "order_margin", "clv_factor")
BUILD_PARAMS = {"mart_customer_spells": {"churn_days": CHURN_DAYS, "churn_multiplier": CHURN_MULTIPLIER}}
RAW_TABLES = ("customers", "orders", "opportunities", "opportunity_stage_history", "complaints", "surveys",
              "activities", "owners", "owner_changes", "targets", "product_attributes")


def sql(name: str) -> str:
    return (MODEL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def build(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the vocabulary, views, marts and macros on a writer's connection."""
    _drop_views_now_tables(con)
    con.execute("create or replace table vocabulary (kind varchar, word varchar)")
    con.executemany("insert into vocabulary values (?, ?)", vocab.rows())
    for name in OBJECTS:
        if name in MACROS:
            store.create_macro(con, sql(name))
        else:
            con.execute(sql(name), BUILD_PARAMS.get(name, {}))
    con.execute("create or replace table model_info as select $v::integer as model_version, "
                "(select max(order_date) from mart_customer_days) as spells_as_of", {"v": MODEL_VERSION})


def _drop_views_now_tables(con: duckdb.DuckDBPyConnection) -> None:
    """An older model kept these as views; `create or replace table` does not replace a view."""
    for name in STAGING_TABLES:
        found = con.execute("select count(*) from duckdb_views() where database_name = current_database() "
                            "and schema_name = 'main' and view_name = $name", {"name": name}).fetchone()[0]
        if found:
            con.execute(f"drop view {name}")  # a name from the list above, never user input


def is_current(snap: store.Snapshot) -> bool:
    try:
        row = snap.query("select max(model_version) as v from model_info").iloc[0]
    except duckdb.CatalogException:
        return False
    return row["v"] == MODEL_VERSION


def use_spells_mart(snap: store.Snapshot, params: dict) -> bool:
    """Whether customer lifetimes for these parameters are the ones mart_customer_spells holds: the default
    rule, as of the newest order day (a period ending then or later)."""
    if int(params.get("churn_days", -1)) != CHURN_DAYS or float(params.get("churn_multiplier", -1)) != CHURN_MULTIPLIER:
        return False
    as_of = _spells_as_of(snap)
    end = params.get("end")
    return as_of is not None and end is not None and pd.Timestamp(end) >= as_of


_spells_as_of_seen: dict[tuple, pd.Timestamp | None] = {}  # per snapshot (path, identity): it never changes


def _spells_as_of(snap: store.Snapshot) -> pd.Timestamp | None:
    key = (str(snap.path), snap.identity)
    if key not in _spells_as_of_seen:
        try:
            value = snap.query("select max(spells_as_of) as d from model_info").iloc[0]["d"]
        except duckdb.Error:
            value = None
        if len(_spells_as_of_seen) > 64:
            _spells_as_of_seen.clear()
        _spells_as_of_seen[key] = None if pd.isna(value) else pd.Timestamp(value)
    return _spells_as_of_seen[key]


def ensure(db: str | pathlib.Path | None = None, lock_timeout_s: float = store.WRITE_LOCK_TIMEOUT_S) -> None:
    """Build the model of a database written by an older version (same figures, same data version).
    A file CRM Lens did not write raises store.NotOurDatabase on opening: it is never written into."""
    if not store.exists(db):
        return
    if not is_current(store.snapshot(db)):
        with store.writer(db, lock_timeout_s, new_version=False) as con:
            build(con)
