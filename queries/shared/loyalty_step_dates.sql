-- shared piece loyalty_step_dates: the dates the ladder's movements are read at: the end of each month (quarter)
--   from the one before the period starts; the period end closes the last
-- Output: step(step, part) and dates(as_of). mart_loyalty_customer_moves keeps the moves between these dates for
-- the default period and grain (month).
step as (
    select if($grain = 'quarter', interval 3 month, interval 1 month) as step,
           if($grain = 'quarter', 'quarter', 'month') as part
),
dates(as_of) as (
    select distinct least((b + s.step - interval 1 day)::date, $end::date)
    from step s, unnest(generate_series(date_trunc(s.part, $start::date) - s.step, $end::date::timestamp, s.step)) as t(b)
),
