-- shared piece loyalty_customer_moves: each customer's move between ladder states from one date to the next
-- Input: dates(as_of) and rung_states (loyalty_rung_rules). Output: customer_moves, one row per customer in the
-- filters known by a date that has a date before it: from_date, to_date, from_state ('new' = not known at from_date;
-- a rung; 'lost' = lost by the churn rule), to_state, direction ('joined', 'climbed', 'stayed', 'fell', 'left',
-- 'returned'), amt_revenue_step (revenue after from_date up to to_date), and the filter columns.
moves as (
    select customer_id, as_of as to_date, state as to_state, rung_rank as to_rank, amt_revenue_step,
           segment, region, channel, owner,
           lag(state) over w as from_state_seen, lag(rung_rank) over w as from_rank
    from rung_states
    window w as (partition by customer_id order by as_of)
),
date_pairs as (
    select lag(as_of) over (order by as_of) as from_date, as_of as to_date from dates
),
customer_moves as (
    select m.customer_id, p.from_date, p.to_date,
           coalesce(m.from_state_seen, 'new') as from_state, m.to_state,
           case
               when m.from_state_seen is null then 'joined'
               when m.from_state_seen = 'lost' and m.to_state = 'lost' then 'stayed'
               when m.to_state = 'lost' then 'left'
               when m.from_state_seen = 'lost' then 'returned'
               when m.to_rank > m.from_rank then 'climbed'
               when m.to_rank < m.from_rank then 'fell'
               else 'stayed'
           end as direction,
           m.amt_revenue_step, m.segment, m.region, m.channel, m.owner
    from moves m
    join date_pairs p on p.to_date = m.to_date
    where p.from_date is not null
),
