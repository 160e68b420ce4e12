import { describe, expect, it } from 'vitest'
import { fontPreloadTags } from './fontPreload'

const PRIMEICONS = /primeicons-[\w-]+\.woff2$/

describe('fontPreloadTags', () => {
  it('preloads the built icon font the way the stylesheet will ask for it', () => {
    const files = ['assets/index-B4p8dWy.js', 'assets/primeicons-C6QP2o4f.woff2', 'assets/index-DJ1FrFOT.css', 'favicon.svg']
    expect(fontPreloadTags(files, PRIMEICONS, '/')).toEqual([
      {
        tag: 'link',
        attrs: { rel: 'preload', href: '/assets/primeicons-C6QP2o4f.woff2', as: 'font', type: 'font/woff2', crossorigin: '' },
        injectTo: 'head',
      },
    ])
  })

  it('puts the deployment base before the file', () => {
    expect(fontPreloadTags(['assets/primeicons-x_1.woff2'], PRIMEICONS, '/crm/')[0]?.attrs?.href).toBe('/crm/assets/primeicons-x_1.woff2')
  })

  it('fails the build when the font is gone, rather than preload nothing', () => {
    expect(() => fontPreloadTags(['assets/primeicons-C6QP2o4f.woff', 'assets/index.js'], PRIMEICONS, '/')).toThrow(/fontPreload/)
  })
})
