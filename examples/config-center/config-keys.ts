/**
 * Where configuration lives: one key per setting, `/config/<app>/<setting>` (`/config/checkout/
 * rate.limit`), its value the setting's text. One key per setting, rather than one document per
 * app, lets operators change one setting without rewriting the others, and a transaction change
 * several at once.
 */

/** The prefix of `app`'s settings (`/config/checkout/`). */
export function configPrefix(app: string): string {
  return `/config/${app}/`;
}

/** The key of `app`'s `setting`. */
export function settingKey(app: string, setting: string): string {
  return `${configPrefix(app)}${setting}`;
}
