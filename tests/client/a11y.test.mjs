// Accessibility of the web client (issue 17) in real Chromium: keyboard use
// (focus after sign-in and on a channel switch, skip links, the message list
// as one tab stop with arrow keys, ArrowUp to edit, Escape), the colour
// themes (a switch kept across reloads, set before the first paint), the
// phone's message menu and unread badge, and axe-core (WCAG 2 A/AA) on the
// sign-in screen and the chat, light and dark, desktop and phone: any
// "serious" or "critical" violation fails.
// Users: Kim works with the keyboard only, Lee writes back in a second
// browser (and over REST), Pam uses a phone.
// Run by scripts/check-client.sh (PARLEY_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { BASE, PASSWORD, WAIT, launch, ok, rest, shot } from './support.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const tag = Date.now().toString(36).slice(-5) + Math.random().toString(36).slice(2, 5);
const kim = { username: `kim_${tag}`, display: 'Kim Keys' };
const lee = { username: `lee_${tag}`, display: 'Lee' };
const pam = { username: `pam_${tag}` };
const names = { big: `a11y-big-${tag}`, talk: `a11y-talk-${tag}`, other: `a11y-other-${tag}` };
const chans = {};

let browser, ctxK, ctxL, pageK, pageL;
const pageErrors = [];

const post = (u, channel, content, extra = {}) => ok('POST', '/api/messages', { channel_id: channel, content, ...extra }, u.token);

async function newPage(ctx) {
	const page = await ctx.newPage();
	page.on('dialog', (d) => d.dismiss());
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	return page;
}

// Signs in with the mouse-free form filling of the other tests (Kim's
// keyboard-only sign-in is a test of its own).
async function signIn(page, u) {
	await page.goto(BASE + '/');
	await page.locator('#auth-screen').waitFor({ timeout: WAIT });
	await page.fill('#auth-username', u.username);
	await page.fill('#auth-password', PASSWORD);
	await page.press('#auth-password', 'Enter');
	await online(page);
}
async function online(page) {
	await page.locator('#chat-screen').waitFor({ timeout: WAIT });
	await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
}

const msgWith = (page, text) => page.locator('#messages li.msg[data-id]', { hasText: text });
const focused = (page) => page.evaluate(() => {
	const a = document.activeElement;
	const li = a && a.closest ? a.closest('#messages > li.msg') : null;
	return { id: a ? a.id : '', tag: a ? a.tagName : '', text: a ? (a.getAttribute('aria-label') || a.textContent || '').trim().slice(0, 60) : '',
		msg: li ? Number(li.dataset.id) : null, isMsg: !!a && a === li, className: a ? a.className : '' };
});
const waitFocus = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: WAIT });
const composerFocused = (page) => waitFocus(page, () => document.activeElement && document.activeElement.id === 'composer-input');
// Shift+Tab from the composer until a message has the focus (the list is
// one stop; "Jump to latest" may come in between).
async function backToList(page) {
	for (let i = 0; i < 6 && !(await focused(page)).isMsg; i++) await page.keyboard.press('Shift+Tab');
	assert.ok((await focused(page)).isMsg, 'Shift+Tab from the composer reaches the message list');
}
const roomIs = (page, name) => page.locator('#room-name', { hasText: name }).waitFor({ timeout: WAIT });

// axe-core, WCAG 2 A and AA; fails on "serious" and "critical" violations,
// listing them readably. (The contexts bypass the page's CSP, which would
// refuse the injected script.)
async function axe(page, what) {
	if (!await page.evaluate(() => !!window.axe)) await page.addScriptTag({ path: AXE });
	const result = await page.evaluate(() => window.axe.run(document, {
		runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
		resultTypes: ['violations'],
	}));
	const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	const report = bad.map((v) => `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n`
		+ v.nodes.slice(0, 8).map((n) => `      ${n.target.join(' ')}\n        ${(n.failureSummary || '').replace(/\n/g, '\n        ')}`).join('\n')
		+ (v.nodes.length > 8 ? `\n      … and ${v.nodes.length - 8} more` : '')).join('\n');
	assert.equal(bad.length, 0, `axe: ${bad.length} serious/critical violation(s) on ${what}:\n${report}`);
	return result;
}

async function setTheme(page, theme) {
	await page.selectOption('#theme-select', theme);
	await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme, { timeout: WAIT });
}
const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const LIGHT_BG = 'rgb(246, 247, 249)', DARK_BG = 'rgb(20, 23, 28)';

before(async () => {
	browser = await launch();
	for (const u of [kim, lee, pam]) {
		const body = { username: u.username, password: PASSWORD };
		if (u.display) body.display_name = u.display;
		assert.equal((await rest('POST', '/api/auth/register', body)).status, 201);
		const r = await ok('POST', '/api/auth/login', { username: u.username, password: PASSWORD });
		u.token = r.access_token;
		u.id = r.user.id;
	}
	for (const [k, name] of Object.entries(names)) {
		chans[k] = await ok('POST', '/api/channels', { name, topic: k === 'big' ? 'fifty messages and then some' : undefined }, lee.token);
		for (const u of k === 'talk' ? [kim] : [kim, pam]) await ok('POST', `/api/channels/${chans[k].id}/join`, undefined, u.token);
	}
	// A channel of 50 messages (the issue counted 142 Tab presses across
	// one), with what a conversation has: replies, reactions, an edit, a
	// deletion, code, links, quotes.
	const texts = [];
	for (let i = 1; i <= 50; i++) {
		const u = i % 3 === 0 ? kim : lee;
		let t = `message ${i} of the big channel`;
		if (i === 5) t = 'some `inline code` and a [link](https://example.com/) and **bold**';
		if (i === 9) t = '> a quote\n\n```\ncode block\n```';
		if (i === 12) t = 'this one will be edited';
		if (i === 15) t = 'this one will be deleted';
		texts.push(await post(u, chans.big.id, t));
	}
	chans.big.last = (await post(kim, chans.big.id, 'a reply in the big channel', { reply_to: texts[3].id })).id;
	await ok('PATCH', `/api/messages/${texts[11].id}`, { content: 'this one was edited' }, kim.token); // message 12 is Kim's
	await ok('DELETE', `/api/messages/${texts[14].id}`, undefined, lee.token);
	await ok('PUT', `/api/messages/${texts[47].id}/reactions/${encodeURIComponent('🎉')}`, undefined, kim.token);
	await ok('PUT', `/api/messages/${texts[48].id}/reactions/${encodeURIComponent('👍')}`, undefined, lee.token);
	await post(lee, chans.talk.id, 'hi Kim, this is Lee');

	ctxK = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', bypassCSP: true, colorScheme: 'light' });
	ctxL = await browser.newContext({ viewport: { width: 1000, height: 700 }, locale: 'en-US' });
	pageK = await newPage(ctxK);
	pageL = await newPage(ctxL);
	await signIn(pageL, lee);
	await pageL.locator('#channel-list button', { hasText: names.talk }).click();
	await roomIs(pageL, names.talk);
});

after(async () => {
	if (browser) await browser.close();
	assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
});

test('the sign-in screen passes axe; signing in with the keyboard puts the focus in the composer', async () => {
	await pageK.goto(BASE + '/');
	await pageK.locator('#auth-screen').waitFor({ timeout: WAIT });
	await waitFocus(pageK, () => document.activeElement && document.activeElement.id === 'auth-username');
	await axe(pageK, 'the sign-in screen (light)');
	await pageK.emulateMedia({ colorScheme: 'dark' });
	assert.equal(await background(pageK), DARK_BG, 'the system theme follows the device');
	await axe(pageK, 'the sign-in screen (dark)');
	await pageK.emulateMedia({ colorScheme: 'light' });

	await pageK.keyboard.type(kim.username);
	await pageK.keyboard.press('Tab');
	await pageK.keyboard.type(PASSWORD);
	await pageK.keyboard.press('Enter');
	await online(pageK);
	await composerFocused(pageK);
	assert.ok(await pageK.locator('#composer-input').isEnabled());
});

test('a channel switch puts the focus in the composer (Alt+ArrowDown, or Enter on a channel)', async () => {
	const before = await pageK.locator('#room-name').textContent();
	await pageK.keyboard.press('Alt+ArrowDown');
	await pageK.waitForFunction((b) => document.getElementById('room-name').textContent !== b, before, { timeout: WAIT });
	await composerFocused(pageK);
	// Enter on a channel in the list: the focus goes on to the composer.
	await pageK.focus(`#channel-list button:has-text("${names.big}")`);
	await pageK.keyboard.press('Enter');
	await roomIs(pageK, names.big);
	await composerFocused(pageK);
	await msgWith(pageK, 'message 50 of the big channel').waitFor({ timeout: WAIT });
});

test('a keyboard-only session: switch channel, send, edit with ArrowUp, react, reply — Lee sees it all', async () => {
	// To the talk channel, with Alt+ArrowDown/Up only.
	for (let i = 0; i < 4 && !(await pageK.locator('#room-name').textContent()).includes(names.talk); i++) {
		const before = await pageK.locator('#room-name').textContent();
		await pageK.keyboard.press('Alt+ArrowDown');
		await pageK.waitForFunction((b) => document.getElementById('room-name').textContent !== b, before, { timeout: WAIT });
		await composerFocused(pageK);
	}
	await roomIs(pageK, names.talk);
	await msgWith(pageK, 'hi Kim, this is Lee').waitFor({ timeout: WAIT });

	// Send.
	await pageK.keyboard.type(`hello Lee, typed not clicked ${tag}`);
	await pageK.keyboard.press('Enter');
	await msgWith(pageL, `hello Lee, typed not clicked ${tag}`).waitFor({ timeout: WAIT });
	await pageK.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: WAIT });

	// ArrowUp in the empty composer edits it; Enter saves; the focus comes back.
	await pageK.keyboard.press('ArrowUp');
	await waitFocus(pageK, () => document.activeElement && document.activeElement.matches('#messages .edit-form textarea'));
	assert.equal(await pageK.evaluate(() => document.activeElement.value), `hello Lee, typed not clicked ${tag}`);
	await pageK.keyboard.press('Control+A');
	await pageK.keyboard.type(`hello Lee, typed and edited ${tag}`);
	await pageK.keyboard.press('Enter');
	await msgWith(pageL, `hello Lee, typed and edited ${tag}`).locator('.edited').waitFor({ timeout: WAIT });
	await composerFocused(pageK);
	// Escape cancels an edit.
	await pageK.keyboard.press('ArrowUp');
	await waitFocus(pageK, () => document.activeElement && document.activeElement.matches('#messages .edit-form textarea'));
	await pageK.keyboard.type(' and more');
	await pageK.keyboard.press('Escape');
	await composerFocused(pageK);
	assert.equal(await pageK.locator('#messages .edit-form').count(), 0);
	assert.equal(await msgWith(pageK, 'and more').count(), 0);

	// Lee writes; Kim goes to his message with the keyboard and reacts.
	const leeMsg = await post(lee, chans.talk.id, `react to this, Kim ${tag}`);
	await msgWith(pageK, `react to this, Kim ${tag}`).waitFor({ timeout: WAIT });
	await backToList(pageK);
	await pageK.keyboard.press('End');
	await waitFocus(pageK, (id) => document.activeElement.id === 'msg-' + id, leeMsg.id);
	// Its actions show; Enter moves into them, ArrowRight along them.
	assert.ok(await msgWith(pageK, `react to this, Kim ${tag}`).locator('.actions').isVisible());
	await pageK.keyboard.press('Enter');
	assert.equal((await focused(pageK)).text, 'Reply');
	// Along the actions (Reply, Thread, React, ...) to React.
	const along = ['Reply'];
	while (along.at(-1) !== 'React' && along.length < 8) {
		await pageK.keyboard.press('ArrowRight');
		along.push((await focused(pageK)).text);
	}
	assert.deepEqual(along, ['Reply', 'Thread', 'React']);
	await pageK.keyboard.press('Enter');
	const picker = msgWith(pageK, `react to this, Kim ${tag}`).locator('.picker');
	await picker.waitFor({ timeout: WAIT });
	// The picker opens in its search box (js/picker.js).
	assert.equal((await focused(pageK)).text, 'Search emoji');
	// Escape closes the picker; the focus goes back to "React".
	await pageK.keyboard.press('Escape');
	await picker.waitFor({ state: 'detached', timeout: WAIT });
	assert.equal((await focused(pageK)).text, 'React');
	await pageK.keyboard.press('Enter');
	await picker.waitFor({ timeout: WAIT });
	await pageK.keyboard.type('heart'); // the exact name comes first: ❤️
	await picker.locator('.picker-label', { hasText: ':heart:' }).waitFor({ timeout: WAIT });
	await pageK.keyboard.press('Enter');
	await msgWith(pageL, `react to this, Kim ${tag}`).locator('.reaction', { hasText: '❤️ 1' }).waitFor({ timeout: WAIT });
	// The message was re-drawn with its reaction; the focus stayed on it.
	await msgWith(pageK, `react to this, Kim ${tag}`).locator('.reaction.me').waitFor({ timeout: WAIT });
	await waitFocus(pageK, (id) => document.activeElement.closest && !!document.activeElement.closest('#msg-' + id), leeMsg.id);

	// Escape back to the message, R replies.
	await pageK.keyboard.press('Escape');
	await waitFocus(pageK, (id) => document.activeElement.id === 'msg-' + id, leeMsg.id);
	await pageK.keyboard.press('r');
	await pageK.locator('#reply-bar', { hasText: 'react to this' }).waitFor({ timeout: WAIT });
	await composerFocused(pageK);
	await pageK.keyboard.type(`a keyboard reply ${tag}`);
	await pageK.keyboard.press('Enter');
	await msgWith(pageL, `a keyboard reply ${tag}`).locator('.reply-quote', { hasText: 'react to this' }).waitFor({ timeout: WAIT });
	// Escape in the composer drops a reply being written.
	await backToList(pageK);
	await pageK.keyboard.press('r');
	await pageK.locator('#reply-bar').waitFor({ timeout: WAIT });
	await pageK.keyboard.press('Escape');
	await pageK.locator('#reply-bar').waitFor({ state: 'hidden', timeout: WAIT });
	await composerFocused(pageK);
});

test('the message list is one tab stop: 6 Tab presses at most from the channel list to the composer, arrows inside', async () => {
	// Kim has read the big channel (elsewhere): it opens at its newest message.
	await ok('POST', `/api/channels/${chans.big.id}/read`, { message_id: chans.big.last }, kim.token);
	await pageK.locator(`#channel-list button:has-text("${names.big}") .badge`).waitFor({ state: 'detached', timeout: WAIT });
	await pageK.keyboard.press('Alt+ArrowUp'); // from talk back to other, then big
	await pageK.waitForFunction((n) => !document.getElementById('room-name').textContent.includes(n), names.talk, { timeout: WAIT });
	if (!(await pageK.locator('#room-name').textContent()).includes(names.big)) await pageK.keyboard.press('Alt+ArrowUp');
	await roomIs(pageK, names.big);
	await msgWith(pageK, 'a reply in the big channel').waitFor({ timeout: WAIT });
	await composerFocused(pageK);
	const count = await pageK.locator('#messages > li.msg[data-id]').count();
	assert.ok(count >= 50, `${count} messages shown`);

	// Tab stops: one message, and no control inside any message.
	const stops = () => pageK.evaluate(() => {
		const all = [...document.querySelectorAll('#messages-scroll *')].filter((e) => e.tabIndex >= 0 && e.offsetParent !== null && !e.disabled);
		return all.map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
	});
	const s = await stops();
	assert.equal(s.length, 1, 'tab stops in the message list: ' + s.join(', '));
	assert.match(s[0], /^LI#msg-\d+\.msg/);

	await pageK.locator('#jump-latest').waitFor({ state: 'hidden', timeout: WAIT });
	// The one-time "Enable desktop notifications" banner in the header
	// (js/notify.js) is answered first: "Not now", by the keyboard.
	if (await pageK.locator('#notify-dismiss').isVisible()) {
		await pageK.locator('#notify-dismiss').focus();
		await pageK.keyboard.press('Enter');
		await pageK.locator('#notify-dismiss').waitFor({ state: 'hidden', timeout: WAIT });
	}
	// From the last control of the channel sidebar to the composer: the
	// header's Pinned, Members and Leave, the message list, Attach.
	await pageK.evaluate(() => {
		const side = [...document.querySelectorAll('#sidebar a[href], #sidebar button, #sidebar summary, #sidebar input')]
			.filter((e) => e.checkVisibility({ visibilityProperty: true }) && e.tabIndex >= 0);
		side[side.length - 1].focus();
	});
	assert.equal((await focused(pageK)).text, 'New direct message');
	const path = [];
	for (let i = 0; i < 30; i++) {
		await pageK.keyboard.press('Tab');
		const f = await focused(pageK);
		path.push(f.id || (f.tag === 'BODY' ? 'BODY' : f.text) || f.tag);
		if (f.id === 'composer-input') break;
	}
	assert.equal(path[path.length - 1], 'composer-input', 'Tab never reached the composer: ' + path.join(' → '));
	assert.ok(path.length <= 6, `${path.length} Tab presses from the channel list to the composer: ${path.join(' → ')}`);

	// Arrows, Home and End move between messages; the focused one is the tab stop.
	await pageK.keyboard.press('Shift+Tab');
	await pageK.keyboard.press('Shift+Tab');
	const last = await focused(pageK);
	assert.ok(last.isMsg, 'Shift+Tab twice from the composer: a message');
	const ids = await pageK.$$eval('#messages > li.msg[data-id]', (l) => l.map((x) => Number(x.dataset.id)));
	assert.equal(last.msg, ids[ids.length - 1], 'the newest message is the tab stop');
	await pageK.keyboard.press('ArrowUp');
	await pageK.keyboard.press('ArrowUp');
	assert.equal((await focused(pageK)).msg, ids[ids.length - 3]);
	await pageK.keyboard.press('ArrowDown');
	assert.equal((await focused(pageK)).msg, ids[ids.length - 2]);
	// (At the top, older messages may load above: the focus stays.)
	await pageK.keyboard.press('Home');
	assert.equal((await focused(pageK)).msg, ids[0]);
	await pageK.keyboard.press('End');
	assert.equal((await focused(pageK)).msg, ids[ids.length - 1]);
	await pageK.keyboard.press('PageUp');
	assert.equal((await focused(pageK)).msg, ids[ids.length - 11]);
	const s2 = await stops();
	assert.equal(s2.length, 1);
	assert.equal(s2[0].split('.')[0], 'LI#msg-' + ids[ids.length - 11], 'the focused message became the tab stop');
	assert.ok(await pageK.locator(`#msg-${ids[ids.length - 11]} .actions`).isVisible(), 'the focused message shows its actions');
	assert.match(await pageK.evaluate(() => document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent),
		/Enter goes to the message's actions/);
	await shot(pageK, 'a11y-keyboard-focus');
	// Tab from the message leaves the list (its actions: Enter).
	await pageK.keyboard.press('Tab');
	assert.equal((await focused(pageK)).msg, null);
});

test('skip links are the first tab stops; Escape closes the side panel and gives the focus back', async () => {
	// From the top of the page.
	const top = () => pageK.evaluate(() => { document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex'); });
	await top();
	await pageK.keyboard.press('Tab');
	let f = await focused(pageK);
	assert.equal(f.text, 'Skip to message box');
	const box = await pageK.locator('.skip-link', { hasText: 'Skip to message box' }).boundingBox();
	assert.ok(box && box.width > 20 && box.x >= 0 && box.y >= 0, 'the focused skip link is on screen: ' + JSON.stringify(box));
	await shot(pageK, 'a11y-skip-link');
	await pageK.keyboard.press('Enter');
	await composerFocused(pageK);
	await top();
	await pageK.keyboard.press('Tab');
	await pageK.keyboard.press('Tab');
	assert.equal((await focused(pageK)).text, 'Skip to messages');
	await pageK.keyboard.press('Enter');
	await waitFocus(pageK, () => document.activeElement.matches('#messages > li.msg'));

	// The notifications panel: opened with the keyboard, it takes the focus;
	// Escape closes it and the focus goes back to the bell.
	await pageK.focus('#notif-button');
	await pageK.keyboard.press('Enter');
	await pageK.locator('#panel').waitFor({ timeout: WAIT });
	await waitFocus(pageK, () => document.getElementById('panel').contains(document.activeElement));
	await pageK.keyboard.press('Escape');
	await pageK.locator('#panel').waitFor({ state: 'hidden', timeout: WAIT });
	await waitFocus(pageK, () => document.activeElement.id === 'notif-button');
});

test('the theme switch: dark, kept across a reload and set before the first paint; System follows the device', async () => {
	assert.equal(await pageK.evaluate(() => document.documentElement.dataset.theme), 'system');
	assert.equal(await background(pageK), LIGHT_BG);
	await setTheme(pageK, 'dark');
	assert.equal(await background(pageK), DARK_BG);
	assert.equal(await pageK.evaluate(() => localStorage.getItem('parley.theme')), 'dark');
	// What <html data-theme> says when <body> first exists: nothing can be
	// painted before that.
	await pageK.addInitScript(() => {
		new MutationObserver((_, obs) => {
			if (!document.body) return;
			window.__themeAtBody = document.documentElement.getAttribute('data-theme');
			obs.disconnect();
		}).observe(document, { childList: true, subtree: true });
	});
	await pageK.reload();
	await online(pageK);
	assert.equal(await pageK.evaluate(() => window.__themeAtBody), 'dark');
	assert.equal(await pageK.inputValue('#theme-select'), 'dark');
	assert.equal(await background(pageK), DARK_BG);
	await composerFocused(pageK); // a reload signs in again: the composer has the focus
	await roomIs(pageK, names.big);
	// System: the device decides.
	await setTheme(pageK, 'system');
	assert.equal(await pageK.evaluate(() => localStorage.getItem('parley.theme')), null);
	assert.equal(await background(pageK), LIGHT_BG);
	await pageK.emulateMedia({ colorScheme: 'dark' });
	assert.equal(await background(pageK), DARK_BG);
	await pageK.emulateMedia({ colorScheme: 'light' });
	await setTheme(pageK, 'light');
	assert.equal(await background(pageK), LIGHT_BG);
});

test('axe: the chat with messages, light and dark, at desktop width', async () => {
	await roomIs(pageK, names.big);
	await msgWith(pageK, 'a reply in the big channel').waitFor({ timeout: WAIT });
	await pageK.focus('#composer-input');
	for (const theme of ['light', 'dark']) {
		await setTheme(pageK, theme);
		await pageK.emulateMedia({ colorScheme: theme === 'dark' ? 'light' : 'dark' }); // the switch wins over the device
		await axe(pageK, `the chat (${theme}, desktop)`);
		await shot(pageK, `a11y-${theme}-desktop`);
		// The focused message with its actions, and the side panel open.
		await pageK.focus('#composer-input');
		await backToList(pageK);
		await pageK.keyboard.press('ArrowUp');
		await pageK.focus('#members-button');
		await pageK.keyboard.press('Enter');
		await pageK.locator('#panel-list li').first().waitFor({ timeout: WAIT });
		await axe(pageK, `the chat with the members panel (${theme}, desktop)`);
		await pageK.keyboard.press('Escape');
		await pageK.locator('#panel').waitFor({ state: 'hidden', timeout: WAIT });
	}
	await pageK.emulateMedia({ colorScheme: 'light' });
	await setTheme(pageK, 'system');
});

test('phone: no action rows, a "⋯" menu (tap or long press), an unread badge on the channel button; axe light and dark', async () => {
	const phone = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true, locale: 'en-US', bypassCSP: true, colorScheme: 'light' });
	try {
		const page = await newPage(phone);
		// Pam has read the big channel: the badge counts only what comes next.
		await ok('POST', `/api/channels/${chans.big.id}/read`, { message_id: chans.big.last }, pam.token);
		await signIn(page, pam);
		await page.tap('#nav-toggle');
		await page.locator('#channel-list button', { hasText: names.big }).tap();
		await roomIs(page, names.big);
		const theirs = msgWith(page, 'message 49 of the big channel');
		await theirs.waitFor({ timeout: WAIT });
		// No action row under any message; a "⋯" on each.
		const rows = () => page.$$eval('#messages li.msg[data-id]:not(.deleted)', (l) => l.map((li) => ({
			actions: !!li.querySelector('.actions') && li.querySelector('.actions').offsetParent !== null,
			more: !!li.querySelector('.more') && li.querySelector('.more').offsetParent !== null,
		})));
		let r = await rows();
		assert.ok(r.length >= 45, `${r.length} messages shown`);
		assert.equal(r.filter((x) => x.actions).length, 0, 'action rows shown on a phone');
		assert.equal(r.filter((x) => x.more).length, r.length, 'every message has its "⋯"');

		for (const theme of ['light', 'dark']) {
			await setTheme(page, theme);
			await axe(page, `the chat (${theme}, phone)`);
			await shot(page, `a11y-${theme}-phone`);
		}
		await setTheme(page, 'light');

		// A tap on "⋯" opens the menu; React, then 👍.
		await theirs.locator('.more').tap();
		const menu = theirs.locator('.actions');
		await menu.waitFor({ state: 'visible', timeout: WAIT });
		assert.equal(await theirs.locator('.more').getAttribute('aria-expanded'), 'true');
		assert.deepEqual((await menu.locator('button').allTextContents()), ['Reply', 'Thread', 'React', 'Pin', 'Copy link']);
		r = await rows();
		assert.equal(r.filter((x) => x.actions).length, 1, 'only the open menu shows');
		await shot(page, 'a11y-phone-menu');
		await axe(page, 'the phone menu');
		await menu.getByRole('button', { name: 'React' }).tap();
		await menu.waitFor({ state: 'hidden', timeout: WAIT });
		await theirs.locator('.picker button', { hasText: '👍' }).tap();
		await theirs.locator('.reaction.me', { hasText: '👍 2' }).waitFor({ timeout: WAIT });
		// A tap elsewhere closes the menu; so does Escape (the focus back on "⋯").
		await theirs.locator('.more').tap();
		await menu.waitFor({ state: 'visible', timeout: WAIT });
		await page.tap('#room-name');
		await menu.waitFor({ state: 'hidden', timeout: WAIT });
		await theirs.locator('.more').tap();
		await menu.waitFor({ state: 'visible', timeout: WAIT });
		assert.equal((await focused(page)).text, 'Reply', 'the menu takes the focus');
		await page.keyboard.press('Escape');
		await menu.waitFor({ state: 'hidden', timeout: WAIT });
		assert.equal((await focused(page)).text, 'Message actions');
		assert.equal(await theirs.locator('.more').getAttribute('aria-expanded'), 'false');

		// A long press on a message opens its menu too.
		const mine = msgWith(page, 'message 48 of the big channel');
		const cdp = await phone.newCDPSession(page);
		const b = await mine.locator('.content').boundingBox();
		const point = { x: Math.round(b.x + 10), y: Math.round(b.y + b.height / 2) };
		await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
		await mine.locator('.actions').waitFor({ state: 'visible', timeout: WAIT });
		await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
		assert.equal(await mine.locator('.more').getAttribute('aria-expanded'), 'true');
		await page.tap('#room-name');
		await mine.locator('.actions').waitFor({ state: 'hidden', timeout: WAIT });

		// Lee posts in another channel: the ☰ button shows the count.
		const badge = page.locator('#nav-toggle .badge');
		assert.ok(await badge.isHidden());
		await post(lee, chans.other.id, 'over here, Pam');
		await badge.waitFor({ state: 'visible', timeout: WAIT });
		assert.equal(await badge.textContent(), '1');
		await post(lee, chans.other.id, 'and again');
		await page.locator('#nav-toggle .badge', { hasText: '2' }).waitFor({ timeout: WAIT });
		assert.equal(await page.getAttribute('#nav-toggle', 'aria-label'), 'Channels, 2 unread');
		await shot(page, 'a11y-phone-badge');
		// Reading the channel clears it.
		await page.tap('#nav-toggle');
		await page.locator('#channel-list button', { hasText: names.other }).tap();
		await msgWith(page, 'and again').waitFor({ timeout: WAIT });
		await badge.waitFor({ state: 'hidden', timeout: WAIT });
		// Nothing scrolls sideways.
		const wide = await page.evaluate(() => document.documentElement.scrollWidth);
		assert.ok(wide <= PHONE.width, `page is ${wide} px wide at ${PHONE.width}`);
	} finally {
		await phone.close();
	}
});
