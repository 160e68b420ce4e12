import 'primeicons/primeicons.css'
import 'virtual:primevue-theme.css'

import { createPinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ConfirmationService from 'primevue/confirmationservice'
import ToastService from 'primevue/toastservice'
import Tooltip from 'primevue/tooltip'
// After the PrimeVue modules, which each bring their part of the theme: the
// console's own CSS comes after the theme it overrides.
import './assets/main.css'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n, isLocale, loadLocale } from './i18n'
import { primeLocales } from './i18n/primevue'
import { followSession, makeRouter } from './router'
import { usePreferencesStore } from './stores/preferences'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
const locale = i18n.global.locale.value
// The theme's CSS is made at build time (build/primevueTheme.ts); 'none'
// keeps PrimeVue from making it again in the browser.
app.use(PrimeVue, {
  theme: 'none',
  locale: primeLocales[isLocale(locale) ? locale : 'ru'],
})
app.use(ToastService)
app.use(ConfirmationService)
app.directive('tooltip', Tooltip)

usePreferencesStore()
const router = makeRouter()
app.use(router)
followSession(router)

// The language this browser starts in: in the entry if Russian, else fetched
// first. (A top-level await here would make the bundler split the entry into
// many small files.)
void loadLocale(isLocale(locale) ? locale : 'ru').finally(() => app.mount('#app'))
