-- order_margin(amount, cost, margin_rate, fallback_rate): the margin (profit before marketing and risk cost) of one
-- order line, the one definition the loyalty page's CLV and the churn page's what-if share:
--   a margin rate the reader typed (margin_rate, 0-1, NULL = not typed) x the amount, else the amount minus the
--   order's cost when the order has one, else fallback_rate (the default margin, crmlens.margin.FALLBACK) x the amount
create or replace macro order_margin(amount, cost, margin_rate, fallback_rate) as
coalesce(amount * margin_rate, amount - cost, amount * fallback_rate)
