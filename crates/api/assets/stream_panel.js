// auditrelay web UI, Streams tab additions per destination: the provable stream (position,
// delivered-through, last checkpoint and whether it was delivered, from the `auditrelayStream`
// GraphQL field; shown as "not available" on a server without it), a chart of the last hour's
// delivered events per second and lag (drawn here as inline SVG from
// GET /streaming_destinations/:id/history), and the Standard Webhooks signing controls.
(function () {
  'use strict';
  var api = window.AuditRelay;
  var el = api.el;
  var SVG = 'http://www.w3.org/2000/svg';
  var STREAM = 'auditrelayStream { id position deliveredThrough lastCheckpoint { sequence chain createdAt delivered } }';
  var SIGNING = 'auditrelayWebhookSigning { enabled secrets { createdAt lastFour } }';

  function numericId(gid) { return gid.split('/').pop(); }

  function listQuery(fields) {
    var root = document.getElementById('streams');
    var scope = root.getAttribute('data-scope');
    if (scope === 'group') {
      return api.graphql('query($p: ID!) { group(fullPath: $p) { externalAuditEventStreamingDestinations { nodes { id ' + fields + ' } } } }',
        { p: root.getAttribute('data-group-path') }).then(function (d) { return d.group.externalAuditEventStreamingDestinations.nodes; });
    }
    return api.graphql('{ auditEventsInstanceStreamingDestinations { nodes { id ' + fields + ' } } }')
      .then(function (d) { return d.auditEventsInstanceStreamingDestinations.nodes; });
  }

  // One query per field set per list render, shared by every destination of the list.
  var cache = {};
  function fieldOf(d, fields) {
    if (!cache[fields] || Date.now() - cache[fields].at > 1000) {
      cache[fields] = { at: Date.now(), nodes: listQuery(fields) };
    }
    return cache[fields].nodes.then(function (nodes) {
      return nodes.filter(function (n) { return n.id === d.id; })[0] || null;
    });
  }

  function facts(dl, pairs) {
    dl.textContent = '';
    pairs.forEach(function (f) {
      dl.appendChild(el('div', {}, el('dt', { text: f[0] }), el('dd', { class: f[2], text: f[1] })));
    });
  }

  function streamFacts(d) {
    var dl = el('dl', { class: 'stream-proof', 'aria-label': 'Stream' });
    fieldOf(d, STREAM).then(function (node) {
      var s = node && node.auditrelayStream;
      if (!s) { throw new Error('no stream'); }
      var c = s.lastCheckpoint;
      facts(dl, [
        ['Stream position', String(s.position), 'stream-position'],
        ['Delivered through', String(s.deliveredThrough), 'stream-delivered-through'],
        ['Last checkpoint', c ? '#' + c.sequence + ' at ' + c.createdAt : 'none yet', 'stream-checkpoint'],
        ['Checkpoint delivered', c ? (c.delivered ? 'yes' : 'no') : '–', 'stream-checkpoint-delivered'],
      ]);
    }).catch(function () {
      facts(dl, [['Stream position', 'not available', 'stream-position']]);
    });
    return dl;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  // Bars: events per second per 10-s bucket; line: largest lag. The last hour, left to right.
  function draw(figure, history) {
    var W = 360, H = 60, step = history.bucket_seconds, now = Date.now() / 1000;
    var from = now - 3600;
    var buckets = history.buckets;
    var maxRate = 1, maxLag = 1;
    buckets.forEach(function (b) {
      maxRate = Math.max(maxRate, b.delivered / step);
      maxLag = Math.max(maxLag, b.max_lag_seconds);
    });
    var chart = svg('svg', {
      class: 'delivery-chart', viewBox: '0 0 ' + W + ' ' + H, width: '100%', height: '60',
      role: 'img', 'data-buckets': String(buckets.length),
      'aria-label': 'Delivered events per second and lag over the last hour',
    });
    chart.appendChild(svg('rect', { x: 0, y: 0, width: W, height: H, class: 'chart-frame', fill: 'none', stroke: '#ccc' }));
    var points = [];
    buckets.forEach(function (b) {
      var x = (Date.parse(b.start) / 1000 - from) / 3600 * W;
      var rate = b.delivered / step;
      var h = rate / maxRate * (H - 4);
      var bar = svg('rect', { x: x.toFixed(1), y: (H - h).toFixed(1), width: Math.max(1, W / 360).toFixed(1), height: h.toFixed(1), class: 'chart-rate', fill: '#1f75cb' });
      bar.appendChild(svg('title', {})).textContent = b.start + ': ' + rate.toFixed(1) + ' events/s, lag ' + b.max_lag_seconds.toFixed(1) + ' s';
      chart.appendChild(bar);
      points.push(x.toFixed(1) + ',' + (H - b.max_lag_seconds / maxLag * (H - 4)).toFixed(1));
    });
    if (points.length) {
      chart.appendChild(svg('polyline', { points: points.join(' '), class: 'chart-lag', fill: 'none', stroke: '#dd2b0e', 'stroke-width': 1 }));
    }
    figure.textContent = '';
    figure.appendChild(chart);
    figure.appendChild(el('figcaption', { text: 'Last hour: delivered events per second (bars, peak ' + maxRate.toFixed(1) + '/s) and lag (line, peak ' + maxLag.toFixed(1) + ' s)' }));
  }

  function chart(d) {
    var figure = el('figure', { class: 'delivery-history' });
    api.rest('GET', '/streaming_destinations/' + numericId(d.id) + '/history').then(function (h) { draw(figure, h); },
      function (e) { figure.textContent = 'History not available: ' + e.message; });
    return figure;
  }

  // Enable and rotate take an optional secret of one's own; the others only the destination.
  function mutate(field, input, selection) {
    var type = /Enable$|Rotate$/.test(field) ? 'AuditrelayWebhookSigningInput' : 'AuditrelayWebhookSigningDestinationInput';
    var query = 'mutation($input: ' + type + '!) { ' + field + '(input: $input) { errors ' + selection + ' } }';
    return api.graphql(query, { input: input }).then(function (data) { return data[field]; });
  }

  function signing(d) {
    var box = el('div', { class: 'webhook-signing', 'aria-label': 'Standard Webhooks signing' });
    var state = el('span', { class: 'signing-state' });
    var shown = el('p', { class: 'webhook-secret-once', hidden: true });
    var result = el('span', { class: 'signing-result', role: 'status', 'aria-live': 'polite' });
    var buttons = {};
    function render(s) {
      state.textContent = s.enabled
        ? 'Signing on: ' + s.secrets.map(function (x) { return '…' + x.lastFour + ' (' + x.createdAt + ')'; }).join(', ')
        : 'Signing off';
      buttons.enable.hidden = s.enabled;
      buttons.rotate.hidden = !s.enabled || s.secrets.length > 1;
      buttons.removeOld.hidden = s.secrets.length < 2;
      buttons.disable.hidden = !s.enabled;
    }
    function run(field, withSecret) {
      result.textContent = '';
      mutate(field, { destinationId: d.id }, (withSecret ? 'secret ' : '') + 'webhookSigning { enabled secrets { createdAt lastFour } }').then(function (p) {
        if (p.errors.length) { result.textContent = p.errors.join(', '); return; }
        render(p.webhookSigning);
        if (withSecret && p.secret) {
          shown.hidden = false;
          shown.textContent = '';
          shown.appendChild(document.createTextNode('New signing secret (shown once, copy it now): '));
          shown.appendChild(el('code', { class: 'webhook-secret', text: p.secret }));
        } else {
          shown.hidden = true;
          shown.textContent = '';
        }
      }, function (e) { result.textContent = e.message; });
    }
    buttons.enable = el('button', { type: 'button', class: 'signing-enable', onclick: function () { run('auditrelayWebhookSigningEnable', true); } }, 'Enable signing');
    buttons.rotate = el('button', { type: 'button', class: 'signing-rotate', onclick: function () { run('auditrelayWebhookSecretRotate', true); } }, 'Rotate secret');
    buttons.removeOld = el('button', { type: 'button', class: 'signing-remove-old', onclick: function () { run('auditrelayWebhookSecretRemoveOld', false); } }, 'Remove old secret');
    buttons.disable = el('button', { type: 'button', class: 'signing-disable danger', onclick: function () { run('auditrelayWebhookSigningDisable', false); } }, 'Disable signing');
    box.appendChild(el('span', { class: 'label', text: 'Standard Webhooks: ' }));
    box.appendChild(state);
    Object.keys(buttons).forEach(function (k) { box.appendChild(buttons[k]); });
    box.appendChild(result);
    box.appendChild(shown);
    fieldOf(d, SIGNING).then(function (node) {
      render((node && node.auditrelayWebhookSigning) || { enabled: false, secrets: [] });
    }, function (e) { result.textContent = e.message; });
    return box;
  }

  window.AuditRelayStreamPanel = {
    // Called by streams.js for each destination it lists.
    decorate: function (li, d) {
      li.appendChild(streamFacts(d));
      li.appendChild(chart(d));
      if (d.category === 'http') { li.appendChild(signing(d)); }
    },
  };
})();
