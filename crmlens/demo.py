"""Synthetic CRM data for demos and tests: customers, orders, pipeline, complaints, surveys.

Every value comes from one numpy Generator drawn in a fixed order, so the same arguments
give identical tables. Every step is vectorised: 800k customers (~10M orders) take a few
tens of seconds. Times are kept as float days since the start of the history until they
are turned into Arrow columns.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmlens.contract import TABLES

EPOCH = datetime.date(1970, 1, 1)
ARROW_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
               "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "INTEGER": pa.int32()}

SEGMENTS, SEGMENT_WEIGHTS = ("consumer", "business", "distributor"), (0.70, 0.22, 0.08)
REGIONS = ("East", "North", "South", "Central", "Southwest", "Northwest", "Northeast")
REGION_WEIGHTS = (0.27, 0.18, 0.20, 0.12, 0.11, 0.05, 0.07)
REGION_CITIES = ("上海", "杭州", "北京", "天津", "广州", "深圳", "武汉", "长沙",  # two per region, in REGIONS order
                 "成都", "重庆", "西安", "兰州", "沈阳", "长春")
CHANNELS, CHANNEL_WEIGHTS = ("online", "store", "referral", "partner", "events"), (0.40, 0.24, 0.10, 0.12, 0.14)
REFERRAL = CHANNELS.index("referral")
OWNERS = ("Li Wei", "Zhang Min", "Wang Fang", "Liu Yang", "Chen Jing", "Yang Lei",
          "Zhao Qiang", "Huang Li", "Zhou Jie", "Wu Tao", "Xu Na", "Sun Hao")
OWNER_WEIGHTS = (0.11, 0.10, 0.09, 0.08, 0.09, 0.08, 0.08, 0.07, 0.08, 0.07, 0.08, 0.07)
# Per-stage conversion multiplier: some reps close better than others.
OWNER_SKILL = np.array([1.06, 1.00, 0.97, 1.03, 1.08, 0.93, 0.98, 1.02, 0.95, 1.04, 0.99, 0.92])
# (owner index, leave date as a fraction of the history): "customers leave with the salesperson".
LEAVERS = ((6, 0.45), (10, 0.70), (3, 0.85))
BRANCHES = ("Shanghai", "Beijing", "Guangzhou")
OWNER_BRANCH = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
# Follow-ups (回访): seed 003 found nearly 50% of customers never called after a service and about 20% called
# every time. Here one rep's customers are the neglected ones: half of them never get a follow-up.
NEGLECTFUL_OWNER = OWNERS.index("Wang Fang")
NEVER_CALLED = np.array([0.08, 0.50])  # share of customers never followed up: others, the neglectful rep's
FOLLOW_UP = np.array([[0.80, 0.90, 0.85], [0.45, 0.50, 0.50]])  # per (order, complaint, won deal): others, neglectful
ORPHANED_FOLLOW_UP = 0.5  # a departed rep's customers: followed up this much less by whoever covers them
ACTIVITY_TYPES, ACTIVITY_TYPE_WEIGHTS = ("call", "visit", "message", "e-mail"), (0.50, 0.15, 0.25, 0.10)
OUTCOMES, OUTCOME_WEIGHTS = ("reached", "no answer"), (0.8, 0.2)
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰红")
BRANDS = tuple("华鑫盛通达恒瑞泰宏嘉德福")
COMPANY_TYPES = ("科技有限公司", "贸易有限公司", "电器有限公司", "商贸有限公司", "实业有限公司")
DEALER_TYPES = ("电器经销部", "商贸行", "家电批发部")
CONTRACT_TYPES, CONTRACT_WEIGHTS = ("annual", "monthly", "none"), (0.45, 0.30, 0.25)

PRODUCTS = ("Air Purifier", "Water Purifier", "Rice Cooker", "Robot Vacuum", "Smart Speaker",
            "Air Conditioner", "Dehumidifier", "Filter Pack", "Extended Warranty", "Installation Service")
PRODUCT_PRICES = np.array([1299, 2499, 399, 1899, 299, 3299, 999, 159, 199, 120], dtype=float)
PRODUCT_WEIGHTS = (0.12, 0.09, 0.14, 0.10, 0.12, 0.07, 0.06, 0.16, 0.07, 0.07)
# Per segment (consumer, business, distributor):
ORDERS_PER_YEAR = np.array([20.0, 11.0, 15.0])
LIFETIME_DAYS = np.array([1000.0, 1400.0, 1700.0])  # mean of the exponential base lifetime
FIRST_ORDER_DAYS = np.array([10.0, 30.0, 20.0])  # mean delay from sign-up to first order
EXTRA_QUANTITY = np.array([0.3, 6.0, 30.0])  # quantity = 1 + Poisson(this)
PRICE_FACTOR = np.array([1.0, 0.9, 0.75])  # volume discounts
PAYMENT_METHODS = ("alipay", "wechat", "card", "bank transfer")
PAYMENT_BY_SEGMENT = np.array([[0.46, 0.40, 0.14, 0.00], [0.10, 0.05, 0.15, 0.70], [0.08, 0.04, 0.08, 0.80]])
ORDER_STATUSES, ORDER_STATUS_WEIGHTS = ("completed", "cancelled", "returned"), (0.95, 0.03, 0.02)

STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
STEP_PASS = np.array([0.64, 0.70, 0.74, 0.78])  # lead->qualified, ..., negotiation->won
STEP_DAYS = np.array([6.0, 12.0, 15.0, 18.0])  # mean days spent in lead, ..., negotiation
SOURCES, SOURCE_WEIGHTS = ("website", "referral", "trade show", "cold call", "partner"), (0.35, 0.15, 0.18, 0.20, 0.12)
SOURCE_SKILL = np.array([1.00, 1.08, 0.98, 0.88, 1.05])
DEAL_MEDIAN = np.array([6000.0, 40000.0, 90000.0])

CATEGORIES = ("product quality", "service attitude", "price", "delivery", "billing", "after-sales repair")
CATEGORY_WEIGHTS = (0.30, 0.20, 0.15, 0.17, 0.08, 0.10)
COMPLAINT_CHANNELS = ("phone", "wechat", "email", "store", "web")
COMPLAINT_CHANNEL_WEIGHTS = (0.30, 0.30, 0.10, 0.15, 0.15)
SEVERITIES, SEVERITY_WEIGHTS = ("low", "medium", "high"), (0.50, 0.35, 0.15)
RESPONSE_HOURS = np.array([6.0, 3.0, 1.0])  # median per severity
RESOLUTION_HOURS = np.array([20.0, 36.0, 72.0])  # median per severity, after first response


def generate(n_customers: int = 5000, seed: int = 42, end_date: datetime.date = datetime.date(2026, 10, 31),
             years: int = 3) -> dict[str, pa.Table]:
    """A deterministic, realistic CRM data set ending on `end_date`, keyed by canonical table name."""
    rng = np.random.default_rng(seed)
    span = int(round(365.25 * years))  # the history covers days 0..span; day span is end_date
    start = (end_date - EPOCH).days - span
    c = _draw_customers(rng, n_customers, span)
    _draw_lifetimes(rng, c, span)
    k = _draw_complaints(rng, c, span)
    _apply_owner_departures(rng, c, span)
    k = _drop_complaints_after_churn(k, c)
    orders = _draw_orders(rng, c, span, _seasonal_cumulative(start, span))
    surveys = _draw_surveys(rng, c, k, span)
    opps, history = _draw_pipeline(rng, c, span)
    activities = _draw_activities(rng, c, orders, k, opps, span)  # drawn last: the tables above stay as they were
    ids = _ids("C", n_customers, 6)
    return {
        "customers": _customers_table(c, ids, start),
        "orders": _orders_table(orders, ids, start),
        "opportunities": _opportunities_table(opps, ids, start),
        "opportunity_stage_history": _table("opportunity_stage_history", {
            "opportunity_id": _ids("P", len(opps.cust), 6).take(history.opp),
            "stage": _labels(STAGES, history.stage),
            "entered_at": _timestamps(start, history.time)}),
        "complaints": _complaints_table(k, ids, start, span),
        "surveys": _table("surveys", {
            "customer_id": ids.take(surveys.cust), "survey_date": _dates(start, surveys.day),
            "nps": pa.array(surveys.nps), "satisfaction": pa.array(surveys.satisfaction)}),
        "activities": _activities_table(activities, ids, len(orders.cust), len(k.cust), len(opps.cust), start),
        "owners": _table("owners", {
            "owner": pa.array(OWNERS, pa.string()), "branch": _labels(BRANCHES, OWNER_BRANCH),
            "left_on": pa.nulls(len(OWNERS), pa.date32())}),  # the leavers are not marked: departures finds them
        "targets": _targets_table(opps, span, end_date),
    }


def _draw_customers(rng, n, span):
    # Sign-ups grow linearly (twice as many per day at the end): inverse CDF of density 1 + x.
    x = np.sqrt(1 + 3 * rng.random(n)) - 1
    signup = np.sort(np.minimum((x * (span + 1)).astype(np.int64), span))
    seg = _choose(rng, SEGMENT_WEIGHTS, n)
    region = _choose(rng, REGION_WEIGHTS, n)
    channel = _choose(rng, CHANNEL_WEIGHTS, n)
    position = np.arange(n)
    channel[(channel == REFERRAL) & (position == 0)] = 0  # the first customer has nobody to refer them
    # Customers are sorted by sign-up, so a lower index is an earlier customer.
    referrer = np.where(channel == REFERRAL, (rng.random(n) * position).astype(np.int64), -1)
    owner = _choose(rng, OWNER_WEIGHTS, n)
    for leaver, when in LEAVERS:
        owner = _reassign_after_leaving(rng, owner, signup, leaver, when * span)
    is_partner = (seg > 0) & (rng.random(n) < 0.15)
    contract = np.where(seg > 0, _choose(rng, CONTRACT_WEIGHTS, n), -1)
    return SimpleNamespace(signup=signup, seg=seg, region=region, channel=channel, referrer=referrer,
                           owner=owner, is_partner=is_partner, contract=contract, name=_names(rng, seg, region))


def _names(rng, seg, region):
    n = len(seg)
    pick = lambda values: np.array(values, dtype=object)[rng.integers(0, len(values), n)]  # noqa: E731
    second = np.where(rng.random(n) < 0.6, pick(GIVEN), "")
    person = pick(SURNAMES) + pick(GIVEN) + second
    city = np.array(REGION_CITIES, dtype=object)[2 * region + rng.integers(0, 2, n)]
    firm = city + pick(BRANDS) + pick(BRANDS)
    firm = firm + np.where(seg == 1, pick(COMPANY_TYPES), pick(DEALER_TYPES))
    return np.where(seg == 0, person, firm)


def _stayers() -> np.ndarray:
    """The reps who do not leave (indices into OWNERS)."""
    return np.setdiff1d(np.arange(len(OWNERS)), [i for i, _ in LEAVERS])


def _reassign_after_leaving(rng, owner, day, leaver, leave_day):
    """Whatever starts after a rep's leave date goes to one of the reps who stay."""
    stayers = _stayers()
    moved = (owner == leaver) & (day >= leave_day)
    owner = owner.copy()
    owner[moved] = stayers[rng.integers(0, len(stayers), moved.sum())]
    return owner


def _hand_over_open_deals(owner, cust, close, span):
    """A deal still open on its rep's leave day is closed by one of the reps who stay (chosen by customer, so that
    the random draws of everything else stay as they were): nothing after a rep leaves is done by them."""
    stayers = _stayers()
    owner = owner.copy()
    for leaver, when in LEAVERS:
        moved = (owner == leaver) & (close >= when * span)
        owner[moved] = stayers[cust[moved] % len(stayers)]
    return owner


def _draw_lifetimes(rng, c, span):
    n = len(c.seg)
    c.first = c.signup + 1 + np.floor(rng.exponential(FIRST_ORDER_DAYS[c.seg])).astype(np.int64)
    c.buyer = (rng.random(n) < 0.72) & (c.first <= span)
    c.death = c.first + rng.exponential(LIFETIME_DAYS[c.seg])
    c.rate = ORDERS_PER_YEAR[c.seg] / 365.25 * rng.gamma(1.5, 1 / 1.5, n)


def _draw_complaints(rng, c, span):
    n = len(c.seg)
    proneness = rng.gamma(0.6, 1 / 0.6, n)
    counts = np.where(c.buyer, rng.poisson(0.27 * proneness), 0)
    cust = np.repeat(np.arange(n), counts)
    m = len(cust)
    lo, hi = c.first[cust], np.minimum(c.death[cust], span + 1)
    created = np.floor(lo + rng.random(m) * (hi - lo)) + rng.uniform(8, 22, m) / 24
    severity = _choose(rng, SEVERITY_WEIGHTS, m)
    responded = created + rng.lognormal(np.log(RESPONSE_HOURS[severity]), 0.8) / 24
    resolved = responded + rng.lognormal(np.log(RESOLUTION_HOURS[severity]), 1.0) / 24
    days_to_resolve = resolved - created
    score = 4.8 - 0.9 * np.log1p(days_to_resolve) - 0.3 * (severity == 2) + rng.normal(0, 0.7, m)
    # A complaint raises the churn hazard, much more when it is resolved slowly.
    after = rng.exponential(np.where(days_to_resolve <= 2, 300.0, 120.0))
    np.minimum.at(c.death, cust, created + after)
    return SimpleNamespace(
        cust=cust, created=created, responded=responded, resolved=resolved, severity=severity,
        category=_choose(rng, CATEGORY_WEIGHTS, m), channel=_choose(rng, COMPLAINT_CHANNEL_WEIGHTS, m),
        closed=rng.random(m) < 0.6, surveyed=rng.random(m) < 0.7, satisfaction=np.clip(np.round(score), 1, 5))


def _apply_owner_departures(rng, c, span):
    """Most customers still active when their rep leaves stop buying within a couple of months."""
    for leaver, when in LEAVERS:
        leave_day = when * span
        follows = (c.owner == leaver) & (c.death > leave_day) & (rng.random(len(c.seg)) < 0.8)
        c.death[follows] = np.minimum(c.death[follows], leave_day + rng.exponential(45.0, follows.sum()))


def _drop_complaints_after_churn(k, c):
    keep = np.floor(k.created) <= c.death[k.cust]
    order = np.argsort(k.created[keep], kind="stable")
    return SimpleNamespace(**{key: value[keep][order] for key, value in vars(k).items()})


def _seasonal_cumulative(start, span):
    """Cumulative purchase intensity per day (mean 1), for inverse-CDF sampling of order dates."""
    days = np.arange(start, start + span + 1).astype("datetime64[D]")
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    w = np.ones(len(days))
    w[month == 11] = 1.3
    w[(month == 11) & (dom <= 11)] = 2.0  # Double 11 pre-sales
    w[(month == 11) & (dom == 11)] = 6.0
    w[(month == 6) & (dom <= 18)] = 1.5  # 618
    w[(month == 6) & (dom == 18)] = 3.5
    w[(month == 12) & (dom == 12)] = 2.0  # Double 12
    w[(month == 1) & (dom >= 25)] = 0.8
    w[(month == 2) & (dom <= 20)] = 0.55  # Spring Festival: shops and couriers pause
    return np.concatenate([[0.0], np.cumsum(w / w.mean())])


def _draw_orders(rng, c, span, cumulative):
    """First order at `first`, then a seasonal Poisson process until churn or the end date."""
    buyers = np.flatnonzero(c.buyer)
    a = c.first[buyers] + 1
    b = np.minimum(np.floor(c.death[buyers]), span).astype(np.int64)
    lam_a, lam_b = cumulative[a], cumulative[np.maximum(b + 1, a)]
    counts = rng.poisson(c.rate[buyers] * (lam_b - lam_a))
    later = np.repeat(lam_a, counts) + rng.random(counts.sum()) * np.repeat(lam_b - lam_a, counts)
    later_day = np.minimum(np.searchsorted(cumulative, later, side="right") - 1, np.repeat(b, counts))
    cust = np.concatenate([buyers, np.repeat(buyers, counts)])
    day = np.concatenate([c.first[buyers], later_day])
    order = np.argsort(day * len(c.seg) + cust, kind="stable")
    cust, day = cust[order], day[order]
    m, seg = len(cust), c.seg[cust]
    product = _choose(rng, PRODUCT_WEIGHTS, m)
    quantity = 1.0 + rng.poisson(EXTRA_QUANTITY[seg])
    amount = np.round(PRODUCT_PRICES[product] * quantity * PRICE_FACTOR[seg] * rng.lognormal(0, 0.25, m), 2)
    return SimpleNamespace(cust=cust, day=day, product=product, quantity=quantity, amount=amount,
                           cost=np.round(amount * rng.uniform(0.55, 0.8, m), 2),
                           status=_choose(rng, ORDER_STATUS_WEIGHTS, m),
                           payment=_choose_by_group(rng, seg, PAYMENT_BY_SEGMENT))


def _draw_surveys(rng, c, k, span):
    n = len(c.seg)
    chosen = np.flatnonzero(c.buyer & (rng.random(n) < 0.4))
    cust = np.repeat(chosen, 1 + (rng.random(len(chosen)) < 0.35))
    m = len(cust)
    lo = c.first[cust]
    hi = np.maximum(np.minimum(np.floor(c.death[cust]) + 30, span), lo).astype(np.int64)
    day = lo + (rng.random(m) * (hi - lo + 1)).astype(np.int64)
    order = np.argsort(cust * (span + 1) + day, kind="stable")
    cust, day = cust[order], day[order]
    complained = np.zeros(n, dtype=bool)
    complained[k.cust] = True
    mood = rng.normal(0.5, 1.0, m) - 1.1 * complained[cust]
    nps = np.clip(np.round(7.3 + 2.0 * mood + rng.normal(0, 0.8, m)), 0, 10)
    satisfaction = np.clip(np.round(3.9 + 0.8 * mood + rng.normal(0, 0.45, m)), 1, 5)
    return SimpleNamespace(cust=cust, day=day, nps=nps, satisfaction=satisfaction)


def _draw_pipeline(rng, c, span):
    n = len(c.seg)
    m = int(round(1.6 * n))
    weight = np.array([1.0, 6.0, 8.0])[c.seg]  # B2B customers carry most of the pipeline
    cust = rng.choice(n, m, p=weight / weight.sum())
    created = c.signup[cust] + (rng.random(m) * (span - c.signup[cust] + 1)).astype(np.int64)
    order = np.argsort(created * n + cust, kind="stable")
    cust, created = cust[order], created[order]
    source = _choose(rng, SOURCE_WEIGHTS, m)
    owner = np.where(rng.random(m) < 0.85, c.owner[cust], _choose(rng, OWNER_WEIGHTS, m))
    for leaver, when in LEAVERS:
        owner = _reassign_after_leaving(rng, owner, created, leaver, when * span)
    p_step = np.minimum(STEP_PASS * (SOURCE_SKILL[source] * OWNER_SKILL[owner])[:, None], 0.95)
    reached = np.cumprod(rng.random((m, 4)) < p_step, axis=1).sum(axis=1)  # 4 means won
    stages, times, entered = _walk_stages(rng, created, reached, np.where(c.seg[cust] == 0, 1.0, 1.5), span)
    last = entered.sum(axis=1) - 1
    rows = np.arange(m)
    close = np.floor(times[rows, last]).astype(np.int64)
    opps = SimpleNamespace(cust=cust, created=created, owner=_hand_over_open_deals(owner, cust, close, span),
                           opened_by=owner, source=source, stage=stages[rows, last], close=close,
                           closed=stages[rows, last] >= 4, product=_choose(rng, PRODUCT_WEIGHTS, m),
                           amount=np.round(rng.lognormal(np.log(DEAL_MEDIAN[c.seg[cust]]), 0.7), -2))
    history = SimpleNamespace(opp=np.nonzero(entered)[0], stage=stages[entered], time=times[entered])
    return opps, history


def _draw_activities(rng, c, o, k, p, span):
    """Follow-ups of completed orders, complaints and won deals (related_id names the record), and a visit at
    the start of every opportunity by its owner. Nothing after a rep leaves is done by them: whoever covers
    their customers follows up less. One rep's customers are often never called (NEVER_CALLED)."""
    n = len(c.seg)
    stayers = _stayers()
    leave_day = np.full(len(OWNERS), np.inf)
    for leaver, when in LEAVERS:
        leave_day[leaver] = when * span
    neglect = (c.owner == NEGLECTFUL_OWNER).astype(np.int64)
    never = rng.random(n) < NEVER_CALLED[neglect]
    won = np.flatnonzero(p.stage == STAGES.index("won"))
    done = np.flatnonzero(o.status == 0)
    kind = np.concatenate([np.zeros(len(done), np.int64), np.ones(len(k.cust), np.int64), np.full(len(won), 2)])
    ref = np.concatenate([done, np.arange(len(k.cust)), won])
    cust = np.concatenate([o.cust[done], k.cust, p.cust[won]])
    when = np.concatenate([o.day[done] + 0.5, k.created, p.close[won] + 0.5])
    owner = np.concatenate([c.owner[o.cust[done]], c.owner[k.cust], p.owner[won]])
    orphaned = when >= leave_day[owner]
    chance = FOLLOW_UP[neglect[cust], kind] * np.where(orphaned, ORPHANED_FOLLOW_UP, 1.0) * ~never[cust]
    late = rng.random(len(cust)) < 0.15
    delay = np.where(late, rng.exponential(20.0, len(cust)), rng.exponential(2.0, len(cust)))
    at = np.floor(when + delay) + rng.uniform(9, 18, len(cust)) / 24
    keep = (rng.random(len(cust)) < chance) & (at < span + 1)
    by = np.where(orphaned, stayers[rng.integers(0, len(stayers), len(cust))], owner)
    # the visit that opens each opportunity (its owner, the day it was created)
    kind = np.concatenate([kind[keep], np.full(len(p.cust), 3)])
    ref = np.concatenate([ref[keep], np.arange(len(p.cust))])
    cust = np.concatenate([cust[keep], p.cust])
    at = np.concatenate([at[keep], p.created + rng.uniform(9, 18, len(p.cust)) / 24])
    by = np.concatenate([by[keep], p.opened_by])
    kind_type = _choose(rng, ACTIVITY_TYPE_WEIGHTS, len(cust))
    kind_type[kind == 3] = ACTIVITY_TYPES.index("visit")
    order = np.argsort(at, kind="stable")
    return SimpleNamespace(kind=kind[order], ref=ref[order], cust=cust[order], at=at[order], owner=by[order],
                           type=kind_type[order], outcome=_choose(rng, OUTCOME_WEIGHTS, len(cust))[order])


def _activities_table(a, ids, n_orders, n_complaints, n_opps, start):
    records = pa.concat_arrays([_ids("O", n_orders, 7), _ids("K", n_complaints, 6), _ids("P", n_opps, 6)])
    offset = np.array([0, n_orders, n_orders + n_complaints, n_orders + n_complaints])  # per kind
    return _table("activities", {
        "activity_id": _ids("A", len(a.cust), 7), "customer_id": ids.take(a.cust), "at": _timestamps(start, a.at),
        "type": _labels(ACTIVITY_TYPES, a.type), "owner": _labels(OWNERS, a.owner),
        "related_id": records.take(pa.array(offset[a.kind] + a.ref)), "outcome": _labels(OUTCOMES, a.outcome)})


def _walk_stages(rng, created, reached, slowness, span):
    """(stage, time, entered) matrices: column j is the j-th stage an opportunity entered.

    A won deal enters lead..negotiation then won; a lost one ends with "lost" right after
    the last stage it reached; a deal still open at the end date keeps only what happened so far.
    """
    m = len(created)
    step_days = 1 + np.floor(rng.exponential(STEP_DAYS, (m, 4)) * slowness[:, None])
    days = np.column_stack([created, created[:, None] + np.cumsum(step_days, axis=1)]).astype(float)
    stages = np.tile(np.arange(5), (m, 1))
    entered = np.arange(5) <= reached[:, None]
    lost, at = np.flatnonzero(reached < 4), reached[reached < 4]
    stages[lost, at + 1] = STAGES.index("lost")
    days[lost, at + 1] = days[lost, at] + 1 + np.floor(rng.exponential(8.0, len(lost)) * slowness[lost])
    entered[lost, at + 1] = True
    times = days + rng.uniform(9, 18, (m, 5)) / 24  # distinct days, office hours
    return stages, times, entered & (times < span + 1)


def _customers_table(c, ids, start):
    n = len(ids)
    referrer = pa.array(c.referrer, mask=c.referrer < 0)
    return _table("customers", {
        "customer_id": ids, "name": pa.array(c.name, pa.string()), "segment": _labels(SEGMENTS, c.seg),
        "region": _labels(REGIONS, c.region), "channel": _labels(CHANNELS, c.channel),
        "owner": _labels(OWNERS, c.owner), "signup_date": _dates(start, c.signup),
        "is_partner": pa.array(c.is_partner), "referred_by": ids.take(referrer),
        "churned": pa.nulls(n, pa.bool_()), "churn_date": pa.nulls(n, pa.date32()),
        "tenure_months": pa.nulls(n, pa.float64()), "monthly_revenue": pa.nulls(n, pa.float64()),
        "contract_type": _labels(CONTRACT_TYPES, c.contract, null=c.contract < 0)})


def _orders_table(o, ids, start):
    return _table("orders", {
        "order_id": _ids("O", len(o.cust), 7), "customer_id": ids.take(o.cust), "order_date": _dates(start, o.day),
        "amount": pa.array(o.amount), "cost": pa.array(o.cost), "product": _labels(PRODUCTS, o.product),
        "quantity": pa.array(o.quantity), "status": _labels(ORDER_STATUSES, o.status),
        "payment_method": _labels(PAYMENT_METHODS, o.payment)}, extra=("payment_method",))


def _opportunities_table(p, ids, start):
    return _table("opportunities", {
        "opportunity_id": _ids("P", len(p.cust), 6), "stage": _labels(STAGES, p.stage),
        "created_date": _dates(start, p.created), "customer_id": ids.take(p.cust), "amount": pa.array(p.amount),
        "owner": _labels(OWNERS, p.owner), "source": _labels(SOURCES, p.source),
        "product": _labels(PRODUCTS, p.product), "close_date": _dates(start, p.close, null=~p.closed)})


def _complaints_table(k, ids, start, span):
    responded = k.responded < span + 1
    resolved = k.resolved < span + 1
    status = np.where(resolved, np.where(k.closed, 2, 1), 0)
    return _table("complaints", {
        "created_at": _timestamps(start, k.created), "category": _labels(CATEGORIES, k.category),
        "complaint_id": _ids("K", len(k.cust), 6), "customer_id": ids.take(k.cust),
        "channel": _labels(COMPLAINT_CHANNELS, k.channel), "severity": _labels(SEVERITIES, k.severity),
        "status": _labels(("open", "resolved", "closed"), status),
        "first_response_at": _timestamps(start, k.responded, null=~responded),
        "resolved_at": _timestamps(start, k.resolved, null=~resolved),
        "satisfaction": pa.array(k.satisfaction, mask=~(resolved & k.surveyed))})


TARGET_GROWTH = 1.1  # demo targets: each owner's average won per month over the last year, plus 10%
TARGET_MONTHS_BACK, TARGET_MONTHS_AHEAD = 12, 3


def _targets_table(p, span, end_date):
    """Monthly targets per owner for the year to end_date and the quarter after it (month as text, 2026-01)."""
    won = (p.stage == STAGES.index("won")) & (p.close > span - 365)
    per_month = np.bincount(p.owner[won], weights=p.amount[won], minlength=len(OWNERS)) / 12
    first = end_date.year * 12 + end_date.month - 1 - TARGET_MONTHS_BACK + 1
    months = [f"{i // 12}-{i % 12 + 1:02d}" for i in range(first, first + TARGET_MONTHS_BACK + TARGET_MONTHS_AHEAD)]
    left = {o: end_date - datetime.timedelta(days=int(span - when * span)) for o, when in LEAVERS}
    # a rep who left has no target from the month after they left
    rows = [(o, m) for o in range(len(OWNERS)) if per_month[o] > 0 for m in months
            if o not in left or m <= f"{left[o].year}-{left[o].month:02d}"]
    return _table("targets", {
        "owner": pa.array([OWNERS[o] for o, _ in rows]),
        "month": pa.array([m for _, m in rows]),
        "amount": pa.array([float(np.round(per_month[o] * TARGET_GROWTH, -3)) for o, _ in rows])})


def _table(name, columns, extra=()):
    canonical = [c.name for c in TABLES[name].columns]
    assert list(columns) == canonical + list(extra), name
    types = [ARROW_TYPES[c.type] for c in TABLES[name].columns] + [pa.string()] * len(extra)
    schema = pa.schema(list(zip(columns, types)))
    return pa.Table.from_arrays(list(columns.values()), schema=schema)


def _choose(rng, weights, size):
    return rng.choice(len(weights), size, p=np.asarray(weights) / np.sum(weights))


def _choose_by_group(rng, group, probabilities):
    """One draw per row from the probability row of its group."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(group))
    return (u[:, None] >= cdf[group][:, :-1]).sum(axis=1)


def _labels(values, index, null=None):
    return pa.array(values, pa.string()).take(pa.array(index, mask=null))


def _ids(prefix, n, width):
    digits = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    padded = pc.utf8_lpad(digits, width=max(width, len(str(n))), padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _dates(start, day, null=None):
    return pa.array((start + day).astype(np.int32), pa.date32(), mask=null)


def _timestamps(start, days, null=None):
    seconds = start * 86_400 + np.round(days * 86_400).astype(np.int64)
    return pa.array(seconds * 1_000_000, pa.timestamp("us"), mask=null)
