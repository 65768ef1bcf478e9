-- shared piece complaints_losses: CTE losses, every end of a lifetime by the churn rule as of the newest order day
--   (customer_spells through lifetimes), from which the first loss after a customer's start is read
--   (first_loss_after: "lost within the follow-up", the follow-up page's rule); follows status
,
losses as (
    select customer_id, lost_date
    from lifetimes((select max(ref_date) from status), $churn_days, $churn_multiplier, $use_spells_mart)
    where lost_date is not null
)