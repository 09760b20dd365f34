-- Attendance by day for every report whose period is over: one row per report and attendance row
-- (scheduled day), from the attendance family's slot model (attendance_slots: the RA rules' own
-- judgement of each clock-in / clock-out slot, excuses and exception-flow deadline), pivoted to
-- clock-in / clock-out. No phone numbers.
with report_days as (
    select
        r.report_kind,
        r.ticket_no,
        r.engineer_id,
        r.period_key,
        s.work_date,
        s.slot,
        s.shift_start,
        s.shift_end,
        s.night_shift,
        s.punched_at,
        s.judged,
        s.kind,
        s.minutes,
        s.counted,
        s.leave_type,
        s.leave_approval,
        s.leave_excused,
        s.flow_excused,
        s.exception_flow,
        s.exception_decided_at,
        s.ra06_deadline
    from report_periods as r
    inner join attendance_slots as s
        on s.ticket_no = r.ticket_no
        and s.engineer_id = r.engineer_id
        and s.work_date between r.period_start and r.period_end
    where r.period_over
),

final as (
    select
        d.report_kind,
        d.ticket_no,
        d.engineer_id,
        d.period_key,
        d.work_date,
        max(d.shift_start) as shift_start,
        max(d.shift_end) as shift_end,
        bool_or(d.night_shift) as night_shift,
        max(d.punched_at) filter (where d.slot = 'in') as clock_in_at,
        max(d.punched_at) filter (where d.slot = 'out') as clock_out_at,
        bool_or(d.judged) filter (where d.slot = 'in') as in_judged,
        bool_or(d.judged) filter (where d.slot = 'out') as out_judged,
        max(d.kind) filter (where d.slot = 'in') as in_kind,
        max(d.minutes) filter (where d.slot = 'in') as in_minutes,
        max(d.kind) filter (where d.slot = 'out') as out_kind,
        max(d.minutes) filter (where d.slot = 'out') as out_minutes,
        cast(count(*) filter (where d.counted) as integer) as counted_anomalies,
        max(d.leave_type) as leave_type,
        max(d.leave_approval) as leave_approval,
        bool_or(d.leave_excused) as leave_excused,
        bool_or(d.flow_excused) as flow_excused,
        max(d.exception_flow) as exception_flow,
        max(d.exception_decided_at) as exception_decided_at,
        max(d.ra06_deadline) as ra06_deadline
    from report_days as d
    group by d.report_kind, d.ticket_no, d.engineer_id, d.period_key, d.work_date
)

select * from final
order by report_kind, ticket_no, engineer_id, period_key, work_date
