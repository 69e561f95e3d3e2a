/**
 * What card data looks like, for the places that must keep it out of sight (rule 14): log lines, the DLQ listing an
 * operator reads, and the simulator's made-up token PANs. One module, so the rules cannot drift apart.
 */

/** The Luhn (mod 10) check every PAN and token PAN passes. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A run of 13–19 digits, possibly grouped by spaces or dashes: what a PAN looks like in free text. Not 12: AWS
 * account ids (in every function ARN) have 12 digits, and 12-digit PANs are vanishingly rare.
 */
const PAN_LIKE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;

/** Luhn-valid, and not an epoch-millisecond timestamp (13 digits, 2001–2033), which logs carry all the time. */
function looksLikePan(digits: string): boolean {
  if (digits.length === 13 && Number(digits) >= 1e12 && Number(digits) < 2e12) return false;
  return luhnValid(digits);
}

/**
 * Log lines: replaces what is a PAN (Luhn-valid 13–19 digits, grouped or not) and leaves other numbers readable —
 * timestamps, counts and account ids are what an on-call engineer needs.
 */
export const redactPans = (text: string, replacement = '[PAN-REDACTED]'): string =>
  text.replace(PAN_LIKE, (run) => (looksLikePan(run.replace(/[ -]/g, '')) ? replacement : run));

/** 12 or more digits, possibly grouped by single spaces or dashes: anything that could be (part of) a PAN. */
const DIGIT_RUN = /\d(?:[ -]?\d){11,}/g;

/**
 * Operator listings (e.g. the DLQ): stricter than the log rule, since an id there is arbitrary input that may hold a
 * truncated or mistyped PAN. Every run of ≥ 12 digits (grouped or not) becomes `*`s.
 */
export const maskDigitRuns = (text: string): string => text.replace(DIGIT_RUN, (run) => '*'.repeat(run.length));
