// A stand-in for PrimeVue's useConfirm: the layout's dialog is not mounted
// in unit tests, so every confirmation is answered yes and kept in `asked`.
//   vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))

export interface Asked {
  header?: string
  message?: string
  accept?: () => void
}

export const asked: Asked[] = []

export function useConfirm() {
  return {
    require(o: Asked): void {
      asked.push(o)
      o.accept?.()
    },
    close(): void {},
  }
}
