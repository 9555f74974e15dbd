'use strict';
// The bonusbot Mini App: the subscriber's points account as a page inside Telegram (or VK). Every word
// on it comes from the server (locales/), every number from the ledger; the page only lays them out.
(() => {
  const tg = window.Telegram && window.Telegram.WebApp;
  const native = Boolean(tg && tg.initData && tg.MainButton); // inside Telegram, not a stub or a browser
  const $ = (sel) => document.querySelector(sel);
  let auth = '';     // the Authorization header: signed launch data
  let S = {};        // the page's strings in the user's language
  let me = null;     // GET me
  const stack = [];  // screens, for Back

  // --- launch -------------------------------------------------------------------------------------

  function launch() {
    const q = new URLSearchParams(location.search);
    if (tg && tg.initData) {
      const u = tg.initDataUnsafe && tg.initDataUnsafe.user;
      return ['tma ' + tg.initData, u && u.language_code];
    }
    if (q.get('vk_user_id') && q.get('sign')) {
      return ['vk ' + location.search.slice(1), q.get('vk_language')];
    }
    if (q.get('dev_user')) return ['dev ' + q.get('dev_user'), 'ru'];
    return ['', navigator.language];
  }

  let vkScheme = ''; // VK's colour scheme once VK Bridge says it (VKWebAppUpdateConfig)
  function theme() {
    const root = document.documentElement;
    const params = (tg && tg.themeParams) || {};
    for (const [k, v] of Object.entries(params)) root.style.setProperty('--tg-theme-' + k.replace(/_/g, '-'), v);
    let dark = matchMedia('(prefers-color-scheme: dark)').matches;
    if (tg && tg.colorScheme) dark = tg.colorScheme === 'dark';
    else if (vkScheme) dark = vkScheme === 'space_gray' || vkScheme.endsWith('_dark');
    root.classList.toggle('dark', dark);
  }

  // --- VK ------------------------------------------------------------------------------------------

  // Under VK the page must tell VK it has started (VKWebAppInit), or VK keeps its loading screen over
  // it; VK then says its colour scheme. VK Bridge, VK's own script, is fetched only under VK, so
  // Telegram and plain browsers never load it.
  const VK_BRIDGE = 'https://unpkg.com/@vkontakte/vk-bridge/dist/browser.min.js';
  let vk = null; // VK Bridge once loaded
  function vkStart() {
    const ready = (bridge) => {
      vk = bridge;
      vk.subscribe((e) => {
        const d = e && e.detail;
        if (d && d.type === 'VKWebAppUpdateConfig' && d.data && d.data.scheme) {
          vkScheme = d.data.scheme;
          theme();
        }
      });
      vk.send('VKWebAppInit');
    };
    if (window.vkBridge) return ready(window.vkBridge);
    const script = el('script', { src: VK_BRIDGE });
    script.addEventListener('load', () => { if (window.vkBridge) ready(window.vkBridge); });
    document.head.append(script);
  }

  async function loadStrings(lang) {
    const res = await fetch('/api/miniapp/strings?lang=' + encodeURIComponent(lang || ''));
    const data = await res.json();
    S = data.strings;
    document.documentElement.lang = data.lang;
    document.title = S['app.title'];
    return data.lang;
  }

  // The server stops accepting the launch data after a while and says how long is left with every
  // answer: counting down from that, the page says so before a tap fails (whatever the device's clock).
  let ageTimer = 0;
  function watchAge(res) {
    const left = res.headers.get('Launch-Expires-In');
    if (left === null) return;
    clearTimeout(ageTimer);
    ageTimer = setTimeout(() => fatal(S['app.error.expired']), Math.max(Number(left), 0) * 1000);
  }

  // --- talking to the server -----------------------------------------------------------------------

  async function call(method, path, body, key) {
    const headers = { Authorization: auth };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    let res;
    try {
      res = await fetch('/api/miniapp/' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw { error: 'offline', message: S['app.error.offline'] };
    }
    watchAge(res);
    const data = await res.json().catch(() => ({ error: 'bad_response', message: S['app.error.offline'] }));
    if (res.ok) return data;
    data.status = res.status;
    if (res.status === 401) fatal(data.message);
    throw data;
  }

  // A spend's idempotency key: one per confirmation shown, so a retried tap spends once.
  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // --- building blocks -----------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c.nodeType ? c : String(c));
    return e;
  }

  function haptic(kind) {
    if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred(kind);
    if (vk) vk.send('VKWebAppTapticNotificationOccurred', { type: kind }).catch(() => {}); // not every VK client vibrates
  }

  let toastTimer = 0;
  function toast(text) {
    const t = $('#toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }

  // The confirm button: Telegram's MainButton inside Telegram, the page's own button elsewhere.
  let mainHandler = null;
  function setMain(text, onClick, secondText, onSecond) {
    mainHandler = onClick;
    if (native) {
      if (text) { tg.MainButton.setText(text); tg.MainButton.enable(); tg.MainButton.show(); } else tg.MainButton.hide();
    }
    const main = $('#main');
    const second = $('#second');
    main.textContent = text || '';
    main.disabled = false;
    second.textContent = secondText || '';
    second.onclick = onSecond || null;
    $('#actions').hidden = native ? !secondText : !text;
    main.hidden = native;
  }
  async function pressMain() {
    if (!mainHandler || $('#main').disabled) return;
    $('#main').disabled = true;
    if (native) tg.MainButton.showProgress(false);
    try {
      await mainHandler();
    } finally {
      $('#main').disabled = false;
      if (native) tg.MainButton.hideProgress();
    }
  }

  function errorLine(e) {
    haptic('error');
    return el('p', { class: 'error', role: 'alert' }, e.message || S['app.error.offline']);
  }

  // --- screens -------------------------------------------------------------------------------------

  function show(screen, arg) {
    stack.push([screen, arg]);
    render();
  }
  function back() {
    if (stack.length > 1) stack.pop();
    render();
  }
  function home() {
    stack.length = 0;
    show(homeScreen);
  }
  function render() {
    const [screen, arg] = stack[stack.length - 1];
    setMain('');
    const canBack = stack.length > 1;
    if (native && tg.BackButton) canBack ? tg.BackButton.show() : tg.BackButton.hide();
    $('#back').hidden = native || !canBack;
    $('#back').textContent = S['app.back'];
    $('#bar').hidden = false;
    window.scrollTo(0, 0);
    screen(arg);
  }
  function screenTitle(text) {
    $('#title').textContent = text;
  }
  function view(...children) {
    $('#view').replaceChildren(...children.filter(Boolean)); // a part shown only sometimes is false otherwise
  }
  function loading() {
    view(el('p', { class: 'hint center' }, S['app.loading']));
  }
  function failed(e, retry) {
    view(el('div', { class: 'card center' }, errorLine(e), el('button', { class: 'link', type: 'button', onclick: retry }, S['app.retry'])));
  }

  function fatal(message) {
    stack.length = 0;
    setMain('');
    if (native && tg.BackButton) tg.BackButton.hide();
    $('#bar').hidden = true;
    view(el('div', { class: 'card center', id: 'fatal' }, el('p', {}, message)));
  }

  async function refreshMe() {
    me = await call('GET', 'me');
    return me;
  }

  async function homeScreen() {
    screenTitle(S['app.title']);
    loading();
    try {
      await refreshMe();
      // The page first spoke the platform's language; the account's own (chosen in the chat or here) wins.
      if (me.language !== document.documentElement.lang) {
        await loadStrings(me.language);
        screenTitle(S['app.title']);
      }
    } catch (e) {
      if (e.error === 'not_linked') return show(linkScreen);
      return failed(e, render);
    }
    const hero = el('div', { class: 'card hero' },
      el('div', { class: 'points', id: 'balance', 'aria-label': me.balance_text }, me.points_text),
      el('div', { class: 'burn', id: 'burn' }, me.nearest_burn ? me.nearest_burn.text : S['app.nearest.none']),
      me.debt_text && el('div', { class: 'burn warn' }, me.debt_text),
      me.blocked && el('div', { class: 'burn warn' }, S['app.settings.blocked']));
    const tile = (id, screen) => el('button', { class: 'tile', type: 'button', 'data-go': id, onclick: () => show(screen) }, S['menu.' + id]);
    view(hero, el('div', { class: 'tiles' },
      tile('forecast', forecastScreen), tile('catalog', catalogScreen), tile('gift', giftScreen),
      tile('history', historyScreen), tile('settings', settingsScreen)));
    fit($('#balance'));
  }

  // fit shrinks a line that must not wrap (a number with its word, «16 329 баллов») until it fits its
  // box: on a 320 px phone a big balance is wider than the card at the hero's size.
  function fit(e) {
    let size = parseFloat(getComputedStyle(e).fontSize);
    while (e.scrollWidth > e.clientWidth && size > 16) {
      size -= 1;
      e.style.fontSize = size + 'px';
    }
  }

  async function forecastScreen() {
    screenTitle(S['menu.forecast']);
    loading();
    let f;
    try {
      f = await call('GET', 'forecast');
    } catch (e) {
      return failed(e, render);
    }
    if (!f.total) {
      view(el('div', { class: 'card center' }, el('p', {}, S['app.forecast.none'])));
    } else {
      const title = el('div', { class: 'hint' }, S['app.forecast.title']);
      const card = el('div', { class: 'card' }, title,
        el('div', { class: 'total' }, f.total_text), el('div', { class: 'hint' }, S['app.forecast.hint']));
      view(card);
      title.after(chart(f.months, title.clientWidth));
    }
    setMain(S['menu.catalog'], () => show(catalogScreen));
  }

  // chart draws what burns each month as horizontal bars with the number at each bar's end: twelve
  // rows stay readable on a 320 px screen, where twelve columns would not fit their numbers. It is
  // drawn as wide as the space it gets (width CSS pixels), so its 13 px numbers are never scaled down.
  function chart(months, width) {
    const ns = 'http://www.w3.org/2000/svg';
    const W = Math.max(width || 0, 240), row = 28, labelW = 40, numW = 64, barW = W - labelW - numW;
    const max = Math.max(...months.map((m) => m.points), 1);
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${months.length * row}`);
    svg.setAttribute('class', 'chart');
    svg.setAttribute('role', 'img');
    const add = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      svg.append(e);
    };
    months.forEach((m, i) => {
      const y = i * row;
      const w = m.points ? Math.max(3, (m.points / max) * barW) : 0;
      add('text', { x: 0, y: y + 18, class: 'month' }, m.label);
      add('rect', { x: labelW, y: y + 7, width: barW, height: 14, rx: 4, class: 'track' });
      if (w) add('rect', { x: labelW, y: y + 7, width: w, height: 14, rx: 4, class: 'bar', 'data-month': m.month });
      add('text', { x: labelW + w + 6, y: y + 18, class: m.points ? 'num' : 'num zero' }, m.points_text); // «0»: nothing burns, not missing data
    });
    return svg;
  }

  async function historyScreen() {
    screenTitle(S['menu.history']);
    const list = el('div', { class: 'list', id: 'history' });
    const end = el('p', { class: 'hint center' }, S['app.loading']);
    view(list, end);
    let next = '';
    let busy = false;
    const more = async () => {
      if (busy || next === null) return;
      busy = true;
      try {
        const page = await call('GET', 'history' + (next ? '?before=' + encodeURIComponent(next) : ''));
        for (const op of page.operations) {
          list.append(el('div', { class: 'row', 'data-id': op.id },
            el('div', { class: 'main' }, el('div', {}, op.title), el('div', { class: 'sub' }, op.date_text)),
            el('div', { class: 'amount' + (op.points > 0 ? ' plus' : '') }, op.points_text)));
        }
        next = page.next;
        if (next === null) {
          end.textContent = list.childElementCount ? S['app.history.end'] : S['app.history.empty'];
          list.hidden = !list.childElementCount;
        }
      } catch (e) {
        end.replaceChildren(errorLine(e));
      } finally {
        busy = false;
      }
      // A short page leaves the sentinel in view: keep loading until the screen is full.
      if (next !== null && end.getBoundingClientRect().top < innerHeight) more();
    };
    new IntersectionObserver((entries) => { if (entries[0].isIntersecting) more(); }).observe(end);
  }

  let catalogState = { category: '', query: '' };
  async function catalogScreen() {
    screenTitle(S['menu.catalog']);
    loading();
    let c;
    try {
      c = await call('GET', 'catalog');
    } catch (e) {
      return failed(e, render);
    }
    const list = el('div', { class: 'list', id: 'items' });
    const none = el('p', { class: 'hint center' }, S['app.catalog.nothing']);
    const chips = el('div', { class: 'chips' });
    const fill = () => {
      const q = catalogState.query.trim().toLowerCase();
      const shown = c.items.filter((it) => (!catalogState.category || it.category === catalogState.category) &&
        (!q || it.title.toLowerCase().includes(q) || it.code === q));
      list.replaceChildren(...shown.map(itemRow));
      list.hidden = !shown.length;
      none.hidden = Boolean(shown.length);
      for (const chip of chips.children) chip.classList.toggle('on', chip.dataset.category === catalogState.category);
    };
    const chip = (id, title) => el('button', { class: 'chip', type: 'button', 'data-category': id,
      onclick: () => { catalogState.category = id; fill(); } }, title);
    chips.append(chip('', S['app.catalog.all']), ...c.categories.map((cat) => chip(cat.id, cat.title)));
    const search = el('input', { type: 'search', id: 'search', placeholder: S['app.catalog.search'], value: catalogState.query,
      oninput: (e) => { catalogState.query = e.target.value; fill(); } });
    view(c.blocked && el('div', { class: 'card warn', id: 'blocked' }, c.blocked_text), search, chips, list, none);
    fill();
  }

  function itemRow(it) {
    const ready = Boolean(it.confirm_text); // a blocked account gets none: it is told so above the list
    const note = !it.available ? el('span', { class: 'badge' }, S['app.catalog.out']) :
      !it.affordable ? el('span', { class: 'badge' }, it.missing_text) : null;
    return el('button', { class: 'row' + (ready ? '' : ' off'), type: 'button', 'data-code': it.code, disabled: !ready,
      onclick: () => show(redeemScreen, it) },
      el('div', { class: 'main' }, el('div', {}, it.title), el('div', { class: 'sub' }, it.cost_text, note && ' · ', note)));
  }

  function redeemScreen(it) {
    screenTitle(it.title);
    const key = newKey();
    const status = el('div');
    view(el('div', { class: 'card' }, el('p', { class: 'confirm' }, it.confirm_text), status));
    setMain(S['app.redeem.button'], async () => {
      try {
        const r = await call('POST', 'redeem', { code: it.code, cost: it.cost }, key);
        haptic('success');
        done(r.message, r.promo_code);
      } catch (e) {
        status.replaceChildren(errorLine(e));
      }
    }, native ? '' : S['app.cancel'], back);
  }

  // done shows a finished spend and leads home, where the new balance is. A partner's promo code in
  // the message is kept on one line: broken at its hyphens («ELD-2000-» / «1047») it is misread.
  function done(message, code) {
    const at = code ? message.indexOf(code) : -1;
    const text = at < 0 ? [message] : [message.slice(0, at), el('span', { class: 'code' }, code), message.slice(at + code.length)];
    stack.length = 1;
    stack.push([() => {
      screenTitle(S['app.title']);
      view(el('div', { class: 'card' }, el('p', { class: 'ok', id: 'done' }, ...text)));
      setMain(S['menu.balance'], home);
    }]);
    render();
  }

  let giftDraft = { phone: '', points: '' };
  function giftScreen() {
    screenTitle(S['menu.gift']);
    const status = el('div');
    const phone = el('input', { type: 'tel', id: 'gift-phone', autocomplete: 'tel', value: giftDraft.phone, placeholder: '+7 916 123-45-67',
      oninput: (e) => { giftDraft.phone = e.target.value; } });
    const points = el('input', { type: 'text', inputmode: 'numeric', id: 'gift-points', value: giftDraft.points,
      oninput: (e) => { giftDraft.points = e.target.value; } });
    view(el('div', { class: 'card' }, el('p', { class: 'hint' }, S['app.gift.rules']),
      el('label', { for: 'gift-phone' }, S['app.gift.phone']), phone,
      el('label', { for: 'gift-points' }, S['app.gift.points']), points, status));
    setMain(S['app.gift.next'], async () => {
      // The amount goes as typed («100 баллов», "1,000"): the server reads it as the chat does and
      // answers a fraction, a zero or words in the chat's own words.
      const body = { phone: giftDraft.phone, points: giftDraft.points };
      try {
        const plan = await call('POST', 'gift/check', body);
        show(giftConfirmScreen, { phone: body.phone, points: plan.points, plan });
      } catch (e) {
        status.replaceChildren(errorLine(e));
      }
    });
  }

  function giftConfirmScreen(g) {
    screenTitle(S['menu.gift']);
    const key = newKey();
    const status = el('div');
    view(el('div', { class: 'card' }, el('p', { class: 'confirm' }, g.plan.confirm_text), status));
    setMain(S['app.gift.confirm'], async () => {
      try {
        const r = await call('POST', 'gift', { phone: g.phone, points: g.points }, key);
        haptic('success');
        giftDraft = { phone: '', points: '' };
        done(r.message);
      } catch (e) {
        status.replaceChildren(errorLine(e));
      }
    }, native ? '' : S['app.cancel'], back);
  }

  function settingsScreen() {
    screenTitle(S['menu.settings']);
    const status = el('div');
    const langs = el('div', { class: 'segment' }, ...['ru', 'en'].map((l) =>
      el('button', { type: 'button', 'data-lang': l, class: me.language === l ? 'on' : '', onclick: () => setLanguage(l, status) },
        S['language.name.' + l])));
    view(el('div', { class: 'card' }, el('label', {}, S['app.settings.language']), langs, status),
      el('div', { class: 'card' }, el('label', {}, S['app.settings.phones']),
        ...me.phones_text.map((p) => el('div', { class: 'phone' }, p)),
        me.blocked && el('p', { class: 'warn' }, S['app.settings.blocked'])));
  }

  async function setLanguage(l, status) {
    try {
      await call('POST', 'language', { language: l });
      await loadStrings(l);
      await refreshMe();
      haptic('success');
      render();
    } catch (e) {
      status.replaceChildren(errorLine(e));
    }
  }

  // linkScreen proves a member's number with a one-time code, as the chat's "add a number" does.
  function linkScreen() {
    screenTitle(S['app.link.title']);
    const status = el('div');
    const phone = el('input', { type: 'tel', id: 'link-phone', autocomplete: 'tel', placeholder: '+7 916 123-45-67' });
    view(el('div', { class: 'card' }, el('p', {}, S['app.link.text']), el('label', { for: 'link-phone' }, S['app.link.phone']), phone, status));
    setMain(S['app.link.send'], async () => {
      try {
        const r = await call('POST', 'link/start', { phone: phone.value });
        show(codeScreen, r.message);
      } catch (e) {
        if (e.error === 'code_too_soon') return show(codeScreen, e.message);
        status.replaceChildren(errorLine(e));
      }
    });
  }

  function codeScreen(message) {
    screenTitle(S['app.link.title']);
    const status = el('div');
    const code = el('input', { type: 'text', inputmode: 'numeric', id: 'link-code', autocomplete: 'one-time-code', maxlength: 7 });
    view(el('div', { class: 'card' }, el('p', {}, message), el('label', { for: 'link-code' }, S['app.link.code']), code, status));
    setMain(S['app.link.confirm'], async () => {
      try {
        me = await call('POST', 'link/confirm', { code: code.value.replace(/\D/g, '') });
        haptic('success');
        if (me.language !== document.documentElement.lang) await loadStrings(me.language);
        home();
      } catch (e) {
        status.replaceChildren(errorLine(e));
      }
    }, S['app.link.other'], back);
  }

  // --- start ---------------------------------------------------------------------------------------

  async function start() {
    theme();
    let hint;
    [auth, hint] = launch();
    if (auth.startsWith('vk ')) vkStart();
    if (tg) {
      if (tg.ready) tg.ready();
      if (tg.expand) tg.expand();
      if (tg.onEvent) tg.onEvent('themeChanged', theme);
      if (native) {
        tg.MainButton.onClick(pressMain);
        if (tg.BackButton) tg.BackButton.onClick(back);
      }
    }
    $('#main').addEventListener('click', pressMain);
    $('#back').addEventListener('click', back);
    try {
      await loadStrings(hint);
    } catch (e) {
      $('#boot').textContent = 'Нет связи / No connection';
      return;
    }
    if (!auth) return fatal(S['app.error.unauthorized']);
    home();
  }

  start();
})();
