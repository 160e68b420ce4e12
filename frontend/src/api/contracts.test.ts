import { describe, expect, it } from 'vitest'
import * as contractsApi from '@/api/contracts'
import { mockApi, rpcError } from '@/test/mockApi'

describe('the contracts calls', () => {
  it('lists a customer’s contracts page by page', async () => {
    const { calls } = mockApi({ 'GET /api/v1/contracts': () => ({ contracts: [{ id: '3', number: 'C-000003' }], nextPageToken: 'n' }) })
    const page = await contractsApi.ofCustomer('5', 'p')
    expect(page.items.map((c) => c.number)).toEqual(['C-000003'])
    expect(Object.fromEntries(calls[0]!.query)).toEqual({ customerId: '5', pageSize: '50', pageToken: 'p' })
  })

  it('connects in one call and answers the customer, contract and task', async () => {
    const { calls } = mockApi({
      'POST /api/v1/connections': () => ({
        customer: { id: '5' },
        contract: { id: '3', status: 'CONTRACT_STATUS_PENDING' },
        task: { id: '9', number: 'T-000009' },
      }),
    })
    const res = await contractsApi.connect({ customerId: '5', tariffId: '1', address: 'Arbat 10' })
    expect(calls[0]?.body).toEqual({ customerId: '5', tariffId: '1', address: 'Arbat 10' })
    expect(res.task?.number).toBe('T-000009')
  })

  it('passes the server’s field errors on', async () => {
    mockApi({ 'POST /api/v1/connections': () => rpcError(400, 3, 'the service address is empty', { fields: { address: 'the service address is empty' } }) })
    await expect(contractsApi.connect({ customerId: '5', tariffId: '1', address: '' })).rejects.toMatchObject({
      fieldErrors: { address: 'the service address is empty' },
    })
  })
})
