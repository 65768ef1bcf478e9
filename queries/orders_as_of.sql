-- orders_as_of: the day a period's figures about customers are judged as of (the model's period_as_of: the period end,
--   or the newest day of an order that counts, not cancelled or refunded, when the orders stop earlier); before the
--   period's start, the period holds no order to judge (crmlens.period.orders_end_before)
-- params: $end DATE
-- returns: as_of_date
select period_as_of($end::date) as as_of_date
