-- churn_drivers: churn rate by every categorical attribute (customer columns, incl. extra ones; the
--   customer's usual value of each order column in the period and the year before; latest complaint category)
-- params: $start DATE, $end DATE (inclusive), $max_levels INTEGER (attributes with more values are skipped),
--   $definition VARCHAR ('orders' or 'explicit'), $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $use_spells_mart BOOLEAN, $use_churn_mart BOOLEAN, $use_drivers_mart BOOLEAN (set by crmlens.model; the
--   last: the period is the pages' default one, whose order values mart_customer_order_modes keeps)
-- returns: attribute, source ('customers', 'orders', 'complaints'), value (NULL = blank / no complaint),
--   n_customers, n_churned, rate_churn, rate_overall, rate_diff (rate_churn - rate_overall), n_levels;
--   sorted by rate_diff, highest first
with
-- include: churn_spells
population as (
    select customer_id, churned from customer_status
),
customer_columns as (
    select customer_id,
           columns(* exclude (customer_id, name, signup_date, referred_by, churned, churn_date,
                              tenure_months, monthly_revenue))::varchar
    from stg_customers semi join population using (customer_id)
),
customer_attributes as (
    select customer_id, attribute, value
    from customer_columns unpivot include nulls (value for attribute in (columns(* exclude (customer_id))))
),
order_columns as (
    select customer_id, order_date as _ordered_on,
           columns(* exclude (order_id, customer_id, order_date, amount, cost, quantity, status,
                              is_void, is_order, is_refund, amt_revenue))::varchar
    from stg_orders semi join population using (customer_id)
    where order_date <= (select as_of_date from as_of) and order_date >= $start::date - 365
      and is_order and not $use_drivers_mart
),
order_value_counts as (
    select customer_id, attribute, value, count(*) as n, max(_ordered_on) as last_ordered_on
    from order_columns unpivot (value for attribute in (columns(* exclude (customer_id, _ordered_on))))
    group by customer_id, attribute, value
),
order_attributes as (
    -- a customer's most frequent value of each descriptive order column (product, payment method, ...);
    -- a tie goes to the value of their latest order (counting first and then picking is ~10x faster than
    --   mode())
    select customer_id, attribute, first(value order by n desc, last_ordered_on desc, value) as value
    from order_value_counts
    group by customer_id, attribute
    union all
    -- the same, kept at load for the default period (mart_customer_order_modes)
    select customer_id, attribute, value
    from mart_customer_order_modes semi join population using (customer_id)
    where $use_drivers_mart
),
complaint_attributes as (
    -- the category of the customer's latest complaint up to the as-of day (NULL: never complained)
    select p.customer_id, 'complaint_category' as attribute, k.category as value
    from population p
    left join (
        select customer_id, arg_max(category, created_at) as category from stg_complaints
        where created_at::date <= (select as_of_date from as_of) and customer_id is not null
        group by customer_id
    ) k using (customer_id)
),
attributes as (
    select *, 'customers' as source from customer_attributes
    union all select *, 'orders' from order_attributes
    union all select *, 'complaints' from complaint_attributes
),
overall as (
    select count(*) filter (where churned) / nullif(count(*), 0) as rate_overall from population
),
cells as (
    select a.attribute, a.source, a.value, count(*) as n_customers, count(*) filter (where p.churned) as n_churned
    from attributes a join population p using (customer_id)
    group by all
),
levels as (
    select attribute, count(*) as n_levels, count(*) filter (where value is not null) as n_named from cells group by attribute
)
select c.attribute, c.source, c.value, c.n_customers, c.n_churned,
       c.n_churned / c.n_customers as rate_churn, o.rate_overall,
       c.n_churned / c.n_customers - o.rate_overall as rate_diff, l.n_levels
from cells c join levels l using (attribute) cross join overall o
where l.n_named between 1 and $max_levels
order by rate_diff desc, c.n_customers desc, c.attribute, c.value
