-- shared piece churn_spells: each customer's lifetimes (spells): when they became active, were lost, came back; the filters
filtered as (
    -- include: churn_customer_filter
),
no_filter as (
    select len($segment) + len($region) + len($channel) + len($owner) = 0 as all_pass
),
as_of as materialized (
    -- the day the figures are "as of": the period end, or the newest data before it
    select least($end::date, coalesce(if($definition = 'explicit',
               (select max(greatest(signup_date, coalesce(churn_date, signup_date))) from customers),
               (select max(order_date) from order_days)),
           $end::date)) as as_of_date
),
revenue_orders as (
    -- completed orders of the chosen customers up to the as-of day, one row per customer and order day, with
    -- the days since their previous order day (NULL: the first), as every load keeps them in order_days
    -- (queries/build_order_days.sql)
    select d.customer_id, d.order_date, d.amount, d.n_orders, d.gap_before
    from order_days d
    where d.order_date <= (select as_of_date from as_of)
      and ((select all_pass from no_filter) or d.customer_id in (select customer_id from filtered))
),
order_gaps as materialized (
    select customer_id, order_date, gap_before from revenue_orders where $definition = 'orders'
),
thresholds as (
    -- usual gap: the median gap between the customer's order days (one order day: everybody's median gap);
    -- lost n_days = max($churn_days, floor($churn_multiplier x usual gap)) after an order, unless they
    -- order again by that day
    select customer_id, last_order, usual_gap,
           greatest($churn_days, floor($churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
    from (
        select customer_id, max(order_date) as last_order,
               coalesce(median(gap_before) filter (where gap_before > 0),
                        (select median(gap_before) filter (where gap_before > 0) from order_gaps)) as usual_gap
        from order_gaps
        group by customer_id
    )
),
spell_starts as (
    -- a spell starts at the first order and at every order after a gap longer than n_days
    select g.customer_id, g.order_date, g.gap_before, t.last_order, t.usual_gap, t.n_days
    from order_gaps g join thresholds t using (customer_id)
    where g.gap_before is null or g.gap_before > t.n_days
),
order_spells as (
    select customer_id, spell_no, spell_start, last_order, usual_gap, n_days,
           -- lost n_days after the spell's last order, once that day has come
           last_order + n_days <= (select as_of_date from as_of) as is_lost,
           if(last_order + n_days <= (select as_of_date from as_of), last_order + n_days, null) as lost_date
    from (
        select customer_id, row_number() over w as spell_no, order_date as spell_start, usual_gap, n_days,
               coalesce(lead(order_date - gap_before::integer) over w, last_order) as last_order
        from spell_starts
        window w as (partition by customer_id order by order_date)
    )
),
explicit_spells as (
    -- explicit churn: a churned flag, a churn / contract-end date, a tenure; one spell per customer
    select customer_id, 1 as spell_no,
           coalesce(signup_date, churn_date - tenure_span)::date as spell_start,
           null::date as last_order, null::double as usual_gap, null::integer as n_days,
           coalesce(churned, churn_date <= as_of_date, false) as is_lost,
           if(coalesce(churned, churn_date <= as_of_date, false),
              coalesce(if(churn_date <= as_of_date, churn_date, null), signup_date + tenure_span), null)::date as lost_date,
           tenure_months, monthly_revenue
    from (
        select c.customer_id, c.signup_date, c.churn_date, c.churned, c.tenure_months, c.monthly_revenue,
               to_days(cast(round(c.tenure_months * 30.4375) as integer)) as tenure_span,
               (select as_of_date from as_of) as as_of_date
        from customers c
        where $definition = 'explicit'
          and ((select all_pass from no_filter) or c.customer_id in (select customer_id from filtered))
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
