import { describe, expect, it } from 'vitest'
import { placeFirstScreens } from './firstScreens'

// main → vue, router; the router's lazy routes are roots, not imports.
const graph: Record<string, string[]> = {
  main: ['vue', 'router'],
  vue: [],
  router: ['vue'],
  login: ['vue', 'button', 'password'],
  shell: ['vue', 'button', 'menu'],
  home: ['card', 'button'],
  button: ['ripple'],
  ripple: [],
  password: ['overlay'],
  overlay: [],
  menu: ['overlay'],
  card: [],
}
const imports = (id: string) => graph[id]

describe('placeFirstScreens', () => {
  it('puts what both screens use in one place, each screen’s own in another, and leaves the entry’s alone', () => {
    const placed = placeFirstScreens(['main'], { signIn: ['login'], home: ['shell', 'home'] }, imports)
    expect(Object.fromEntries([...placed].sort())).toEqual({
      button: 'first-shared',
      card: 'first-home',
      home: 'first-home',
      login: 'first-sign-in',
      menu: 'first-home',
      overlay: 'first-shared',
      password: 'first-sign-in',
      ripple: 'first-shared',
      shell: 'first-home',
    })
  })

  it('fails the build when a root is not a module of it, rather than split nothing', () => {
    expect(() => placeFirstScreens(['main'], { signIn: ['gone'], home: ['home'] }, imports)).toThrow(/gone is not a module/)
  })
})
