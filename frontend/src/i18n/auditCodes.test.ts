// Every audit action and detail code the services write has words in both
// languages: the codes are read from the Go sources, so a new one without
// words fails here instead of showing as a raw code in the log.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import en from './en'
import ru from './ru'
import { codeKey } from './messages'

// vitest runs in frontend/
const root = resolve(process.cwd(), '..')

function goSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isDirectory()) return goSources(path)
    return d.name.endsWith('.go') && !d.name.endsWith('_test.go') ? [readFileSync(path, 'utf8')] : []
  })
}

function all(sources: string[], re: RegExp): string[] {
  return sources.flatMap((src) => [...src.matchAll(re)].map((m) => m[1]!))
}

const services = goSources(join(root, 'services'))
const workflows = goSources(join(root, 'workflows'))

// "task." + the workflow update a command sends (services/task/server.go).
const updateNames = new Map<string, string>()
for (const src of workflows) for (const m of src.matchAll(/\b(Update\w+)\s*=\s*"([a-z-]+)"/g)) updateNames.set(m[1]!, m[2]!)
const commands = all(services, /\.command\(ctx, [^,]+, taskflow\.(Update\w+)/g).map((n) => `task.${updateNames.get(n)}`)

const actions = new Set([...all(services, /(?:Action: |\baudit\(ctx, |auditByCaller\(ctx, |\.Record\(ctx, )"([a-z][a-z.-]*)"(?!\s*\+)/g), ...commands])
// an argument that may hold a call: "task:"+strconv.FormatInt(id, 10)
const arg = String.raw`(?:[^,()]|\([^()]*\))+`
const details = new Set([
  ...all(services, /\bsay\("([a-z_]+)"(?!\s*\+)/g),
  ...all(services, new RegExp(String.raw`\.Record\(ctx, "[^"]+", ${arg}, "([a-z_]+)"`, 'g')),
  ...all(services, new RegExp(String.raw`\baudit\(ctx, ${arg}, ${arg}, "([a-z_]+)"`, 'g')),
  // say("telegram_unlinked_"+reason): the reasons the bot reports
  ...['telegram_unlinked_stop', 'telegram_unlinked_blocked'],
])

function keys(messages: Record<string, unknown>, group: string): Set<string> {
  return new Set(Object.keys(messages[group] as Record<string, string>))
}

describe('audit codes', () => {
  it('finds the codes in the sources', () => {
    // a guard on the reading itself: a refactor that hides the codes from it must not pass quietly
    expect(actions).toContain('task.advance')
    expect(actions).toContain('task.book-visit')
    expect(actions).toContain('customer.update')
    expect(actions).toContain('token.use')
    expect(details).toContain('role_changed')
    expect(details).toContain('contract_created')
    expect(details).toContain('task_step')
  })

  for (const [lang, messages] of [
    ['ru', ru],
    ['en', en],
  ] as const) {
    it(`names every action and detail in ${lang}`, () => {
      const named = keys(messages, 'auditActions')
      expect([...actions].filter((a) => !named.has(codeKey(a)))).toEqual([])
      const detailed = keys(messages, 'auditDetails')
      expect([...details].filter((d) => !detailed.has(d))).toEqual([])
      const groups = keys(messages, 'auditGroups')
      expect([...actions].map((a) => a.split('.')[0]!).filter((g) => !groups.has(g))).toEqual([])
    })
  }
})
