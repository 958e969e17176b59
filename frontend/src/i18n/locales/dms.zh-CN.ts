/** 简体中文 messages of the scheduling pages (t('dms.…')); en counterpart: dms.en.ts with the same keys. */
const dms = {
  nav: {
    week: '排班表',
    templates: '排班模板',
    attendance: '出诊统计',
  },
}

/** Messages of the error codes DMS sends (merged into `errors` by zh-CN.ts). */
export const dmsErrors = {}

export default dms
