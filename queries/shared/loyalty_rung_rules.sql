-- shared piece loyalty_rung_rules: the six rungs: which rung each customer stands on at each date (highest
--   rule that holds)
-- (a test checks it). Input: dates(as_of) and rung_inputs (loyalty_rung_inputs, or loyalty_rung_inputs_mart
-- reading mart_loyalty_months). Output: rung_states, one row per customer known by each as_of and in the
-- filters, with the facts the rules read and the rung and state they give.
rung_order(rung, rung_rank) as (
    values ('prospect', 1), ('customer', 2), ('client', 3), ('supporter', 4), ('advocate', 5), ('partner', 6)
),
-- the latest answer counts only when it is at most $survey_days old at the date (an undated survey, day 0001-01-01,
--   has no age and counts): an old survey says nothing about how the customer feels now
step_surveyed as (
    select * exclude (latest_satisfaction_seen, latest_satisfaction_day, latest_nps_seen, latest_nps_day),
           if(latest_satisfaction_day = date '0001-01-01' or as_of - latest_satisfaction_day <= $survey_days,
              latest_satisfaction_seen, null) as latest_satisfaction,
           if(latest_nps_day = date '0001-01-01' or as_of - latest_nps_day <= $survey_days,
              latest_nps_seen, null) as latest_nps
    from rung_inputs
),
-- lost: in no lifetime at the date, by the one definition of "lost" (customer_spells, as of the period end)
spells as materialized (
    select customer_id, spell_start, lost_date
    from lifetimes(period_as_of($end), $churn_days, $churn_multiplier, $use_spells_mart)
),
active_at as (
    select distinct s.customer_id, d.as_of
    from spells s
    join dates d on s.spell_start <= d.as_of and (s.lost_date is null or s.lost_date > d.as_of)
),
-- each listed customer's attributes and flags, worked out once per customer rather than per date
profile as (
    select customer_id, name, segment, region, channel, owner,
           coalesce(is_partner, false) as is_partner_flag,
           -- a segment that names end consumers (vocab.CONSUMER_SEGMENTS): the partner flag does not apply
           coalesce(lower(trim(segment)) in (select word from vocabulary where kind = 'consumer_segment'), false)
               as is_consumer_segment
    from stg_customers
),
rung_facts as (
    select s.*, c.name, c.segment, c.region, c.channel, c.owner,
           coalesce(c.is_partner_flag, false) as is_partner_flag,
           coalesce(c.is_consumer_segment, false) as is_consumer_segment,
           a.customer_id is not null as is_in_lifetime
    from step_surveyed s
    left join profile c using (customer_id)
    left join active_at a on a.customer_id = s.customer_id and a.as_of = s.as_of
    where (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
      and (len($channel) = 0 or list_contains($channel, c.channel))
      and (len($owner) = 0 or list_contains($owner, c.owner))
),
-- the highest rung whose rule holds. Partner: flagged, and not in a consumer segment (a partner is a business,
--   seed 004). Advocate: a client first ($min_orders_client+ purchases; a supporter is a client too), then a
--   recent NPS of $nps_advocate_min+ or $min_referrals+ referrals: one purchase and a high score is a customer.
rung_placed as (
    select *,
           case
               when $use_partner_flag and is_partner_flag and not is_consumer_segment then 'partner'
               when n_orders >= $min_orders_client
                    and (latest_nps >= $nps_advocate_min or n_referrals >= $min_referrals) then 'advocate'
               when n_orders >= $min_orders_client
                    and (latest_satisfaction >= $satisfaction_min or latest_nps >= $nps_supporter_min)
                    and n_unresolved <= $max_unresolved then 'supporter'
               when n_orders >= $min_orders_client then 'client'
               when n_orders >= 1 then 'customer'
               else 'prospect'
           end as rung,
           n_orders >= 1 and not is_in_lifetime as is_lapsed
    from rung_facts
),
rung_states as (
    select p.*, ro.rung_rank, if(p.is_lapsed, 'lost', p.rung) as state
    from rung_placed p
    join rung_order ro using (rung)
),
