-- rule: AT-01
-- severity: error
-- title: 关单附件缺失
-- explain: 已关闭工单缺少其工单类型要求的关单附件（如巡检缺健康检查报告），验收材料不完整会被驳回。
-- clause: 第3–7部分 关单附件
with required (ticket_type, kind) as (
    values
    ('巡检', '信息收集包'), ('巡检', '健康检查报告'), ('巡检', 'TD审批邮件'), ('巡检', '现场技术服务报告'),
    ('整改', '现场技术服务报告'), ('整改', '整改清单'), ('整改', '整改前信息采集包'), ('整改', '整改后信息采集包'),
    ('单次现场服务', '现场技术服务报告'), ('单次现场服务', '单次人天日报'),
    ('事件值守', '现场技术服务报告'), ('事件值守', '单次人天日报'),
    ('高级软件现场支持', '现场技术服务报告'), ('高级软件现场支持', '单次人天日报'),
    ('现场问题处理', '现场技术服务报告'),
    ('驻场', '驻场服务交付报告'),
    ('POC', '售前测试报告')
),

missing as (
    select
        w.ticket_no,
        w.region,
        w.ticket_type,
        array_agg(q.kind order by q.kind) as missing_kinds
    from netcare_workorders as w
    inner join required as q on q.ticket_type = w.ticket_type
    where w.status = '已关闭'
        and not exists (
            select 1 from netcare_attachments as a
            where a.ticket_no = w.ticket_no and a.kind = q.kind
        )
    group by w.ticket_no, w.region, w.ticket_type
),

final as (
    select
        m.region,
        m.ticket_no,
        jsonb_build_object('ticket_type', m.ticket_type, 'missing', m.missing_kinds) as details
    from missing as m
)

select * from final
