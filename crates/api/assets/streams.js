// auditrelay web UI, Streams tab: lists, adds, edits and deletes streaming destinations through
// GitLab's consolidated GraphQL API, shows each destination's delivery health, and offers a test
// event, re-sending parked events and replaying a time range. Every rule and message comes from
// the API; this script only shows them next to the field they concern.
(function () {
  'use strict';
  var api = window.AuditRelay;
  var el = api.el;
  var root = document.getElementById('streams');
  if (!root) { return; }

  var scope = root.getAttribute('data-scope');
  var groupPath = root.getAttribute('data-group-path');
  var MAX_HEADERS = 20;
  var CATEGORIES = { http: 'HTTP endpoint', gcp: 'Google Cloud Logging', aws: 'AWS S3' };
  var HEALTH = 'deliveryHealth { state consecutiveFailures lastDeliveredAt lastError lastErrorStatus lastErrorAt delivered backlog lagSeconds parked }';
  var FIELDS = 'id name category config eventTypeFilters active secretToken ' + HEALTH +
    ' namespaceFilters { id namespace { fullPath } }';

  // GitLab's mutation names for this page's owner; each input type is the name + "Input".
  var MUTATIONS = scope === 'group' ? {
    create: 'groupAuditEventStreamingDestinationsCreate',
    update: 'groupAuditEventStreamingDestinationsUpdate',
    destroy: 'groupAuditEventStreamingDestinationsDelete',
    eventsAdd: 'auditEventsGroupDestinationEventsAdd',
    eventsDelete: 'auditEventsGroupDestinationEventsDelete',
    namespaceCreate: 'auditEventsGroupDestinationNamespaceFilterCreate',
    namespaceDelete: 'auditEventsGroupDestinationNamespaceFilterDelete',
  } : {
    create: 'instanceAuditEventStreamingDestinationsCreate',
    update: 'instanceAuditEventStreamingDestinationsUpdate',
    destroy: 'instanceAuditEventStreamingDestinationsDelete',
    eventsAdd: 'auditEventsInstanceDestinationEventsAdd',
    eventsDelete: 'auditEventsInstanceDestinationEventsDelete',
    namespaceCreate: 'auditEventsInstanceDestinationNamespaceFilterCreate',
    namespaceDelete: 'auditEventsInstanceDestinationNamespaceFilterDelete',
  };

  function mutate(field, input, selection) {
    var type = field.charAt(0).toUpperCase() + field.slice(1) + 'Input';
    var query = 'mutation($input: ' + type + '!) { ' + field + '(input: $input) { errors ' + (selection || '') + ' } }';
    return api.graphql(query, { input: input }).then(function (data) { return data[field]; });
  }

  var definitions = [];
  var uid = 0;
  var status = el('p', { id: 'streams-status', class: 'status', role: 'status', 'aria-live': 'polite' });
  var list = el('ul', { class: 'destinations', 'aria-label': 'Streaming destinations' });
  var newArea = el('div', { id: 'new-destination' });

  function say(message, isError) {
    status.textContent = message;
    status.className = isError ? 'status alert' : 'status';
  }

  // ---- loading ----------------------------------------------------------------------------

  function loadDestinations() {
    var query = scope === 'group'
      ? 'query($p: ID!) { group(fullPath: $p) { externalAuditEventStreamingDestinations { nodes { ' + FIELDS + ' } } } }'
      : '{ auditEventsInstanceStreamingDestinations { nodes { ' + FIELDS + ' } } }';
    return api.graphql(query, scope === 'group' ? { p: groupPath } : {}).then(function (data) {
      if (scope === 'group') {
        if (!data.group) { throw new Error('Group not found'); }
        return data.group.externalAuditEventStreamingDestinations.nodes;
      }
      return data.auditEventsInstanceStreamingDestinations.nodes;
    });
  }

  function refresh() {
    return loadDestinations().then(renderList, function (error) { say(error.message, true); });
  }

  function start() {
    root.textContent = '';
    var menu = el('div', { id: 'add-menu', class: 'add-menu', hidden: true });
    var toggle = el('button', {
      type: 'button', id: 'add-destination', class: 'primary', 'aria-expanded': 'false', 'aria-controls': 'add-menu',
      onclick: function () {
        var open = menu.hidden;
        menu.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        if (open) { menu.querySelector('button').focus(); }
      },
    }, 'Add streaming destination');
    Object.keys(CATEGORIES).forEach(function (category) {
      menu.appendChild(el('button', {
        type: 'button', 'data-category': category,
        onclick: function () {
          menu.hidden = true;
          toggle.setAttribute('aria-expanded', 'false');
          openNewForm(category);
        },
      }, CATEGORIES[category]));
    });
    var refreshButton = el('button', { type: 'button', id: 'refresh-streams', onclick: refresh }, 'Refresh');
    root.appendChild(el('div', { class: 'streams-toolbar' }, toggle, refreshButton, menu));
    root.appendChild(newArea);
    root.appendChild(status);
    root.appendChild(list);
    api.graphql('{ auditEventDefinitions { nodes { name } } }').then(function (data) {
      definitions = data.auditEventDefinitions.nodes.map(function (d) { return d.name; });
    }, function () { definitions = []; }).then(refresh);
  }

  function openNewForm(category) {
    newArea.textContent = '';
    var form = destinationForm(category, null, function () { newArea.textContent = ''; });
    newArea.appendChild(el('section', { class: 'card', 'aria-label': 'New ' + CATEGORIES[category] + ' destination' },
      el('h2', { text: 'Add ' + CATEGORIES[category] + ' destination' }), form));
    form.querySelector('input').focus();
  }

  // ---- the list -----------------------------------------------------------------------------

  function renderList(destinations) {
    list.textContent = '';
    if (!destinations.length) {
      list.appendChild(el('li', { class: 'empty' }, 'No streaming destinations yet. Select Add streaming destination to stream audit events.'));
      return;
    }
    destinations.forEach(function (d) { list.appendChild(item(d)); });
  }

  function item(d) {
    var li = el('li', { class: 'destination', 'data-name': d.name, 'data-id': d.id });
    var editorId = 'editor-' + (++uid);
    var editor = el('div', { class: 'editor', id: editorId, hidden: true });
    var edit = el('button', {
      type: 'button', class: 'edit', 'aria-expanded': 'false', 'aria-controls': editorId,
      'aria-label': 'Edit ' + d.name,
      onclick: function () {
        var open = editor.hidden;
        editor.hidden = !open;
        edit.setAttribute('aria-expanded', String(open));
        if (open) {
          editor.textContent = '';
          editor.appendChild(destinationForm(d.category, d, function () {
            editor.hidden = true;
            edit.setAttribute('aria-expanded', 'false');
            edit.focus();
          }));
          editor.querySelector('input').focus();
        }
      },
    }, 'Edit');
    var remove = el('button', {
      type: 'button', class: 'delete danger', 'aria-label': 'Delete ' + d.name,
      onclick: function () { confirmDelete(d); },
    }, 'Delete');
    var token = d.category === 'http' && d.secretToken
      ? el('span', { class: 'token' }, 'Verification token: ', el('code', { class: 'verification-token', text: d.secretToken }))
      : null;
    var filtered = d.eventTypeFilters.length || d.namespaceFilters.length
      ? el('span', { class: 'badge filtered', title: d.eventTypeFilters.join(', ') }, 'filtered') : null;
    var inactive = d.active ? null : el('span', { class: 'badge inactive' }, 'inactive');
    li.appendChild(el('div', { class: 'summary' },
      el('span', { class: 'name', text: d.name }),
      el('span', { class: 'badge category', text: CATEGORIES[d.category] || d.category }),
      filtered, inactive, token, el('span', { class: 'buttons' }, edit, remove)));
    li.appendChild(where(d));
    li.appendChild(health(d.deliveryHealth));
    li.appendChild(operations(d));
    if (window.AuditRelayStreamPanel) { window.AuditRelayStreamPanel.decorate(li, d); }
    li.appendChild(editor);
    return li;
  }

  function where(d) {
    var c = d.config || {};
    var text = d.category === 'http' ? c.url
      : d.category === 'gcp' ? c.googleProjectIdName + ' / ' + (c.logIdName || '')
        : 's3://' + c.bucketName + ' (' + c.awsRegion + ')';
    return el('p', { class: 'where', text: text });
  }

  function health(h) {
    var facts = [
      ['State', h.state.replace('_', ' ')],
      ['Last delivery', h.lastDeliveredAt || 'never'],
      ['Delivered', String(h.delivered)],
      ['Backlog', String(h.backlog)],
      ['Lag', h.lagSeconds.toFixed(1) + ' s'],
      ['Parked', String(h.parked)],
    ];
    if (h.lastError) {
      facts.push(['Last error', h.lastError + (h.lastErrorAt ? ' (' + h.lastErrorAt + ')' : '')]);
    }
    var dl = el('dl', { class: 'health state-' + h.state, 'aria-label': 'Delivery health' });
    facts.forEach(function (f) {
      dl.appendChild(el('div', {}, el('dt', { text: f[0] }), el('dd', { class: 'health-' + f[0].toLowerCase().replace(' ', '-'), text: f[1] })));
    });
    return dl;
  }

  function numericId(gid) { return gid.split('/').pop(); }

  function operations(d) {
    var result = el('span', { class: 'operation-result', role: 'status', 'aria-live': 'polite' });
    function report(message, isError) {
      result.textContent = message;
      result.className = 'operation-result' + (isError ? ' error' : ' ok');
    }
    var test = el('button', {
      type: 'button', class: 'test-event',
      onclick: function () {
        report('Sending…');
        api.rest('POST', '/streaming_destinations/' + numericId(d.id) + '/test_event').then(function (r) {
          report((r.delivered ? 'Test event delivered: ' : 'Test event failed: ') + r.message, !r.delivered);
        }, function (e) { report(e.message, true); });
      },
    }, 'Send test event');
    var resend = el('button', {
      type: 'button', class: 'resend-parked', disabled: d.deliveryHealth.parked === 0,
      onclick: function () {
        mutate('auditEventStreamingDestinationResendParked', { destinationId: d.id }, 'resent').then(function (p) {
          if (p.errors.length) { report(p.errors.join(', '), true); } else { report(p.resent + ' parked events queued for re-sending.'); }
        }, function (e) { report(e.message, true); });
      },
    }, 'Re-send parked events');
    var n = ++uid;
    var from = el('input', { type: 'datetime-local', id: 'replay-from-' + n, name: 'from' });
    var to = el('input', { type: 'datetime-local', id: 'replay-to-' + n, name: 'to' });
    var replay = el('form', {
      class: 'replay', 'aria-label': 'Replay a time range',
      onsubmit: function (event) {
        event.preventDefault();
        var input = { destinationId: d.id };
        if (from.value) { input.createdAfter = new Date(from.value).toISOString(); }
        if (to.value) { input.createdBefore = new Date(to.value).toISOString(); }
        mutate('auditEventStreamingDestinationReplay', input, 'replay { id fromSeq toSeq state }').then(function (p) {
          if (p.errors.length) { report(p.errors.join(', '), true); return; }
          var r = p.replay;
          report('Replay ' + r.id + ' ' + r.state + ': events ' + r.fromSeq + '–' + r.toSeq + '.');
        }, function (e) { report(e.message, true); });
      },
    },
    el('label', { for: 'replay-from-' + n }, 'Replay from'), from,
    el('label', { for: 'replay-to-' + n }, 'to'), to,
    el('button', { type: 'submit', class: 'replay-submit' }, 'Replay'));
    return el('div', { class: 'operations' }, test, resend, replay, result);
  }

  function confirmDelete(d) {
    var dialog = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' });
    function close() { dialog.close(); dialog.remove(); }
    dialog.appendChild(el('h2', { id: 'confirm-title', text: 'Delete destination?' }));
    dialog.appendChild(el('p', {}, 'Delete ', el('strong', { text: d.name }),
      '? Audit events will no longer be streamed to it.'));
    var cancel = el('button', { type: 'button', class: 'cancel', onclick: close }, 'Cancel');
    var confirm = el('button', {
      type: 'button', class: 'danger confirm-delete',
      onclick: function () {
        mutate(MUTATIONS.destroy, { id: d.id }).then(function (p) {
          close();
          if (p.errors.length) { say(p.errors.join(', '), true); return; }
          say('Destination ' + d.name + ' deleted.');
          refresh();
        }, function (e) { close(); say(e.message, true); });
      },
    }, 'Delete destination');
    dialog.appendChild(el('div', { class: 'dialog-buttons' }, cancel, confirm));
    dialog.addEventListener('cancel', function () { dialog.remove(); });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  }

  // ---- the form ------------------------------------------------------------------------------

  // Which field an API message is about; anything else is shown above the buttons.
  var FIELD_PATTERNS = [
    [/^name\b/i, 'name'],
    [/url/i, 'url'],
    [/header/i, 'headers'],
    [/googleProjectIdName|google project/i, 'googleProjectIdName'],
    [/clientEmail|client email/i, 'clientEmail'],
    [/logIdName|log id/i, 'logIdName'],
    [/accessKeyXid|access key xid|access key id/i, 'accessKeyXid'],
    [/bucket/i, 'bucketName'],
    [/region/i, 'awsRegion'],
    [/secret|private key/i, 'secret'],
    [/event type/i, 'eventTypes'],
    [/namespace|group|project/i, 'namespace'],
  ];

  function fieldFor(message, errors) {
    for (var i = 0; i < FIELD_PATTERNS.length; i++) {
      if (FIELD_PATTERNS[i][0].test(message) && errors[FIELD_PATTERNS[i][1]]) { return FIELD_PATTERNS[i][1]; }
    }
    return 'form';
  }

  function destinationForm(category, existing, onDone) {
    var n = ++uid;
    var errors = {};
    var inputs = {};
    var form = el('form', { class: 'destination-form', 'data-category': category, novalidate: true });

    function errorSlot(key) {
      var slot = el('p', { class: 'field-error', id: 'error-' + key + '-' + n, hidden: true });
      errors[key] = slot;
      return slot;
    }

    function field(key, label, value, options) {
      options = options || {};
      var id = key + '-' + n;
      var input = el(options.multiline ? 'textarea' : 'input', {
        id: id, name: key, type: options.multiline ? undefined : (options.type || 'text'),
        placeholder: options.placeholder, 'aria-describedby': 'error-' + key + '-' + n, autocomplete: 'off',
      });
      input.value = value || '';
      inputs[key] = input;
      var wrapper = el('div', { class: 'field field-' + key }, el('label', { for: id, text: label }), input, errorSlot(key));
      if (options.hint) { wrapper.insertBefore(el('p', { class: 'hint', text: options.hint }), input); }
      return wrapper;
    }

    // A secret is never shown back: editing offers to replace it.
    function secretField(label, replaceLabel) {
      if (!existing) { return field('secret', label, '', { multiline: category === 'gcp', type: 'password' }); }
      var holder = el('div', { class: 'field field-secret' });
      var reveal = el('button', {
        type: 'button', class: 'replace-secret',
        onclick: function () {
          holder.textContent = '';
          holder.appendChild(field('secret', label, '', { multiline: category === 'gcp', type: 'password' }));
          inputs.secret.focus();
        },
      }, replaceLabel);
      holder.appendChild(reveal);
      holder.appendChild(errorSlot('secret'));
      return holder;
    }

    var config = existing ? existing.config || {} : {};
    form.appendChild(field('name', 'Name', existing ? existing.name : ''));
    if (category === 'http') {
      form.appendChild(field('url', 'Destination URL', config.url, { type: 'url', placeholder: 'https://siem.example.com/audit' }));
      form.appendChild(headersTable(config.headers || {}, errorSlot('headers')));
    } else if (category === 'gcp') {
      form.appendChild(field('googleProjectIdName', 'Google project ID name', config.googleProjectIdName));
      form.appendChild(field('clientEmail', 'Client email', config.clientEmail, { type: 'email' }));
      form.appendChild(field('logIdName', 'Log ID name', config.logIdName, { placeholder: 'audit-events' }));
      form.appendChild(secretField('Private key', 'Add a new private key'));
    } else {
      form.appendChild(field('accessKeyXid', 'Access key ID', config.accessKeyXid));
      form.appendChild(field('bucketName', 'AWS S3 bucket name', config.bucketName));
      form.appendChild(field('awsRegion', 'AWS region', config.awsRegion, { placeholder: 'us-east-1' }));
      form.appendChild(secretField('Secret access key', 'Add a new secret access key'));
    }
    var picker = eventTypePicker(existing ? existing.eventTypeFilters : [], n);
    form.appendChild(el('div', { class: 'field field-eventTypes' }, picker.node, errorSlot('eventTypes')));
    var currentNamespace = existing && existing.namespaceFilters.length ? existing.namespaceFilters[0].namespace.fullPath : '';
    form.appendChild(field('namespace', 'Filter by group or project', currentNamespace, {
      placeholder: 'group/subgroup or group/project', hint: 'Optional. Only events of this group (and its subgroups and projects) or project are streamed.',
    }));
    form.appendChild(errorSlot('form'));
    var submit = el('button', { type: 'submit', class: 'primary' }, existing ? 'Save' : 'Add');
    var cancel = el('button', { type: 'button', class: 'cancel', onclick: onDone }, 'Cancel');
    form.appendChild(el('div', { class: 'form-buttons' }, submit, cancel));

    function clearErrors() {
      Object.keys(errors).forEach(function (k) { errors[k].hidden = true; errors[k].textContent = ''; });
      Object.keys(inputs).forEach(function (k) { inputs[k].removeAttribute('aria-invalid'); });
    }

    function show(messages, key) {
      messages.forEach(function (message) {
        var target = key || fieldFor(message, errors);
        var slot = errors[target];
        slot.hidden = false;
        slot.textContent = slot.textContent ? slot.textContent + ' ' + message : message;
        if (inputs[target]) { inputs[target].setAttribute('aria-invalid', 'true'); }
      });
      var first = form.querySelector('.field-error:not([hidden])');
      var field = first && first.parentNode.querySelector('input, textarea, button');
      if (field) { field.focus(); }
    }

    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clearErrors();
      var built = buildConfig(category, inputs, form);
      if (built.error) { show([built.error], 'headers'); return; }
      submit.disabled = true;
      save(existing, category, inputs, built.config, picker.selected(), show).then(function (saved) {
        submit.disabled = false;
        if (saved) {
          say(existing ? 'Destination ' + saved + ' saved.' : 'Destination ' + saved + ' added.');
          onDone();
          refresh();
        }
      }, function (error) { submit.disabled = false; show([error.message], 'form'); });
    });
    return form;
  }

  function buildConfig(category, inputs, form) {
    var value = function (key) { return inputs[key] ? inputs[key].value.trim() : ''; };
    if (category === 'http') {
      var headers = {};
      var rows = form.querySelectorAll('tr.header-row');
      for (var i = 0; i < rows.length; i++) {
        var key = rows[i].querySelector('.header-key').value.trim();
        var headerValue = rows[i].querySelector('.header-value').value;
        if (!key && !headerValue) { continue; }
        // A JSON object cannot hold a name twice; say so instead of dropping one silently.
        if (Object.prototype.hasOwnProperty.call(headers, key)) { return { error: 'Header ' + key + ' is listed twice.' }; }
        headers[key] = { value: headerValue, active: rows[i].querySelector('.header-active').checked };
      }
      var config = { url: value('url') };
      if (Object.keys(headers).length) { config.headers = headers; }
      return { config: config };
    }
    if (category === 'gcp') {
      var gcp = { googleProjectIdName: value('googleProjectIdName'), clientEmail: value('clientEmail') };
      if (value('logIdName')) { gcp.logIdName = value('logIdName'); }
      return { config: gcp };
    }
    return { config: { accessKeyXid: value('accessKeyXid'), bucketName: value('bucketName'), awsRegion: value('awsRegion') } };
  }

  function headersTable(headers, errorSlotNode) {
    var n = ++uid;
    var body = el('tbody');
    var limit = el('p', { class: 'hint header-limit', hidden: true }, 'Maximum of ' + MAX_HEADERS + ' HTTP headers has been reached.');
    var add = el('button', { type: 'button', class: 'add-header', onclick: function () { addRow('', '', true, true); } }, 'Add header');
    function update() {
      var full = body.children.length >= MAX_HEADERS;
      add.disabled = full;
      limit.hidden = !full;
    }
    function addRow(key, value, active, focus) {
      if (body.children.length >= MAX_HEADERS) { return; }
      var row = ++uid;
      var keyInput = el('input', { class: 'header-key', id: 'header-key-' + row, 'aria-label': 'Header name', autocomplete: 'off' });
      var valueInput = el('input', { class: 'header-value', id: 'header-value-' + row, 'aria-label': 'Header value', autocomplete: 'off' });
      var activeInput = el('input', { type: 'checkbox', class: 'header-active', id: 'header-active-' + row, checked: active });
      keyInput.value = key;
      valueInput.value = value;
      var tr = el('tr', { class: 'header-row' },
        el('td', {}, keyInput), el('td', {}, valueInput),
        el('td', { class: 'active-cell' }, activeInput, el('label', { for: 'header-active-' + row }, 'Active')),
        el('td', {}, el('button', {
          type: 'button', class: 'delete-header', 'aria-label': 'Delete header',
          onclick: function () { tr.remove(); update(); add.focus(); },
        }, 'Delete')));
      body.appendChild(tr);
      update();
      if (focus) { keyInput.focus(); }
    }
    Object.keys(headers).forEach(function (key) { addRow(key, headers[key].value, headers[key].active, false); });
    update();
    return el('fieldset', { class: 'field field-headers', id: 'headers-' + n },
      el('legend', { text: 'Custom HTTP headers' }),
      el('p', { class: 'hint' }, 'Up to ' + MAX_HEADERS + ' headers are sent with every event; only active ones are sent.'),
      el('table', { class: 'headers' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Header' }), el('th', { scope: 'col', text: 'Value' }),
          el('th', { scope: 'col', text: 'Active' }), el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
        body),
      add, limit, errorSlotNode);
  }

  // "Filter by audit event type": a disclosure with a search box and a checkbox per known type.
  function eventTypePicker(selected, n) {
    var chosen = {};
    selected.forEach(function (name) { chosen[name] = true; });
    var panelId = 'event-types-' + n;
    var summary = el('span', { class: 'event-type-summary' });
    var toggle = el('button', {
      type: 'button', class: 'event-type-toggle', 'aria-expanded': 'false', 'aria-controls': panelId,
      onclick: function () {
        var open = panel.hidden;
        panel.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        if (open) { search.focus(); }
      },
    }, 'Filter by audit event type');
    var search = el('input', { type: 'search', class: 'event-type-search', 'aria-label': 'Search audit event types', placeholder: 'Search' });
    var options = el('div', { class: 'event-type-options', role: 'group', 'aria-label': 'Audit event types' });
    var panel = el('div', { class: 'event-type-panel', id: panelId, hidden: true }, search, options);
    var names = definitions.slice();
    selected.forEach(function (name) { if (names.indexOf(name) < 0) { names.push(name); } });
    names.sort();
    function describe() {
      var count = Object.keys(chosen).length;
      summary.textContent = count === 0 ? 'All events are streamed.' : count + ' event type' + (count === 1 ? '' : 's') + ' selected: ' + Object.keys(chosen).sort().join(', ');
    }
    names.forEach(function (name, i) {
      var id = panelId + '-' + i;
      var box = el('input', {
        type: 'checkbox', id: id, value: name, class: 'event-type-option', checked: !!chosen[name],
        onchange: function () { if (box.checked) { chosen[name] = true; } else { delete chosen[name]; } describe(); },
      });
      options.appendChild(el('div', { class: 'check', 'data-name': name }, box, el('label', { for: id, text: name })));
    });
    search.addEventListener('input', function () {
      var term = search.value.trim().toLowerCase();
      Array.prototype.forEach.call(options.children, function (row) {
        row.hidden = term !== '' && row.getAttribute('data-name').toLowerCase().indexOf(term) < 0;
      });
    });
    describe();
    return {
      node: el('div', { class: 'event-type-picker' }, toggle, summary, panel),
      selected: function () { return Object.keys(chosen).sort(); },
    };
  }

  // ---- saving ----------------------------------------------------------------------------------

  // Creates or updates the destination, then its event type and namespace filters. Resolves
  // to the saved name, or to null after showing the API's messages.
  function save(existing, category, inputs, config, eventTypes, show) {
    var input = { config: config };
    var name = inputs.name.value.trim();
    if (name) { input.name = name; }
    if (inputs.secret && inputs.secret.value) { input.secretToken = inputs.secret.value; }
    var step;
    if (existing) {
      input.id = existing.id;
      step = mutate(MUTATIONS.update, input, 'externalAuditEventDestination { id name }');
    } else {
      input.category = category;
      if (scope === 'group') { input.groupPath = groupPath; }
      step = mutate(MUTATIONS.create, input, 'externalAuditEventDestination { id name }');
    }
    return step.then(function (payload) {
      if (payload.errors.length) { show(payload.errors); return null; }
      var saved = payload.externalAuditEventDestination;
      return saveEventTypes(saved.id, existing ? existing.eventTypeFilters : [], eventTypes, show)
        .then(function (ok) { return ok && saveNamespace(saved.id, existing, inputs.namespace.value.trim(), show); })
        .then(function (ok) {
          if (!ok && !existing) { refresh(); }
          return ok ? saved.name : null;
        });
    });
  }

  function saveEventTypes(id, before, after, show) {
    var added = after.filter(function (t) { return before.indexOf(t) < 0; });
    var removed = before.filter(function (t) { return after.indexOf(t) < 0; });
    var steps = Promise.resolve(true);
    if (removed.length) {
      steps = steps.then(function () {
        return mutate(MUTATIONS.eventsDelete, { destinationId: id, eventTypeFilters: removed }).then(check);
      });
    }
    if (added.length) {
      steps = steps.then(function (ok) {
        return ok && mutate(MUTATIONS.eventsAdd, { destinationId: id, eventTypeFilters: added }).then(check);
      });
    }
    function check(payload) {
      if (payload.errors.length) { show(payload.errors, 'eventTypes'); return false; }
      return true;
    }
    return steps;
  }

  function saveNamespace(id, existing, path, show) {
    var current = existing ? existing.namespaceFilters : [];
    var same = current.length === (path ? 1 : 0) && (!path || current[0].namespace.fullPath === path);
    if (same) { return Promise.resolve(true); }
    var steps = Promise.resolve(true);
    current.forEach(function (filter) {
      steps = steps.then(function (ok) {
        return ok && mutate(MUTATIONS.namespaceDelete, { namespaceFilterId: filter.id }).then(check);
      });
    });
    if (path) {
      steps = steps.then(function (ok) {
        return ok && mutate(MUTATIONS.namespaceCreate, { destinationId: id, namespacePath: path }).then(check);
      });
    }
    function check(payload) {
      if (payload.errors.length) { show(payload.errors, 'namespace'); return false; }
      return true;
    }
    return steps;
  }

  start();
})();
