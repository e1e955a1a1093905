// auditrelay web UI: calls to the GraphQL and REST APIs with the session's CSRF token, and a
// small DOM builder. Standard DOM only (Chromium and Firefox).
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  // A GraphQL request; top-level errors become a rejected promise with their messages.
  function graphql(query, variables) {
    return send('POST', '/api/graphql', { query: query, variables: variables || {} }).then(function (r) {
      var errors = r.data && r.data.errors;
      if (errors && errors.length) {
        throw new Error(errors.map(function (e) { return e.message; }).join(', '));
      }
      if (!r.ok || !r.data) { throw new Error('The server answered ' + r.status); }
      return r.data.data;
    });
  }

  // A REST request; an error status becomes a rejected promise with the API's message.
  function rest(method, path, body) {
    return send(method, '/api/v4' + path, body).then(function (r) {
      if (!r.ok) {
        var d = r.data || {};
        var message = d.message || d.error || ('The server answered ' + r.status);
        throw new Error(typeof message === 'string' ? message : JSON.stringify(message));
      }
      return r.data;
    });
  }

  // el('button', {type: 'button', class: 'x', onclick: f}, 'text', child…)
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) { return; }
      if (key.indexOf('on') === 0) { node.addEventListener(key.slice(2), value); }
      else if (key === 'text') { node.textContent = value; }
      else if (value === true) { node.setAttribute(key, ''); }
      else { node.setAttribute(key, value); }
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) { continue; }
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  window.AuditRelay = { graphql: graphql, rest: rest, el: el };
})();
