import datetime

import pandas as pd
import pyarrow as pa
import pytest

from crmlens import demo
from crmlens.contract import LOST_STAGES, TABLES, WON_STAGES

N = 400
END = datetime.date(2026, 10, 31)
ARROW_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
               "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}


@pytest.fixture(scope="module")
def tables():
    return demo.generate(n_customers=N, seed=7, end_date=END)


@pytest.fixture(scope="module")
def frames(tables):
    return {name: table.to_pandas() for name, table in tables.items()}


@pytest.fixture(scope="module")
def large():
    """Effects between groups (complainers, departed owners) need more customers to rise above noise."""
    return {name: table.to_pandas() for name, table in demo.generate(n_customers=3000, seed=11, end_date=END).items()}


def test_same_arguments_give_identical_tables(tables):
    again = demo.generate(n_customers=N, seed=7, end_date=END)
    assert all(again[name].equals(table) for name, table in tables.items())
    other = demo.generate(n_customers=N, seed=8, end_date=END)
    assert not other["orders"].equals(tables["orders"])


def test_schema_matches_contract(tables):
    # Every table but the product list (a side file the demo has none of); the owners list it has.
    assert sorted(tables) == sorted(set(TABLES) - {"product_attributes"})
    for name, table in tables.items():
        contract = TABLES[name].columns
        extra = ["payment_method"] if name == "orders" else []
        assert table.column_names == [c.name for c in contract] + extra, name
        expected = [ARROW_TYPES[c.type] for c in contract] + [pa.string()] * len(extra)
        assert [f.type for f in table.schema] == expected, name


def test_keys_are_unique_and_references_resolve(frames):
    customers = frames["customers"]
    for name, key in (("customers", "customer_id"), ("orders", "order_id"),
                      ("opportunities", "opportunity_id"), ("complaints", "complaint_id")):
        assert frames[name][key].is_unique, name
        assert frames[name][key].notna().all(), name
    known = set(customers.customer_id)
    for name in ("orders", "opportunities", "complaints", "surveys"):
        assert set(frames[name].customer_id) <= known, name
    assert set(frames["opportunity_stage_history"].opportunity_id) == set(frames["opportunities"].opportunity_id)
    assert customers.customer_id.iloc[0] == "C000001"


def test_customer_attributes(frames):
    c = frames["customers"]
    assert set(c.segment) == {"consumer", "business", "distributor"}
    assert 0.6 < (c.segment == "consumer").mean() < 0.8
    assert c.signup_date.max() <= END
    assert c.signup_date.min() >= END - datetime.timedelta(days=3 * 366)
    referred = c[c.referred_by.notna()]
    assert 0.05 < len(referred) / len(c) < 0.15
    assert (referred.channel == "referral").all()
    signup = c.set_index("customer_id").signup_date
    assert (signup.loc[referred.referred_by].to_numpy() <= referred.signup_date.to_numpy()).all()
    assert not c.loc[c.segment == "consumer", "is_partner"].any()
    assert c.loc[c.segment == "consumer", "contract_type"].isna().all()
    assert c.loc[c.segment != "consumer", "contract_type"].notna().all()
    assert c[["churned", "churn_date", "tenure_months", "monthly_revenue"]].isna().all().all()


def test_orders_fall_within_customer_life(frames):
    orders = frames["orders"].merge(frames["customers"][["customer_id", "signup_date"]], on="customer_id")
    assert (orders.order_date <= END).all()
    assert (orders.order_date >= orders.signup_date).all()
    assert (orders.amount > 0).all() and (orders.cost < orders.amount).all()
    assert (orders.quantity >= 1).all() and (orders.quantity == orders.quantity.round()).all()
    assert orders.order_id.is_monotonic_increasing and orders.order_date.is_monotonic_increasing
    shares = orders.status.value_counts(normalize=True)
    assert shares["completed"] > 0.9 and 0.01 < shares["cancelled"] < 0.06


def test_volumes_are_realistic(frames):
    orders, customers = frames["orders"], frames["customers"]
    assert 8 < len(orders) / N < 16
    buyers = orders.customer_id.nunique()
    assert 0.6 < buyers / N < 0.75
    assert 1.4 < len(frames["opportunities"]) / N < 1.8
    assert 0.15 < len(frames["complaints"]) / buyers < 0.35
    assert 0.3 < frames["surveys"].customer_id.nunique() / buyers < 0.5
    consumer = set(customers.customer_id[customers.segment == "consumer"])
    is_consumer = orders.customer_id.isin(consumer)
    assert orders.amount[~is_consumer].median() > 3 * orders.amount[is_consumer].median()


def _orders_per_day(dates, year, month, first_day, last_day):
    inside = (dates.dt.year == year) & (dates.dt.month == month) & dates.dt.day.between(first_day, last_day)
    return inside.sum() / (last_day - first_day + 1)


def test_orders_peak_at_double_11_and_dip_at_spring_festival(large):
    # Compare neighbouring months of one year: the customer base grows over the history.
    dates = pd.to_datetime(large["orders"].order_date)
    year = END.year - 1
    assert _orders_per_day(dates, year, 11, 1, 11) > 1.5 * _orders_per_day(dates, year, 10, 1, 31)
    assert _orders_per_day(dates, year, 2, 1, 20) < 0.8 * _orders_per_day(dates, year, 3, 1, 20)


def test_stage_history_is_consistent_with_opportunities(frames):
    history, opps = frames["opportunity_stage_history"], frames["opportunities"]
    order = ["lead", "qualified", "proposal", "negotiation"]
    for opp_id, rows in history.groupby("opportunity_id", sort=False):
        stages = list(rows.stage)
        closing = stages[-1] if stages[-1] in ("won", "lost") else None
        open_stages = stages[:-1] if closing else stages
        assert open_stages == order[:len(open_stages)], opp_id
        assert closing != "won" or len(open_stages) == 4, opp_id
        assert rows.entered_at.is_monotonic_increasing and rows.entered_at.is_unique, opp_id
    first = history.groupby("opportunity_id").agg(first=("entered_at", "min"), last=("entered_at", "max"),
                                                   final=("stage", "last"))
    opps = opps.set_index("opportunity_id").join(first)
    assert (opps.stage == opps.final).all()
    assert (opps["first"].dt.date == opps.created_date).all()
    assert (opps["last"] <= pd.Timestamp(END) + pd.Timedelta(days=1)).all()
    closed = opps.stage.isin(WON_STAGES + LOST_STAGES)
    assert (opps.loc[closed, "last"].dt.date == opps.loc[closed, "close_date"]).all()
    assert opps.loc[~closed, "close_date"].isna().all()
    assert 0.02 < (~closed).mean() < 0.25
    win_rate = (opps.stage[closed] == "won").mean()
    assert 0.18 < win_rate < 0.32
    assert (history.groupby("opportunity_id").stage.first() == "lead").all()


def test_complaint_timeline(frames):
    k = frames["complaints"]
    assert (k.first_response_at.dropna() >= k.created_at[k.first_response_at.notna()]).all()
    done = k.resolved_at.notna()
    assert (k.resolved_at[done] >= k.first_response_at[done]).all()
    assert (k.resolved_at[done] >= k.created_at[done]).all()
    assert (k.status[~done] == "open").all() and (k.status[done] != "open").all()
    assert k.satisfaction[~done].isna().all()
    assert k.satisfaction.dropna().between(1, 5).all()
    assert k.created_at.max() <= pd.Timestamp(END) + pd.Timedelta(days=1)
    signup = k.customer_id.map(frames["customers"].set_index("customer_id").signup_date)
    assert (k.created_at.dt.date >= signup).all()


def test_surveys_are_correlated_and_lower_for_complainers(large):
    s = large["surveys"]
    assert s.nps.between(0, 10).all() and s.satisfaction.between(1, 5).all()
    assert s.nps.corr(s.satisfaction) > 0.5
    complained = s.customer_id.isin(set(large["complaints"].customer_id))
    assert s.nps[complained].mean() < s.nps[~complained].mean() - 1


def _lapsed_share(orders, customer_ids):
    last = orders.groupby("customer_id").order_date.max()
    last = last[last.index.isin(customer_ids)]
    return (last < END - datetime.timedelta(days=180)).mean()


def test_complainers_churn_more(large):
    orders = large["orders"]
    buyers = set(orders.customer_id)
    complainers = set(large["complaints"].customer_id)
    others = buyers - complainers
    assert len(complainers) > 300
    assert _lapsed_share(orders, complainers) > _lapsed_share(orders, others) + 0.08


def test_customers_leave_with_departed_owners(large):
    customers, orders = large["customers"], large["orders"]
    leavers = [demo.OWNERS[i] for i, _ in demo.LEAVERS]
    with_leaver = set(customers.customer_id[customers.owner.isin(leavers)])
    buyers = set(orders.customer_id)
    assert _lapsed_share(orders, with_leaver & buyers) > _lapsed_share(orders, buyers - with_leaver) + 0.2
