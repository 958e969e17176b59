/** English messages of the dbs pages; same keys as dbs.zh-CN.ts (enforced by the type). */
import type dbsZhCN from './dbs.zh-CN'

const dbs: typeof dbsZhCN = {
  title: 'Data center',
}

export default dbs
