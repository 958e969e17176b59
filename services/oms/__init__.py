"""门诊管理 (OMS, outpatient): patients, registrations, pricing, payments and refunds, exams."""
