/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Minutes without user activity before the UI signs out (default 30). localStorage['hap.idleMinutes'] overrides it. */
  readonly VITE_IDLE_MINUTES?: string
  /** The hospital's name on printed receipts and summaries (default: the platform's name). */
  readonly VITE_HOSPITAL_NAME?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
