import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { mockApi } from '@/test/mockApi'
import { useUsersStore } from './users'

describe('the users store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('puts a user in exactly the groups chosen: joins new ones, leaves the others', async () => {
    const { calls } = mockApi({
      'POST /api/v1/groups/{group_id}/members': () => ({}),
      'DELETE /api/v1/groups/{group_id}/members/{user_id}': () => ({}),
      'GET /api/v1/users/{id}': () => ({ id: '4', login: 'olga', groupIds: ['2', '3'] }),
    })
    await useUsersStore().setGroups({ id: '4', login: 'olga', groupIds: ['1', '2'] }, ['2', '3'])
    const changes = calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)
    expect(changes.sort()).toEqual(['DELETE /api/v1/groups/1/members/4', 'POST /api/v1/groups/3/members'])
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ userId: '4' })
  })

  it('asks nothing when the groups did not change', async () => {
    const { calls } = mockApi({})
    await useUsersStore().setGroups({ id: '4', groupIds: ['1'] }, ['1'])
    expect(calls).toHaveLength(0)
  })
})
