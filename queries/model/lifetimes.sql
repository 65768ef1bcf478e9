-- lifetimes(as_of, churn_days, churn_multiplier, from_mart): customer_spells, read from mart_customer_spells
-- when from_mart says the arguments are the ones it was built with (queries pass $use_spells_mart, which
-- crmlens/model.py sets; as a bound parameter the branch not taken costs nothing). only_customers: customer_spells';
-- the mart's rows are every customer's (a caller that passes it keeps its own filter on them too); from_gaps:
-- customer_spells' (as_of is the newest order day or later: the churn queries pass $use_churn_mart)
create or replace macro lifetimes(as_of, churn_days, churn_multiplier, from_mart, only_customers := NULL::varchar[],
                                  from_gaps := false) as table
select * from mart_customer_spells where from_mart
union all
select * from customer_spells(as_of, churn_days, churn_multiplier, only_customers := only_customers,
                              from_gaps := from_gaps) where not from_mart
