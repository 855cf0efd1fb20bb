/* Shared helpers of every page (loaded by base.html before the page's own script).
 *
 * Ticketero.msg(key, values)  a text of the page's catalogue subset (body data-messages),
 *                             "{name}" placeholders filled from `values`.
 * Ticketero.api(path, opts)   fetch JSON: resolves {ok, status, data}; never throws
 *                             (a network failure is status 0 with data.message).
 * Ticketero.data(el)          the element's data-* attributes (el.dataset).
 * Ticketero.lang              the page language ("es" or "en").
 * Ticketero.errorText(result) the message to show for a failed api() result.
 */
(function () {
  'use strict';
  var body = document.body;
  var messages = {};
  try {
    messages = JSON.parse(body.getAttribute('data-messages') || '{}');
  } catch (err) {
    messages = {};
  }

  function msg(key, values) {
    var text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    if (values) {
      Object.keys(values).forEach(function (name) {
        text = text.split('{' + name + '}').join(String(values[name]));
      });
    }
    return text;
  }

  function api(path, options) {
    var opts = options || {};
    var headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(opts.json);
    }
    return fetch(path, {
      method: opts.method || 'GET',
      headers: headers,
      body: opts.body,
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (err) { data = { message: text }; }
        return { ok: resp.ok, status: resp.status, data: data, headers: resp.headers };
      });
    }, function () {
      return { ok: false, status: 0, data: { message: msg('common.offline') }, headers: null };
    });
  }

  function errorText(result) {
    if (result.status === 0) { return msg('common.offline'); }
    if (result.status === 429) { return msg('common.too_many'); }
    if (result.status >= 500) { return msg('common.unavailable'); }
    var data = result.data || {};
    var detail = (data.errors && data.errors.length) ? data.errors[0].message : '';
    return detail || data.message || msg('common.error');
  }

  window.Ticketero = {
    msg: msg,
    api: api,
    errorText: errorText,
    data: function (el) { return el ? el.dataset : {}; },
    lang: body.getAttribute('data-lang') || 'es'
  };
})();
