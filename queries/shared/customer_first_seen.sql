-- shared piece customer_first_seen: when we first knew each customer id: a customer row (no signup date = known
--   all along), any order line (a cancelled one too, so a customer whose only order was cancelled is a prospect:
--   mart_customers.first_line_on), or an opportunity
-- Output: first_seen(customer_id, known_since)
first_seen as (
    select customer_id, min(seen_on) as known_since
    from (
        select customer_id, coalesce(signup_date, date '0001-01-01') as seen_on from stg_customers
        union all
        select customer_id, first_line_on from mart_customers where first_line_on is not null
        union all
        select customer_id, coalesce(created_date, date '0001-01-01') from stg_opportunities
    )
    where customer_id is not null
    group by customer_id
),
