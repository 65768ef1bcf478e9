-- customer_spells(as_of, churn_days, churn_multiplier[, only_customers := list]): the one definition of "lost" from
-- orders (only_customers: work out these customers' lifetimes alone, as a filtered page shows them; the rule, usual
-- gaps included, is the same).
-- One row per customer lifetime (spell) up to as_of: spell_no 1 starts at the first order, a new spell
-- starts at an order after a gap longer than the customer's n_days.
--   usual_gap: the median gap between the customer's order days up to as_of (a customer with one order
--              day gets everybody's median gap): customer_gaps(as_of), kept in mart_customer_churn for the newest day
--   n_days: max(churn_days, floor(churn_multiplier x usual_gap)): the days without an order after
--           which the customer counts as lost
--   is_lost / lost_date: lost once last_order + n_days <= as_of, on that day
-- from_gaps: the caller knows that as_of is the newest order day or later (crmlens.model.use_churn_mart): with at least
--   30 days the days that can begin a lifetime, with the usual gaps, come from mart_customer_long_gaps (the same rows
--   as the join below keeps; a bound parameter, so the branch not taken is not run)
create or replace macro customer_spells(as_of, churn_days, churn_multiplier, only_customers := NULL::varchar[],
                                        from_gaps := false) as table
with days as (
    select customer_id, order_date, gap_before
    from mart_customer_days
    where order_date <= as_of::date
),
newest as (
    select max(order_date) as order_date from mart_customer_days
),
gaps as (
    -- the usual gaps (customer_gaps): as of the newest order day (or later: no order day after it) they are kept
    -- at load in mart_customer_churn, whatever churn_days and churn_multiplier; for an earlier day worked out here
    select customer_id, last_order, usual_gap from mart_customer_churn
    where as_of::date >= (select order_date from newest) and customer_id is not null
    union all
    -- (NULL: no day, so that nothing is computed when the mart holds them)
    select customer_id, last_order, usual_gap
    from customer_gaps(if(as_of::date < (select max(order_date) from mart_customer_days), as_of::date, null))
),
thresholds as (
    -- (only_customers: the lifetimes of these customers alone, the usual gaps still everybody's; two branches: without
    --  the list the first keeps every customer and the second none, unnest(NULL) being no row; a test of the list
    --  beside the IN cost a cross product of every row kept, 0.1-0.2 s a query at 10M orders)
    select customer_id, last_order, usual_gap,
           greatest(churn_days, floor(churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
    from gaps
    where only_customers is null
    union all
    select customer_id, last_order, usual_gap,
           greatest(churn_days, floor(churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
    from gaps
    where customer_id in (select unnest(only_customers))
),
spell_starts as (
    select d.customer_id, d.order_date, d.gap_before, t.last_order, t.usual_gap, t.n_days
    from days d join thresholds t using (customer_id)
    -- (the first test is implied by the second, as n_days >= churn_days: it drops most days before the join)
    where (d.gap_before is null or d.gap_before > churn_days) and (d.gap_before is null or d.gap_before > t.n_days)
      and not (from_gaps and churn_days >= 30)
    union all
    -- (the same days from mart_customer_long_gaps, which keeps every day with a gap of more than 30 days and the
    --  newest usual gaps; only_customers in two branches as in thresholds)
    select customer_id, order_date, gap_before, last_order, usual_gap, n_days
    from (select *, greatest(churn_days, floor(churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
          from mart_customer_long_gaps
          where from_gaps and churn_days >= 30 and only_customers is null
          union all
          select *, greatest(churn_days, floor(churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
          from mart_customer_long_gaps
          where from_gaps and churn_days >= 30
            and customer_id in (select unnest(only_customers)))
    where gap_before is null or gap_before > n_days
),
spells as (
    select customer_id, row_number() over w as spell_no, order_date as spell_start, usual_gap, n_days,
           coalesce(lead(order_date - gap_before::integer) over w, last_order) as last_order
    from spell_starts
    window w as (partition by customer_id order by order_date)
)
select customer_id, spell_no, spell_start, last_order, usual_gap, n_days,
       last_order + n_days <= as_of::date as is_lost,
       if(last_order + n_days <= as_of::date, last_order + n_days, null) as lost_date
from spells
