/**
 * Attributes for the input of a PrimeVue Password shown without its
 * strength popup. Password still marks its input aria-expanded and
 * aria-haspopup, which a password field may not carry (axe:
 * aria-allowed-attr); undefined drops them.
 */
export function passwordInputProps(autocomplete: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { autocomplete, 'aria-expanded': undefined, 'aria-haspopup': undefined, ...extra }
}
