// Contracts' calls: one by id, a customer's contracts, and the new-connection
// wizard's single call (customer + tariff + contract + connection task).
// Plain functions: nothing read here is shared between screens.

import { api, ok, type Connection, type Contract, type Customer, type Phone, type TariffRequirements } from '@/api/client'

export interface ConnectionRequest {
  /** A new customer with phones, or customerId of a registered one. */
  customer?: Customer & { phones: Phone[] }
  customerId?: string
  tariffId?: string
  requirements?: TariffRequirements
  address: string
}

export const CONTRACTS_PAGE_SIZE = 50

export async function get(id: string): Promise<Contract> {
  return ok(api.GET('/api/v1/contracts/{id}', { params: { path: { id } } }))
}

/** A page of a customer's contracts, newest first. */
export async function ofCustomer(customerId: string, pageToken = ''): Promise<{ items: Contract[]; nextPageToken?: string }> {
  const res = await ok(api.GET('/api/v1/contracts', { params: { query: { customerId, pageSize: CONTRACTS_PAGE_SIZE, pageToken: pageToken || undefined } } }))
  return { items: res.contracts ?? [], nextPageToken: res.nextPageToken }
}

export async function connect(req: ConnectionRequest): Promise<Connection> {
  return ok(api.POST('/api/v1/connections', { body: req }))
}
