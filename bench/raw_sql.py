"""Each page's headline numbers for the default view, straight from the raw tables with plain SQL.

The benchmark (issue 13) compares each page's queries with what one hand-written query per page costs on
the raw tables `orders`, `customers`, `opportunities`, `opportunity_stage_history`, `complaints`, `surveys`:
no staging view, no mart, no macro. The rules are the page's, written out again here (revenue orders, the
period, lost by the default churn rule, the rung rules, ...); the word lists come from `crmlens.vocab` as
bound parameters. `tests/test_bench_raw.py` checks on a small demo that these numbers equal the page's.

    page_numbers(snap, page, calls)  -> {figure: value} from the page's own queries (calls recorded in AppTest)
    raw_numbers(snap, page, start, end) -> the same figures from the SQL below

Only the default view is written out: no filters, the default settings, the churn definition 'orders'
(a customer list with churn flags or dates makes the churn page use 'explicit': not covered here).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from crmlens import churn, loyalty, queries, store, vocab

# The pieces each page's SQL starts from. Written once per page on purpose: each is one plain query.
ORDERS = """
orders_ruled as (
    -- every order line with the rule: void (cancelled, returned, ...) counts for nothing; an order is a non-void
    -- line with a positive amount; revenue adds the non-void amounts (refunds subtract)
    select customer_id, order_date, amount, cost,
           list_contains($void_words::varchar[], lower(trim(coalesce(status, '')))) as is_void,
           not is_void and coalesce(amount, 0) > 0 as is_order,
           if(is_void, 0, coalesce(amount, 0)) as revenue
    from orders
)"""

OPPORTUNITY_STATUS = """
opportunity_dates as (
    -- each opportunity's status by its stage and the date it counts from (created, else the earlier of its
    -- first stage entered and its close date)
    select o.opportunity_id, o.amount, o.close_date,
           case when list_contains($won_words::varchar[], lower(trim(o.stage))) then 'won'
                when list_contains($lost_words::varchar[], lower(trim(o.stage))) then 'lost'
                else 'open' end as status,
           coalesce(o.created_date, least(h.first_entered, o.close_date)) as counts_from
    from opportunities o
    left join (select opportunity_id, min(entered_at)::date as first_entered
               from opportunity_stage_history group by opportunity_id) h using (opportunity_id)
)"""

# Lost by the default churn rule, as of a day: a customer's usual gap is the median of the days between their
# order days (one order day: everybody's median gap); lost after max(churn_days, floor(multiplier x gap)) days
# without an order; a new lifetime starts at an order after a longer gap.
SPELLS = """
order_days as (
    select customer_id, order_date,
           order_date - lag(order_date) over (partition by customer_id order by order_date) as gap
    from (select distinct customer_id, order_date from orders_ruled where is_order and customer_id is not null)
),
as_of as (
    select least($end::date, coalesce((select max(order_date) from order_days), $end::date)) as day
),
days_to as (
    select * from order_days where order_date <= (select day from as_of)
),
limits as (
    select customer_id, last_order, usual_gap,
           greatest($churn_days, floor($churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
    from (select customer_id, max(order_date) as last_order,
                 coalesce(median(gap) filter (where gap > 0),
                          (select median(gap) filter (where gap > 0) from days_to)) as usual_gap
          from days_to group by customer_id)
),
spells as (
    select s.customer_id, s.spell_start, s.last_order, s.usual_gap,
           s.last_order + s.n_days <= (select day from as_of) as is_lost,
           if(s.last_order + s.n_days <= (select day from as_of), s.last_order + s.n_days, null) as lost_date
    from (
        select d.customer_id, d.order_date as spell_start, l.usual_gap, l.n_days,
               coalesce(lead(d.order_date - d.gap::integer) over (partition by d.customer_id order by d.order_date),
                        l.last_order) as last_order
        from days_to d join limits l using (customer_id)
        where d.gap is null or d.gap > l.n_days
    ) s
)"""

SQL = {
    "overview": f"""
with {ORDERS},
customer_firsts as (
    select coalesce(c.customer_id, o.customer_id) as customer_id,
           c.customer_id is not null as is_listed, c.signup_date, o.first_order
    from customers c
    full join (select customer_id, min(order_date) as first_order from orders_ruled
               where is_order and customer_id is not null group by customer_id) o using (customer_id)
),
{OPPORTUNITY_STATUS.strip()}
select
    (select count(*) from customer_firsts
     where (is_listed or first_order is not null)
       and (is_listed and signup_date is null or least(signup_date, first_order) <= $end)) as n_customers,
    (select count(distinct customer_id) from orders_ruled
     where is_order and order_date between $start and $end) as n_active_customers,
    (select count(*) from customer_firsts where first_order between $start and $end) as n_new_customers,
    (select coalesce(sum(revenue), 0) from orders_ruled where order_date between $start and $end) as amt_revenue,
    (select count(*) from orders_ruled where is_order and order_date between $start and $end) as n_orders,
    (select count(*) from opportunity_dates
     where coalesce(counts_from <= $end, true) and not coalesce(close_date <= $end, status <> 'open'))
        as n_open_opportunities,
    (select count(*) from complaints where created_at::date between $start and $end) as n_complaints
""",
    "funnel": f"""
with {OPPORTUNITY_STATUS.strip()}
select count(*) as n_opportunities,
       count(*) filter (where status = 'won') as n_won,
       count(*) filter (where status = 'lost') as n_lost,
       count(*) filter (where status = 'open') as n_open,
       coalesce(sum(amount) filter (where status = 'won'), 0) as amt_won,
       coalesce(sum(amount) filter (where status = 'open'), 0) as amt_open_pipeline,
       count(*) filter (where status = 'won') / nullif(count(*) filter (where status in ('won', 'lost')), 0) as rate_win
from opportunity_dates
where counts_from between $start and $end
""",
    "churn": f"""
with {ORDERS},
{SPELLS.strip()}
select count(*) filter (where spell_start < $start and coalesce(lost_date >= $start, true)) as n_start,
       count(*) filter (where spell_start < $start and lost_date between $start and (select day from as_of))
           as n_lost_from_start,
       count(*) filter (where lost_date between $start and (select day from as_of)) as n_lost,
       n_lost_from_start / nullif(n_start, 0) as rate_churn,
       count(*) filter (where not is_lost) as n_active,
       count(*) filter (where not is_lost and (select day from as_of) - last_order > usual_gap) as n_at_risk
from spells
""",
    "loyalty": f"""
with {ORDERS},
{SPELLS.strip()},
known as (
    -- when each customer was first known: the customer list (no signup date: always), any order line, an opportunity
    select customer_id, min(seen) as known_since
    from (select customer_id, coalesce(signup_date, date '0001-01-01') as seen from customers
          union all select customer_id, min(order_date) from orders where customer_id is not null group by customer_id
          union all select customer_id, coalesce(created_date, date '0001-01-01') from opportunities)
    where customer_id is not null
    group by customer_id
    having min(seen) <= $end
),
purchases as (
    select customer_id, count(*) as n_orders from orders_ruled
    where is_order and order_date <= $end and customer_id is not null group by customer_id
),
survey_days as (
    -- the answers of each day (several on one day: their average), undated ones on day 1
    select customer_id, coalesce(survey_date, date '0001-01-01') as day, avg(satisfaction) as satisfaction, avg(nps) as nps
    from surveys where customer_id is not null and coalesce(survey_date, date '0001-01-01') <= $end
    group by all
),
latest_answers as (
    -- the latest answer counts when it is at most $survey_days old (an undated one counts)
    select customer_id,
           if(max(day) filter (where satisfaction is not null) = date '0001-01-01'
              or $end - max(day) filter (where satisfaction is not null) <= $survey_days,
              arg_max(satisfaction, day) filter (where satisfaction is not null), null) as satisfaction,
           if(max(day) filter (where nps is not null) = date '0001-01-01'
              or $end - max(day) filter (where nps is not null) <= $survey_days,
              arg_max(nps, day) filter (where nps is not null), null) as nps
    from survey_days group by customer_id
),
open_complaints as (
    select customer_id, count(*) as n_open from complaints
    where customer_id is not null and created_at::date <= $end
      and (resolved_at::date > $end
           or not (resolved_at is not null
                   or list_contains($closed_words::varchar[], lower(trim(coalesce(status, ''))))))
    group by customer_id
),
referrals as (
    select r.referred_by as customer_id, count(*) as n_referrals
    from customers r join known k on k.customer_id = r.customer_id
    where r.referred_by is not null and r.referred_by <> r.customer_id
    group by r.referred_by
),
in_lifetime as (
    select distinct customer_id from spells where spell_start <= $end and (lost_date is null or lost_date > $end)
),
placed as (
    select k.customer_id,
           coalesce(p.n_orders, 0) as n_orders,
           case
               when $use_partner_flag and coalesce(c.is_partner, false)
                    and not coalesce(list_contains($consumer_words::varchar[], lower(trim(c.segment))), false)
                   then 'partner'
               when coalesce(p.n_orders, 0) >= $min_orders_client
                    and (a.nps >= $nps_advocate_min or coalesce(r.n_referrals, 0) >= $min_referrals) then 'advocate'
               when coalesce(p.n_orders, 0) >= $min_orders_client
                    and (a.satisfaction >= $satisfaction_min or a.nps >= $nps_supporter_min)
                    and coalesce(u.n_open, 0) <= $max_unresolved then 'supporter'
               when coalesce(p.n_orders, 0) >= $min_orders_client then 'client'
               when coalesce(p.n_orders, 0) >= 1 then 'customer'
               else 'prospect'
           end as rung,
           coalesce(p.n_orders, 0) >= 1 and l.customer_id is null as is_lapsed
    from known k
    left join customers c using (customer_id)
    left join purchases p using (customer_id)
    left join latest_answers a using (customer_id)
    left join open_complaints u using (customer_id)
    left join referrals r using (customer_id)
    left join in_lifetime l using (customer_id)
)
select count(*) as n_customers,
       count(*) filter (where rung = 'prospect') as n_prospect,
       count(*) filter (where rung = 'customer') as n_customer,
       count(*) filter (where rung = 'client') as n_client,
       count(*) filter (where rung = 'supporter') as n_supporter,
       count(*) filter (where rung = 'advocate') as n_advocate,
       count(*) filter (where rung = 'partner') as n_partner,
       count(*) filter (where is_lapsed) as n_lapsed
from placed
""",
    "complaints": f"""
with {ORDERS},
scope as (
    select date_diff('second', created_at, first_response_at) / 3600.0 as hours_to_response,
           date_diff('second', created_at, resolved_at) / 3600.0 as hours_to_resolve,
           resolved_at is not null
           or list_contains($closed_words::varchar[], lower(trim(coalesce(status, '')))) as is_closed
    from complaints
    where created_at >= $start and created_at < $end + interval 1 day
),
active as (
    select count(distinct customer_id) as n from orders_ruled
    where is_order and customer_id is not null and order_date between $start and $end
)
select count(*) as n_complaints,
       (select n from active) as n_active_customers,
       100.0 * count(*) / nullif((select n from active), 0) as rate_per_100_customers,
       count(*) filter (where not is_closed) as n_open,
       median(hours_to_response) as median_hours_to_response,
       median(hours_to_resolve) as median_hours_to_resolve
from scope
""",
}

# A plain monthly cohort-retention table straight from the raw orders: what one hand-written query costs (the
# yardstick of the browser target: a page drawn within the time of this query on the same file).
COHORT = """
select date_trunc('month', first_on) as cohort, date_diff('month', first_on, order_date) as k,
       count(distinct customer_id) as n_customers
from (select customer_id, order_date, min(order_date) over (partition by customer_id) as first_on
      from orders where coalesce(status, '') not in ('cancelled', 'canceled', 'returned', 'refunded'))
group by all
"""

FIGURES = {
    "overview": ("n_customers", "n_active_customers", "n_new_customers", "amt_revenue", "n_orders",
                 "n_open_opportunities", "n_complaints"),
    "funnel": ("n_opportunities", "n_won", "n_lost", "n_open", "amt_won", "amt_open_pipeline", "rate_win"),
    "churn": ("n_start", "n_lost_from_start", "n_lost", "rate_churn", "n_active", "n_at_risk"),
    "loyalty": ("n_customers", "n_prospect", "n_customer", "n_client", "n_supporter", "n_advocate", "n_partner",
                "n_lapsed"),
    "complaints": ("n_complaints", "n_active_customers", "rate_per_100_customers", "n_open",
                   "median_hours_to_response", "median_hours_to_resolve"),
}


def params(start: dt.date, end: dt.date) -> dict:
    """The default settings of the pages and the word lists, as bound parameters."""
    rules = loyalty.RULE_DEFAULTS
    return {"start": start, "end": end, "churn_days": int(churn.CHURN_DAYS),
            "churn_multiplier": float(churn.CHURN_MULTIPLIER),
            "void_words": [w.strip().lower() for w in vocab.NON_REVENUE_STATUSES],
            "won_words": [w.strip().lower() for w in vocab.WON_STAGES],
            "lost_words": [w.strip().lower() for w in vocab.LOST_STAGES],
            "closed_words": [w.strip().lower() for w in vocab.CLOSED_COMPLAINT_STATUSES],
            "consumer_words": [w.strip().lower() for w in vocab.CONSUMER_SEGMENTS],
            "use_partner_flag": bool(rules["use_partner_flag"]),
            "min_orders_client": int(rules["min_orders_client"]),
            "nps_advocate_min": float(rules["nps_advocate_min"]), "min_referrals": int(rules["min_referrals"]),
            "satisfaction_min": float(rules["satisfaction_min"]), "nps_supporter_min": float(rules["nps_supporter_min"]),
            "max_unresolved": int(rules["max_unresolved"]), "survey_days": int(rules["survey_days"])}


def raw_numbers(snap: store.Snapshot, page: str, start: dt.date, end: dt.date) -> dict:
    sql = SQL[page]
    every = params(start, end)
    row = snap.query(sql, {p: every[p] for p in queries.parameters(sql)}).iloc[0]
    return {f: _plain(row[f]) for f in FIGURES[page]}


def page_numbers(snap: store.Snapshot, page: str, calls: list[tuple[str, dict]]) -> dict:
    """The same figures from the page's own queries, run with the parameters the page used."""
    def first(name: str) -> dict:
        return next(p for n, p in calls if n == name)

    if page == "overview":
        kpis = queries.run("overview_kpis", first("overview_kpis"), snap=snap).set_index("period").loc["current"]
        return {f: _plain(kpis[f]) for f in FIGURES[page]}
    if page == "funnel":
        row = queries.run("funnel_summary", first("funnel_summary"), snap=snap).iloc[0]
        return {f: _plain(row[f]) for f in FIGURES[page]}
    if page == "churn":
        row = queries.run("churn_summary", first("churn_summary"), snap=snap).iloc[0]
        return {f: _plain(row[f]) for f in FIGURES[page]}
    if page == "loyalty":
        summary = queries.run("loyalty_summary", first("loyalty_summary"), snap=snap)
        rungs = summary[summary["kind"] == "rung"].set_index("key")
        total = summary[summary["kind"] == "total"].iloc[0]
        out = {"n_customers": _plain(total["n_customers"])}
        for rung in ("prospect", "customer", "client", "supporter", "advocate", "partner"):
            out[f"n_{rung}"] = _plain(rungs["n_customers"].get(rung, 0))
        out["n_lapsed"] = _plain(total["n_lapsed"])
        return out
    if page == "complaints":
        p = first("complaints_speed")  # the parameters with the SLA settings read
        cover = queries.run("complaints_coverage", p, snap=snap).iloc[0]
        speed = queries.run("complaints_speed", p, snap=snap)
        total = speed[speed["level"] == "all"].iloc[0]
        return {"n_complaints": _plain(cover["n_complaints"]), "n_active_customers": _plain(cover["n_active_customers"]),
                "rate_per_100_customers": _plain(cover["rate_per_100_customers"]), "n_open": _plain(total["n_open"]),
                "median_hours_to_response": _plain(total["median_hours_to_response"]),
                "median_hours_to_resolve": _plain(total["median_hours_to_resolve"])}
    raise KeyError(page)


def _plain(value):
    """A number as Python int/float (NaN and NA as None), so figures compare and go into JSON."""
    if value is None:
        return None
    if pd.isna(value):  # NaN, NA, NaT
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return value
    return value


def differences(a: dict, b: dict, rel: float = 1e-9) -> dict:
    """The figures on which two results differ (floats compared to a relative `rel`: sums in another order)."""
    out = {}
    for key in a.keys() | b.keys():
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            if x is not y:
                out[key] = (x, y)
        elif abs(x - y) > rel * max(abs(x), abs(y), 1.0):
            out[key] = (x, y)
    return out
