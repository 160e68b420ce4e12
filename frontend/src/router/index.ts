import { watch } from 'vue'
import { createRouter, createWebHistory, START_LOCATION, type Router } from 'vue-router'
import { i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { decide } from './guard'
import { routes } from './routes'

export function makeRouter(): Router {
  const router = createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes,
    // The first screen opens at the top already; scrolling there would have
    // the browser lay the page out inside the task that mounts it.
    scrollBehavior: (_to, from, saved) => saved ?? (from === START_LOCATION ? false : { top: 0 }),
  })

  router.beforeEach((to) => decide(to, useAuthStore()))

  router.afterEach((to) => {
    const key = [...to.matched].reverse().find((r) => r.meta.title)?.meta.title
    const title = key ? i18n.global.t(key) : ''
    document.title = title ? `${title} · CRM` : 'CRM'
  })

  return router
}

/**
 * When the session ends (logout, expiry, a 401), leave for the login screen;
 * when the server starts refusing everything until the password is changed
 * (an admin set a new one meanwhile), go to the profile's password form.
 */
export function followSession(router: Router): void {
  const auth = useAuthStore()
  watch(
    () => auth.mustChangePassword,
    (must) => {
      if (must && router.currentRoute.value.name !== 'profile') void router.replace({ name: 'profile', hash: '#password' })
    },
  )
  watch(
    () => auth.isAuthenticated,
    (signedIn) => {
      const current = router.currentRoute.value
      if (signedIn || current.matched.some((r) => r.meta.public)) return
      const redirect = auth.ended && current.fullPath !== '/' ? { redirect: current.fullPath } : undefined
      void router.replace({ name: 'login', query: redirect })
    },
  )
}
