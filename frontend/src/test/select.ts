// A PrimeVue Select's overlay is rendered into the body, outside the
// mounted component: tests find its options there.
import { expect, vi } from 'vitest'

/** The open Select's option that reads `text`, once the overlay shows it. */
export function option(text: string): Promise<HTMLElement> {
  return vi.waitFor(() => {
    const o = [...document.body.querySelectorAll<HTMLElement>('[role=option]')].find((el) => el.textContent?.includes(text))
    expect(o).toBeDefined()
    return o!
  })
}
