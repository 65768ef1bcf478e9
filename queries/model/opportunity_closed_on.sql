-- opportunity_closed_on(close_date, history, won_stages, lost_stages): the day an opportunity closed: its close
-- date, else the day its stage history (mart_opportunities.history) first entered a won or lost stage; NULL when
-- neither says (never the day it counts from: an undated close adds no sales cycle and no "closed then")
create or replace macro opportunity_closed_on(close_date, history, won_stages, lost_stages) as
coalesce(close_date::date,
         list_min(list_transform(list_filter(history, e -> list_contains(won_stages, e.stage_key)
                                                         or list_contains(lost_stages, e.stage_key)),
                                 e -> e.entered_at))::date)
