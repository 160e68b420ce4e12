// The console's language. Before login it is remembered in this browser;
// once signed in the user's profile decides, and a change is saved there so
// it follows the user to another computer.

import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { i18n, initialLocale, isLoaded, isLocale, loadLocale, rememberLocale, type Locale } from '@/i18n'
import { useAuthStore } from './auth'

export const usePreferencesStore = defineStore('preferences', () => {
  const auth = useAuthStore()
  const locale = ref<Locale>(isLocale(i18n.global.locale.value) ? i18n.global.locale.value : initialLocale())

  function apply(next: Locale): void {
    locale.value = next
    i18n.global.locale.value = next
    rememberLocale(next)
    if (globalThis.document) document.documentElement.lang = next
  }

  /** Switches the language; a signed-in user's profile keeps the choice. */
  async function setLocale(next: Locale): Promise<void> {
    await loadLocale(next)
    const before = locale.value
    apply(next)
    if (!auth.isAuthenticated || !auth.me) return
    try {
      await auth.updateProfile({ language: next }, ['language'])
    } catch (e) {
      apply(before)
      throw e
    }
  }

  // A user who has chosen a language before gets it on sign-in.
  watch(
    () => auth.me,
    (me) => {
      const saved = me?.profile?.language || me?.user?.language
      if (!isLocale(saved) || saved === locale.value) return
      if (isLoaded(saved)) apply(saved)
      // Its messages first; if they cannot be fetched, the language stays as it is.
      else
        loadLocale(saved).then(
          () => apply(saved),
          () => {},
        )
    },
    { immediate: true },
  )

  apply(locale.value)
  return { locale, setLocale }
})
