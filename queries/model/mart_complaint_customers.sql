-- mart_complaint_customers: one row per customer with an order day: what the link between complaints and churn
--   (queries/shared/complaints_churn_base.sql) reads of them, kept at load for the default churn rule and period
-- grain: customer_id (customers with an order day); source: mart_customer_days, mart_customer_spells,
--   mart_customer_period (its as_of: the newest date in the data), stg_customers, stg_complaints
--   ref_date: the newest order day, when churn is judged
--   first_order, last_order: their first and last order day
--   is_churned, lost_date: lost by ref_date: a churn date on the customer list on or before it, else the list's
--     churned flag, else the default churn rule (mart_customer_spells, their latest lifetime), dated when their time
--     ran out (a flag: at the last order): listed_lost and listed_lost_date
--   is_listed: the customer list says whether they are lost (a churn date or flag: listed_lost), not the order rule
--   lost_after_first_order: the first day they were lost after their first order in the period: the list's day when
--     it says lost (is_listed), else the end of the first of their lifetimes to end after that order (they may have
--     come back since): when "lost within the follow-up" is judged for the link's others (first_loss_after)
--   region, segment, owner: the customer list's (NULL when not on it)
--   period_start, period_end: the pages' default period (the $period_days days up to the newest date in the data)
--   first_order_in_period, n_orders_in_period: their first order day in it and their orders in it (NULL, 0: none)
--   complained_in_period: they have a complaint created in that period (any: the link's "others" are the customers
--     with an order in the period and none)
-- params: $period_days INTEGER (crmlens.period.DEFAULT_DAYS)
create or replace table mart_complaint_customers as
with ref as (
    select max(order_date) as ref_date from mart_customer_days
),
span as (
    select max(as_of) - (cast($period_days as integer) - 1) as period_start, max(as_of) as period_end
    from mart_customer_period
),
days as (
    select d.customer_id, min(d.order_date) as first_order, max(d.order_date) as last_order,
           min(d.order_date) filter (where d.order_date between s.period_start and s.period_end) as first_order_in_period,
           coalesce(sum(d.n_orders) filter (where d.order_date between s.period_start and s.period_end), 0)::bigint
               as n_orders_in_period
    from mart_customer_days d cross join span s
    where d.order_date is not null and in_build_scope(d.customer_id)
    group by d.customer_id
),
latest as (
    select customer_id, is_lost, lost_date
    from mart_customer_spells
    where in_build_scope(customer_id)
    qualify row_number() over (partition by customer_id order by spell_no desc) = 1
),
first_losses as (
    -- each customer's first lifetime end after their first order in the period
    select d.customer_id, min(sp.lost_date) as lost_date
    from days d
    join mart_customer_spells sp on sp.customer_id = d.customer_id and sp.lost_date > d.first_order_in_period
    where in_build_scope(sp.customer_id)
    group by d.customer_id
),
complained as (
    select distinct k.customer_id
    from stg_complaints k cross join span s
    where k.customer_id is not null and in_build_scope(k.customer_id)
      and k.created_at >= s.period_start and k.created_at < s.period_end + interval 1 day
)
select d.customer_id, r.ref_date, d.first_order, d.last_order,
       coalesce(listed_lost(cu.churned, cu.churn_date, r.ref_date), sp.is_lost) as is_churned,
       listed_lost_date(cu.churned, cu.churn_date, r.ref_date, sp.lost_date, d.last_order) as lost_date,
       listed_lost(cu.churned, cu.churn_date, r.ref_date) is not null as is_listed,
       first_loss_after(listed_lost(cu.churned, cu.churn_date, r.ref_date),
                        listed_lost_date(cu.churned, cu.churn_date, r.ref_date, sp.lost_date, d.last_order),
                        fl.lost_date) as lost_after_first_order,
       cu.region, cu.segment, cu.owner,
       s.period_start, s.period_end, d.first_order_in_period, d.n_orders_in_period,
       d.customer_id in (select customer_id from complained) as complained_in_period
from days d
cross join ref r
cross join span s
left join latest sp on sp.customer_id = d.customer_id
left join first_losses fl on fl.customer_id = d.customer_id
left join stg_customers cu on cu.customer_id = d.customer_id
