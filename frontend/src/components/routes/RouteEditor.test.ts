import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Route } from '@/api/client'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import RouteEditor from './RouteEditor.vue'
import { addProcess, type RouteDraft } from './routeDraft'

const GROUPS = [
  { id: '3', name: 'Installers' },
  { id: '5', name: 'Support' },
]
const REPAIR: Route = {
  id: '2',
  name: 'Repair',
  version: 4,
  contractEffect: 'CONTRACT_EFFECT_NONE',
  processes: [
    { id: '6', name: 'Diagnostics', groupId: '5', slaSeconds: '14400', position: 1 },
    { id: '7', name: 'Field repair', groupId: '3', slaSeconds: '86400', position: 2 },
  ],
  closeRules: [
    { kind: 'CLOSE_RULE_KIND_ROUTE_COMPLETED', outcome: 'TASK_STATE_CLOSED' },
    { kind: 'CLOSE_RULE_KIND_IDLE', processId: '7', idleSeconds: '259200', outcome: 'TASK_STATE_CLOSED' },
  ],
}

async function editor(route: Route | null = REPAIR, readonly = false) {
  const pinia = await signedIn()
  return mountWith(RouteEditor, { props: { route, groups: GROUPS, readonly }, pinia }).wrapper
}

describe('the route editor', () => {
  it('shows the version and the processes in order, with SLA in hours', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const w = await editor()
    expect(w.get('[data-testid=route-version]').text()).toContain('4')
    expect(w.findAll('[data-testid=process-name]').map((i) => (i.element as HTMLInputElement).value)).toEqual(['Diagnostics', 'Field repair'])
    expect(w.findAll('[data-testid=route-rule]')).toHaveLength(1)
    w.unmount()
  })

  it('saves the reordered processes as a new version of the one it was opened on', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/routes/{id}': (req) => ({ ...(req.body as Route), id: '2', version: 5 }),
    })
    const w = await editor()
    await w.findAll('[data-testid=process-down]')[0]!.trigger('click')
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.emitted('saved')?.[0]?.[0]).toMatchObject({ version: 5 }))
    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.query.get('expectedVersion')).toBe('4')
    const body = patch?.body as Route
    expect(body.processes?.map((p) => [p.id, p.name, p.slaSeconds])).toEqual([
      ['7', 'Field repair', '86400'],
      ['6', 'Diagnostics', '14400'],
    ])
    expect(body.closeRules).toEqual([{ kind: 'CLOSE_RULE_KIND_IDLE', processId: '7', idleSeconds: '259200', outcome: 'TASK_STATE_CLOSED' }])
    w.unmount()
  })

  it('switches a manual process to require a visit, on route No. 1 too, and sends it', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/routes/{id}': (req) => ({ ...(req.body as Route), version: 5 }),
    })
    const w = await editor({ ...REPAIR, connection: true })
    expect(w.findAll('[data-testid=process-visit]')).toHaveLength(2)
    await w.findAll('[data-testid=process-visit] input')[1]!.setValue(true)
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.emitted('saved')).toHaveLength(1))
    const body = calls.find((c) => c.method === 'PATCH')?.body as Route
    expect(body.processes?.map((p) => [p.name, p.kind, p.visit])).toEqual([
      ['Diagnostics', 'PROCESS_KIND_MANUAL', false],
      ['Field repair', 'PROCESS_KIND_MANUAL', true],
    ])
    w.unmount()
  })

  it('offers no visit switch for an automatic process', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const w = await editor({
      ...REPAIR,
      processes: [
        { id: '6', name: 'Wait a day', groupId: '5', position: 1, kind: 'PROCESS_KIND_AUTOMATIC', action: { kind: 'ACTION_KIND_WAIT', waitSeconds: '86400' } },
      ],
    })
    expect(w.find('[data-testid=process-visit]').exists()).toBe(false)
    w.unmount()
  })

  it('adds a process and a rule for it, named by its place', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/routes/{id}': (req) => ({ ...(req.body as Route), version: 5 }),
    })
    const w = await editor()
    const vm = w.vm as unknown as {
      draft: { processes: { key: number; name: string; groupId: string | null }[]; rules: { processKey: number | null; resolution: string }[] }
    }
    await w.get('[data-testid=process-add]').trigger('click')
    await w.findAll('[data-testid=process-name]')[2]!.setValue('Callback')
    vm.draft.processes[2]!.groupId = '5'
    await w.get('[data-testid=rule-add]').trigger('click')
    await w.findAll('[data-testid=rule-resolution]')[0]!.setValue('no_answer')
    vm.draft.rules[1]!.processKey = vm.draft.processes[2]!.key
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.emitted('saved')).toHaveLength(1))
    const body = calls.find((c) => c.method === 'PATCH')?.body as Route
    expect(body.processes?.[2]).toMatchObject({ id: '0', name: 'Callback', groupId: '5', slaSeconds: '0' })
    expect(body.closeRules?.[1]).toMatchObject({ kind: 'CLOSE_RULE_KIND_RESOLUTION', processId: '-3', resolution: 'no_answer' })
    w.unmount()
  })

  it('keeps an incomplete route on screen with the problems marked', async () => {
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const w = await editor()
    await w.findAll('[data-testid=process-name]')[1]!.setValue(' ')
    await w.get('[data-testid=process-add]').trigger('click')
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.get('[data-testid=route-error]').text()).toContain('Some fields need attention'))
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)
    expect(w.findAll('[data-testid=field-error]').map((e) => e.text())).toEqual(['Fill this in.', 'Fill this in.', 'Choose the group that works this process.'])
    w.unmount()
  })

  it('says so when someone else saved a newer version meanwhile', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/routes/{id}': () => rpcError(409, 10, 'route "Repair" was changed by someone else (now version 5); reload it and edit again'),
    })
    const w = await editor()
    await w.get('[data-testid=route-name]').setValue('Repair and replace')
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.get('[data-testid=route-stale]').text()).toContain('saved a newer version'))
    await w.get('[data-testid=route-reload]').trigger('click')
    expect(w.emitted('reload')).toHaveLength(1)
    w.unmount()
  })

  it('maps the server’s field errors onto the rows', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/routes/{id}': () => rpcError(400, 3, 'group 9 does not exist', { fields: { 'processes[1].groupId': 'group 9 does not exist' } }),
    })
    const w = await editor()
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.findAll('[data-testid=route-process]')[1]!.text()).toContain('group 9 does not exist'))
    w.unmount()
  })

  it('shows a reader the route without a way to save it', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => VIEWER_ME })
    const w = await editor(REPAIR, true)
    for (const id of ['route-save', 'process-add', 'process-up', 'process-remove', 'rule-add', 'rule-remove'])
      expect(w.find(`[data-testid=${id}]`).exists(), id).toBe(false)
    expect(w.get('[data-testid=route-name]').element.matches(':disabled')).toBe(true)
    w.unmount()
  })

  it('makes a process automatic and saves its action with the failure rule naming a new process by its place', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/routes/{id}': (req) => ({ ...(req.body as Route), id: '2', version: 5 }),
    })
    const w = await editor()
    const vm = w.vm as unknown as { draft: RouteDraft }
    const added = addProcess(vm.draft)
    added.name = 'Manual fix'
    added.groupId = '3'
    const auto = vm.draft.processes[1]!
    auto.automatic = true
    auto.action.kind = 'ACTION_KIND_CONTRACT'
    auto.action.operation = 'CONTRACT_OPERATION_CHANGE_TARIFF'
    auto.action.onFailure = 'FAILURE_RULE_GO_TO_PROCESS'
    auto.action.failureKey = added.key
    await flushPromises()
    expect(w.findAll('[data-testid=action-kind]')).toHaveLength(1)
    expect(w.findAll('[data-testid=action-failure-process]')).toHaveLength(1)
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.emitted('saved')).toHaveLength(1))
    const body = calls.find((c) => c.method === 'PATCH')?.body as Route
    expect(body.processes?.map((p) => p.kind)).toEqual(['PROCESS_KIND_MANUAL', 'PROCESS_KIND_AUTOMATIC', 'PROCESS_KIND_MANUAL'])
    expect(body.processes?.[1]?.action).toEqual({
      kind: 'ACTION_KIND_CONTRACT',
      contractOperation: 'CONTRACT_OPERATION_CHANGE_TARIFF',
      onFailure: 'FAILURE_RULE_GO_TO_PROCESS',
      failureProcessId: '-3',
    })
    expect(body.processes?.[0]?.action).toBeUndefined()
    w.unmount()
  })

  it('refuses an automatic process whose action lacks what it needs, before saving', async () => {
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const w = await editor()
    const vm = w.vm as unknown as { draft: RouteDraft; errors: Record<string, unknown> }
    const p = vm.draft.processes[0]!
    p.automatic = true
    p.action.kind = 'ACTION_KIND_WEBHOOK'
    p.action.url = 'ftp://example.org'
    vm.draft.processes[1]!.automatic = true
    vm.draft.processes[1]!.action.kind = 'ACTION_KIND_WAIT'
    await flushPromises()
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() =>
      expect(Object.keys((w.vm as unknown as { errors: Record<string, unknown> }).errors)).toEqual([
        'processes[0].action.webhookUrl',
        'processes[1].action.waitSeconds',
      ]),
    )
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)
    w.unmount()
  })

  it('reads an automatic process back with its action', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const route: Route = {
      ...REPAIR,
      processes: [
        REPAIR.processes![0]!,
        {
          id: '7',
          name: 'Notify',
          groupId: '3',
          position: 2,
          kind: 'PROCESS_KIND_AUTOMATIC',
          action: { kind: 'ACTION_KIND_NOTIFY_GROUP', groupId: '5', message: 'Bring a router', onFailure: 'FAILURE_RULE_GO_TO_PROCESS', failureProcessId: '6' },
        },
      ],
    }
    const w = await editor(route)
    const vm = w.vm as unknown as { draft: RouteDraft }
    const a = vm.draft.processes[1]!
    expect([a.automatic, a.action.kind, a.action.groupId, a.action.message, a.action.failureKey]).toEqual([
      true,
      'ACTION_KIND_NOTIFY_GROUP',
      '5',
      'Bring a router',
      vm.draft.processes[0]!.key,
    ])
    expect((w.get('[data-testid=action-message]').element as HTMLInputElement).value).toBe('Bring a router')
    w.unmount()
  })

  it('adds a follow-up on another service route, sends it, and shows the server’s refusal at its row', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/routes': () => ({
        routes: [{ id: '1', name: 'New connection', connection: true }, REPAIR, { id: '7', name: 'Welcome call' }],
      }),
      'PATCH /api/v1/routes/{id}': () =>
        rpcError(400, 3, 'route "Welcome call" opens follow-ups of its own', {
          fields: { 'followUps[0].routeId': 'route "Welcome call" opens follow-ups of its own' },
        }),
    })
    const w = await editor()
    expect(w.find('[data-testid=route-followups-none]').exists()).toBe(true)
    await w.get('[data-testid=followup-add]').trigger('click')
    const draft = (w.vm as unknown as { draft: RouteDraft }).draft
    // neither route No. 1 nor the route itself: only Welcome call is offered
    const offered = () => (w.vm as unknown as { followUpRouteOptions: { value: string }[] }).followUpRouteOptions.map((o) => o.value)
    await vi.waitFor(() => expect(offered()).toEqual(['7']))
    draft.followUps[0]!.routeId = '7'
    draft.followUps[0]!.title = 'Welcome call'
    await w.get('[data-testid=route-editor]').trigger('submit')
    await vi.waitFor(() => expect(w.get('[data-testid=route-followup]').text()).toContain('opens follow-ups of its own'))
    const body = calls.find((c) => c.method === 'PATCH')?.body as Route
    expect(body.followUps).toEqual([{ routeId: '7', afterSeconds: '604800', title: 'Welcome call', description: '' }])
    w.unmount()
  })
})
