/**
 * The Date field (RFC 5322 §3.3): "Thu, 01 Jan 2026 09:30:00 +0000". Written in UTC, so the text does not
 * depend on the machine's time zone.
 */
import { InputError } from '../core/errors.js';
import { shown } from './input.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * RFC 5322 date-time of a moment, in UTC.
 *
 * @example formatDate(new Date(Date.UTC(2026, 0, 1, 9, 30))) // => 'Thu, 01 Jan 2026 09:30:00 +0000'
 */
export function formatDate(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/** The caller's date (a Date, a string Date can parse, or milliseconds), or now. */
export function dateOf(value: Date | string | number | undefined): Date {
  if (value === undefined) return new Date();
  const date = value instanceof Date ? new Date(value.getTime()) : new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1900 || year > 9999) {
    throw new InputError('EINVALID_ARGUMENT', `the date ${shown(String(value))} is not a valid date`);
  }
  return date;
}
