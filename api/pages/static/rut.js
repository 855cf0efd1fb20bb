/* Chilean RUT as the kiosk reads it: the rule of domain/national_id.py, in the browser.
 *
 * What is typed is reduced to its digits and a final K; the last character is the check
 * digit, the rest the body (7 or 8 digits once leading zeros are dropped). The check digit
 * is mod 11 with weights 2..7 from the right: 11 -> "0", 10 -> "K".
 *
 * TicketeroRut.read(raw) -> {state, formatted, canonical}
 *   state: "empty" | "incomplete" | "invalid" | "bad_check" | "ok"
 *   formatted: "12.345.678-5" style for the input; canonical: "12345678-5" (ok only).
 */
(function () {
  'use strict';

  function checkDigit(body) {
    var total = 0;
    for (var i = 0; i < body.length; i++) {
      total += Number(body.charAt(body.length - 1 - i)) * (2 + (i % 6));
    }
    var remainder = 11 - (total % 11);
    if (remainder === 11) { return '0'; }
    if (remainder === 10) { return 'K'; }
    return String(remainder);
  }

  function clean(raw) {
    var text = String(raw || '').toUpperCase().replace(/[^0-9K]/g, '');
    // A K is only a check digit: keep the last one if it ends the text, drop the others.
    var last = text.slice(-1);
    return text.slice(0, -1).replace(/K/g, '') + last;
  }

  function format(compact) {
    if (compact.length < 2) { return compact; }
    var body = compact.slice(0, -1);
    var grouped = body.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    return grouped + '-' + compact.slice(-1);
  }

  function read(raw) {
    var compact = clean(raw);
    var result = { state: 'empty', formatted: format(compact), canonical: null };
    if (!compact) { return result; }
    var body = compact.slice(0, -1).replace(/^0+/, '');
    var check = compact.slice(-1);
    if (compact.length > 10 || body.length > 8) { result.state = 'invalid'; return result; }
    if (body.length < 7) { result.state = 'incomplete'; return result; }
    if (/K/.test(body)) { result.state = 'invalid'; return result; }
    if (checkDigit(body) !== check) {
      // Seven digits and a wrong check digit may be an eight-digit RUT still being typed.
      result.state = body.length === 7 ? 'incomplete' : 'bad_check';
      return result;
    }
    result.state = 'ok';
    result.canonical = body + '-' + check;
    return result;
  }

  window.TicketeroRut = { read: read, checkDigit: checkDigit, format: format };
})();
