-- rule: PD-04
-- severity: error
-- title: 前后工单间隔不足{pd04_min_gap_minutes:hours}小时
-- explain: 同一工程师同一天内，前一工单离场与后一工单到达之间必须间隔至少{pd04_min_gap_minutes}分钟。
-- clause: 第5部分 4.2(2) "前操作单离场卡和后操作单到场卡…需间隔1小时"
-- Each engineer's ended visits in order of arrival (ties: ticket_no, then arrival punch id);
-- consecutive ones on different tickets whose earlier end and later arrival fall on the same day:
-- 0 <= gap < :pd04_min_gap_minutes is a finding (gap 0 included; a negative gap is PD-03's).
-- Subject: engineer, day (of the later arrival), ticket of the later visit.
with params as (
    select cast(:pd04_min_gap_minutes as numeric) as min_gap_minutes
),

ended as (
    select
        v.engineer_id,
        v.ticket_no,
        v.arrival_id,
        v.arrived_at,
        v.arrival_day,
        v.ended_at,
        v.end_id
    from visits as v
    where v.ended_at is not null
),

consecutive as (
    select
        e.*,
        lag(e.ticket_no) over w as prev_ticket_no,
        lag(e.ended_at) over w as prev_ended_at,
        lag(e.end_id) over w as prev_end_id
    from ended as e
    window w as (partition by e.engineer_id order by e.arrived_at, e.ticket_no, e.arrival_id)
),

gaps as (
    select
        c.*,
        extract(epoch from (c.arrived_at - c.prev_ended_at)) / 60 as gap_minutes
    from consecutive as c
    where c.prev_ticket_no <> c.ticket_no
        and cast(c.prev_ended_at as date) = c.arrival_day
        and c.arrived_at >= c.prev_ended_at
),

short as (
    select
        g.engineer_id,
        g.arrival_day,
        g.ticket_no,
        min(g.gap_minutes) as gap_minutes,
        jsonb_agg(
            jsonb_build_object(
                'gap_minutes', round(g.gap_minutes, 2), 'previous_ticket_no', g.prev_ticket_no,
                'previous_end_id', g.prev_end_id, 'previous_ended_at', g.prev_ended_at,
                'arrival_id', g.arrival_id, 'arrived_at', g.arrived_at
            )
            order by g.arrived_at
        ) as gaps
    from gaps as g
    cross join params as pr
    where g.gap_minutes < pr.min_gap_minutes
    group by g.engineer_id, g.arrival_day, g.ticket_no
),

final as (
    select
        w.region,
        s.ticket_no,
        s.engineer_id,
        s.arrival_day as day,
        jsonb_build_object('gap_minutes', round(s.gap_minutes, 2), 'gaps', s.gaps) as details
    from short as s
    left join netcare_workorders as w on w.ticket_no = s.ticket_no
)

select * from final
