-- stg_complaints: one row per complaint as loaded, with the rule deciding whether it is closed
-- grain: complaint (complaint_id when given); source: complaints, vocabulary (closed_complaint_status)
--   is_closed: has a resolved_at, or a status that closes it ('resolved', 'completed', '已解决', ...)
create or replace view stg_complaints as
with closed_words as (
    select list(word) as words from vocabulary where kind = 'closed_complaint_status'
)
select k.*,
       k.resolved_at is not null
       or list_contains(w.words, lower(trim(coalesce(k.status, '')))) as is_closed
from complaints k
cross join closed_words w
