import { describe, expect, it } from 'vitest'
import { labelCells } from './cardLabels'

describe('card labels', () => {
  it('puts each column title on its cells, and leaves rows that span the table alone', () => {
    const root = document.createElement('div')
    root.innerHTML = `<table>
      <thead><tr><th>Name</th><th>Phones</th><th></th></tr></thead>
      <tbody>
        <tr><td>Ivan</td><td>+7 912 345-67-89</td><td>open</td></tr>
        <tr><td colspan="3">Nothing found</td></tr>
      </tbody></table>`
    labelCells(root)
    const [first, empty] = root.querySelectorAll('tbody tr')
    expect([...first!.querySelectorAll('td')].map((td) => td.dataset.label ?? null)).toEqual(['Name', 'Phones', null])
    expect(empty!.querySelector('td')!.dataset.label).toBeUndefined()
  })
})
