// Below 640 px a list's table turns into one card per row (main.css,
// .card-table): the header row is hidden, so each cell carries its
// column's title in data-label, shown before the value. This directive
// copies the header titles onto the cells whenever the table renders.

import type { Directive } from 'vue'

export function labelCells(root: HTMLElement): void {
  const table = root.matches('table') ? root : root.querySelector('table')
  if (!table) return
  const titles = [...table.querySelectorAll<HTMLTableCellElement>('thead tr:first-child > th')].map((th) => th.textContent?.trim() ?? '')
  for (const row of table.querySelectorAll<HTMLTableRowElement>('tbody > tr')) {
    const cells = [...row.cells]
    // A row that spans the table (the empty state, a loading row) has no columns.
    if (cells.length !== titles.length) continue
    cells.forEach((cell, i) => {
      const title = titles[i] ?? ''
      if (title) cell.dataset.label = title
      else delete cell.dataset.label
    })
  }
}

const observers = new WeakMap<HTMLElement, MutationObserver>()

export const vCardLabels: Directive<HTMLElement> = {
  mounted(el) {
    el.classList.add('card-table')
    labelCells(el)
    // Rows come and go (paging, a search) without the table being updated from outside.
    if (typeof MutationObserver === 'undefined') return
    const observer = new MutationObserver(() => labelCells(el))
    observer.observe(el, { childList: true, subtree: true })
    observers.set(el, observer)
  },
  updated(el) {
    labelCells(el)
  },
  unmounted(el) {
    observers.get(el)?.disconnect()
    observers.delete(el)
  },
}
