-- shared piece churn_spells: each customer's lifetimes (spells): when they became active, were lost, came
--   back; the filters
filtered as (
    -- include: churn_customer_filter
),
no_filter as (
    select len($segment) + len($region) + len($channel) + len($owner) = 0 as all_pass
),
as_of as materialized (
    -- the day the figures are "as of": the period end, or the newest data before it (period_as_of)
    select if($definition = 'explicit',
              least($end::date, coalesce((select max(greatest(signup_date, coalesce(churn_date, signup_date)))
                                          from stg_customers), $end::date)),
              period_as_of($end)) as as_of_date
),
revenue_orders as (
    -- order days of the chosen customers up to the as-of day (mart_customer_days), with the days since
    -- their previous order day (NULL: the first)
    -- (two branches, one pruned by the bound filter parameters: an OR with the IN costs a join on every row;
    --  $use_churn_mart: the as-of day is the newest order day, every day is up to it: no test, so that the planner
    --  knows how many rows come and joins the few chosen customers to them, not them to the customers)
    select d.customer_id, d.order_date, d.amount, d.n_orders, d.gap_before
    from mart_customer_days d
    where ($use_churn_mart or d.order_date <= (select as_of_date from as_of))
      and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select d.customer_id, d.order_date, d.amount, d.n_orders, d.gap_before
    from mart_customer_days d semi join filtered f using (customer_id)
    where ($use_churn_mart or d.order_date <= (select as_of_date from as_of))
      and len($segment) + len($region) + len($channel) + len($owner) > 0
),
order_spells as (
    -- lifetimes from orders: the one definition of "lost" (queries/model/customer_spells.sql, via lifetimes)
    -- ($use_churn_mart: the as-of day is the newest order day, so customer_spells may read mart_customer_long_gaps)
    select s.customer_id, s.spell_no, s.spell_start, s.last_order, s.usual_gap, s.n_days, s.is_lost, s.lost_date
    from lifetimes((select as_of_date from as_of), $churn_days, $churn_multiplier, $use_spells_mart,
                   from_gaps := $use_churn_mart) s
    where $definition = 'orders' and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select s.customer_id, s.spell_no, s.spell_start, s.last_order, s.usual_gap, s.n_days, s.is_lost, s.lost_date
    -- (only_customers: lifetimes worked out for the chosen customers alone, not for everybody and then kept)
    from lifetimes((select as_of_date from as_of), $churn_days, $churn_multiplier, $use_spells_mart,
                   only_customers := (select list(customer_id) from filtered), from_gaps := $use_churn_mart) s
    semi join filtered f using (customer_id)
    where $definition = 'orders' and len($segment) + len($region) + len($channel) + len($owner) > 0
),
explicit_spells as (
    -- explicit churn: a churned flag, a churn / contract-end date, a tenure; one spell per customer
    select customer_id, 1 as spell_no,
           coalesce(signup_date, churn_date - tenure_span)::date as spell_start,
           null::date as last_order, null::double as usual_gap, null::integer as n_days,
           coalesce(listed_lost(churned, churn_date, as_of_date), false) as is_lost,
           if(coalesce(listed_lost(churned, churn_date, as_of_date), false),
              coalesce(if(churn_date <= as_of_date, churn_date, null), signup_date + tenure_span), null)::date as lost_date,
           tenure_months, monthly_revenue
    from (
        select c.customer_id, c.signup_date, c.churn_date, c.churned, c.tenure_months, c.monthly_revenue,
               to_days(cast(round(c.tenure_months * 30.4375) as integer)) as tenure_span,
               (select as_of_date from as_of) as as_of_date
        from stg_customers c
        where $definition = 'explicit'
          -- a blank churn flag (no churn date either) in a file that has the flag is unknown: left out
          and not (c.churned is null and c.churn_date is null
                   and exists (select 1 from stg_customers k where k.churned is not null))
          and (len($segment) + len($region) + len($channel) + len($owner) = 0 or c.customer_id in (select customer_id from filtered))
    )
),
spells as materialized (
    -- one row per customer lifetime: spell_no 1 = new customer, later spells = reactivated
    select customer_id, spell_no, spell_start, last_order, usual_gap, n_days, is_lost, lost_date,
           null::double as tenure_months, null::double as monthly_revenue
    from order_spells
    union all
    select customer_id, spell_no, spell_start, last_order, usual_gap, n_days, is_lost, lost_date, tenure_months,
           monthly_revenue
    from explicit_spells
),
customer_status as (
    -- one row per customer active at some time from $start to the as-of day (their latest lifetime);
    -- churned: that lifetime ended in the period (explicit churn without a date: churned in any period)
    select *, is_lost as churned
    from spells
    where coalesce(spell_start <= (select as_of_date from as_of), true)
      and (not is_lost or lost_date is null or lost_date >= $start::date)
    qualify row_number() over (partition by customer_id order by spell_no desc) = 1
),
