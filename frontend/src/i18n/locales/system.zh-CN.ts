/** 简体中文 messages of the system pages (t('system.…')); en counterpart: system.en.ts with the same keys. */
const system = {
  title: '系统管理',
}

export default system
