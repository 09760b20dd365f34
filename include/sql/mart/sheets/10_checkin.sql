-- sheet: 打卡核对
-- The check-in family's open findings of :business_date, readable for clerks. Titles repeat the
-- rule files' headers (the exports' explanation sheet carries the full explanation and clause);
-- PD-07 and PD-09 add the kind of problem. No phone numbers.
with titles (rule_code, title) as (
    values
    ('PD-01', '打卡人天与派单人天不符'),
    ('PD-02', '一人一单：非派单工程师打卡'),
    ('PD-03', '工单时间重叠'),
    ('PD-04', '前后工单间隔不足1小时'),
    ('PD-05', '打卡位置超出3公里或为空'),
    ('PD-06', '打卡超出授权时间窗'),
    ('PD-07', '跨天打卡或离场缺失'),
    ('PD-08', '工程师迟到'),
    ('PD-09', '工时填报与打卡不符'),
    ('POC-01', 'POC人天与派单人天不符'),
    ('DQ-01', '工单号不存在'),
    ('DQ-02', '局点缺少经纬度'),
    ('DQ-03', '工号不在人员主数据中')
),

kinds (kind, label) as (
    values
    ('punched_not_filed', '有打卡未填工时'),
    ('filed_not_punched', '填报现场工时但无打卡'),
    ('cross_day', '跨天结束'),
    ('open', '未离场'),
    ('orphan_leave', '离场无对应到达'),
    ('more', '打卡多于派单'),
    ('fewer', '打卡少于派单')
),

open_findings as (
    select f.*
    from recon.findings_as_of(cast(:business_date as date)) as f
    inner join titles as t on t.rule_code = f.rule_code
    where f.status = 'open'
),

final as (
    select
        f.rule_code as 规则,
        f.region as 区域,
        f.ticket_no as 工单号,
        f.engineer_id as 工程师工号,
        e.engineer_name as 工程师姓名,
        f.day as 日期,
        t.title || coalesce('（' || (
            select string_agg(coalesce(k.label, x.kind), '、' order by x.kind)
            from (
                select f.details ->> 'kind' as kind
                where f.details ->> 'kind' is not null
                union
                select jsonb_array_elements_text(case when jsonb_typeof(f.details -> 'kinds') = 'array'
                        then f.details -> 'kinds'
                    else '[]'::jsonb
                end)
            ) as x
            left join kinds as k on k.kind = x.kind
        ) || '）', '') as 问题,
        (
            select string_agg(d.key || '=' || d.value, '; ' order by d.key)
            from jsonb_each_text(f.details) as d
        ) as 证据,
        f.first_seen_as_of as 首次发现,
        case when f.is_new then '是' else '否' end as 是否新增
    from open_findings as f
    inner join titles as t on t.rule_code = f.rule_code
    left join timesheet_engineers as e on e.engineer_id = f.engineer_id
)

select * from final
order by 规则, 区域, 工单号, 工程师工号, 日期
