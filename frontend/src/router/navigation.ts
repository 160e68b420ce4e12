// The sidebar's entries. Who sees an entry follows the permissions of the
// route it opens, so the menu and the guard never disagree.

import type { Router } from 'vue-router'
import { requiredPermissions } from './guard'

export interface NavItem {
  name: string
  label: string
  icon: string
}

export interface NavSection {
  title?: string
  items: NavItem[]
}

export const NAVIGATION: NavSection[] = [
  {
    items: [
      { name: 'home', label: 'nav.home', icon: 'pi pi-home' },
      { name: 'customers', label: 'nav.customers', icon: 'pi pi-users' },
      { name: 'connection-new', label: 'nav.connection', icon: 'pi pi-plus-circle' },
      { name: 'tasks', label: 'nav.tasks', icon: 'pi pi-list-check' },
      { name: 'board', label: 'nav.board', icon: 'pi pi-objects-column' },
      { name: 'visits', label: 'nav.visits', icon: 'pi pi-calendar' },
      { name: 'reports', label: 'nav.reports', icon: 'pi pi-chart-bar' },
    ],
  },
  {
    title: 'nav.settings',
    items: [
      { name: 'tariffs', label: 'nav.tariffs', icon: 'pi pi-wallet' },
      { name: 'routes', label: 'nav.routes', icon: 'pi pi-directions' },
      { name: 'users', label: 'nav.users', icon: 'pi pi-id-card' },
      { name: 'groups', label: 'nav.groups', icon: 'pi pi-sitemap' },
      { name: 'roles', label: 'nav.roles', icon: 'pi pi-shield' },
      { name: 'calendars', label: 'nav.calendars', icon: 'pi pi-calendar-clock' },
      { name: 'customer-messages', label: 'nav.customerMessages', icon: 'pi pi-comments' },
      { name: 'api-tokens', label: 'nav.apiTokens', icon: 'pi pi-key' },
      { name: 'webhooks', label: 'nav.webhooks', icon: 'pi pi-send' },
      { name: 'imports', label: 'nav.imports', icon: 'pi pi-upload' },
      { name: 'audit', label: 'nav.audit', icon: 'pi pi-history' },
    ],
  },
]

/** The sections and entries a user with `can` may open. */
export function visibleNavigation(router: Router, can: (...perms: string[]) => boolean, sections = NAVIGATION): NavSection[] {
  return sections
    .map((s) => ({ ...s, items: s.items.filter((it) => can(...requiredPermissions(router.resolve({ name: it.name })))) }))
    .filter((s) => s.items.length > 0)
}
