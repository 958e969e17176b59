/** English messages of the scheduling pages; same keys as dms.zh-CN.ts. */
import type dmsZh from './dms.zh-CN'
import type { dmsErrors as dmsErrorsZh } from './dms.zh-CN'

const dms: typeof dmsZh = {
  nav: {
    week: 'Duty schedule',
    templates: 'Schedule templates',
    attendance: 'Clinic attendance',
  },
}

export const dmsErrors: typeof dmsErrorsZh = {}

export default dms
