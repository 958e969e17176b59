import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { vCan } from './directives/can'
import { i18n, setLocale, currentLocale } from './i18n'
import { createAppRouter } from './router'
import { connectSession } from './session'
import './styles/main.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
setLocale(currentLocale())

const router = createAppRouter()
connectSession(router)
app.use(router)
app.directive('can', vCan)

void router.isReady().then(() => app.mount('#app'))
