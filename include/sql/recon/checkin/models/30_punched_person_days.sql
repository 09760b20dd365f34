-- Punched person-days (rulebook): a (ticket, engineer, day) on which an ended visit arrives.
-- A visit ended on a later day counts once, on its arrival day (and is PD-07). Open visits do
-- not count. Only visits in the PD scope exist (see visits).
with final as (
    select
        v.ticket_no,
        v.engineer_id,
        v.arrival_day as day,
        count(*) as visits
    from visits as v
    where v.ended_at is not null
    group by v.ticket_no, v.engineer_id, v.arrival_day
)

select * from final
