// Aura with a blue primary: calmer for a screen operators look at all day.
import { definePreset } from '@primeuix/themes'
import Aura from '@primeuix/themes/aura'

export const CrmPreset = definePreset(Aura, {
  semantic: {
    primary: {
      50: '{blue.50}',
      100: '{blue.100}',
      200: '{blue.200}',
      300: '{blue.300}',
      400: '{blue.400}',
      500: '{blue.500}',
      600: '{blue.600}',
      700: '{blue.700}',
      800: '{blue.800}',
      900: '{blue.900}',
      950: '{blue.950}',
    },
    colorScheme: {
      // WCAG 2.1 AA wants 4.5:1 for text: white on blue-500 is 3.7:1 and
      // slate-500 on the tinted surfaces 4.3:1; one step darker passes both.
      light: {
        primary: { color: '{primary.600}', hoverColor: '{primary.700}', activeColor: '{primary.800}' },
        text: { mutedColor: '{surface.600}', hoverMutedColor: '{surface.700}' },
      },
    },
  },
  components: {
    // White on sky-500 is 2.8:1.
    badge: { colorScheme: { light: { info: { background: '{sky.700}' } } } },
    // SelectButton's unchosen options: slate-500 on slate-100 is 4.3:1.
    togglebutton: {
      colorScheme: { light: { root: { color: '{surface.600}' }, icon: { color: '{surface.600}' } } },
    },
  },
})

/**
 * The theme as PrimeVue's config takes it. The build turns it into CSS
 * (build/primevueTheme.ts); the browser never sees the tokens.
 */
export const crmTheme = { preset: CrmPreset, options: { darkModeSelector: false } }
