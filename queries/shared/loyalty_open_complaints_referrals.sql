-- shared piece loyalty_open_complaints_referrals: two rung inputs at each date of a CTE dates(as_of), for the
--   customers of first_seen (customer_first_seen)
-- Output: unresolved(customer_id, as_of, n_unresolved): complaints open at each date (stg_complaints.open_until's
--   rule); referrals(customer_id, as_of, n_referrals): customers who
--   name this customer as their referrer and are known by each date
unresolved as (
    select k.customer_id, d.as_of, count(*) as n_unresolved
    from stg_complaints k
    join dates d on k.created_at::date <= d.as_of and d.as_of < k.open_until
    where k.customer_id is not null
    group by k.customer_id, d.as_of
),
referrals as (
    select r.referred_by as customer_id, d.as_of, count(*) as n_referrals
    from stg_customers r
    join first_seen f on f.customer_id = r.customer_id
    join dates d on f.known_since <= d.as_of
    where r.referred_by is not null and r.referred_by <> r.customer_id
    group by r.referred_by, d.as_of
),
