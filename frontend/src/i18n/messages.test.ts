import { describe, expect, it } from 'vitest'
import en from './en'
import { makeI18n } from './index'
import { auditAction, auditDetail, eventText, taskTitle, type Translator } from './messages'

function translator(locale: 'ru' | 'en'): Translator {
  const g = makeI18n(locale).global
  // the console fetches English when it is chosen; here it is at hand
  if (locale === 'en') g.setLocaleMessage('en', en)
  return { t: (k, p) => g.t(k, p ?? {}), te: (k) => g.te(k) }
}

describe('server-made text', () => {
  it('renders a connection title in the reader’s language whatever the server wrote', () => {
    const task = { title: 'Connect C-000005', titleCode: 'task.title.connection', titleParams: { contract: 'C-000005' } }
    expect(taskTitle(translator('ru'), task)).toBe('Подключение C-000005')
    expect(taskTitle(translator('en'), { ...task, title: 'Подключение C-000005' })).toBe('Connect C-000005')
  })

  it('keeps an operator’s own title and unknown codes as written', () => {
    expect(taskTitle(translator('ru'), { title: 'Перенести роутер' })).toBe('Перенести роутер')
    expect(taskTitle(translator('ru'), { title: 'as the server put it', titleCode: 'task.title.future' })).toBe('as the server put it')
    expect(eventText(translator('ru'), { text: 'Connect C-000001', textCode: 'task.title.connection', textParams: { contract: 'C-000001' } })).toBe(
      'Подключение C-000001',
    )
  })

  it('names audit actions and renders their details, and reads old free-text details as they are', () => {
    const ru = translator('ru')
    expect(auditAction(ru, 'task.advance')).toBe('Задача продвинута')
    expect(auditAction(ru, 'something.new')).toBe('something.new')
    expect(auditDetail(ru, { detailCode: 'wrong_password' })).toBe('Неверный пароль')
    expect(auditDetail(ru, { detailCode: 'task_step', detailParams: { number: 'T-000040', process: 'Монтаж' } })).toBe('T-000040, этап «Монтаж»')
    expect(auditDetail(ru, { detailCode: 'user_changed', detailParams: { fields: 'displayName,roles', roles: 'viewer' } })).toBe(
      'Изменено: имя, роли; роли: Наблюдатель',
    )
    expect(auditDetail(translator('en'), { detailCode: 'user_changed', detailParams: { fields: 'password' } })).toBe('Changed: password')
    expect(auditDetail(ru, { detail: 'wrong password' })).toBe('wrong password')
  })

  it('names the fields of a change and the permissions of a role, and keeps what it does not know', () => {
    const ru = translator('ru')
    expect(
      auditDetail(ru, {
        detailCode: 'customer_changed',
        detailParams: { name: 'Ann', before: 'email: a@x; address: Lenina 1; note: x; y', after: 'email: b@x; address: ; note: z' },
      }),
    ).toBe('Ann: было почта: a@x; адрес: Lenina 1; note: x; y; стало почта: b@x; адрес: ; note: z')
    expect(auditDetail(ru, { detailCode: 'role_changed', detailParams: { name: 'night', before: 'tasks.read', after: 'tasks.read, tasks.work' } })).toBe(
      'Роль «night»: было Видеть задачи и очереди; стало Видеть задачи и очереди, Выполнять задачи своих групп',
    )
    expect(auditAction(ru, 'task.book-visit')).toBe('Выезд назначен')
    expect(auditAction(translator('en'), 'token.use')).toBe('API token used')
  })
})
