/** One Element Plus icon per archive (sidebar and home cards). */
import { Box, Calendar, DataAnalysis, FirstAidKit, Grid, House, Suitcase } from '@element-plus/icons-vue'
import type { Component } from 'vue'

import type { Archive } from '@/permissions'

export const ARCHIVE_ICONS: Record<Archive, Component> = {
  outpatient: FirstAidKit,
  inpatient: House,
  statistics: DataAnalysis,
  datacenter: Grid,
  scheduling: Calendar,
  storage: Box,
  pharmacy: Suitcase,
}
