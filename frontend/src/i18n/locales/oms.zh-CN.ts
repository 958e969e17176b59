/** 简体中文 messages of the outpatient pages (t('oms.…')); en counterpart: oms.en.ts with the same keys. */
const oms = {
  nav: {
    registration: '用户挂号',
    prescriptions: '处方划价',
    item_orders: '项目划价',
    item_payments: '项目缴费',
    drug_payments: '药品缴费',
    exams: '项目检查',
    patients: '门诊患者库',
    patient_detail: '患者详情',
    daily_summary: '收费日结',
  },
}

/** Messages of the error codes OMS sends (merged into `errors` by zh-CN.ts). */
export const omsErrors = {}

export default oms
