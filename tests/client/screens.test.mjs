// The screens of the web client (issue 17) in real Chromium: desktop
// notifications and their sound while the tab is hidden (asked for
// politely, never on load), the first screen of a user in no channel, the
// "Browse channels" dialog, topic editing by owners and admins, exactly one
// history request on a reload, and presence going offline when a window
// closes. Owen owns the channels and writes, mostly over REST so that the
// tests know the ids; Nora and Cara are new users in the browser.
//
// Observation, not stubs: an init script wraps window.Notification (the
// real API still runs; the wrapper records what was constructed and whether
// the permission was asked), counts WebAudio oscillator starts and calls of
// window.focus(), and lets the test say that the page is hidden
// (document.visibilityState and visibilitychange, as a tab in the
// background).
// Run by scripts/check-client.sh (PARLEY_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, WAIT, launch, ok, openChannel, rest, shot, signIn } from './support.mjs';

const tag = Date.now().toString(36).slice(-5) + Math.random().toString(36).slice(2, 5);
const owen = { username: `owen_${tag}`, display: 'Owen Owner' };
const nora = { username: `nora_${tag}`, display: 'Nora Newcomer' };
const cara = { username: `cara_${tag}`, display: 'Cara Creator' };

let browser, ctxN, ctxO, pageN, pageO;
let shared; // Owen's channel that Nora belongs to (topic, notifications, reload, presence)
const pageErrors = [];

const post = (token, channel, content, extra = {}) => ok('POST', '/api/messages', { channel_id: channel, content, ...extra }, token);

// Before any script of the page: the recording wrapper around Notification,
// the oscillator counter and the visibility switch.
function observe() {
	window.__notes = [];
	window.__permAsks = 0;
	window.__tones = 0;
	window.__focused = 0;
	const focus = window.focus;
	window.focus = function (...a) { window.__focused++; return focus.apply(this, a); };
	const Real = window.Notification;
	if (Real) {
		class Recorded extends Real {
			constructor(title, options) {
				super(title, options);
				window.__notes.push({ title, body: options && options.body, tag: options && options.tag, note: this });
			}
		}
		Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
		Recorded.requestPermission = (...a) => { window.__permAsks++; return Real.requestPermission(...a); };
		window.Notification = Recorded;
	}
	if (window.OscillatorNode) {
		const start = OscillatorNode.prototype.start;
		OscillatorNode.prototype.start = function (...a) { window.__tones++; return start.apply(this, a); };
	}
	let hidden = null;
	const vis = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState');
	const hid = Object.getOwnPropertyDescriptor(Document.prototype, 'hidden');
	Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true,
		get() { return hidden === null ? vis.get.call(this) : hidden ? 'hidden' : 'visible'; } });
	Object.defineProperty(Document.prototype, 'hidden', { configurable: true,
		get() { return hidden === null ? hid.get.call(this) : hidden; } });
	window.__setHidden = (h) => { hidden = h; document.dispatchEvent(new Event('visibilitychange')); };
}

async function newContext() {
	const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
	await ctx.addInitScript(observe);
	return ctx;
}

async function newPage(ctx) {
	const page = await ctx.newPage();
	page.on('dialog', (d) => d.dismiss());
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	return page;
}



const notes = (page) => page.evaluate(() => window.__notes.map(({ title, body, tag }) => ({ title, body, tag })));

// The requests the page makes from now on.
function recorder(page) {
	const seen = [];
	page.on('request', (r) => seen.push(r.url()));
	return seen;
}

before(async () => {
	browser = await launch();
	for (const u of [owen, nora, cara]) {
		assert.equal((await rest('POST', '/api/auth/register', { username: u.username, password: PASSWORD, display_name: u.display })).status, 201);
		const r = await ok('POST', '/api/auth/login', { username: u.username, password: PASSWORD });
		u.token = r.access_token;
		u.id = r.user.id;
	}
	ctxN = await newContext();
	pageN = await newPage(ctxN);
});

after(async () => {
	if (browser) await browser.close();
});

// #general, Owen's unless an earlier test run on this server made it.
async function general() {
	const made = await rest('POST', '/api/channels', { name: 'general', topic: 'everyone, everything' }, owen.token);
	if (made.status === 201) return made.body;
	assert.equal(made.status, 409, JSON.stringify(made.body));
	return (await ok('GET', '/api/channels', undefined, owen.token)).channels.find((c) => c.name.toLowerCase() === 'general');
}

test('a new user sees what to do first: Join #general, Browse, Create; no permission prompt on load', async () => {
	const gen = await general();
	// Cara: the first screen, and its "Join #general".
	const ctxC = await newContext();
	try {
		const pageC = await newPage(ctxC);
		await signIn(pageC, cara);
		const welcome = pageC.locator('#welcome');
		await welcome.waitFor({ timeout: WAIT });
		await welcome.getByText('You are not in any channel yet').waitFor({ timeout: WAIT });
		assert.ok(await pageC.locator('#welcome-browse').isVisible(), 'a Browse channels button');
		assert.ok(await pageC.locator('#welcome-create').isVisible(), 'a Create a channel button');
		assert.equal(await pageC.locator('#messages-scroll').isVisible(), false, 'no empty message pane');
		// The banner offers notifications; nothing asked the browser.
		await pageC.locator('#notify-enable').waitFor({ timeout: WAIT });
		assert.equal(await pageC.evaluate(() => window.__permAsks), 0, 'permission asked on load');
		assert.equal(await pageC.evaluate(() => Notification.permission), 'default');
		const join = pageC.locator('#welcome-join-general');
		await join.waitFor({ timeout: WAIT });
		assert.equal(await join.textContent(), 'Join #' + gen.name);
		await shot(pageC, 'screens-empty');
		// A click on the banner asks the browser (headless Chromium says no
		// unless granted): asked once, the refusal said, the banner gone.
		await pageC.locator('#notify-enable').click();
		await pageC.locator('.toast', { hasText: 'blocked for this site' }).waitFor({ timeout: WAIT });
		assert.equal(await pageC.evaluate(() => window.__permAsks), 1);
		await pageC.locator('#notify-enable').waitFor({ state: 'detached', timeout: WAIT });
		await join.click();
		await pageC.locator('#room-name', { hasText: '#' + gen.name }).waitFor({ timeout: WAIT });
		await pageC.locator('#channel-list button', { hasText: gen.name }).waitFor({ timeout: WAIT });
		assert.equal(await welcome.isVisible(), false);
		assert.ok(await pageC.locator('#composer-input').isEnabled());
		const members = (await ok('GET', `/api/channels/${gen.id}/members`, undefined, owen.token)).members;
		assert.ok(members.some((m) => m.user.id === cara.id), 'Cara joined #general on the server');
	} finally {
		await ctxC.close();
	}

	// Nora: the first screen's "Create a channel".
	await signIn(pageN, nora);
	await pageN.locator('#welcome-create').click();
	await pageN.waitForFunction(() => document.activeElement && document.activeElement.id === 'nc-name', null, { timeout: WAIT });
	await pageN.keyboard.type(`nora-${tag}`);
	await pageN.keyboard.press('Enter');
	await pageN.locator('#room-name', { hasText: `#nora-${tag}` }).waitFor({ timeout: WAIT });
	await pageN.locator('#welcome').waitFor({ state: 'hidden', timeout: WAIT });
	assert.ok((await ok('GET', '/api/channels', undefined, nora.token)).channels.some((c) => c.name === `nora-${tag}` && c.role === 'owner'));
	assert.equal(await pageN.evaluate(() => window.__permAsks), 0, 'permission asked without a click');
});

test('the channel browser lists public channels with topics and member counts, filters, and joins', async () => {
	const names = ['apple', 'berry', 'carrot'].map((n) => `brw-${tag}-${n}`);
	const topics = [`fruit ${tag}`, `small fruit ${tag}`, `vegetables ${tag}`];
	const made = [];
	for (let i = 0; i < 3; i++) made.push(await ok('POST', '/api/channels', { name: names[i], topic: topics[i] }, owen.token));
	await ok('POST', `/api/channels/${made[0].id}/join`, undefined, cara.token); // two members
	await pageN.locator('#browse-button').click();
	const dialog = pageN.locator('#channel-browser');
	await dialog.waitFor({ timeout: WAIT });
	const items = dialog.locator('.browse-item');
	await dialog.locator('.browse-item', { hasText: names[2] }).waitFor({ timeout: WAIT });
	await pageN.fill('#browse-filter', `${tag}-`); // the three, not nora-<tag> or topic-<tag>
	await pageN.waitForFunction((n) => document.querySelectorAll('#browse-channels .browse-item').length === n, 3, { timeout: WAIT });
	const apple = dialog.locator('.browse-item', { hasText: names[0] });
	assert.equal(await apple.locator('.hint').textContent(), ' · 2 members');
	assert.equal(await apple.locator('.browse-topic').textContent(), `fruit ${tag}`);
	assert.equal(await dialog.locator('.browse-item', { hasText: names[1] }).locator('.hint').textContent(), ' · 1 member');
	assert.match(await dialog.locator('.browse-count').textContent(), /^3 of \d+ channels$/);
	await shot(pageN, 'screens-browser');
	// The filter matches topics too.
	await pageN.fill('#browse-filter', `vegetables ${tag}`);
	await pageN.waitForFunction(() => document.querySelectorAll('#browse-channels .browse-item').length === 1, null, { timeout: WAIT });
	assert.match(await items.first().textContent(), new RegExp(names[2]));
	await pageN.fill('#browse-filter', `nothing-like-this-${tag}`);
	await dialog.locator('.browse-count', { hasText: 'No channel matches' }).waitFor({ timeout: WAIT });
	await pageN.fill('#browse-filter', names[2]);
	await items.first().getByRole('button', { name: 'Join #' + names[2] }).click();
	await dialog.waitFor({ state: 'hidden', timeout: WAIT });
	await pageN.locator('#room-name', { hasText: '#' + names[2] }).waitFor({ timeout: WAIT });
	await pageN.locator('#channel-list button', { hasText: names[2] }).waitFor({ timeout: WAIT });
	const mine = (await ok('GET', '/api/channels', undefined, nora.token)).channels.find((c) => c.id === made[2].id);
	assert.equal(mine.role, 'member');
	// Joined now: Open instead of Join; Escape closes the dialog.
	await pageN.locator('#browse-button').click();
	await pageN.fill('#browse-filter', names[2]);
	await dialog.getByRole('button', { name: 'Open #' + names[2] }).waitFor({ timeout: WAIT });
	assert.match(await items.first().textContent(), /joined/);
	await pageN.keyboard.press('Escape');
	await dialog.waitFor({ state: 'hidden', timeout: WAIT });
});

test('the owner edits the topic (Enter saves, Escape cancels), others see it live; a non-owner cannot', async () => {
	shared = await ok('POST', '/api/channels', { name: `topic-${tag}`, topic: 'before' }, owen.token);
	await ok('POST', `/api/channels/${shared.id}/join`, undefined, nora.token);
	ctxO = await newContext();
	pageO = await newPage(ctxO);
	await signIn(pageO, owen);
	await openChannel(pageO, `topic-${tag}`);
	await pageN.locator('#channel-list button', { hasText: `topic-${tag}` }).waitFor({ timeout: WAIT });
	await openChannel(pageN, `topic-${tag}`);
	await pageN.locator('#room-topic', { hasText: 'before' }).waitFor({ timeout: WAIT });
	// Nora is a member: no edit control.
	assert.equal(await pageN.locator('#topic-edit').isVisible(), false, 'a member has an edit control');

	const patches = [];
	pageO.on('request', (r) => { if (r.method() === 'PATCH') patches.push(r.url()); });
	await pageO.locator('#topic-edit').click();
	await pageO.locator('#topic-input').waitFor({ timeout: WAIT });
	await pageO.fill('#topic-input', 'never saved');
	await pageO.keyboard.press('Escape');
	await pageO.locator('#topic-input').waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await pageO.locator('#room-topic').textContent(), 'before');
	assert.equal(patches.length, 0, 'Escape sent a PATCH');

	await pageO.locator('#topic-edit').click();
	await pageO.fill('#topic-input', `Quarterly planning ${tag}`);
	await shot(pageO, 'screens-topic');
	await pageO.keyboard.press('Enter');
	await pageO.locator('#topic-input').waitFor({ state: 'detached', timeout: WAIT });
	await pageO.locator('#room-topic', { hasText: `Quarterly planning ${tag}` }).waitFor({ timeout: WAIT });
	assert.equal(patches.length, 1);
	// Live for Nora, without a reload.
	await pageN.locator('#room-topic', { hasText: `Quarterly planning ${tag}` }).waitFor({ timeout: WAIT });
	assert.equal((await ok('GET', `/api/channels/${shared.id}`, undefined, nora.token)).topic, `Quarterly planning ${tag}`);

	// An admin may too: Nora gets the control when Owen makes her one...
	await ok('POST', `/api/channels/${shared.id}/members`, { user_id: nora.id, role: 'admin' }, owen.token);
	await pageN.locator('#topic-edit').waitFor({ timeout: WAIT });
	await pageN.locator('#topic-edit').click();
	await pageN.fill('#topic-input', 'from a former admin');
	// ...and a clear refusal when he has taken it back meanwhile.
	await ok('POST', `/api/channels/${shared.id}/members`, { user_id: nora.id, role: 'member' }, owen.token);
	await pageN.keyboard.press('Enter');
	await pageN.locator('#topic-error', { hasText: 'Only the channel\'s owner and admins can change its topic.' }).waitFor({ timeout: WAIT });
	assert.ok(await pageN.locator('#topic-input').isVisible(), 'the field stays open with the text');
	assert.equal(await pageN.locator('#topic-input').inputValue(), 'from a former admin');
	await pageN.keyboard.press('Escape');
	await pageN.locator('#topic-input').waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await pageN.locator('#room-topic').textContent(), `Quarterly planning ${tag}`);
	await pageN.waitForFunction(() => document.getElementById('topic-edit').hidden, null, { timeout: WAIT });
	// A topic over the limit is refused before it is sent.
	await pageO.locator('#topic-edit').click();
	await pageO.fill('#topic-input', 'x'.repeat(251));
	await pageO.keyboard.press('Enter');
	await pageO.locator('#topic-error', { hasText: 'too long' }).waitFor({ timeout: WAIT });
	assert.equal(patches.length, 1);
	await pageO.keyboard.press('Escape');
});

test('desktop notifications: asked on a click, shown only while hidden, plain text, a sound, a click jumps', async () => {
	// The browser allows them (as after a "yes" to its prompt: the first
	// test saw the banner's click ask it); the banner's button turns them on.
	await ctxN.grantPermissions(['notifications'], { origin: BASE });
	await pageN.locator('#notify-enable').click();
	await pageN.locator('#notify-enable').waitFor({ state: 'detached', timeout: WAIT });
	// The settings, in the notifications panel: desktop on, the sound off
	// until turned on (which plays a sample).
	await pageN.click('#notif-button');
	await pageN.locator('#notify-desktop').waitFor({ timeout: WAIT });
	assert.ok(await pageN.locator('#notify-desktop').isChecked());
	assert.equal(await pageN.locator('#notify-sound').isChecked(), false);
	await pageN.locator('#notify-sound').check();
	await pageN.waitForFunction(() => window.__tones > 0, null, { timeout: WAIT });
	assert.deepEqual(await pageN.evaluate(() => JSON.parse(localStorage.getItem('parley.notify'))),
		{ desktop: true, dismissed: true, sound: true });
	await pageN.click('#panel-close');
	const tones = await pageN.evaluate(() => window.__tones);

	// Visible: the notification arrives (the panel lists it), no desktop
	// notification, no sound.
	const seen = await post(owen.token, shared.id, `@${nora.username} are you there?`);
	await pageN.waitForFunction((id) => window.parley.state.notifications.some((n) => n.message && n.message.id === id), seen.id, { timeout: WAIT });
	assert.deepEqual(await notes(pageN), []);
	assert.equal(await pageN.evaluate(() => window.__tones), tones);

	// Hidden: a mention, a DM and a reply each make one.
	await pageN.evaluate(() => window.__setHidden(true));
	const mention = await post(owen.token, shared.id, `@${nora.username} **Lunch** at _noon_?\n\n- soup\n- bread`);
	await pageN.waitForFunction(() => window.__notes.length === 1, null, { timeout: WAIT });
	let got = await notes(pageN);
	assert.equal(got[0].title, `${owen.display} mentioned you in #topic-${tag}`);
	assert.equal(got[0].body, `@${nora.username} Lunch at noon? soup bread`);
	assert.ok(await pageN.evaluate(() => window.__tones) > tones, 'no sound');

	const dm = await ok('POST', '/api/channels/dm', { user_ids: [nora.id] }, owen.token);
	await post(owen.token, dm.id, 'a <b>direct</b> word');
	await pageN.waitForFunction(() => window.__notes.length === 2, null, { timeout: WAIT });
	got = await notes(pageN);
	assert.equal(got[1].title, `${owen.display} (direct message)`);
	assert.equal(got[1].body, 'a <b>direct</b> word'); // the text as written: a notification body is never markup

	const mine = await post(nora.token, shared.id, 'what about dinner?');
	await post(owen.token, shared.id, 'dinner is at eight', { reply_to: mine.id });
	await pageN.waitForFunction(() => window.__notes.length === 3, null, { timeout: WAIT });
	got = await notes(pageN);
	assert.equal(got[2].title, `${owen.display} replied in #topic-${tag}`);
	assert.equal(got[2].body, 'dinner is at eight');
	assert.equal(new Set(got.map((n) => n.tag)).size, 3, 'one tag per notification');

	// Clicking the mention's notification opens its channel at the message.
	await pageN.locator('#dm-list button', { hasText: owen.username }).click();
	await pageN.locator('#room-name', { hasText: owen.username }).waitFor({ timeout: WAIT });
	await pageN.evaluate(() => window.__notes[0].note.dispatchEvent(new Event('click')));
	await pageN.waitForFunction(() => window.__focused > 0, null, { timeout: WAIT });
	await pageN.locator('#room-name', { hasText: `#topic-${tag}` }).waitFor({ timeout: WAIT });
	await pageN.locator(`#msg-${mention.id}.highlight`).waitFor({ timeout: WAIT });
	assert.equal(await pageN.evaluate(() => location.hash), `#/c/${shared.id}/m/${mention.id}`);
	await pageN.evaluate(() => window.__setHidden(false));
	assert.deepEqual(pageErrors, []);
});

test('a reload, and a permalink reload, ask for history exactly once', async () => {
	await openChannel(pageN, `topic-${tag}`);
	await pageN.locator('#messages .content', { hasText: 'dinner is at eight' }).waitFor({ timeout: WAIT });
	const history = (seen) => seen.filter((u) => u.includes('/api/messages/history'));

	let seen = recorder(pageN);
	await pageN.reload();
	await pageN.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
	await pageN.locator('#messages .content', { hasText: 'dinner is at eight' }).waitFor({ timeout: WAIT });
	await pageN.waitForLoadState('networkidle');
	assert.equal(history(seen).length, 1, history(seen).join('\n'));
	assert.match(history(seen)[0], new RegExp(`channel=${shared.id}&limit=50$`));

	const target = (await ok('GET', `/api/messages/history?channel=${shared.id}&limit=5`, undefined, nora.token))[0];
	await pageN.goto(`${BASE}/#/c/${shared.id}/m/${target.id}`);
	await pageN.locator(`#msg-${target.id}`).waitFor({ timeout: WAIT });
	seen = recorder(pageN);
	await pageN.reload();
	await pageN.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
	await pageN.locator(`#msg-${target.id}.highlight`).waitFor({ timeout: WAIT });
	await pageN.waitForLoadState('networkidle');
	assert.equal(history(seen).length, 1, history(seen).join('\n'));
	assert.match(history(seen)[0], new RegExp(`around=${target.id}`));
	// And it is all there: the newest message, nothing to load below.
	await pageN.locator('#messages .content', { hasText: 'dinner is at eight' }).waitFor({ timeout: WAIT });
	assert.equal(await pageN.locator('#newer').isVisible(), false);
});

test('a closed window shows its user offline to others within 10 s', async () => {
	await pageN.click('#members-button');
	const dot = `#panel-list [data-presence-user="${owen.id}"]`;
	await pageN.locator(`${dot}.online`).waitFor({ timeout: WAIT });
	const dmDot = `#dm-list [data-presence-user="${owen.id}"]`;
	await pageN.locator(`${dmDot}.online`).waitFor({ timeout: WAIT });
	const t0 = Date.now();
	await pageO.close();
	await pageN.locator(`${dot}.offline`).waitFor({ timeout: 10000 });
	await pageN.locator(`${dmDot}.offline`).waitFor({ timeout: Math.max(1, 10000 - (Date.now() - t0)) });
	const took = Date.now() - t0;
	assert.ok(took < 10000, `offline after ${took} ms`);
	const online = (await ok('GET', '/api/presence', undefined, nora.token)).online_users;
	assert.equal(online.some((p) => p.user_id === owen.id && p.online !== false), false);
	assert.deepEqual(pageErrors, []);
});
