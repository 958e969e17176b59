/**
 * Copies text to the clipboard. The Clipboard API exists only on secure origins (HTTPS, localhost); the
 * platform is often reached over plain HTTP on the intranet, so a hidden textarea + `execCommand('copy')` is the
 * fallback. Resolves false when neither works (the text stays visible and selectable for a manual copy).
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (globalThis.isSecureContext && globalThis.navigator?.clipboard) {
      await globalThis.navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // fall through to the legacy way
  }
  if (typeof document === 'undefined') return false
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  area.style.pointerEvents = 'none'
  document.body.appendChild(area)
  try {
    area.select()
    return typeof document.execCommand === 'function' && document.execCommand('copy')
  } catch {
    return false
  } finally {
    area.remove()
  }
}
