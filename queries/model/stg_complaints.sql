-- stg_complaints: one row per complaint as loaded, with the rule deciding whether it is closed
-- grain: complaint (complaint_id when given); source: complaints, vocabulary (closed_complaint_status)
--   is_closed: has a resolved_at, or a status that closes it ('resolved', 'completed', '已解决', ...)
--   open_until: the day it stops being open. A complaint is open on day d when created_at::date <= d < open_until (the
--     one rule of "open at a date" for every page): its resolved day; 9999-12-31 while not closed; NULL when closed
--     with no resolved time (never counted open: when it was resolved is not known)
create or replace view stg_complaints as
with closed_words as (
    select list(word) as words from vocabulary where kind = 'closed_complaint_status'
)
select k.*,
       k.resolved_at is not null
       or list_contains(w.words, lower(trim(coalesce(k.status, '')))) as is_closed,
       case when not is_closed then date '9999-12-31' else k.resolved_at::date end as open_until
from complaints k
cross join closed_words w
