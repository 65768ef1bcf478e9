-- shared piece departures_found: owners who left, and the customers they held
-- Three signs, the earliest day wins (on a tie: marked, list, inactive): marked in the team list
--   (stg_owners.left_on on or before the data end); gone from the customer list at a load (stg_owner_changes:
--   none of their customers is listed with them afterwards; left_on: the day after they were last seen
--   working, else the load's day, at most the data end); no activity logged, no opportunity created and no deal won
--   or lost for $inactive_days days before the data end (left_on: the day after the last one; only for owners with
--   activities of their own: opportunities alone are too sparse to call someone gone).
-- Output: CTEs data_end (d: the day the data reaches, at most $end (the macro data_end); as_of: the day customer
--   figures are judged as of, period_as_of(d): lost and active cannot be known past the newest order day),
--   departed (owner, left_on, how ('marked', 'list', 'inactive'), last_seen), held (owner, customer_id: listed
--   with them now, or taken from them by a load on or after the day they left)
data_end as materialized (
    select d, period_as_of(d) as as_of from (select data_end($end) as d)
),
last_seen as (
    select owner, max(day) as last_seen
    from (
        select trim(owner) as owner, activity_date as day from stg_activities
        union all
        select trim(owner), effective_created from stg_opportunities
        union all
        -- a deal they won or lost is work too (an open deal's close date is only expected)
        select trim(owner), close_date::date from stg_opportunities where status in ('won', 'lost')
    )
    where owner is not null and owner <> '' and day <= (select d from data_end)
    group by owner
),
listed_now as (
    select distinct trim(owner) as owner from stg_customers where owner is not null and trim(owner) <> ''
),
signs as (
    select owner, left_on, 'marked' as how, 1 as priority from stg_owners where left_on <= (select d from data_end)
    union all
    -- the load noticed it; they left when they were last seen working, if that is known and earlier
    select c.owner, least(coalesce(l.last_seen + 1, c.changed_on), c.changed_on, (select d from data_end)), 'list', 2
    from (
        select trim(owner_before) as owner, min(changed_on) as changed_on
        from stg_owner_changes
        where owner_before is not null and trim(owner_before) not in (select owner from listed_now)
        group by trim(owner_before)
    ) c
    left join last_seen l using (owner)
    union all
    select owner, last_seen + 1, 'inactive', 3
    from last_seen
    where last_seen + $inactive_days <= (select d from data_end)
      and owner in (select trim(owner) from stg_activities where owner is not null)
),
departed as (
    select s.owner, s.left_on, s.how, l.last_seen
    from signs s
    left join last_seen l using (owner)
    qualify row_number() over (partition by s.owner order by s.left_on, s.priority) = 1
),
held as (
    select distinct owner, customer_id
    from (
        select trim(c.owner) as owner, c.customer_id from stg_customers c
        union all
        -- taken away by a load on or after the day they left (a customer handed on earlier was no longer theirs)
        select trim(h.owner_before), h.customer_id
        from stg_owner_changes h
        join departed d on d.owner = trim(h.owner_before) and h.changed_on >= d.left_on
    )
    where owner in (select owner from departed) and customer_id is not null
),
