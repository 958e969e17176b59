/** English messages of the outpatient pages; same keys as oms.zh-CN.ts. */
import type omsZh from './oms.zh-CN'
import type { omsErrors as omsErrorsZh } from './oms.zh-CN'

const oms: typeof omsZh = {
  nav: {
    registration: 'Registration',
    prescriptions: 'Prescriptions',
    item_orders: 'Item orders',
    item_payments: 'Item payments',
    drug_payments: 'Drug payments',
    exams: 'Exams',
    patients: 'Patients',
    patient_detail: 'Patient',
    daily_summary: 'Daily summary',
  },
}

export const omsErrors: typeof omsErrorsZh = {}

export default oms
