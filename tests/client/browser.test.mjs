// The bundled web client (www/) in real Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): two users chat live, one drops off and comes
// back without losing or doubling messages, an XSS payload stays inert, and
// the rest of the client's features work. Screenshots of the main screens go
// to build/screenshots/. Run by scripts/check-client.sh (PARLEY_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = process.env.PARLEY_URL || 'http://127.0.0.1:8080';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'build/screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 20000;
const PASSWORD = 'correct horse battery';
const tag = Date.now().toString(36).slice(-5) + Math.random().toString(36).slice(2, 5);

let browser, ctxA, ctxB, pageA, pageB;
const dialogs = [];
const pageErrors = [];
const names = { a: `alice_${tag}`, b: `bob_${tag}`, chan: `lounge-${tag}` };

async function rest(method, p, body, token) {
	const headers = {};
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (token) headers.Authorization = 'Bearer ' + token;
	const res = await fetch(BASE + p, { method, headers, body: body === undefined ? (method === 'GET' ? undefined : '') : JSON.stringify(body) });
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function newPage(ctx) {
	const page = await ctx.newPage();
	page.on('dialog', async (d) => {
		// The client's own confirm() prompts are accepted; anything else is a finding.
		if (d.type() === 'confirm') return d.accept();
		dialogs.push(d.type() + ': ' + d.message());
		return d.dismiss();
	});
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	await page.goto(BASE + '/');
	return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + '.png') });
const messages = (page) => page.locator('#messages li.msg[data-id] .content');
const msgWith = (page, text) => page.locator('#messages li.msg[data-id]', { hasText: text });

async function waitText(page, text, where = '#messages') {
	await page.locator(where).getByText(text, { exact: false }).first().waitFor({ timeout: WAIT });
}

async function registerViaUi(page, username, display) {
	await page.locator('#auth-screen').waitFor({ timeout: WAIT });
	await shot(page, '01-sign-in');
	await page.click('#auth-switch');
	await page.fill('#auth-username', username);
	await page.fill('#auth-password', PASSWORD);
	await page.fill('#auth-display', display);
	if (username.startsWith('alice')) await shot(page, '02-register');
	await page.click('#auth-submit');
	await page.locator('#chat-screen').waitFor({ timeout: WAIT });
	await page.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
}

async function send(page, text) {
	await page.fill('#composer-input', text);
	await page.press('#composer-input', 'Enter');
	await msgWith(page, text).first().waitFor({ timeout: WAIT });
}

// Ids of the messages shown, asserting none is shown twice.
async function shownIds(page) {
	const ids = await page.$$eval('#messages li.msg[data-id]', (lis) => lis.map((l) => Number(l.dataset.id)));
	assert.equal(new Set(ids).size, ids.length, 'a message is shown twice: ' + ids.join(','));
	return ids;
}

before(async () => {
	mkdirSync(SHOTS, { recursive: true });
	// One browser (Chromium starts slowly), several contexts. launch() gives
	// it a fresh temporary user-data-dir, removed when it closes.
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
		timeout: 60000,
	});
	ctxA = await browser.newContext({ viewport: { width: 1200, height: 800 } });
	ctxB = await browser.newContext({ viewport: { width: 1200, height: 800 } });
	pageA = await newPage(ctxA);
	pageB = await newPage(ctxB);
});

after(async () => {
	if (browser) await browser.close();
});

test('two users register in the browser and chat live', async () => {
	await registerViaUi(pageA, names.a, 'Alice');
	await registerViaUi(pageB, names.b, 'Bob');

	// Alice creates a channel; it appears live in Bob's list, and he joins it.
	await pageA.click('#new-channel-form >> xpath=.. >> summary');
	await pageA.fill('#nc-name', names.chan);
	await pageA.fill('#nc-topic', 'where the browser tests meet');
	await pageA.click('#new-channel-form button[type=submit]');
	await pageA.locator('#room-name', { hasText: names.chan }).waitFor({ timeout: WAIT });
	const item = pageB.locator('#browse-list li', { hasText: names.chan });
	await item.waitFor({ timeout: WAIT });
	await item.getByRole('button', { name: 'Join ' + names.chan }).click();
	await pageB.locator('#room-name', { hasText: names.chan }).waitFor({ timeout: WAIT });
	await pageB.locator('#channel-list li', { hasText: names.chan }).waitFor({ timeout: WAIT });

	await send(pageA, 'hello bob, this is alice');
	await waitText(pageB, 'hello bob, this is alice');
	await send(pageB, 'hi alice! bob here');
	await waitText(pageA, 'hi alice! bob here');

	// The optimistic echo was replaced by the server's message: no pending left.
	await pageA.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: WAIT });
	assert.deepEqual(await shownIds(pageA), await shownIds(pageB));

	// Typing indicator.
	await pageB.fill('#composer-input', 'typing something');
	await pageA.locator('#typing', { hasText: `${names.b} is typing` }).waitFor({ timeout: WAIT });
	await pageB.fill('#composer-input', '');

	// Presence: Bob's dot in Alice's view says online.
	await pageA.waitForFunction((n) => {
		const li = [...document.querySelectorAll('#messages li.msg')].find((l) => l.textContent.includes(n));
		return li && li.querySelector('.dot.online');
	}, names.b, { timeout: WAIT });
	await shot(pageA, '03-chat-alice');
	await shot(pageB, '04-chat-bob');
});

test('edit, react, reply and delete reach the other user live', async () => {
	await send(pageA, 'a typo hree');
	await waitText(pageB, 'a typo hree');
	const mine = msgWith(pageA, 'a typo hree');
	await mine.getByRole('button', { name: 'Edit' }).click();
	const box = pageA.getByLabel('Edit message');
	await box.fill('a typo here (fixed)');
	await box.press('Enter');
	await msgWith(pageB, 'a typo here (fixed)').locator('.edited').waitFor({ timeout: WAIT });

	// Bob reacts, Alice sees the count.
	const theirs = msgWith(pageB, 'a typo here (fixed)');
	await theirs.getByRole('button', { name: 'React' }).click();
	await theirs.locator('.picker button', { hasText: '👍' }).click();
	await msgWith(pageA, 'a typo here (fixed)').locator('.reaction', { hasText: '👍 1' }).waitFor({ timeout: WAIT });
	await msgWith(pageB, 'a typo here (fixed)').locator('.reaction.me').waitFor({ timeout: WAIT });

	// Bob replies to it.
	await msgWith(pageB, 'a typo here (fixed)').getByRole('button', { name: 'Reply' }).click();
	await pageB.locator('#reply-bar').waitFor({ timeout: WAIT });
	await send(pageB, 'replying to your fix');
	await msgWith(pageA, 'replying to your fix').locator('.reply-quote', { hasText: 'a typo here' }).waitFor({ timeout: WAIT });
	await shot(pageA, '05-edit-react-reply');

	// Alice deletes her message; Bob sees it go.
	await msgWith(pageA, 'a typo here (fixed)').first().getByRole('button', { name: 'Delete' }).click();
	await pageB.waitForFunction(() => [...document.querySelectorAll('#messages li.msg.deleted .content')]
		.some((c) => c.textContent === 'This message was deleted.'), null, { timeout: WAIT });
	assert.equal(await pageB.locator('#messages', { hasText: 'a typo here (fixed)' }).count(), 0);
});

test('a user who drops off comes back without losing or doubling messages', async () => {
	// 1. The socket drops (the client stays on the page) and reconnects with since=.
	await pageB.evaluate(() => window.parley.rt.pause());
	await pageB.waitForFunction(() => document.getElementById('conn').dataset.state === 'offline', null, { timeout: WAIT });
	const missed = ['while you were away 1', 'while you were away 2', 'while you were away 3'];
	for (const t of missed) await send(pageA, t);
	await new Promise((r) => setTimeout(r, 300));
	assert.equal(await msgWith(pageB, 'while you were away').count(), 0, 'delivered while offline?');
	const connects = await pageB.evaluate(() => window.parley.rt.connects);
	await pageB.evaluate(() => window.parley.rt.resume());
	for (const t of missed) await waitText(pageB, t);
	assert.ok(await pageB.evaluate(() => window.parley.rt.connects) > connects, 'no reconnect happened');
	assert.equal(await msgWith(pageB, 'while you were away').count(), 3);
	await shownIds(pageB);

	// 2. The network goes away and the socket dies unexpectedly: the client
	// retries by itself and resumes once the network is back.
	await ctxB.setOffline(true);
	await pageB.evaluate(() => window.parley.rt.ws.close());
	await pageB.waitForFunction(() => document.getElementById('conn').dataset.state !== 'online', null, { timeout: WAIT });
	await send(pageA, 'sent during a network outage');
	await new Promise((r) => setTimeout(r, 1000)); // a failed retry or two
	await ctxB.setOffline(false);
	await waitText(pageB, 'sent during a network outage');
	assert.equal(await msgWith(pageB, 'sent during a network outage').count(), 1);
	await pageB.waitForFunction(() => window.parley.rt.mode === 'ws' && window.parley.rt.ws?.readyState === 1,
		null, { timeout: WAIT }); // back on a WebSocket, not stuck on the fallback
	await shownIds(pageB);

	// 3. The page closes; messages are sent meanwhile; a new page picks them up.
	await pageB.close();
	await send(pageA, 'sent while your tab was closed');
	await send(pageA, 'and another one');
	pageB = await newPage(ctxB);
	await pageB.locator('#chat-screen').waitFor({ timeout: WAIT });
	await waitText(pageB, 'and another one');
	await waitText(pageB, 'sent while your tab was closed');
	await pageB.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
	await send(pageA, 'live again after the reload');
	await waitText(pageB, 'live again after the reload');
	await new Promise((r) => setTimeout(r, 300));
	const a = await shownIds(pageA), b = await shownIds(pageB);
	assert.deepEqual(b, a, 'both users see the same messages');
});

test('without a WebSocket the client follows the stream by long-poll (GET /api/events)', async () => {
	await pageB.evaluate(() => window.parley.rt.usePolling());
	await pageB.waitForFunction(() => window.parley.rt.polling && !window.parley.rt.ws, null, { timeout: WAIT });
	await new Promise((r) => setTimeout(r, 300)); // let the first poll start
	await send(pageA, 'delivered by long-poll');
	await waitText(pageB, 'delivered by long-poll');
	assert.equal(await pageB.evaluate(() => window.parley.rt.ws), null, 'a WebSocket is open');
	assert.equal(await msgWith(pageB, 'delivered by long-poll').count(), 1);
	await pageB.evaluate(() => window.parley.rt.resume());
	await pageB.waitForFunction(() => window.parley.rt.ws && window.parley.rt.ws.readyState === 1, null, { timeout: WAIT });
	await send(pageA, 'back on the WebSocket');
	await waitText(pageB, 'back on the WebSocket');
	await shownIds(pageB);
});

test('an XSS payload in a message renders inert, as literal text', async () => {
	const payloads = [
		'<img src=x onerror="window.__pwned=1;alert(1)">',
		'<script>window.__pwned=2;alert(2)</script>',
		'<a href="javascript:alert(3)">click</a><svg onload=alert(4)>',
	];
	for (const p of payloads) await send(pageA, p);
	for (const p of payloads) {
		await pageB.waitForFunction((t) => [...document.querySelectorAll('#messages .content')].some((c) => c.textContent === t),
			p, { timeout: WAIT });
	}
	await new Promise((r) => setTimeout(r, 500));
	for (const page of [pageA, pageB]) {
		assert.equal(await page.evaluate(() => window.__pwned), undefined);
		assert.equal(await page.locator('#messages img, #messages script, #messages svg, #messages a[href^="javascript"]').count(), 0);
		for (const p of payloads) assert.ok(await msgWith(page, p).count() >= 1, 'payload not shown literally: ' + p);
	}
	assert.deepEqual(dialogs, [], 'a dialog fired');
	await shot(pageB, '06-xss-inert');
});

test('DMs, unread badges, notifications and search', async () => {
	// Bob starts a DM with Alice; she sees it with an unread badge and a notification.
	await pageB.click('#new-dm-form >> xpath=.. >> summary');
	await pageB.fill('#dm-user', names.a);
	await pageB.click('#new-dm-form button[type=submit]');
	await pageB.locator('#room-name', { hasText: names.a }).waitFor({ timeout: WAIT });
	await send(pageB, 'psst alice, a private word about zebras');
	const dm = pageA.locator('#dm-list li', { hasText: names.b });
	await dm.locator('.badge', { hasText: '1' }).waitFor({ timeout: WAIT });
	await pageA.locator('#notif-count', { hasText: /[1-9]/ }).waitFor({ timeout: WAIT });
	await shot(pageA, '07-unread-badge');
	await pageA.click('#notif-button');
	await pageA.locator('#panel-list', { hasText: 'zebras' }).waitFor({ timeout: WAIT });
	await shot(pageA, '08-notifications');
	await pageA.click('#panel-action');
	await pageA.locator('#notif-count').waitFor({ state: 'hidden', timeout: WAIT });
	await pageA.click('#panel-close');

	// Opening the DM clears the badge.
	await dm.getByRole('button').first().click();
	await waitText(pageA, 'a private word about zebras');
	await dm.locator('.badge').waitFor({ state: 'detached', timeout: WAIT });

	// Search finds it; the result opens the channel.
	await pageA.fill('#search-q', 'zebras');
	await pageA.press('#search-q', 'Enter');
	await pageA.locator('#panel-list .result', { hasText: 'zebras' }).waitFor({ timeout: WAIT });
	await shot(pageA, '09-search');
	await pageA.click('#panel-close');
});

test('scroll-back pagination loads older pages with before=', async () => {
	const login = await rest('POST', '/api/auth/login', { username: names.a, password: PASSWORD });
	assert.equal(login.status, 200);
	const tok = login.body.access_token;
	const ch = await rest('POST', '/api/channels', { name: `history-${tag}` }, tok);
	assert.equal(ch.status, 201);
	for (let i = 1; i <= 120; i++) {
		const r = await rest('POST', '/api/messages', { channel_id: ch.body.id, content: `history line ${i}` }, tok);
		assert.equal(r.status, 201);
	}
	await pageA.locator('#channel-list button', { hasText: `history-${tag}` }).click();
	await waitText(pageA, 'history line 120');
	assert.equal(await messages(pageA).count(), 50);
	// The button (or scrolling to the top) loads the next older page.
	await pageA.click('#older');
	await waitText(pageA, 'history line 51');
	assert.ok(await messages(pageA).count() >= 100);
	const first = pageA.locator('#messages .content').getByText('history line 1', { exact: true });
	for (let i = 0; i < 10 && !(await first.count()); i++) {
		if (await pageA.locator('#older').isVisible()) await pageA.click('#older', { timeout: 2000 }).catch(() => {});
		else await pageA.waitForTimeout(200);
	}
	await first.waitFor({ timeout: WAIT });
	assert.equal(await messages(pageA).count(), 120);
	await pageA.locator('#older').waitFor({ state: 'hidden', timeout: WAIT });
	const ids = await shownIds(pageA);
	assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'messages out of order');
});

test('an expired or rejected access token is refreshed transparently', async () => {
	const before = await pageA.evaluate(() => window.parley.api.session.refresh);
	await pageA.evaluate(() => { window.parley.api.session.access = 'not.a.token'; });
	await send(pageA, 'sent after a token refresh');
	await pageA.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: WAIT });
	const after = await pageA.evaluate(() => window.parley.api.session);
	assert.notEqual(after.refresh, before, 'refresh token not rotated');
	assert.notEqual(after.access, 'not.a.token');
});

test('leaving a channel, at phone width, keyboard only', async () => {
	const phone = await browser.newContext({ viewport: { width: 390, height: 780 }, hasTouch: true, isMobile: true });
	try {
		const page = await newPage(phone);
		const name = `carol_${tag}`;
		assert.equal((await rest('POST', '/api/auth/register', { username: name, password: PASSWORD })).status, 201);
		// Keyboard only: type, Enter submits the form.
		await page.locator('#auth-username').waitFor({ timeout: WAIT });
		await page.focus('#auth-username');
		await page.keyboard.type(name);
		await page.keyboard.press('Tab');
		await page.keyboard.type(PASSWORD);
		await page.keyboard.press('Enter');
		await page.locator('#chat-screen').waitFor({ timeout: WAIT });
		await page.click('#nav-toggle');
		await page.locator('#browse-list li', { hasText: names.chan }).getByRole('button', { name: 'Join ' + names.chan }).click();
		await page.locator('#room-name', { hasText: names.chan }).waitFor({ timeout: WAIT });
		await waitText(page, 'hello bob, this is alice');
		// Alice is online: her dot says so in the newcomer's view.
		await page.waitForFunction((n) => {
			const li = [...document.querySelectorAll('#messages li.msg')].find((l) => l.querySelector('.author')?.textContent === n);
			return li && li.querySelector('.dot.online');
		}, names.a, { timeout: WAIT });
		await pageA.locator('#channel-list button', { hasText: names.chan }).click();
		await page.focus('#composer-input');
		await page.keyboard.type('hi from a phone');
		await page.keyboard.press('Enter');
		await waitText(pageA, 'hi from a phone');
		await shot(page, '10-phone-chat');
		await page.click('#nav-toggle');
		await shot(page, '11-phone-channels');
		await page.click('#nav-toggle');
		await page.click('#leave-button');
		await page.locator('#room-name', { hasText: 'Pick a channel' }).waitFor({ timeout: WAIT });
		await page.locator('#browse-list li', { hasText: names.chan }).waitFor({ state: 'attached', timeout: WAIT });
		// The page fits the phone's width: nothing scrolls sideways.
		const wide = await page.evaluate(() => document.documentElement.scrollWidth);
		assert.ok(wide <= 390, 'page is ' + wide + ' px wide at 390');
	} finally {
		await phone.close();
	}
});

test('logout ends the session on the server', async () => {
	const refresh = await pageB.evaluate(() => window.parley.api.session.refresh);
	await pageB.click('#logout');
	await pageB.locator('#auth-screen').waitFor({ timeout: WAIT });
	const r = await rest('POST', '/api/auth/refresh', { refresh_token: refresh });
	assert.equal(r.status, 401);
	assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
});
