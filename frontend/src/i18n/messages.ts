// Text the server composes comes as a code and named parameters beside a
// rendering in the deployment's language (see docs/language.md): the
// console renders the code in its reader's language, and falls back to the
// server's text for codes it does not know and for entries written before
// the codes (free text).

import type { AuditEvent, Task, TaskEvent } from '@/api/client'

/** The two functions of vue-i18n the renderers need. */
export interface Translator {
  t: (key: string, params?: Record<string, unknown>) => string
  te: (key: string) => boolean
}

/** A code as a message key: dots become underscores ("task.title.connection" → "task_title_connection"). */
export const codeKey = (code: string): string => code.replace(/\./g, '_')

/** Renders a code in group (a section of the messages), or gives fallback. */
export function renderCode(tr: Translator, group: string, code: string | undefined, params: Record<string, string> | undefined, fallback: string): string {
  if (!code) return fallback
  const key = `${group}.${codeKey(code)}`
  return tr.te(key) ? tr.t(key, params ?? {}) : fallback
}

/** A task's title: the code the server composed it from, else its own words. */
export function taskTitle(tr: Translator, task: Pick<Task, 'title' | 'titleCode' | 'titleParams'>): string {
  return renderCode(tr, 'composed', task.titleCode, task.titleParams, task.title ?? '')
}

/** A timeline event's text. */
export function eventText(tr: Translator, e: Pick<TaskEvent, 'text' | 'textCode' | 'textParams'>): string {
  return renderCode(tr, 'composed', e.textCode, e.textParams, e.text ?? '')
}

/** An audit action ("task.advance") in words, or the action itself. */
export function auditAction(tr: Translator, action: string | undefined): string {
  return renderCode(tr, 'auditActions', action, undefined, action ?? '')
}

/** A name in words when group knows it ("tasks.read" is looked up as "tasks_read"). */
function named(tr: Translator, group: string, name: string): string {
  const key = `${group}.${codeKey(name)}`
  return tr.te(key) ? tr.t(key) : name
}

/** A role in words: a built-in role's name, or a custom role's code. */
export function roleName(tr: Translator, name: string | undefined): string {
  return named(tr, 'roles.names', name ?? '')
}

/** A permission in words ("tasks.read"), else fallback (the server's description). */
export function permissionName(tr: Translator, name: string | undefined, fallback?: string): string {
  const key = `roles.permissions.${codeKey(name ?? '')}`
  return tr.te(key) ? tr.t(key) : (fallback ?? name ?? '')
}

/** A comma-separated list of names, each named from group when it is known there. */
function names(tr: Translator, group: string, list: string): string {
  return list
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => named(tr, group, f))
    .join(', ')
}

/**
 * The fields of a change ("email: a@x; name: Ann") with their names in
 * words; a part that does not start with a known field (a value holding
 * "; ") is kept as it is.
 */
function changedFields(tr: Translator, change: string): string {
  return change
    .split('; ')
    .map((part) => {
      const at = part.indexOf(': ')
      if (at <= 0) return part
      const field = part.slice(0, at)
      return tr.te(`auditFields.${field}`) ? `${tr.t(`auditFields.${field}`)}: ${part.slice(at + 2)}` : part
    })
    .join('; ')
}

/** An audit entry's detail: its code and parameters, or the free text of older entries. */
export function auditDetail(tr: Translator, e: Pick<AuditEvent, 'detail' | 'detailCode' | 'detailParams'>): string {
  const params = { ...(e.detailParams ?? {}) }
  if (params.fields !== undefined) params.fields = names(tr, 'auditFields', params.fields)
  if (params.roles !== undefined) params.roles = names(tr, 'roles.names', params.roles)
  if (params.permissions !== undefined) params.permissions = names(tr, 'roles.permissions', params.permissions)
  if (e.detailCode === 'role_changed') {
    for (const k of ['before', 'after'] as const) if (params[k] !== undefined) params[k] = names(tr, 'roles.permissions', params[k])
  } else {
    for (const k of ['before', 'after'] as const) if (params[k] !== undefined) params[k] = changedFields(tr, params[k])
  }
  const code = e.detailCode === 'user_changed' && params.roles ? 'user_changed_roles' : e.detailCode
  return renderCode(tr, 'auditDetails', code, params, e.detail ?? e.detailCode ?? '')
}
