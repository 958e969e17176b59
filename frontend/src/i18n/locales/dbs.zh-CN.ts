/** 简体中文 messages of the dbs pages (t('dbs.…')); en counterpart: dbs.en.ts with the same keys. */
const dbs = {
  title: '数据中心',
}

export default dbs
