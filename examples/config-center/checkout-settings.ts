/**
 * The settings of the demo's program, a checkout service, typed from the raw strings under
 * `/config/checkout/`. Anyone with write access can put anything there: a value that does not
 * parse falls back to the default instead of taking the program down.
 */

/** What the checkout service runs with. */
export interface CheckoutSettings {
  /** Requests per second it accepts (`rate.limit`). */
  readonly rateLimit: number;
  /** Its database (`db.host`, `db.port`): the two only make sense together. */
  readonly db: { readonly host: string; readonly port: number };
  /** Whether the new checkout page is on (`feature.new_ui`). */
  readonly newUi: boolean;
}

/** What the service runs with where a setting is missing or does not parse. */
export const DEFAULT_CHECKOUT_SETTINGS: CheckoutSettings = {
  rateLimit: 50,
  db: { host: 'localhost', port: 5432 },
  newUi: false,
};

/** The typed settings from the raw ones; missing or unreadable values take their defaults. */
export function parseCheckoutSettings(raw: ReadonlyMap<string, string>): CheckoutSettings {
  const d = DEFAULT_CHECKOUT_SETTINGS;
  return {
    rateLimit: positiveInteger(raw.get('rate.limit')) ?? d.rateLimit,
    db: { host: raw.get('db.host') ?? d.db.host, port: positiveInteger(raw.get('db.port')) ?? d.db.port },
    newUi: raw.has('feature.new_ui') ? raw.get('feature.new_ui') === 'true' : d.newUi,
  };
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** One line for printing. */
export function formatCheckoutSettings(s: CheckoutSettings): string {
  return `rate.limit=${s.rateLimit} db=${s.db.host}:${s.db.port} new_ui=${s.newUi}`;
}
