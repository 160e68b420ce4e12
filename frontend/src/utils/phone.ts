// Phone numbers as people type them in Russia. The server normalises and
// decides for good; the console checks early so an operator hears about a
// typo before submitting, and shows stored E.164 numbers readably.

const FORMATTING = /[\s\-().]/g

/**
 * The E.164 form of a number as the server will store it, or null when it
 * cannot be a phone number. "8 912 345-67-89", "+7 (912) 345-67-89",
 * "79123456789" and "9123456789" all give "+79123456789".
 */
export function normalizePhone(raw: string): string | null {
  const trimmed = raw.trim()
  if (trimmed === '') return null
  const plus = trimmed.startsWith('+')
  const rest = (plus ? trimmed.slice(1) : trimmed).replace(FORMATTING, '')
  if (!/^\d+$/.test(rest)) return null
  if (plus) return rest.length >= 8 && rest.length <= 15 ? `+${rest}` : null
  if (rest.length === 11 && (rest.startsWith('8') || rest.startsWith('7'))) return `+7${rest.slice(1)}`
  if (rest.length === 10) return `+7${rest}`
  return null
}

/** Whether a search query is meant as (a part of) a phone number. */
export function looksLikePhone(query: string): boolean {
  const q = query.trim()
  return /^\+?[\d\s\-().]+$/.test(q) && q.replace(/\D/g, '').length >= 3
}

/** "+79123456789" → "+7 912 345-67-89"; other numbers are left as they are. */
export function formatPhone(e164: string | undefined): string {
  if (!e164) return ''
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164)
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : e164
}
