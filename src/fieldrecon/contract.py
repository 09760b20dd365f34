"""The input contract (shared/spec/extracts.md) as data: one place per source.

Every loader, validator and staging model reads its column map, types, required columns,
enum lists and key from here; when a real export differs, this file changes, not the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    header: str  # Chinese header exactly as exported
    name: str  # canonical warehouse name
    type: str  # text | enum | decimal | int | datetime | date | time | bool
    required: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str
    title_zh: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # extra row checks "<column>:<kind>", kind: lng | lat | hours (ranges), not_after_extract
    # (not after the end of the extract's date), non_negative (rulebook, Shared definitions)
    checks: tuple[str, ...] = field(default=())

    @property
    def by_header(self) -> dict[str, Column]:
        return {c.header: c for c in self.columns}

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def C(header, name, type_="text", req=False, enum=""):
    return Column(header, name, type_, req, tuple(enum.split()) if enum else ())


TICKET_TYPES = "现场问题处理 巡检 整改 单次现场服务 事件值守 高级软件现场支持 驻场 POC"

SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source(
            "netcare_workorders",
            "工单",
            ("ticket_no",),
            (
                C("工单号", "ticket_no", req=True),
                C("工单类型", "ticket_type", "enum", True, TICKET_TYPES),
                C("工单状态", "status", "enum", True, "待派发 已派发 履行中 待审核 已关闭 已取消 已驳回"),
                C("服务级别", "sla_class", "enum", enum="小时级 非小时级"),
                C("产品线", "product_line"),
                C("区域", "region", req=True),
                C("客户名称", "customer_name", req=True),
                C("局点地址", "site_address"),
                C("局点经度", "site_lng", "decimal"),
                C("局点纬度", "site_lat", "decimal"),
                C("是否涉密", "classified", "bool"),
                C("合同号", "contract_no"),
                C("创建时间", "created_at", "datetime", True),
                C("MSD派单时间", "msd_dispatched_at", "datetime"),
                C("FSIP派发时间", "fsip_dispatched_at", "datetime"),
                C("要求到达时间", "required_arrival_at", "datetime"),
                C("预约到达时间", "appointment_at", "datetime"),
                C("FSE工号", "engineer_id"),
                C("FSE姓名", "engineer_name"),
                C("派单人天", "dispatched_person_days", "decimal"),
                C("授权开始时间", "auth_start_at", "datetime"),
                C("授权结束时间", "auth_end_at", "datetime"),
                C("关单申请时间", "close_requested_at", "datetime"),
                C("关单时间", "closed_at", "datetime"),
                C("PO号", "po_no"),
            ),
            checks=("site_lng:lng", "site_lat:lat"),
        ),
        Source(
            "netcare_punches",
            "打卡记录",
            ("punch_id",),
            (
                C("打卡记录ID", "punch_id", req=True),
                C("工单号", "ticket_no", req=True),
                C("工号", "engineer_id", req=True),
                C("姓名", "engineer_name"),
                C("打卡类型", "punch_type", "enum", True, "出发 到达 开始 暂停 离场 完成 验证 倒回"),
                C("打卡时间", "punched_at", "datetime", True),
                C("经度", "lng", "decimal"),
                C("纬度", "lat", "decimal"),
                C("打卡地址", "punch_address"),
                C("打卡方式", "method", "enum", enum="APP 人脸识别"),
            ),
            checks=("lng:lng", "lat:lat", "punched_at:not_after_extract"),
        ),
        Source(
            "timesheet_entries",
            "工时填报",
            ("entry_id",),
            (
                C("填报ID", "entry_id", req=True),
                C("工号", "engineer_id", req=True),
                C("姓名", "engineer_name"),
                C("工作日期", "work_date", "date", True),
                C("工单号", "ticket_no"),
                C("PO号", "po_no"),
                C("项目编码", "project_code"),
                C("工时", "hours", "decimal", True),
                C("工作类型", "work_kind", "enum", enum="现场 远程 差旅 培训 其他"),
                C("工作内容", "work_note"),
                C("审批状态", "approval", "enum", True, "草稿 已提交 已审批 已驳回"),
                C("填报时间", "filed_at", "datetime"),
            ),
            checks=("hours:hours", "work_date:not_after_extract"),
        ),
        Source(
            "timesheet_engineers",
            "人员",
            ("engineer_id",),
            (
                C("工号", "engineer_id", req=True),
                C("姓名", "engineer_name", req=True),
                C("区域", "region", req=True),
                C("产品线", "product_line"),
                C("技能等级", "skill_level"),
                C("手机号", "phone"),
                C("在职状态", "employment", "enum", enum="在职 离职"),
            ),
        ),
        Source(
            "isc_po_lines",
            "PO 行",
            ("po_no", "po_line_no"),
            (
                C("PO号", "po_no", req=True),
                C("PO行号", "po_line_no", "int", True),
                C("合同号", "contract_no"),
                C("服务类型", "service_type", "enum", True, "维保 驻场 巡检 整改 单次 交付 POC 用云支持"),
                C("物料描述", "item_desc"),
                C("区域", "region", req=True),
                C("客户名称", "customer_name"),
                C("数量", "quantity", "decimal", True),
                C("单位", "unit", "enum", enum="月 人天 台 次 项"),
                C("单价", "unit_price", "decimal"),
                C("行金额", "line_amount", "decimal", True),
                C("税率", "tax_rate", "decimal"),
                C("服务开始日期", "service_start", "date"),
                C("服务结束日期", "service_end", "date"),
                C("PO下发日期", "issued_on", "date", True),
                C("PO状态", "po_status", "enum", True, "已下发 已接收 部分验收 已验收 已关闭 已取消"),
                C("关联工单号", "ticket_refs"),
            ),
            checks=("quantity:non_negative", "unit_price:non_negative", "line_amount:non_negative"),
        ),
        Source(
            "isc_acceptances",
            "验收记录",
            ("acceptance_no",),
            (
                C("验收单号", "acceptance_no", req=True),
                C("PO号", "po_no", req=True),
                C("PO行号", "po_line_no", "int", True),
                C("验收周期开始", "period_start", "date"),
                C("验收周期结束", "period_end", "date"),
                C("验收数量", "quantity", "decimal"),
                C("验收金额", "amount", "decimal", True),
                C("提交日期", "submitted_on", "date"),
                C("审批状态", "approval", "enum", True, "草稿 审批中 已通过 已驳回"),
                C("审批日期", "decided_on", "date"),
                C("驳回原因", "reject_reason"),
                C("备注", "remark"),
            ),
            checks=("quantity:non_negative", "amount:non_negative"),
        ),
        Source(
            "netcare_rfcs",
            "变更单",
            ("rfc_no",),
            (
                C("RFC单号", "rfc_no", req=True),
                C("标题", "title"),
                C("状态", "status", "enum", True, "草稿 PM审批 PSE评审 客户审批 实施 完成 完成失败 取消 超期关闭"),
                C("风险分值", "risk_score", "int"),
                C("风险等级", "risk_level", "enum", enum="Low Medium High Fatal"),
                C("区域", "region", req=True),
                C("客户名称", "customer_name"),
                C("提交时间", "submitted_at", "datetime", True),
                C("PM审批完成时间", "pm_approved_at", "datetime"),
                C("计划开始时间", "planned_start_at", "datetime"),
                C("计划完成时间", "planned_end_at", "datetime"),
                C("方案审核通过时间", "plan_approved_at", "datetime"),
                C("延期审批状态", "extension", "enum", enum="无 审批中 已通过 已驳回"),
                C("延期审批时间", "extension_decided_at", "datetime"),
                C("回溯提交时间", "retro_submitted_at", "datetime"),
            ),
        ),
        Source(
            "netcare_rfc_tasks",
            "变更任务",
            ("task_no",),
            (
                C("任务单号", "task_no", req=True),
                C("RFC单号", "rfc_no", req=True),
                C("任务状态", "status", "enum", True, "未开始 准备 实施中 完成 完成失败 取消"),
                C("实施人工号", "implementer_id"),
                C("保障人工号", "guarantor_id"),
                C("授权开始时间", "auth_start_at", "datetime"),
                C("授权结束时间", "auth_end_at", "datetime"),
                C("实际开始时间", "started_at", "datetime"),
                C("验证时间", "verified_at", "datetime"),
                C("实际完成时间", "completed_at", "datetime"),
                C("保障人完成时间", "guarantor_completed_at", "datetime"),
            ),
        ),
        Source(
            "netcare_resident_attendance",
            "驻场考勤",
            ("ticket_no", "engineer_id", "work_date"),
            (
                C("工单号", "ticket_no", req=True),
                C("工号", "engineer_id", req=True),
                C("姓名", "engineer_name"),
                C("考勤日期", "work_date", "date", True),
                C("班次上班", "shift_start", "time", True),
                C("班次下班", "shift_end", "time", True),
                C("上班打卡", "clock_in_at", "datetime"),
                C("下班打卡", "clock_out_at", "datetime"),
                C("请假类型", "leave_type", "enum", enum="事假 病假 年假 调休 婚假 产假 陪产假 丧假 育儿假 加班"),
                C("请假审批状态", "leave_approval", "enum", enum="审批中 已通过 已驳回"),
                C("异常电子流状态", "exception_flow", "enum", enum="无 审批中 已通过 已驳回"),
                C("异常电子流审批时间", "exception_decided_at", "datetime"),
            ),
        ),
        Source(
            "netcare_attachments",
            "工单附件",
            ("ticket_no", "kind", "file_name"),
            (
                C("工单号", "ticket_no", req=True),
                C(
                    "附件类型",
                    "kind",
                    "enum",
                    True,
                    "现场技术服务报告 信息收集包 健康检查报告 TD审批邮件 巡检完成证明 整改清单 "
                    "整改前信息采集包 整改后信息采集包 单次人天日报 驻场服务交付报告 售前测试报告 其他",
                ),
                C("文件名", "file_name", req=True),
                C("上传时间", "uploaded_at", "datetime"),
                C("上传人", "uploaded_by"),
            ),
        ),
    ]
}

# PostgreSQL type of each contract type, used by the staging DDL and the typed COPY.
PG_TYPES = {
    "text": "text",
    "enum": "text",
    "decimal": "numeric",
    "int": "integer",
    "datetime": "timestamp",
    "date": "date",
    "time": "time",
    "bool": "boolean",
}

# The closing attachments each ticket type requires (rulebook parts 3–7, "关单附件"), in the order
# the 核对单 lists them. AT-01 reads them from ref.required_attachments (warehouse.reference writes
# it from this every run), the packs from here; every kind is one of netcare_attachments' 附件类型.
REQUIRED_ATTACHMENTS: dict[str, tuple[str, ...]] = {
    "巡检": ("信息收集包", "健康检查报告", "TD审批邮件", "现场技术服务报告"),
    "整改": ("现场技术服务报告", "整改清单", "整改前信息采集包", "整改后信息采集包"),
    "单次现场服务": ("现场技术服务报告", "单次人天日报"),
    "事件值守": ("现场技术服务报告", "单次人天日报"),
    "高级软件现场支持": ("现场技术服务报告", "单次人天日报"),
    "现场问题处理": ("现场技术服务报告",),
    "驻场": ("驻场服务交付报告",),
    "POC": ("售前测试报告",),
}
