/** English messages of the system pages; same keys as system.zh-CN.ts (enforced by the type). */
import type systemZhCN from './system.zh-CN'

const system: typeof systemZhCN = {
  title: 'System administration',
}

export default system
