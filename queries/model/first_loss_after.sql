-- first_loss_after(listed_is_lost, listed_lost_date, rule_loss_after): the first day a customer was lost after a
-- start (a complaint, a first order), the rule "lost within N days" reads on the complaints page as on the follow-up
-- page: when the customer list says whether they are lost (listed_is_lost, listed_lost: not NULL) its day when lost,
-- else rule_loss_after, the end of the first of their lifetimes (customer_spells) to end after the start, even when
-- they came back since (NULL: none ended after it).
create or replace macro first_loss_after(listed_is_lost, listed_lost_date, rule_loss_after) as
if(listed_is_lost is null, rule_loss_after, if(listed_is_lost, listed_lost_date, null))
