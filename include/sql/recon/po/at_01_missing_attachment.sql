-- rule: AT-01
-- severity: error
-- title: 关单附件缺失
-- explain: 已关闭工单缺少其工单类型要求的关单附件（如巡检缺健康检查报告），验收材料不完整会被驳回。
-- clause: 第3–7部分 关单附件
-- The required kinds per ticket type: ref.required_attachments (contract.REQUIRED_ATTACHMENTS, the
-- same definition the packs' 核对单 lists).
with missing as (
    select
        w.ticket_no,
        w.region,
        w.ticket_type,
        array_agg(q.kind order by q.kind) as missing_kinds
    from netcare_workorders as w
    inner join ref.required_attachments as q on q.ticket_type = w.ticket_type
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
