-- One row per resident attendance row (scheduled day) and punch slot (in / out), rulebook RA section:
-- * clock-in anomalous when missing (缺卡) or after 班次上班 on the row's own date (迟到);
-- * clock-out anomalous when missing or before 班次下班 (早退), on the next day when 班次下班 is not
--   after 班次上班 (night shift);
-- * a slot is judged only once its shift time (班次上班 for in, 班次下班 for out) is over by as_of
--   (slot time <= as_of);
-- * a row is excused when its leave is approved (请假类型 set, not 加班, 请假审批状态 = 已通过) or its
--   异常电子流 is 已通过 no later than the RA-06 deadline; excused rows count no anomaly. A 已通过 flow
--   without an approval time cannot be shown to be in time: not excused (and not RA-06 either);
-- * RA-06 deadline = end of ops.working_days_after(last day of the row's month, :ra06_flow_working_days).
--   The anomaly's month is the month of the row's 考勤日期, also for a night shift's clock-out that
--   falls on the 1st of the next month.
-- Rows on tickets the work-order extract lacks are kept (DQ-01 reports the ticket; the attendance is
-- still the engineer's).
with params as (
    select
        cast(:as_of as timestamp) as as_of,
        cast(:ra06_flow_working_days as integer) as flow_days
),

att as (
    select
        a.ticket_no,
        a.engineer_id,
        a.engineer_name,
        a.work_date,
        to_char(a.work_date, 'YYYY-MM') as month,
        cast(date_trunc('month', a.work_date) + interval '1 month' - interval '1 day' as date) as month_end,
        a.shift_start,
        a.shift_end,
        a.shift_end <= a.shift_start as night_shift,
        a.work_date + a.shift_start as shift_start_at,
        case
            when a.shift_end > a.shift_start then a.work_date + a.shift_end
            else (a.work_date + 1) + a.shift_end
        end as shift_end_at,
        a.clock_in_at,
        a.clock_out_at,
        a.leave_type,
        a.leave_approval,
        coalesce(a.leave_type is not null and a.leave_type <> '加班' and a.leave_approval = '已通过', false)
            as leave_excused,
        a.exception_flow,
        a.exception_decided_at
    from netcare_resident_attendance as a
),

month_deadlines as materialized (
    select
        m.month_end,
        ops.working_days_after(m.month_end, p.flow_days) as ra06_deadline
    from (select distinct month_end from att) as m
    cross join params as p
),

rows_judged as (
    select
        a.*,
        d.ra06_deadline,
        cast(d.ra06_deadline + 1 as timestamp) as ra06_deadline_end,
        coalesce(
            a.exception_flow = '已通过' and a.exception_decided_at <= cast(d.ra06_deadline + 1 as timestamp),
            false
        ) as flow_excused
    from att as a
    inner join month_deadlines as d on d.month_end = a.month_end
),

slots as (
    select
        r.*,
        cast('in' as text) as slot,
        r.shift_start_at as slot_at,
        r.clock_in_at as punched_at,
        case
            when r.clock_in_at is null then 'missing'
            when r.clock_in_at > r.shift_start_at then 'late'
        end as kind,
        case
            when r.clock_in_at > r.shift_start_at
                then cast(ceil(extract(epoch from r.clock_in_at - r.shift_start_at) / 60.0) as integer)
        end as minutes
    from rows_judged as r

    union all

    select
        r.*,
        cast('out' as text) as slot,
        r.shift_end_at as slot_at,
        r.clock_out_at as punched_at,
        case
            when r.clock_out_at is null then 'missing'
            when r.clock_out_at < r.shift_end_at then 'early'
        end as kind,
        case
            when r.clock_out_at < r.shift_end_at
                then cast(ceil(extract(epoch from r.shift_end_at - r.clock_out_at) / 60.0) as integer)
        end as minutes
    from rows_judged as r
),

final as (
    select
        s.ticket_no,
        s.engineer_id,
        s.engineer_name,
        s.work_date,
        s.month,
        s.month_end,
        s.shift_start,
        s.shift_end,
        s.night_shift,
        s.leave_type,
        s.leave_approval,
        s.leave_excused,
        s.exception_flow,
        s.exception_decided_at,
        s.ra06_deadline,
        s.ra06_deadline_end,
        s.flow_excused,
        s.leave_excused or s.flow_excused as excused,
        s.slot,
        s.slot_at,
        s.punched_at,
        s.slot_at <= p.as_of as judged,
        case when s.slot_at <= p.as_of then s.kind end as kind,
        case when s.slot_at <= p.as_of then s.minutes end as minutes,
        s.slot_at <= p.as_of and s.kind is not null as anomalous,
        -- counted toward RA-04 / RA-05 and reported by RA-01
        s.slot_at <= p.as_of and s.kind is not null and not (s.leave_excused or s.flow_excused) as counted,
        -- RA-06: an anomalous slot on a row not excused by leave whose flow is still 审批中 after the
        -- deadline, or was approved after it (a 已驳回 flow is RA-01 only)
        coalesce(
            s.slot_at <= p.as_of and s.kind is not null and not s.leave_excused
            and (
                (s.exception_flow = '审批中' and p.as_of > s.ra06_deadline_end)
                or (s.exception_flow = '已通过' and s.exception_decided_at > s.ra06_deadline_end)
            ),
            false
        ) as flow_late
    from slots as s
    cross join params as p
)

select * from final
