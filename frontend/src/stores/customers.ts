// Customers: the search the operator works with (kept while they open a
// customer and come back), and the calls that change a customer.

import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, ok, type Customer, type CustomerChannels, type CustomerMessage, type Phone } from '@/api/client'
import { usePagedList, type Page } from '@/composables/usePagedList'

export const SEARCH_PAGE_SIZE = 20
export const MESSAGES_PAGE_SIZE = 20

/** The editable fields of a customer (phones have their own calls). */
export type CustomerFields = Pick<Customer, 'kind' | 'name' | 'email' | 'address'>

export const useCustomersStore = defineStore('customers', () => {
  const query = ref('')
  const results = usePagedList<Customer>(async (pageToken) => {
    const res = await ok(
      api.GET('/api/v1/customers', {
        params: { query: { query: query.value.trim() || undefined, pageSize: SEARCH_PAGE_SIZE, pageToken: pageToken || undefined } },
      }),
    )
    return { items: res.customers ?? [], nextPageToken: res.nextPageToken }
  })

  /** Runs a new search (the first page); an empty query lists the newest customers. */
  async function search(q: string): Promise<void> {
    query.value = q
    await results.reload()
  }

  function remember(c: Customer): void {
    results.replace((it) => it.id === c.id, c)
  }

  /** Customers matching the text, for pickers (the search above stays as it is). */
  async function find(text: string, pageSize = 10): Promise<Customer[]> {
    const res = await ok(api.GET('/api/v1/customers', { params: { query: { query: text.trim() || undefined, pageSize } } }))
    return res.customers ?? []
  }

  async function get(id: string): Promise<Customer> {
    return ok(api.GET('/api/v1/customers/{id}', { params: { path: { id } } }))
  }

  async function create(c: CustomerFields & { phones: Phone[] }): Promise<Customer> {
    const created = await ok(api.POST('/api/v1/customers', { body: c }))
    if (results.loaded && !query.value.trim()) results.prepend(created)
    return created
  }

  /** Saves the named fields; etag refuses the change when someone else was first. */
  async function update(id: string, etag: string, fields: CustomerFields, mask: (keyof CustomerFields)[]): Promise<Customer> {
    // Only the fields named in the mask change; the others ride along unread.
    const body: Customer = { ...fields, name: fields.name ?? '', etag }
    const updated = await ok(
      api.PATCH('/api/v1/customers/{id}', {
        params: { path: { id }, query: { updateMask: mask.join(',') } },
        body,
      }),
    )
    remember(updated)
    return updated
  }

  async function addPhone(customerId: string, phone: Phone): Promise<Phone> {
    return ok(api.POST('/api/v1/customers/{customer_id}/phones', { params: { path: { customer_id: customerId } }, body: phone }))
  }

  async function removePhone(customerId: string, phoneId: string): Promise<void> {
    await ok(
      api.DELETE('/api/v1/customers/{customer_id}/phones/{phone_id}', {
        params: { path: { customer_id: customerId, phone_id: phoneId } },
      }),
    )
  }

  /** How the customer is reached: the linked chat, the SMS number and the opt-outs. */
  async function channels(customerId: string): Promise<CustomerChannels> {
    return ok(api.GET('/api/v1/customers/{customer_id}/channels', { params: { path: { customer_id: customerId } } }))
  }

  /** Records the customer's opt-outs; the answer is the channels as they are now. */
  async function setOptOuts(customerId: string, optOuts: { smsOptOut: boolean; telegramOptOut: boolean }): Promise<CustomerChannels> {
    return ok(api.PUT('/api/v1/customers/{customer_id}/channels', { params: { path: { customer_id: customerId } }, body: optOuts }))
  }

  /** One page of the messages sent to the customer, newest first. */
  async function messages(customerId: string, pageToken: string): Promise<Page<CustomerMessage>> {
    const res = await ok(
      api.GET('/api/v1/customers/{customer_id}/messages', {
        params: { path: { customer_id: customerId }, query: { pageSize: MESSAGES_PAGE_SIZE, pageToken: pageToken || undefined } },
      }),
    )
    return { items: res.messages ?? [], nextPageToken: res.nextPageToken }
  }

  return { query, results, search, find, get, create, update, addPhone, removePhone, remember, channels, setOptOuts, messages }
})
