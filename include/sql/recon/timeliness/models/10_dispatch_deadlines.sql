-- One row per ticket in the scope of SL-01 or SL-02 (rulebook, SL section): not 已取消, MSD派单时间
-- set. Received = MSD派单时间, dispatched = FSIP派发时间; office hours = [08:30, 18:00).
-- * SL-01 (现场问题处理, 单次现场服务, 事件值守, 高级软件现场支持): a 现场问题处理 of 服务级别 小时级 is due
--   received + 10 min; every other one (非小时级, empty, or a part-5 type even when marked 小时级)
--   received + 30 min when received in office hours, 09:00 of the next day when received
--   18:00–24:00, 09:00 of the same day when received 00:00–08:30.
-- * SL-02 (巡检, 整改): due by the end of the 15th working day after the day received.
-- deadline is an instant; deadline_day is the day it belongs to (an end-of-day deadline, 24:00,
-- belongs to the day it ends, so a deadline at the end of Aug 31 is an August one).
-- is_late: dispatched later than the deadline, or not dispatched while as_of is after it.
-- decided (KPI dispatch): dispatched, or the deadline is before as_of.
with params as (
    select
        cast(:as_of as timestamp) as as_of,
        cast(:business_date as date) as business_date,
        cast(:sl01_hourly_minutes as integer) as hourly_minutes,
        cast(:sl01_office_minutes as integer) as office_minutes,
        cast(:sl01_office_start as time) as office_start,
        cast(:sl01_office_end as time) as office_end,
        cast(:sl01_off_hours_deadline as time) as off_hours_deadline,
        cast(:sl02_dispatch_working_days as integer) as sl02_days
),

tickets as (
    select
        w.ticket_no,
        w.region,
        w.ticket_type,
        w.sla_class,
        w.status,
        w.msd_dispatched_at as received_at,
        w.fsip_dispatched_at as dispatched_at,
        case when w.ticket_type in ('巡检', '整改') then 'SL-02' else 'SL-01' end as rule_code
    from netcare_workorders as w
    where w.status <> '已取消'
        and w.msd_dispatched_at is not null
        and w.ticket_type in ('现场问题处理', '单次现场服务', '事件值守', '高级软件现场支持', '巡检', '整改')
),

sl02_days as materialized (
    select
        d.received_day,
        ops.working_days_after(d.received_day, p.sl02_days) as deadline_day
    from (
        select distinct cast(t.received_at as date) as received_day
        from tickets as t
        where t.rule_code = 'SL-02'
    ) as d
    cross join params as p
),

deadlines as (
    select
        t.*,
        case
            when t.rule_code = 'SL-02' then 'working_days'
            when t.ticket_type = '现场问题处理' and t.sla_class = '小时级' then 'hourly'
            when cast(t.received_at as time) >= p.office_start
                and cast(t.received_at as time) < p.office_end then 'office_hours'
            when cast(t.received_at as time) >= p.office_end then 'evening'
            else 'early_morning'
        end as deadline_kind,
        case
            when t.rule_code = 'SL-02' then cast(s.deadline_day + 1 as timestamp)
            when t.ticket_type = '现场问题处理' and t.sla_class = '小时级'
                then t.received_at + make_interval(mins => p.hourly_minutes)
            when cast(t.received_at as time) >= p.office_start
                and cast(t.received_at as time) < p.office_end
                then t.received_at + make_interval(mins => p.office_minutes)
            when cast(t.received_at as time) >= p.office_end
                then (cast(t.received_at as date) + 1) + p.off_hours_deadline
            else cast(t.received_at as date) + p.off_hours_deadline
        end as deadline
    from tickets as t
    cross join params as p
    left join sl02_days as s on s.received_day = cast(t.received_at as date)
),

final as (
    select
        d.ticket_no,
        d.region,
        d.ticket_type,
        d.sla_class,
        d.status,
        d.rule_code,
        d.received_at,
        d.dispatched_at,
        d.deadline_kind,
        d.deadline,
        -- the day a deadline belongs to: 24:00 (next midnight) is the end of the day before
        case
            when cast(d.deadline as time) = time '00:00' then cast(d.deadline as date) - 1
            else cast(d.deadline as date)
        end as deadline_day,
        coalesce(d.dispatched_at > d.deadline, p.as_of > d.deadline) as is_late,
        d.dispatched_at is not null or d.deadline < p.as_of as decided,
        coalesce(d.dispatched_at <= d.deadline, false) as on_time,
        round(cast(extract(epoch from coalesce(d.dispatched_at, p.as_of) - d.deadline) / 60.0 as numeric), 2)
            as minutes_late
    from deadlines as d
    cross join params as p
)

select * from final
