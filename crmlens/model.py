"""The model layer: staging views, marts and the macros that hold one definition per concept.

Like a dbt project inside the database file: `stg_*` views read one raw table each and add the
rules that decide what a row counts as (`is_order`, `is_closed`, `status`); `mart_*` tables are
built from them at every load; macros such as `customer_spells` are the one definition of
"lost". Every page query reads these, never a raw table. Everything is built inside the load's
transaction, so readers see a model that matches its data.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import numbers
import pathlib
import re
import time

import duckdb
import pandas as pd
import pyarrow as pa

from crmlens import store, vocab

MODEL_DIR = pathlib.Path(__file__).resolve().parent.parent / "queries" / "model"
# Raised whenever an object below changes, so that older databases are rebuilt once.
MODEL_VERSION = 38  # 38: "lost within the follow-up" on the complaints page is the first loss after the start, as on
# the follow-up page (first_loss_after; mart_complaint_customers' is_listed, lost_after_first_order; mart_complaint_others);
# 37: the CLV's yearly retention from the lifetimes (1 - the 12-month churn rate: clv_retention,
# lifetime_year_ago; mart_loyalty_customers' was_active_year_ago, the kept loyalty summary);
# 36: customer_spells' chosen customers by their list alone (an empty list keeps none);
# 35: the kept rows as pandas frames in one table (mart_kept_frames: a page as it opens, one read);
# 34: the complaints heatmap by the chosen breakdown (mart_complaints_dimension_month_kept);
# 33: the complaints' breach from the export's own SLA verdict where it gives one
# (complaints_scope's sla_met_given: the kept complaints views are worked out again); 32: the overview, the funnel and the loyalty summary as they open kept at load (mart_overview_kpis_kept,
# mart_overview_trend_kept, mart_funnel_summary_kept, mart_funnel_stage_counts_kept, mart_funnel_opportunities_kept,
# mart_loyalty_summary_kept: KEPT_VARIANTS);
# mart_opportunities.default_moves (the funnel's speed tab: funnel_step_moves_mart);
# 31: mart_customer_revenue_days and revenue_before (the churn bucket's lost revenue
# for any rule and the complaints' revenue before a complaint read one row per customer, one definition); 30: stg_complaints.open_until (the one rule of a complaint open at a date: the loyalty
# pieces and mart_loyalty_months read it); 29: the complaints page's queries as it opens kept at load
# (mart_complaints_*_kept: KEPT_VIEWS, one template queries/model/kept_view.sql for them and the churn page's two);
# 28: mart_loyalty_months from each customer's change points (carried forward, then unnested to the
# dates) instead of every customer and date joined to ranges;
# 27: mart_order_dates.n_lines_customer (the churn bucket reads the customers' revenue per day from it);
# mart_customer_long_gaps (the days that can begin a lifetime under a rule of >= 30 days: customer_spells' from_gaps);
# mart_churn_summary_kept, mart_churn_bucket_kept (the churn page's default view, kept at load);
# 26: macro listed_lost_date (the complaints link's lost day, once); mart_complaint_customers.complained_in_period;
# mart_complaint_others (the link's others at the default rule and period, no customer filter, counted);
# 25: mart_spell_revenue (the churn bucket's lost revenue for the default rule's lifetimes);
# 24: macro listed_lost (the customer list's churn date, else its flag: one rule for the churn and
# complaints pages); 23: mart_complaints (per complaint), mart_complaint_customers (per customer: the complaints
# page's link to churn at the default rule and period); macro customer_revenue (THE revenue of a customer over a window, refunds lowering it);
# mart_customer_churn's 12-month revenue and margin parts net of refunds, from it (built after mart_order_days);
# mart_customer_months from mart_order_days: amt_revenue (net of refunds; was amount), rows for refund-only months;
# 23 also: customer_spells and lifetimes take only_customers (a filtered churn page works out its
# customers' lifetimes alone); mart_opportunities keeps each opportunity's status, furthest history step and close day
# with the funnel's proposed stage settings (default_*; use_funnel_mart), built after mart_stage_spellings;
# 23 also: mart_loyalty_customer_moves, mart_loyalty_moves (the loyalty movements and the customers
# of each move at the default period, grain and settings);
# 22: macro customer_gaps, mart_customer_churn (usual gaps and 12-month figures as of the newest
# order day: customer_spells reads them for any churn setting, the churn summary and at-risk list at the default end),
# mart_customer_order_modes (the churn drivers' order values at the default period);
# 21: mart_loyalty_customers (the loyalty measures per customer at the default period and
# settings); 20: mart_data_span (data_span read on every page); data_end reads mart_order_dates, which
# counts the lines with a cost (loyalty_coverage).
# 19: mart_loyalty_months reads the shared pieces customer_first_seen and
# loyalty_open_complaints_referrals again (one rule for the live inputs, the mart and the end marts); 18: macro clv_forward (the CLV formula, once); 17: mart_customer_months, mart_order_dates (churn bucket, cohorts, overview);
# 16: mart_order_days, mart_customer_period (the loyalty period figures per customer and day,
# and per customer at the default period), mart_loyalty_months from mart_order_days; 15: macros data_end,
# opportunity_status, opportunity_closed_on, opportunity_cycle_days; vocabulary kind everyone_owner;
# 14: mart_loyalty_months (the loyalty rung inputs at every month end); 13: stg_opportunities.dated_by;
# 12: 已关闭 is no revenue (vocabulary); 11: macros value_at_stake, last_followup, order_margin, clv_factor; vocabulary kind consumer_segment
# The churn rule's defaults (a setting on every page that uses it): lost after max(N days, k x the
# customer's usual gap between order days) without an order.
CHURN_DAYS = 90
CHURN_MULTIPLIER = 3.0
# Page queries whose rows for the page as it opens are kept at load, each in its table mart_<query>_kept
# (queries/model/kept_view.sql with the query's own text; kept_view decides when they are read): per page, the
# overview's headline figures (against the previous period) and trend, the funnel's summary, steps and list as it opens
# (the proposed stage settings: crmlens.funnel.opening_params), the loyalty summary (the ladder, ABC, RFM, CLV and
# quadrant figures at the default period and settings: crmlens.loyalty.params), the churn page's summary and leaky bucket (the default period, rule and grain, churn from orders, no filter) and every query of
# the complaints page (the default period and settings, no filter: crmlens.complaints.opening_params).
KEPT_PAGES = {"overview": ("overview_kpis", "overview_trend"),
              "funnel": ("funnel_summary", "funnel_stage_counts", "funnel_opportunities"),
              "loyalty": ("loyalty_summary",),
              "churn": ("churn_summary", "churn_bucket"),
              "complaints": ("complaints_filter_options", "complaints_coverage", "complaints_volume",
                             "complaints_by_dimension", "complaints_dimension_month", "complaints_speed",
                             "complaints_resolution_survival", "complaints_time_bands", "complaints_oldest_open",
                             "complaints_satisfaction", "complaints_repeat", "complaints_repeat_customers",
                             "complaints_churn", "complaints_churn_survival", "complaints_churn_cox")}
KEPT_VIEWS = {query: f"mart_{query}_kept" for kept in KEPT_PAGES.values() for query in kept}  # query -> its table
# Kept queries worked out at load with a variant of their text (queries.sql_text's from_marts): the loyalty summary with
# the measures mart_loyalty_customers keeps for the default period and settings (what default_measures says there).
KEPT_VARIANTS = {"loyalty_summary": "default"}
KEPT_QUERIES = {table: query for query, table in KEPT_VIEWS.items()}
# Every KEPT_VIEWS table's rows as the page reads them (a pandas frame, Arrow IPC with pandas' own types), one row per
# query, made again whenever one of those tables is: a page as it opens reads all of its kept rows in one round trip
# (kept_frame) where a query per table paid DuckDB's planning and the hand-over to pandas each time.
KEPT_FRAMES = "mart_kept_frames"
USE_KEPT_VIEWS = True  # the tests switch it off to compare the kept rows with the query's
# Built in this order (later objects read earlier ones).
STAGING = ("stg_customers", "stg_orders", "stg_opportunities", "stg_opportunity_stage_history",
           "stg_complaints", "stg_surveys", "stg_activities", "stg_owners", "stg_owner_changes", "stg_targets",
           "stg_product_attributes")
# Staging kept as a table rather than a view: its rule reads an aggregate that every query would pay again.
STAGING_TABLES = ("stg_opportunities",)
MARTS = ("mart_customers", "mart_customer_days", "mart_order_days", "mart_customer_months", "mart_order_dates",
         "mart_customer_churn", "mart_customer_long_gaps", "mart_customer_spells", "mart_customer_revenue_days",
         "mart_spell_revenue", "mart_filter_values", "mart_opportunities", "mart_stage_spellings", "mart_customer_period",
         "mart_loyalty_months", "mart_loyalty_customers", "mart_customer_order_modes", "mart_data_span",
         "mart_complaints", "mart_complaint_customers", "mart_complaint_others", "mart_loyalty_customer_moves",
         "mart_loyalty_moves", *KEPT_VIEWS.values())
MACROS = ("period_as_of", "listed_lost", "listed_lost_date", "first_loss_after", "customer_gaps", "customer_revenue", "customer_spells", "lifetimes", "revenue_before", "value_at_stake", "last_followup", "order_margin", "clv_factor",
          "data_end", "opportunity_status", "opportunity_closed_on", "opportunity_cycle_days", "clv_forward")
OBJECTS = ("opportunity_status", "stg_product_attributes", "stg_customers", "stg_orders", "stg_opportunities",
           "stg_opportunity_stage_history", "stg_complaints", "stg_surveys", "stg_activities", "stg_owners",
           "stg_owner_changes", "stg_targets", "listed_lost", "listed_lost_date", "first_loss_after", "mart_customers", "mart_customer_days", "mart_order_days",
           "mart_customer_months", "mart_order_dates", "customer_gaps", "customer_revenue", "mart_customer_churn", "mart_customer_long_gaps",
           "period_as_of", "customer_spells",
           "mart_customer_spells", "mart_customer_revenue_days", "revenue_before", "mart_spell_revenue", "lifetimes", "mart_filter_values", "mart_stage_spellings", "opportunity_closed_on", "mart_opportunities",
           "value_at_stake", "last_followup", "order_margin", "clv_factor", "clv_forward", "mart_customer_period",
           "mart_loyalty_months", "data_end", "opportunity_cycle_days", "mart_loyalty_customers",
           "mart_customer_order_modes", "mart_data_span", "mart_complaints", "mart_complaint_customers", "mart_complaint_others",
           "mart_loyalty_customer_moves", "mart_loyalty_moves", *KEPT_VIEWS.values())
BUILD_PARAMS = {"mart_customer_spells": {"churn_days": CHURN_DAYS, "churn_multiplier": CHURN_MULTIPLIER}}
# Model files that pull in shared query pieces (`-- include:`), expanded like the page queries.
WITH_PIECES = ("mart_loyalty_months", "mart_loyalty_customers", "mart_loyalty_customer_moves")
# Queries whose loyalty rung inputs can come from mart_loyalty_months: the piece loyalty_rung_inputs is swapped for
# loyalty_rung_inputs_mart when every date they read is kept there (use_loyalty_mart). The others read the step_*
# period figures, which depend on the period and the margin setting: END_QUERIES below.
LOYALTY_MART_QUERIES = ("loyalty_movements", "loyalty_flow_customers", "loyalty_climb")
MART_PIECES = {"loyalty_rung_inputs": "loyalty_rung_inputs_mart"}
USE_LOYALTY_MART = True  # the tests switch it off to run the live inputs on the same fixtures
# Queries that read the rung inputs at the single date $end (with the step_* period, lifetime and margin figures):
# for any period and setting their piece loyalty_rung_inputs is swapped for loyalty_rung_inputs_end, which reads
# mart_order_days (per customer and day) and mart_customers instead of the order lines. At the default period (the
# 365 days up to the newest date in the data) the order facts come per customer from mart_customer_period instead.
END_QUERIES = ("loyalty_summary", "loyalty_customers", "loyalty_triage")
END_PIECES = {"loyalty_rung_inputs": "loyalty_rung_inputs_end"}
PERIOD_PIECES = {**END_PIECES, "loyalty_order_facts_days": "loyalty_order_facts_period"}
# Queries that read only the order facts at $end (loyalty_order_facts_days, from mart_order_days): at the default
# period from mart_customer_period instead (PERIOD_PIECES), like the END_QUERIES.
FACT_QUERIES = ("clv_basis",)
USE_END_MARTS = True  # the tests switch it off to compare with the live inputs
USE_PERIOD_MART = True  # ... and this one to compare mart_customer_period with the sums of mart_order_days
# At the default period with the default settings and no filter the three END_QUERIES read each customer's measures
# (rung, ABC class, RFM, quadrant, CLV) from mart_loyalty_customers, built at load with the same pieces:
# default_measures says "default" when every parameter those pieces read is the one the mart was built with.
DEFAULT_PIECES = {"loyalty_rung_inputs": "loyalty_measures_mart", "loyalty_rung_rules": "loyalty_measures_kept",
                  "loyalty_customer_measures": "loyalty_measures_kept"}
USE_DEFAULT_MART = True  # the tests switch it off to compare with the pieces worked out per query
# With a filter, or a setting only loyalty_customer_measures reads (ABC shares, top %, the CLV and quadrant settings,
# revenue or profit), the rest at the default period and settings, the three END_QUERIES read each customer's rung,
# state and facts (loyalty_rung_rules' rung_states) from mart_loyalty_customers, filtered there, and work out only the
# measures that rank or compare the customers in the view: default_states says "states".
STATES_PIECES = {"loyalty_rung_inputs": "loyalty_states_mart", "loyalty_rung_rules": "loyalty_measures_kept",
                 "lifetime_year_ago": "lifetime_year_ago_mart"}
USE_STATES_MART = True  # the tests switch it off to compare with the pieces worked out per query
# At the default period, grain (month) and settings, any filter, loyalty_movements counts the moves kept in
# mart_loyalty_moves and loyalty_flow_customers lists the customers of a move between two dates next to each other
# from mart_loyalty_customer_moves (both built at load with the movements' own pieces): default_moves says "moves".
MOVES_PIECES = {
    "loyalty_movements": {"loyalty_rung_inputs": "loyalty_moves_mart", "loyalty_rung_rules": "loyalty_moves_kept",
                          "loyalty_customer_moves": "loyalty_moves_kept", "loyalty_moves_counted": "loyalty_moves_kept"},
    "loyalty_flow_customers": {"loyalty_rung_inputs": "loyalty_flow_mart", "loyalty_rung_rules": "loyalty_moves_kept",
                               "loyalty_flow_page": "loyalty_moves_kept"},
}
MOVES_FILTERS = ("segment", "region", "channel", "owner")  # applied when the query reads the marts: not settings
USE_MOVES_MART = True  # the tests switch it off to compare with the moves worked out per query
# Model files built with pieces swapped, as the queries take them from marts.
BUILD_PIECES = {"mart_loyalty_customers": PERIOD_PIECES, "mart_loyalty_customer_moves": MART_PIECES}
# --- Appends (README, "Appending to a big store"): a load that only ADDS rows to these tables (mode append: new
# ids only, nothing replaced or updated; ingest notes the new rows with note_appended) updates the marts below for
# the keys it touched instead of rebuilding them: their rows for those keys are deleted and inserted again by the
# mart's own SQL, which the macros in_build_scope(customer_id) and in_build_days(order_date) restrict (both are
# `true` in a full build: one definition, run whole or for a few keys).
APPENDABLE = ("orders",)
# Each mart read from orders, by the key its rows depend on alone (given its global inputs below): per customer, or
# per day (mart_order_dates). mart_filter_values, mart_opportunities and mart_stage_spellings read no orders: kept.
UPDATED_BY_KEY = {"mart_customers": "customer_id", "mart_customer_days": "customer_id",
                  "mart_customer_months": "customer_id", "mart_order_dates": "order_date",
                  "mart_customer_spells": "customer_id", "mart_spell_revenue": "customer_id",
                  "mart_customer_revenue_days": "customer_id",
                  "mart_order_days": "customer_id",
                  "mart_customer_period": "customer_id", "mart_loyalty_months": "customer_id",
                  "mart_customer_churn": "customer_id", "mart_customer_long_gaps": "customer_id",
                  "mart_customer_order_modes": "customer_id",
                  "mart_complaints": "customer_id", "mart_complaint_customers": "customer_id",
                  "mart_loyalty_customer_moves": "customer_id", "mart_data_span": "table_name"}
# What a mart reads from every customer: when one of these differs after the append from what it was before, the
# mart is rebuilt whole. last_order_day: the newest order day (mart_customer_spells' as-of; mart_loyalty_months' last
# dates); usual_gap: everybody's median gap between order days (the gap of one-order customers in customer_spells);
# first_line_day / last_line_day: the oldest and newest order line of any kind (the newest date in the data as
# mart_customer_period and mart_loyalty_months take it; their other dates come from tables an order append leaves
# alone); guest_orders, guest_revenue: the orders without a customer id and their revenue, refunds included
# (mart_customer_churn's guests' row, which no customer key reaches).
GLOBAL_INPUTS = {"mart_customer_spells": ("last_order_day", "usual_gap"),
                 "mart_spell_revenue": ("last_order_day", "usual_gap"),  # (its lifetimes: mart_customer_spells')
                 "mart_customer_period": ("last_line_day",),
                 "mart_loyalty_months": ("first_line_day", "last_line_day", "last_order_day"),
                 "mart_customer_churn": ("last_order_day", "usual_gap", "guest_orders", "guest_revenue"),
                 "mart_customer_long_gaps": ("last_order_day", "usual_gap"),  # (mart_customer_churn's gaps)
                 "mart_customer_order_modes": ("last_line_day", "last_order_day"),
                 "mart_complaint_customers": ("last_order_day", "usual_gap", "last_line_day"),
                 # the default period (last_line_day), the months kept (first_line_day) and the lost rule at its end
                 "mart_loyalty_customer_moves": ("first_line_day", "last_line_day", "last_order_day", "usual_gap")}
# Read from the marts: before the build (the data as it was) and after mart_order_dates and mart_customer_days are
# up to date. usual_gap is customer_spells' `everybody` at the newest order day.
GLOBALS_SQL = """select (select min(order_date) from mart_order_dates) as first_line_day,
       (select max(order_date) from mart_order_dates) as last_line_day,
       (select max(order_date) from mart_customer_days) as last_order_day,
       (select median(gap_before) filter (where gap_before > 0) from mart_customer_days) as usual_gap,
       (select sum(n_orders_no_customer) from mart_order_dates) as guest_orders,
       (select round(sum(amt_revenue_no_customer), 4) from mart_order_dates) as guest_revenue"""
WHOLE_SCOPE = ("create or replace temp macro in_build_scope(c) as true; "
               "create or replace temp macro in_build_days(d) as true; "
               "create or replace temp macro in_build_tables(t) as true")
# The loaded tables of an update (mart_data_span's rows: one per table), a list of our own table names (few).
TABLE_SCOPE = ("create or replace temp macro in_build_tables(t) as "
               "list_contains(getvariable('crmlens_build_tables'), t)")
# The scope of a by-key update (_append_scope's temp tables _build_customers and _build_days). Few keys (an append of
# a day's orders): the keys as constant lists in session variables (read from the temp tables, never pasted into
# SQL), a filter DuckDB pushes into the scan of the order lines, on the DuckDB file and on DuckLake's Parquet alike,
# where an IN subquery became a join after every line was classified (measured at 1.16M orders, 100 customers: the
# by-key marts' statements 22.9 s -> 16.6 s on the file). The list is searched row by row, so many keys take the
# IN subqueries (a hash join): at 20,000 customers the lists took 140 s where the subqueries took 4 s.
KEY_SCOPE_SUBQUERIES = {
    "in_build_scope": "create or replace temp macro in_build_scope(c) as c in (select s.customer_id from _build_customers s)",
    "in_build_days": "create or replace temp macro in_build_days(d) as d in (select s.order_date from _build_days s)"
                     " or (d is null and exists (select 1 from _build_days s where s.order_date is null))"}
KEY_SCOPE_LISTS = {
    "in_build_scope": "set variable crmlens_build_customers = (select coalesce(list(customer_id), []) from _build_customers); "
                      "create or replace temp macro in_build_scope(c) as "
                      "list_contains(getvariable('crmlens_build_customers'), c)",
    "in_build_days": "set variable crmlens_build_days = (select coalesce(list(order_date) filter (where order_date is not "
                     "null), []) from _build_days); "
                     "set variable crmlens_build_null_day = (select count(*) > 0 from _build_days where order_date is null); "
                     "create or replace temp macro in_build_days(d) as list_contains(getvariable('crmlens_build_days'), d)"
                     " or (d is null and getvariable('crmlens_build_null_day'))"}
KEY_LIST_MAX = 200  # keys up to which a scope is a constant list
# ... but only for the marts whose scope filter sits above a window, an aggregate or a join of marts (a constant list is
# pushed through them into the scans; an IN subquery is a semi join placed above them, after every customer's rows were
# worked out) and for the order days (a list prunes the date-ordered order lines). Every other by-key insert, and every
# delete, takes the IN subqueries: a semi join on the scan, where a list is searched row by row (measured at 1.16M orders,
# 100 customers, both stores, bench/append_steps.py: the deletes 3.4 s -> 1.1 s, mart_customers 1.0 s -> 0.3 s).
KEY_LIST_MARTS = ("mart_order_dates", "mart_customer_spells", "mart_loyalty_customer_moves")
SUBQUERY_SCOPE = "; ".join((*KEY_SCOPE_SUBQUERIES.values(), TABLE_SCOPE))


def _key_scope(con: duckdb.DuckDBPyConnection) -> str:
    """The statements that define in_build_scope and in_build_days for the keys in _build_customers / _build_days."""
    n_customers, n_days = con.execute("select (select count(*) from _build_customers), "
                                      "(select count(*) from _build_days)").fetchone()
    return "; ".join([(KEY_SCOPE_LISTS if n <= KEY_LIST_MAX else KEY_SCOPE_SUBQUERIES)[macro]
                      for macro, n in (("in_build_scope", n_customers), ("in_build_days", n_days))] + [TABLE_SCOPE])


DELETE_BY_KEY = {"customer_id": "delete from {name} where in_build_scope(customer_id)",
                 "order_date": "delete from {name} where in_build_days(order_date)",
                 "table_name": "delete from {name} where in_build_tables(table_name)"}
RETIRED_TABLES = ("mart_complaints_category_month_kept",)  # an older model's tables, dropped as it is made again
RAW_TABLES = ("customers", "orders", "opportunities", "opportunity_stage_history", "complaints", "surveys",
              "activities", "owners", "owner_changes", "targets", "product_attributes")


def sql(name: str) -> str:
    return (MODEL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def build(con: duckdb.DuckDBPyConnection, changed: set[str] | frozenset[str] | None = None,
          appended: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """(Re)build the vocabulary, views, marts and macros on a writer's connection.

    `changed`: the loaded tables this write changed (None: any may have). A table of the model (a mart, or
    staging kept as a table) that reads none of them, directly or through other objects (inputs()), is kept
    as it is when the database's model is the current version and the vocabulary is unchanged: loading
    orders does not rebuild the opportunity marts. Views and macros are always made again (they cost nothing).
    `appended`: those of them that only got new rows, noted by note_appended: when every changed table is one of
    APPENDABLE, the marts of UPDATED_BY_KEY are updated for the keys the new rows touched (each whole again when a
    global input of GLOBAL_INPUTS moved). Returns how each model table was made: "kept", "keys" or "whole".
    """
    # Read once (on DuckLake each catalog listing and each read of a table asks PostgreSQL).
    facts = {"current": _model_is_current(con) if changed is not None else False, "existing": _existing_tables(con)}
    kept = _unaffected_tables(con, changed, facts)
    by_key = _append_scope(con, changed, appended, kept, facts)
    before = con.execute(GLOBALS_SQL).fetchone() if by_key else None
    key_scope = _key_scope(con) if by_key else None
    after = None
    if not facts["current"]:  # (a current model has them as tables; duckdb_views() asks every attached DuckLake catalog)
        _drop_views_now_tables(con)
        for name in RETIRED_TABLES:
            con.execute(f"drop table if exists {name}")  # a name from the list, never user input
    if not facts["current"]:  # (a current model was built with these words: _model_is_current compared them)
        _write_vocabulary(con)
    con.execute(WHOLE_SCOPE)
    made: dict[str, str] = {}
    BUILD_SECONDS.clear()
    _moves_build_params.clear()
    _kept_page_facts.clear()
    for name in OBJECTS:
        started = time.perf_counter()
        if name in MACROS:
            store.create_macro(con, sql(name))
        elif name in kept:
            made[name] = "kept"
        else:
            keyed = by_key and name in UPDATED_BY_KEY
            if keyed and name in GLOBAL_INPUTS:
                after = after or con.execute(GLOBALS_SQL).fetchone()
                keyed = all(before[i] == after[i] for i, g in enumerate(GLOBAL_NAMES) if g in GLOBAL_INPUTS[name])
            made[name] = "keys" if keyed else "whole"
            text = _source(name)
            if keyed:
                con.execute(SUBQUERY_SCOPE)
                con.execute(DELETE_BY_KEY[UPDATED_BY_KEY[name]].format(name=name))
                if name in KEY_LIST_MARTS:
                    con.execute(key_scope)
                con.execute(_as_insert(name, text), _build_params(con, name))
                con.execute(WHOLE_SCOPE)
            else:
                params = _build_params(con, name)
                if name in KEPT_QUERIES and params["settings"] is None:  # nothing to keep, never read: not worked out
                    con.execute(f"create or replace table {name} as select null::varchar as settings")
                else:
                    con.execute(text, params)
        BUILD_SECONDS[name] = time.perf_counter() - started
    started = time.perf_counter()
    made[KEPT_FRAMES] = _write_kept_frames(con, made, facts["existing"])
    BUILD_SECONDS[KEPT_FRAMES] = time.perf_counter() - started
    started = time.perf_counter()
    info = ("select $v::integer as model_version, "
            "(select max(order_date) from mart_customer_days) as spells_as_of, "
            "(select min(as_of) from mart_loyalty_months) as loyalty_from, "
            "(select max(as_of) from mart_loyalty_months) as loyalty_to, "
            "coalesce((select list(distinct as_of order by as_of) from mart_loyalty_months"
            " where as_of != last_day(as_of)), []::date[]) as loyalty_days")
    # Kept when a current model's row is the same (an append on the newest order day): on DuckLake a table made again
    # is a new table in the catalog and a new file, and every server's read copy copies it again.
    if not (facts["current"] and con.execute(f"select count(*) = 1 and count(*) filter (where m is not distinct "
                                             f"from n) = 1 from model_info m, ({info}) n",
                                             {"v": MODEL_VERSION}).fetchone()[0]):
        con.execute(f"create or replace table model_info as {info}", {"v": MODEL_VERSION})
    BUILD_SECONDS["model_info"] = time.perf_counter() - started
    return made


def _write_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """The word lists (crmlens.vocab) as table vocabulary: kept when it holds them already (an append rewrites
    nothing; on DuckLake every write is new files and catalog rows), else written in one statement (DuckLake: one
    file, where an insert per word made a file per word)."""
    rows = vocab.rows()
    try:
        if sorted(con.execute("select kind, word from vocabulary").fetchall(), key=str) == sorted(rows, key=str):
            return
    except duckdb.CatalogException:
        pass
    con.execute("create or replace table vocabulary as select unnest($kinds)::varchar as kind, "
                "unnest($words)::varchar as word",
                {"kinds": [k for k, _ in rows], "words": [w for _, w in rows]})


BUILD_SECONDS: dict[str, float] = {}  # the last build's seconds per object (bench/append.py reports them)
GLOBAL_NAMES = ("first_line_day", "last_line_day", "last_order_day", "usual_gap", "guest_orders", "guest_revenue")  # GLOBALS_SQL's columns


def note_appended(con: duckdb.DuckDBPyConnection, table: str, rows: str) -> None:
    """Inside a load, before build(): the rows in temp table `rows` were appended to `table` (one of APPENDABLE):
    keep their keys (customer and order day) for build(..., appended={table})."""
    con.execute(f"create temp table if not exists _appended_{table} (customer_id varchar, order_date date)")
    con.execute(f"insert into _appended_{table} select customer_id, order_date from {rows}")


def forget_appended(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of a load's transaction (a load run again after a conflict starts clean)."""
    for table in APPENDABLE:
        con.execute(f"drop table if exists _appended_{table}")


def _append_scope(con: duckdb.DuckDBPyConnection, changed, appended, kept: set[str], facts: dict | None = None) -> bool:
    """Whether this build can update the marts by key; if so, the keys are in temp tables _build_customers (the
    customers of the new rows, and the referrers those name: a referrer's referral counts in mart_loyalty_months
    follow when the customers they referred became known) and _build_days (the new rows' order days)."""
    if changed is None or not changed or not set(changed) <= set(appended) <= set(APPENDABLE):
        return False
    facts = facts or {"current": _model_is_current(con), "existing": _existing_tables(con)}
    if not facts["current"] or not set(UPDATED_BY_KEY) <= facts["existing"]:
        return False
    con.execute("create or replace temp table _build_customers as "
                "select distinct customer_id from _appended_orders where customer_id is not null")
    con.execute("insert into _build_customers select distinct c.referred_by from stg_customers c "
                "where c.customer_id in (select customer_id from _build_customers) and c.referred_by is not null "
                "and c.referred_by not in (select customer_id from _build_customers)")
    con.execute("create or replace temp table _build_days as select distinct order_date from _appended_orders")
    con.execute("set variable crmlens_build_tables = $tables::varchar[]", {"tables": sorted(changed)})
    return True


def _as_insert(name: str, text: str) -> str:
    """A mart's `create or replace table <name> as <query>` as `insert into <name> <query>` (the rows for the keys
    in scope, their old rows deleted first)."""
    head = re.compile(r"^create or replace table " + re.escape(name) + r" as\b", re.I | re.M)
    found = head.search(text)
    if found is None:
        raise ValueError(f"{name}: its SQL does not start with `create or replace table {name} as`")
    return text[:found.start()] + f"insert into {name}" + text[found.end():]


def _build_params(con: duckdb.DuckDBPyConnection, name: str) -> dict:
    """The parameters model file `name` is built with (mart_loyalty_customers: the loyalty defaults at the default
    period, worked out from the marts built before it)."""
    if name in ("mart_loyalty_customer_moves", "mart_loyalty_moves"):
        return _moves_params(con) if name == "mart_loyalty_customer_moves" else {"settings": _moves_params(con)["settings"]}
    if name == "mart_opportunities":
        return _funnel_defaults(con)
    if name in ("mart_complaints", "mart_complaint_customers"):
        from crmlens import complaints, period  # both import this module
        return {"revenue_days": complaints.DEFAULTS["revenue_days"]} if name == "mart_complaints" else {
            "period_days": period.DEFAULT_DAYS}
    if name in KEPT_VIEWS.values():
        return _kept_view_params(con, name)
    if name != "mart_loyalty_customers":
        return BUILD_PARAMS.get(name, {})
    from crmlens import loyalty, queries  # both import this module
    as_of, order_day = con.execute("select (select max(as_of) from mart_customer_period), "
                                   "(select max(order_date) from mart_customer_days)").fetchone()
    known = as_of is not None  # no orders: no default period to keep the measures at (settings NULL: never read)
    as_of = as_of if known else dt.date(2000, 1, 1)
    params = {**queries.DEFAULT_PARAMS, **loyalty.params(as_of - dt.timedelta(days=364), as_of)}
    params["use_spells_mart"] = bool(order_day and as_of >= order_day and params["churn_days"] == CHURN_DAYS
                                     and params["churn_multiplier"] == CHURN_MULTIPLIER)
    names = _default_mart_parameters()
    params["settings"] = settings_key(params, names) if known else None
    return {p: params[p] for p in (*names, "use_spells_mart", "settings")}


FUNNEL_SETTINGS = ("stages", "won_stages", "lost_stages")  # what mart_opportunities' default_* columns are built with


def _funnel_defaults(con: duckdb.DuckDBPyConnection) -> dict:
    """The funnel's proposed stage settings (crmlens.funnel_stages.propose on funnel_stage_vocab, as the page proposes them)
    that mart_opportunities keeps its default_* columns for, and their settings key."""
    from crmlens import funnel_stages, queries  # queries imports this module
    order, won, lost = funnel_stages.propose(con.execute(queries.sql_text("funnel_stage_vocab")).df())
    params = {"stages": list(order), "won_stages": list(won), "lost_stages": list(lost)}
    return {**params, "settings": settings_key(params, FUNNEL_SETTINGS)}


_moves_build_params: dict[int, dict] = {}  # this build's parameters of the moves marts (build clears it)


def _moves_params(con: duckdb.DuckDBPyConnection) -> dict:
    """The parameters mart_loyalty_customer_moves is built with: the loyalty defaults at the default period (as
    mart_loyalty_customers), grain month, no filter; settings NULL (the marts built empty, never read) when there is no
    default period or mart_loyalty_months does not keep every date the movements read there."""
    if id(con) in _moves_build_params:
        return _moves_build_params[id(con)]
    from crmlens import loyalty, queries  # both import this module
    as_of, order_day = con.execute("select (select max(as_of) from mart_customer_period), "
                                   "(select max(order_date) from mart_customer_days)").fetchone()
    known = as_of is not None
    as_of = as_of if known else dt.date(2000, 1, 1)
    params = {**queries.DEFAULT_PARAMS, **loyalty.params(as_of - dt.timedelta(days=364), as_of), "grain": "month"}
    params["use_spells_mart"] = bool(order_day and as_of >= order_day and params["churn_days"] == CHURN_DAYS
                                     and params["churn_multiplier"] == CHURN_MULTIPLIER)
    span = con.execute("select min(as_of), max(as_of), list(distinct as_of) filter (where as_of != last_day(as_of)) "
                       "from mart_loyalty_months").fetchone()
    kept = known and span[0] is not None and _movement_dates_kept(
        (pd.Timestamp(span[0]), pd.Timestamp(span[1]), {pd.Timestamp(d) for d in span[2] or []}), params)
    names = _moves_mart_parameters()
    params["settings"] = settings_key(params, names) if kept else None
    _moves_build_params[id(con)] = {p: params[p] for p in (*names, *MOVES_FILTERS, "use_spells_mart", "settings")}
    return _moves_build_params[id(con)]


@functools.cache
def _moves_mart_parameters() -> tuple[str, ...]:
    """The parameters mart_loyalty_customer_moves' pieces read but the filters (its settings), in first-use order."""
    from crmlens import queries
    return tuple(p for p in queries.parameters(_with_pieces("mart_loyalty_customer_moves"))
                 if p not in ("use_spells_mart", "settings", *MOVES_FILTERS))


@functools.cache
def _default_mart_parameters() -> tuple[str, ...]:
    """The parameters mart_loyalty_customers' pieces read (its settings), in first-use order."""
    from crmlens import queries
    return tuple(p for p in queries.parameters(_with_pieces("mart_loyalty_customers"))
                 if p not in ("use_spells_mart", "settings"))


def settings_key(params: dict, names) -> str:
    """The values of `names` in params as one JSON text, numbers as floats and dates as ISO days (so that 10 and
    10.0, a date and a timestamp of it compare equal)."""
    def norm(value):
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, numbers.Number):
            return float(value)
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        if isinstance(value, (dt.date, pd.Timestamp)):
            return pd.Timestamp(value).date().isoformat()
        return repr(value)  # anything else: its text (a value the mart was not built with never matches)
    return json.dumps({n: norm(params.get(n, "(missing)")) for n in names}, sort_keys=True)


def _source(name: str) -> str:
    if name in KEPT_QUERIES:
        return _kept_view_source(name)
    return _with_pieces(name) if name in WITH_PIECES else sql(name)


def _kept_view_source(table: str) -> str:
    """queries/model/kept_view.sql for KEPT_VIEWS table `table`: its name, and its page query's text in place of the
    `-- query:` line."""
    text = sql("kept_view").replace("create or replace table kept_view as", f"create or replace table {table} as", 1)
    return text.replace("-- query: kept_view", _kept_query_text(KEPT_QUERIES[table]).rstrip("\n"), 1)


def _kept_query_text(query: str) -> str:
    """The text a KEPT_VIEWS query's rows are worked out with at load (its KEPT_VARIANTS variant, else its own)."""
    from crmlens import queries  # queries imports this module
    return queries.sql_text(query, KEPT_VARIANTS.get(query, False))


_kept_page_facts: dict[tuple[int, str], dict] = {}  # this build's _opening_facts per page (build clears it)


def _kept_view_params(con: duckdb.DuckDBPyConnection, name: str) -> dict:
    """The parameters a KEPT_VIEWS mart runs its query with: its page as it opens (_opening_params) on the pages' default
    period (the 365 days up to mart_customer_period's as_of, the newest date in the data), the model's flags as
    queries.prepared sets them, and `settings` (NULL: no default period)."""
    from crmlens import queries  # queries imports this module
    query = KEPT_QUERIES[name]
    page = next(page for page, kept in KEPT_PAGES.items() if query in kept)
    if (id(con), page) not in _kept_page_facts:
        _kept_page_facts[id(con), page] = _opening_facts(con, page)
    facts = _kept_page_facts[id(con), page]
    params = _opening_params(page, query, facts)
    bound = queries.bind(query, params, KEPT_VARIANTS.get(query, False))
    reaches = bool(facts["order_day"] and facts["end"] >= facts["order_day"])  # as of the newest order day
    flags = {"use_spells_mart": reaches, "use_churn_mart": reaches and USE_CHURN_MART,
             "use_funnel_mart": page == "funnel" and USE_FUNNEL_MART and _funnel_mart_settings(con) == settings_key(
                 params, FUNNEL_SETTINGS)}
    if any(flag in bound for flag in COMPLAINT_FLAGS):
        flags.update(_complaint_flags(con.execute(COMPLAINT_MARTS_SQL).fetchone()[0], params))
    unknown = [p for p in bound if _is_model_flag(p) and p not in flags]
    if unknown:
        raise ValueError(f"{name}: {query} reads flags the kept view does not set: {unknown}")
    bound.update({flag: value for flag, value in flags.items() if flag in bound})
    bound["settings"] = _kept_view_key(query, params) if facts["known"] and _variant_holds(con, query, params) else None
    return bound


def _variant_holds(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> bool:
    """Whether the marts that KEPT_VARIANTS query `query`'s variant reads were built for these parameters (the loyalty
    summary: mart_loyalty_customers' settings), as default_measures asks on a snapshot."""
    if KEPT_VARIANTS.get(query) != "default":
        return True
    built = con.execute("select any_value(settings) from mart_loyalty_customers").fetchone()[0]
    return built is not None and built == settings_key(params, _default_mart_parameters())


def _opening_facts(con: duckdb.DuckDBPyConnection, page: str) -> dict:
    """What page `page`'s parameters as it opens depend on: the pages' default period (known: there is one, and for the
    complaints page a complaint), the newest order day and, for the complaints page, the complaints' columns and
    severities (its SLA settings)."""
    from crmlens import complaints, period, queries  # they import this module
    as_of, order_day = con.execute("select (select max(as_of) from mart_customer_period), "
                                   "(select max(order_date) from mart_customer_days)").fetchone()
    end = as_of if as_of is not None else dt.date(2000, 1, 1)
    facts = {"start": end - dt.timedelta(days=period.DEFAULT_DAYS - 1), "end": end, "known": as_of is not None,
             "order_day": order_day}
    if page == "complaints":  # (without a complaint the page shows none of them: nothing to keep)
        facts["known"] = facts["known"] and con.execute("select count(*) > 0 from mart_complaints").fetchone()[0]
        options = con.execute(queries.sql_text("complaints_filter_options"),
                              queries.bind("complaints_filter_options", complaints.category_params())).fetchall()
        facts["severities"] = [value for dimension, value, _ in options if dimension == "severity"]
        facts["columns"] = [row[0] for row in con.execute("select name from pragma_table_info('complaints')").fetchall()]
    if page == "funnel":  # (without an opportunity the page shows none of them: nothing to keep)
        facts["vocab"] = con.execute(queries.sql_text("funnel_stage_vocab")).df()
        facts["columns"] = list(con.execute(queries.sql_text("funnel_columns")).df()["column_name"])
        facts["span"] = con.execute(queries.sql_text("data_span")).df()
        facts["known"] = facts["known"] and not facts["vocab"].empty
    return facts


def _opening_params(page: str, query: str, facts: dict) -> dict:
    """The parameters page `page` runs `query` with as it opens (_opening_facts)."""
    from crmlens import churn, complaints, funnel, loyalty, period  # they import this module
    if page == "loyalty":
        return loyalty.params(facts["start"], facts["end"])
    if page == "funnel":
        return funnel.opening_params(query, facts["vocab"], facts["columns"], facts["span"], facts["start"], facts["end"])
    if page == "overview":
        return {"start": facts["start"], "end": facts["end"], "grain": period.trend_grain(facts["start"], facts["end"])}
    if page == "churn":
        return churn.query_params(facts["start"], facts["end"], "orders", grain=churn.GRAIN)
    return complaints.opening_params(query, facts["columns"], facts["severities"], facts["start"], facts["end"])


def _is_model_flag(name: str) -> bool:
    """A parameter queries.prepared sets from the snapshot's model (use_*_mart, COMPLAINT_FLAGS), never the caller."""
    return re.fullmatch(r"use_\w+_mart", name) is not None or name in COMPLAINT_FLAGS


def _kept_view_key(query: str, params: dict) -> str:
    """A kept view's settings: the query's parameters (settings_key) and a digest of its SQL text, so that rows kept by
    an older text of the query are never read for a newer one (without a model version raised for it)."""
    digest = hashlib.sha256(_kept_query_text(query).encode("utf-8")).hexdigest()[:16]
    return settings_key({**params, "sql": digest}, (*_kept_view_names(query), "sql"))


@functools.cache
def _kept_view_names(query: str) -> tuple[str, ...]:
    """The parameters of page query `query` but the model's flags: what a kept view's settings hold."""
    from crmlens import queries
    return tuple(p for p in queries.parameters(queries.sql_text(query)) if not _is_model_flag(p))


def _kept_views_used() -> bool:
    """False when a test switched off the kept views or a mart their rows were worked out from (it runs the query)."""
    return (USE_KEPT_VIEWS and USE_CHURN_MART and USE_COMPLAINT_MARTS and USE_FUNNEL_MART and USE_FUNNEL_BASE_MART
            and USE_DEFAULT_MART and USE_PERIOD_MART and USE_END_MARTS)


def kept_rows_sql(table: str) -> str:
    """The select of a KEPT_VIEWS table's rows as its query returns them (a name from KEPT_VIEWS)."""
    return f"select * exclude (settings, kept_row) from {table} order by kept_row"


def kept_view(snap: store.Snapshot, name: str, params: dict) -> str | None:
    """The KEPT_VIEWS table that holds page query `name`'s rows for these parameters (every parameter it reads is the
    one the table was built with: its page as it opens), else None."""
    table = KEPT_VIEWS.get(name)
    if table is None or not _kept_views_used():
        return None
    kept = _per_snapshot(snap, f"select any_value(settings) from {table}")  # (a name from KEPT_VIEWS)
    if kept is None:
        return None
    return table if str(kept) == _kept_view_key(name, params) else None


def kept_frame(snap: store.Snapshot, name: str, params: dict) -> pd.DataFrame | None:
    """Page query `name`'s rows for these parameters from KEPT_FRAMES (the rows of kept_view's table, with the types
    the query's own result has), else None. The first call on a snapshot reads every kept frame in one round trip."""
    if name not in KEPT_VIEWS or not _kept_views_used():
        return None
    found = _snapshot_frames(snap).get(name)
    if found is None or found[0] != _kept_view_key(name, params):
        return None
    try:
        return _frame_from_bytes(found[1])
    except (pa.ArrowException, ValueError, TypeError, KeyError):  # a frame this server cannot read (damaged, another pandas)
        return None  # the query reads its kept table instead


_kept_frames: dict[tuple, dict[str, tuple[str, bytes]]] = {}  # (path, identity) -> query -> (settings, frame)


def _snapshot_frames(snap: store.Snapshot) -> dict[str, tuple[str, bytes]]:
    """Every kept frame of a snapshot by query (none when its model has no KEPT_FRAMES), read once per snapshot."""
    key = (str(snap.path), snap.identity)
    frames = _kept_frames.get(key)
    if frames is None:
        cur = snap.cursor()
        try:
            rows = cur.execute(f"select query, settings, frame from {KEPT_FRAMES}").fetchall()
        except duckdb.Error:
            rows = []
        finally:
            cur.close()
        frames = {query: (settings, frame) for query, settings, frame in rows}
        while len(_kept_frames) >= 4:  # a few versions open at once (the latest, shared links' older ones)
            _kept_frames.pop(next(iter(_kept_frames), None), None)  # the first read (another thread may pop it too)
        _kept_frames[key] = frames
    return frames


def forget_kept_frames() -> None:
    """Drop the kept frames read so far (the benchmark times a page's round trip each time)."""
    _kept_frames.clear()


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as Arrow IPC with pandas' metadata: read back, the same dtypes (nullable Int32, datetime64[us], str)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _frame_from_bytes(data: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(data).read_all().to_pandas()


def _write_kept_frames(con: duckdb.DuckDBPyConnection, made: dict[str, str], existing: set[str]) -> str:
    """KEPT_FRAMES from the KEPT_VIEWS tables (kept when none of them was made again): "kept" or "whole"."""
    if KEPT_FRAMES in existing and all(made.get(table) == "kept" for table in KEPT_VIEWS.values()):
        return "kept"
    names, settings, frames = [], [], []
    for query, table in KEPT_VIEWS.items():
        kept_with = con.execute(f"select any_value(settings) from {table}").fetchone()[0]
        if kept_with is not None:  # (NULL: nothing kept, never read)
            names.append(query)
            settings.append(kept_with)
            frames.append(_frame_bytes(con.execute(kept_rows_sql(table)).df()))
    con.execute(f"create or replace table {KEPT_FRAMES} as select unnest($names::varchar[]) as query, "
                "unnest($settings::varchar[]) as settings, unnest($frames::blob[]) as frame",
                {"names": names, "settings": settings, "frames": frames})
    return "whole"


_inputs_seen: dict[str, frozenset[str]] = {}


def inputs(name: str, _visiting: frozenset[str] = frozenset()) -> frozenset[str]:
    """The loaded tables a model object reads, directly or through the model objects it names (its SQL text,
    pieces included, comments too: a name mentioned is counted as read, which errs on the side of rebuilding).
    Two objects may name each other (a macro's comment names the view that uses it): each is followed once."""
    if name in _inputs_seen:
        return _inputs_seen[name]
    words = set(re.findall(r"[a-z_][a-z0-9_]*", re.sub(r"\s+", " ", _source(name)).lower()))
    found: set[str] = set(words & (set(RAW_TABLES) | {"vocabulary"}))
    for other in words & set(OBJECTS) - {name} - _visiting:
        found |= inputs(other, _visiting | {name})
    if not _visiting:  # a result found inside a cycle may miss what the cycle's start reads: keep only whole ones
        _inputs_seen[name] = frozenset(found)
    return frozenset(found)


def _unaffected_tables(con: duckdb.DuckDBPyConnection, changed, facts: dict | None = None) -> set[str]:
    """The model's tables that may be kept as they are (build): none when `changed` is None, the database has
    no current model, or the vocabulary is not the one it was built with. facts: build's reading of the model
    ({"current": _model_is_current, "existing": _existing_tables}), else read here."""
    if changed is None or not (facts["current"] if facts else _model_is_current(con)):
        return set()
    existing = facts["existing"] if facts else _existing_tables(con)
    return {name for name in (*STAGING_TABLES, *MARTS) if name in existing and not inputs(name) & set(changed)}


def _model_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """The database's model is this version's, built with this vocabulary."""
    try:
        version = con.execute("select max(model_version) from model_info").fetchone()[0]
        words = sorted(con.execute("select kind, word from vocabulary").fetchall(), key=str)
    except duckdb.CatalogException:
        return False
    return version == MODEL_VERSION and words == sorted(vocab.rows(), key=str)


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Which of the model's tables the database has (store.existing_tables: on DuckLake without listing every attached
    catalog)."""
    return store.existing_tables(con, (*STAGING_TABLES, *MARTS, KEPT_FRAMES))


def _with_pieces(name: str) -> str:
    from crmlens import queries  # queries imports this module
    return queries.expand(sql(name), (name,), BUILD_PIECES.get(name))


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


_kept_facts: dict[tuple, object] = {}  # (path, identity, sql): a snapshot never changes


def _per_snapshot(snap: store.Snapshot, sql: str):
    """The first value of `sql` (a fact the model keeps), read once per snapshot; None when it is NULL or the model
    has no such table."""
    key = (str(snap.path), snap.identity, sql)
    if key not in _kept_facts:
        cur = snap.cursor()
        try:
            value = cur.execute(sql).fetchone()[0]
        except duckdb.Error:
            value = None
        finally:
            cur.close()
        if len(_kept_facts) > 256:
            _kept_facts.clear()
        _kept_facts[key] = value
    return _kept_facts[key]


def _kept_day(snap: store.Snapshot, sql: str) -> pd.Timestamp | None:
    value = _per_snapshot(snap, sql)
    return None if value is None else pd.Timestamp(value)


def use_spells_mart(snap: store.Snapshot, params: dict) -> bool:
    """Whether customer lifetimes for these parameters are the ones mart_customer_spells holds: the default
    rule, as of the newest order day (a period ending then or later)."""
    if int(params.get("churn_days", -1)) != CHURN_DAYS or float(params.get("churn_multiplier", -1)) != CHURN_MULTIPLIER:
        return False
    as_of = _spells_as_of(snap)
    end = params.get("end")
    return as_of is not None and end is not None and pd.Timestamp(end) >= as_of


USE_CHURN_MART = True  # the tests switch it off to compare mart_customer_churn with the figures worked out per query


def use_churn_mart(snap: store.Snapshot, params: dict) -> bool:
    """Whether the churn figures as of these parameters' as-of day (period_as_of of the end) are the ones
    mart_customer_churn keeps: churn from orders, and the period reaches the newest order day (any churn setting;
    explicit churn has an as-of day of its own)."""
    if not USE_CHURN_MART or params.get("definition", "orders") != "orders":
        return False
    as_of = _spells_as_of(snap)
    end = params.get("end")
    return as_of is not None and end is not None and pd.Timestamp(end) >= as_of


USE_FUNNEL_MART = True  # the tests switch it off to compare the default_* columns with the figures worked out per query
# The funnel queries that take funnel_base: with the proposed stage settings (use_funnel_mart) and no stage date column
# they take funnel_base_mart instead, which reads the default_* columns and nothing else (funnel_pieces says "funnel").
FUNNEL_BASE_QUERIES = ("funnel_summary", "funnel_stage_counts", "funnel_opportunities", "funnel_stage_times",
                       "funnel_cohorts", "funnel_breakdown", "funnel_breakdown_stages", "funnel_owner_risk")
FUNNEL_PIECES = {"funnel_base": "funnel_base_mart", "funnel_step_moves": "funnel_step_moves_mart"}
USE_FUNNEL_BASE_MART = True  # the tests switch it off to compare with funnel_base reading the same columns


FUNNEL_MART_SETTINGS_SQL = "select any_value(default_settings) from mart_opportunities"


def _funnel_mart_settings(con: duckdb.DuckDBPyConnection) -> str | None:
    """The stage settings mart_opportunities' default_* columns were built with (its default_settings)."""
    return con.execute(FUNNEL_MART_SETTINGS_SQL).fetchone()[0]


def use_funnel_mart(snap: store.Snapshot, params: dict) -> bool:
    """Whether the funnel queries can read each opportunity's status, furthest history step and close day from
    mart_opportunities' default_* columns: the stage settings are the ones it was built with (the proposed ones)."""
    if not USE_FUNNEL_MART or any(p not in params for p in FUNNEL_SETTINGS):
        return False
    kept = _per_snapshot(snap, FUNNEL_MART_SETTINGS_SQL)
    return kept is not None and str(kept) == settings_key(params, FUNNEL_SETTINGS)


def funnel_pieces(snap: store.Snapshot, name: str, params: dict) -> bool | str:
    """"funnel" when funnel query `name` can take funnel_base_mart: the stage settings are the ones mart_opportunities'
    default_* columns were built with and no stage date column is mapped (nothing but those columns decides how far an
    opportunity reached); else False (funnel_base, with use_funnel_mart as it says)."""
    if not USE_FUNNEL_BASE_MART or name not in FUNNEL_BASE_QUERIES or len(params.get("date_columns") or []) > 0:
        return False
    return "funnel" if use_funnel_mart(snap, params) else False


def use_drivers_mart(snap: store.Snapshot, params: dict) -> bool:
    """Whether churn_drivers' order values for these parameters are the ones mart_customer_order_modes keeps: the
    churn figures as of the newest order day (use_churn_mart), from the start of the year before the period."""
    if not use_churn_mart(snap, params):
        return False
    from_date = _order_modes_from(snap)
    try:
        return from_date is not None and pd.Timestamp(params["start"]) - pd.Timedelta(days=365) == from_date
    except (KeyError, TypeError, ValueError):
        return False


def _order_modes_from(snap: store.Snapshot) -> pd.Timestamp | None:
    return _kept_day(snap, "select max(from_date) from mart_customer_order_modes")


def _spells_as_of(snap: store.Snapshot) -> pd.Timestamp | None:
    return _kept_day(snap, "select max(spells_as_of) from model_info")


USE_COMPLAINT_MARTS = True  # the tests switch it off to compare the complaint marts with the figures worked out per query
COMPLAINT_FLAGS = ("complaint_rule_mart", "complaint_period_mart", "complaint_revenue_mart")
# What the complaint marts were built for: their default period and the days of revenue before each complaint.
COMPLAINT_MARTS_SQL = ("select struct_pack(s := (select min(period_start) from mart_complaint_customers), "
                       "e := (select max(period_end) from mart_complaint_customers), "
                       "r := (select min(revenue_days) from mart_complaints))")


def complaint_marts(snap: store.Snapshot, params: dict) -> dict[str, bool]:
    """What the complaints queries (queries/shared/complaints_churn_base.sql, complaints_coverage, complaints_churn)
    may read from mart_complaint_customers and mart_complaints for these parameters: complaint_rule_mart, each
    customer's churn state (the default churn rule: it is judged at the newest order day whatever the period);
    complaint_period_mart, each customer's first order and orders in the period (the default period the mart keeps);
    complaint_revenue_mart, the revenue before each complaint (the mart's days)."""
    return _complaint_flags(_per_snapshot(snap, COMPLAINT_MARTS_SQL), params)


def _complaint_flags(kept: dict | None, params: dict) -> dict[str, bool]:
    """complaint_marts' flags from what the marts were built for (COMPLAINT_MARTS_SQL's value; None: no marts)."""
    if not USE_COMPLAINT_MARTS or kept is None:
        return dict.fromkeys(COMPLAINT_FLAGS, False)
    try:
        period = (kept["s"] is not None and pd.Timestamp(params["start"]) == pd.Timestamp(kept["s"])
                  and pd.Timestamp(params["end"]) == pd.Timestamp(kept["e"]))
    except (KeyError, TypeError, ValueError):
        period = False
    try:
        revenue = kept["r"] is not None and int(params["revenue_days"]) == kept["r"]
    except (KeyError, TypeError, ValueError):
        revenue = False
    try:
        rule = (int(params["churn_days"]) == CHURN_DAYS and float(params["churn_multiplier"]) == CHURN_MULTIPLIER)
    except (KeyError, TypeError, ValueError):
        rule = False
    return {"complaint_rule_mart": rule, "complaint_period_mart": period, "complaint_revenue_mart": revenue}


# The complaint-to-churn queries, which read each customer's churn state through the piece complaints_churn_state: when
# mart_complaint_customers holds all of it (the default rule and period) they take complaints_churn_state_kept, the same
# rows without the SQL that works them out otherwise (which costs planning even when its branches read nothing), and
# complaints_churn_base_kept, which counts the customers without a complaint in the period per row of what the queries
# read of them (the mart's complained_in_period) instead of carrying each of them.
COMPLAINT_STATE_QUERIES = ("complaints_churn", "complaints_churn_survival", "complaints_churn_cox")
COMPLAINT_PIECES = {"complaints_churn_state": "complaints_churn_state_kept",
                    "complaints_churn_base": "complaints_churn_base_kept"}
# Without a customer filter the others come counted at load (mart_complaint_others) instead of counted per query.
COMPLAINT_OTHERS_PIECES = {"complaints_others_counted": "complaints_others_kept"}
COMPLAINT_CUSTOMER_FILTERS = ("region", "segment", "owner")


def complaint_pieces(snap: store.Snapshot, name: str, params: dict) -> bool | str:
    """"complaints" when query `name` can take complaints_churn_state_kept and complaints_churn_base_kept (mart_pieces),
    "complaints_unfiltered" when without a customer filter its others can come from mart_complaint_others too, else
    False."""
    if name not in COMPLAINT_STATE_QUERIES:
        return False
    flags = complaint_marts(snap, params)
    if not (flags["complaint_rule_mart"] and flags["complaint_period_mart"]):
        return False
    return "complaints" if any(params.get(f) for f in COMPLAINT_CUSTOMER_FILTERS) else "complaints_unfiltered"


def use_end_marts(name: str) -> bool:
    """Whether query `name` reads its rung inputs at $end from mart_order_days (any period and setting)."""
    return USE_END_MARTS and name in END_QUERIES


def end_marts(snap: store.Snapshot, name: str, params: dict) -> bool | str:
    """How query `name` reads its rung inputs at $end: False (live), True (mart_order_days) or "period" (its order
    facts from mart_customer_period: the period is the one that mart was built for)."""
    if not (use_end_marts(name) or (USE_END_MARTS and name in FACT_QUERIES)):
        return False
    if not USE_PERIOD_MART:
        return True
    as_of = _period_as_of(snap)
    try:
        start, end = pd.Timestamp(params["start"]), pd.Timestamp(params["end"])
    except (KeyError, TypeError, ValueError):
        return True
    return "period" if as_of is not None and end == as_of and start == as_of - pd.Timedelta(days=364) else True


def _period_as_of(snap: store.Snapshot) -> pd.Timestamp | None:
    return _kept_day(snap, "select max(as_of) from mart_customer_period")


def default_measures(snap: store.Snapshot, name: str, params: dict) -> bool | str:
    """"default" when query `name` can read each customer's measures (rung, ABC class, RFM, quadrant, CLV) from
    mart_loyalty_customers: every parameter the pieces it replaces read is the one that mart was built with (the
    default period, settings and no filter); else False (end_marts decides)."""
    if not (USE_DEFAULT_MART and USE_PERIOD_MART and use_end_marts(name)):
        return False
    settings = _default_settings(snap)
    return "default" if settings is not None and settings == settings_key(params, _default_mart_parameters()) else False


def default_states(snap: store.Snapshot, name: str, params: dict) -> bool | str:
    """"states" when query `name` can read each customer's rung, state and facts from mart_loyalty_customers (filtered
    there) and work out the measures after them: every parameter loyalty_rung_inputs (at the default period) and
    loyalty_rung_rules read, but the filters, is the one that mart was built with; else False (end_marts decides).
    default_measures comes first: with no filter and the default settings the mart has the measures too."""
    if not (USE_STATES_MART and USE_DEFAULT_MART and USE_PERIOD_MART and use_end_marts(name)):
        return False
    settings = _default_settings(snap)
    if settings is None:
        return False
    try:
        built = json.loads(settings)
    except ValueError:
        return False
    names = _states_parameters()
    return "states" if settings_key(built, names) == settings_key(params, names) else False


@functools.cache
def _states_parameters() -> tuple[str, ...]:
    """The parameters a customer's rung, state and facts depend on (what loyalty_states_mart stands for: the pieces
    it replaces, at the default period), the filters left out: they pick rows of the mart."""
    from crmlens import queries
    pieces = queries.expand("-- include: loyalty_rung_inputs\n-- include: loyalty_rung_rules", (), PERIOD_PIECES)
    return tuple(dict.fromkeys(("start", "end", *(p for p in queries.parameters(pieces)
                                                 if p not in ("use_spells_mart", "settings", *MOVES_FILTERS)))))


def _default_settings(snap: store.Snapshot) -> str | None:
    """The settings mart_loyalty_customers was built with (None: none, or an empty mart)."""
    value = _per_snapshot(snap, "select any_value(settings) from mart_loyalty_customers")
    return None if value is None else str(value)


def default_moves(snap: store.Snapshot, name: str, params: dict) -> bool | str:
    """"moves" when query `name` can read the moves kept in mart_loyalty_moves (loyalty_movements) or
    mart_loyalty_customer_moves (loyalty_flow_customers): every parameter their pieces read but the filters is the one
    those marts were built with (the default period, grain month and settings), and a flow's two dates are a move kept
    there (two dates next to each other); else False (use_loyalty_mart decides)."""
    if not (USE_MOVES_MART and USE_LOYALTY_MART and name in MOVES_PIECES):
        return False
    kept = _moves_kept(snap)
    if kept is None:
        return False
    settings, pairs = kept
    if name == "loyalty_flow_customers":  # no grain of its own: its dates say which move
        try:
            pair = (pd.Timestamp(params["from_date"]), pd.Timestamp(params["to_date"]))
        except (KeyError, TypeError, ValueError):
            return False
        if pair not in pairs:
            return False
        params = {**params, "grain": "month"}
    return "moves" if settings == settings_key(params, _moves_mart_parameters()) else False


def _moves_kept(snap: store.Snapshot) -> tuple[str, set[tuple[pd.Timestamp, pd.Timestamp]]] | None:
    """The settings mart_loyalty_moves was built with and its moves' (from_date, to_date); None: none kept."""
    row = _per_snapshot(snap, "select struct_pack(s := any_value(settings), d := list(distinct [from_date, to_date])) "
                              "from mart_loyalty_moves")
    if row is None or row["s"] is None:
        return None
    return str(row["s"]), {(pd.Timestamp(a), pd.Timestamp(b)) for a, b in row["d"]}


def mart_pieces(name: str, variant: bool | str = True) -> dict[str, str]:
    """The shared pieces query `name` takes from marts instead of the live ones, when it reads marts (variant: what
    end_marts, default_measures, default_states, default_moves or funnel_pieces said)."""
    if variant == "complaints":
        return COMPLAINT_PIECES
    if variant == "complaints_unfiltered":
        return {**COMPLAINT_PIECES, **COMPLAINT_OTHERS_PIECES}
    if variant == "funnel":
        return FUNNEL_PIECES
    if variant == "moves":
        return MOVES_PIECES[name]
    if name in END_QUERIES or name in FACT_QUERIES:
        if variant == "default":
            return DEFAULT_PIECES
        if variant == "states":
            return STATES_PIECES
        return PERIOD_PIECES if variant == "period" else END_PIECES
    return MART_PIECES


def use_loyalty_mart(snap: store.Snapshot, name: str, params: dict) -> bool:
    """Whether query `name` can read its rung inputs from mart_loyalty_months: every date it reads is a month
    end the mart keeps (loyalty_from .. loyalty_to) or one of its other days (loyalty_days: the newest date in the
    data, where the default period ends, and the newest order day)."""
    if not USE_LOYALTY_MART or name not in LOYALTY_MART_QUERIES:
        return False
    span = _loyalty_span(snap)
    if span is None:
        return False
    kept = _kept_in(span)
    try:
        if name == "loyalty_flow_customers":
            return kept(params["from_date"]) and kept(params["to_date"])
        if name == "loyalty_movements":
            return _movement_dates_kept(span, params)
        return kept(params["end"])  # loyalty_climb: month ends from the first order's month on, then the end
    except (KeyError, TypeError, ValueError):
        return False


def _kept_in(span: tuple[pd.Timestamp, pd.Timestamp, set[pd.Timestamp]]):
    """Whether a day is one mart_loyalty_months keeps (span: _loyalty_span's)."""
    first, last, days = span

    def kept(day) -> bool:
        day = pd.Timestamp(day)
        return first <= day <= last and (day in days or (day + pd.Timedelta(days=1)).day == 1)
    return kept


def _movement_dates_kept(span, params: dict) -> bool:
    """Whether every date loyalty_movements reads for params is kept in mart_loyalty_months: the month (quarter) end
    before the period starts, then each one to the end."""
    kept = _kept_in(span)
    end = pd.Timestamp(params["end"])
    start = pd.Timestamp(params["start"])
    begins = start.to_period("Q" if params.get("grain") == "quarter" else "M").start_time
    before = begins - pd.Timedelta(days=1)
    return before <= end and kept(before) and kept(end)


def _loyalty_span(snap: store.Snapshot) -> tuple[pd.Timestamp, pd.Timestamp, set[pd.Timestamp]] | None:
    """mart_loyalty_months' first and last date and its days that are not month ends."""
    row = _per_snapshot(snap, "select struct_pack(f := loyalty_from, t := loyalty_to, d := loyalty_days) from model_info")
    if row is None or row["f"] is None or row["t"] is None:
        return None
    return pd.Timestamp(row["f"]), pd.Timestamp(row["t"]), {pd.Timestamp(d) for d in row["d"]}


def ensure(db: str | pathlib.Path | None = None, lock_timeout_s: float = store.WRITE_LOCK_TIMEOUT_S) -> None:
    """Build the model of a database written by an older version (same figures, same data version).
    A file CRM Lens did not write raises store.NotOurDatabase on opening: it is never written into."""
    if not store.exists(db):
        return
    if not is_current(store.snapshot(db)):
        with store.writer(db, lock_timeout_s, new_version=False) as con:
            build(con)
