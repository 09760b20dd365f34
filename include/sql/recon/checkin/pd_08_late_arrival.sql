-- rule: PD-08
-- severity: warning
-- title: 工程师迟到
-- explain: 派单工程师在工单上的首次“到达”打卡晚于预约到达时间（无预约时为要求到达时间）。
-- clause: 第2部分 4.2(2); 第12部分 KPI 11
-- PD scope (known ticket, not 驻场/POC); "later than" is strict. No target time, no check.
with tickets as (
    select
        w.ticket_no,
        w.region,
        w.engineer_id,
        coalesce(w.appointment_at, w.required_arrival_at) as due_at,
        case when w.appointment_at is not null then 'appointment' else 'required' end as due_kind
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
        and w.engineer_id is not null
        and w.engineer_id <> ''
        and coalesce(w.appointment_at, w.required_arrival_at) is not null
),

first_arrivals as (
    select
        v.ticket_no,
        v.engineer_id,
        min(v.arrived_at) as first_arrived_at
    from visits as v
    group by v.ticket_no, v.engineer_id
),

late as (
    select
        t.*,
        f.first_arrived_at,
        extract(epoch from (f.first_arrived_at - t.due_at)) / 60 as minutes_late
    from tickets as t
    inner join first_arrivals as f on f.ticket_no = t.ticket_no and f.engineer_id = t.engineer_id
    where f.first_arrived_at > t.due_at
),

final as (
    select
        l.region,
        l.ticket_no,
        l.engineer_id,
        jsonb_build_object(
            'minutes_late', round(l.minutes_late, 2), 'due_at', l.due_at, 'due_kind', l.due_kind,
            'first_arrived_at', l.first_arrived_at
        ) as details
    from late as l
)

select * from final
