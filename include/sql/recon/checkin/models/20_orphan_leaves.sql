-- Orphan leaves (rulebook, "Visit"): a 离场 in the PD scope (known ticket, type not 驻场/POC)
-- that ends no visit — before the engineer's first arrival on the ticket, a second leave after
-- the one that ended the visit, or a leave at the very instant of an arrival.
with pd_tickets as (
    select w.ticket_no
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
),

ending_leaves as (
    select v.end_id
    from visits as v
    where v.end_type = '离场'
),

final as (
    select
        p.punch_id,
        p.ticket_no,
        p.engineer_id,
        p.punched_at,
        cast(p.punched_at as date) as day
    from netcare_punches as p
    inner join pd_tickets as t on t.ticket_no = p.ticket_no
    where p.punch_type = '离场'
        and not exists (
            select 1 from ending_leaves as e
            where e.end_id = p.punch_id
        )
)

select * from final
