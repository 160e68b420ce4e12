import 'primeicons/primeicons.css'
import 'virtual:primevue-theme.css'

import { createPinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ConfirmationService from 'primevue/confirmationservice'
import ToastService from 'primevue/toastservice'
// After the PrimeVue modules, which each bring their part of the theme: the
// console's own CSS comes after the theme it overrides.
import './assets/main.css'
import { createApp } from 'vue'
import { loadRouteLocation } from 'vue-router'
import App from './App.vue'
import { i18n, isLocale, loadLocale, profileLocale, type Locale } from './i18n'
import { primeLocales } from './i18n/primevue'
import { followSession, makeRouter } from './router'
import { useAuthStore } from './stores/auth'
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

usePreferencesStore()
const router = makeRouter()
app.use(router)
followSession(router)
// Signed in, the first screen's code is fetched while /auth/me is asked, not
// after the guard has the answer: on a phone that is a round trip less
// before the home page shows. (A failure shows in the navigation itself.)
if (useAuthStore().isAuthenticated) loadRouteLocation(router.resolve(router.options.history.location)).catch(() => {})

/**
 * The first screen's language, fetched before the app mounts unless it is
 * Russian (in the entry). Signed in, the profile's: the guard waits for
 * /auth/me before showing any screen, so waiting for it here costs nothing
 * and fetches no language this browser last used only for the profile to
 * overrule it. Else the one this browser starts in.
 */
async function firstLocale(): Promise<Locale> {
  const auth = useAuthStore()
  if (auth.isAuthenticated) {
    try {
      await auth.ensureMe()
    } catch {
      // The guard sends the user to sign in, or the shell shows the error.
    }
    const saved = profileLocale(auth.me)
    if (saved) return saved
  }
  return isLocale(locale) ? locale : 'ru'
}

// (A top-level await here would make the bundler split the entry into many
// small files.)
void firstLocale()
  .then(loadLocale)
  .finally(() => app.mount('#app'))
