/**
 * `v-can="'datacenter:write'"` hides an element unless the signed-in user holds that permission
 * (`<archive>[:read|write]`, or `system` for super-admin-only controls). It follows grant changes live.
 * The element stays in the DOM but hidden (`display: none`, `hidden`); use `<Can perm="…">` (src/components/Can.vue)
 * to leave it out of the DOM entirely. Either way the server still decides.
 */
import { watchEffect, type Directive, type WatchStopHandle } from 'vue'

import { parsePermission } from '@/permissions'
import { useAuthStore } from '@/stores/auth'

const effects = new WeakMap<HTMLElement, { stop: WatchStopHandle; value: string }>()

function apply(el: HTMLElement, allowed: boolean): void {
  if (allowed) {
    el.style.removeProperty('display')
    el.removeAttribute('hidden')
  } else {
    el.style.setProperty('display', 'none')
    el.setAttribute('hidden', '')
  }
}

function allowed(value: string): boolean {
  const { scope, level } = parsePermission(value)
  return useAuthStore().can(scope, level)
}

function watch(el: HTMLElement, value: string): void {
  effects.get(el)?.stop()
  const stop = watchEffect(() => apply(el, allowed(value)), { flush: 'sync' })
  effects.set(el, { stop, value })
}

export const vCan: Directive<HTMLElement, string> = {
  mounted(el, binding) {
    watch(el, binding.value)
  },
  updated(el, binding) {
    // A re-render may have reset the element's style: apply again (and re-watch if the permission changed).
    if (effects.get(el)?.value !== binding.value) watch(el, binding.value)
    else apply(el, allowed(binding.value))
  },
  unmounted(el) {
    effects.get(el)?.stop()
    effects.delete(el)
  },
}

declare module 'vue' {
  interface ComponentCustomProperties {
    vCan: typeof vCan
  }
}
