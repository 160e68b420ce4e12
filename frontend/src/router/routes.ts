import type { RouteRecordRaw } from 'vue-router'

// Every screen, the shell included, is its own chunk: the sign-in page
// then loads no part of the signed-in console, and the entry stays small.
const AppShell = () => import('@/components/layout/AppShell.vue')

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  {
    path: '/',
    component: AppShell,
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeView.vue'), meta: { title: 'nav.home' } },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/views/customers/CustomersView.vue'),
        meta: { permissions: ['customers.read'], title: 'nav.customers' },
      },
      {
        path: 'customers/new',
        name: 'customer-new',
        component: () => import('@/views/customers/CustomerNewView.vue'),
        meta: { permissions: ['customers.read', 'customers.write'], title: 'customers.new.title' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer',
        component: () => import('@/views/customers/CustomerDetailView.vue'),
        props: true,
        meta: { permissions: ['customers.read'], title: 'customers.detail.title' },
      },
      {
        path: 'connections/new',
        name: 'connection-new',
        component: () => import('@/views/connections/NewConnectionView.vue'),
        meta: { permissions: ['customers.read', 'contracts.read', 'contracts.write'], title: 'wizard.title' },
      },
      {
        path: 'contracts/:id(\\d+)',
        name: 'contract',
        component: () => import('@/views/contracts/ContractDetailView.vue'),
        props: true,
        meta: { permissions: ['contracts.read'], title: 'contracts.detail.title' },
      },
      {
        path: 'tasks',
        name: 'tasks',
        component: () => import('@/views/tasks/TasksView.vue'),
        meta: { permissions: ['tasks.read'], title: 'nav.tasks' },
      },
      {
        path: 'tasks/:id(\\d+)',
        name: 'task',
        component: () => import('@/views/tasks/TaskDetailView.vue'),
        props: true,
        meta: { permissions: ['tasks.read'], title: 'tasks.detail.title' },
      },
      {
        path: 'visits',
        name: 'visits',
        component: () => import('@/views/visits/VisitsView.vue'),
        meta: { permissions: ['tasks.read'], title: 'nav.visits' },
      },
      {
        path: 'reports',
        name: 'reports',
        component: () => import('@/views/ReportsView.vue'),
        meta: { permissions: ['tasks.manage'], title: 'nav.reports' },
      },
      {
        path: 'board/:routeId(\\d+)?',
        name: 'board',
        component: () => import('@/views/tasks/TaskBoardView.vue'),
        props: true,
        meta: { permissions: ['tasks.read', 'settings.read'], title: 'nav.board' },
      },
      {
        path: 'settings/tariffs',
        name: 'tariffs',
        component: () => import('@/views/settings/TariffsView.vue'),
        meta: { permissions: ['settings.read', 'contracts.read'], title: 'nav.tariffs' },
      },
      {
        path: 'settings/routes/:id(\\d+|new)?',
        name: 'routes',
        component: () => import('@/views/settings/RoutesView.vue'),
        props: true,
        meta: { permissions: ['settings.read'], title: 'nav.routes' },
      },
      {
        path: 'settings/users',
        name: 'users',
        component: () => import('@/views/settings/UsersView.vue'),
        meta: { permissions: ['users.manage'], title: 'nav.users' },
      },
      {
        path: 'settings/groups/:id(\\d+)?',
        name: 'groups',
        component: () => import('@/views/settings/GroupsView.vue'),
        props: true,
        meta: { permissions: ['settings.read'], title: 'nav.groups' },
      },
      {
        path: 'settings/roles',
        name: 'roles',
        component: () => import('@/views/settings/RolesView.vue'),
        meta: { permissions: ['settings.read'], title: 'nav.roles' },
      },
      {
        path: 'settings/calendars',
        name: 'calendars',
        component: () => import('@/views/settings/CalendarsView.vue'),
        meta: { permissions: ['settings.read'], title: 'nav.calendars' },
      },
      {
        path: 'settings/customer-messages',
        name: 'customer-messages',
        component: () => import('@/views/settings/CustomerMessagesView.vue'),
        meta: { permissions: ['settings.read'], title: 'nav.customerMessages' },
      },
      {
        path: 'settings/api-tokens',
        name: 'api-tokens',
        component: () => import('@/views/settings/ApiTokensView.vue'),
        meta: { permissions: ['users.manage', 'settings.read'], title: 'nav.apiTokens' },
      },
      {
        path: 'settings/webhooks',
        name: 'webhooks',
        component: () => import('@/views/settings/WebhooksView.vue'),
        meta: { permissions: ['integrations.manage'], title: 'nav.webhooks' },
      },
      {
        path: 'settings/imports',
        name: 'imports',
        component: () => import('@/views/settings/ImportsView.vue'),
        meta: { permissions: ['imports.run'], title: 'nav.imports' },
      },
      {
        path: 'settings/audit',
        name: 'audit',
        component: () => import('@/views/settings/AuditView.vue'),
        meta: { permissions: ['users.manage'], title: 'nav.audit' },
      },
      { path: 'profile', name: 'profile', component: () => import('@/views/ProfileView.vue'), meta: { title: 'nav.profile' } },
      { path: 'forbidden', name: 'forbidden', component: () => import('@/views/ForbiddenView.vue'), meta: { title: 'errors.forbiddenTitle' } },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { title: 'errors.notFoundTitle' } },
    ],
  },
]
