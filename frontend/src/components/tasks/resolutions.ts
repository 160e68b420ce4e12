// Resolutions in words. A route's RESOLUTION close rules name codes
// ("customer_refused"); people choose them by what they mean. A code the
// console has no words for is shown with its underscores as spaces.

type Translate = (key: string) => string

const KNOWN = new Set(['customer_refused', 'not_feasible', 'rejected', 'retained'])

export function resolutionLabel(code: string, t: Translate): string {
  if (KNOWN.has(code)) return t(`tasks.resolutions.${code}`)
  const words = code.replace(/[_-]+/g, ' ').trim()
  return words ? words[0]!.toUpperCase() + words.slice(1) : code
}
