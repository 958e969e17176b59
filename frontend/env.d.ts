/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Minutes without user activity before the UI signs out (default 30). localStorage['hap.idleMinutes'] overrides it. */
  readonly VITE_IDLE_MINUTES?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
