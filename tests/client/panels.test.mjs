// Threads, pins, edit history and permalinks in the web client (issue 17)
// in real Chromium: the side panel (js/sidepanel.js) with a thread (replies
// in order, a reply posted there counted live in another browser, the
// follow toggle), the pins panel (a member's pin live in another browser,
// unpin, a jump to an old pinned message), the edit history (through the
// sanitizing formatter: an <img onerror> version runs nothing), "Copy link"
// (the permalink opens the message in a fresh page; a reply's opens its
// thread) and the panel at phone width (covering the screen, "Back").
// Two users: Tess owns the channels, Uma is a member. Run by
// scripts/check-client.sh (PARLEY_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, WAIT, launch, ok, openChannel, rest, shot, signIn } from './support.mjs';

const tag = Date.now().toString(36).slice(-5) + Math.random().toString(36).slice(2, 5);
const tess = { username: `tess_${tag}`, display: 'Tess Thread' };
const uma = { username: `uma_${tag}` };

let browser, ctxT, ctxU, pageT, pageU;
const dialogs = [];
const pageErrors = [];

const post = (token, channel, content, replyTo) => ok('POST', '/api/messages',
	replyTo ? { channel_id: channel, content, reply_to: replyTo } : { channel_id: channel, content }, token);
const following = async (token, id) => (await ok('GET', `/api/messages/${id}/follow`, undefined, token)).following;

async function newPage(ctx) {
	const page = await ctx.newPage();
	page.on('dialog', async (d) => { dialogs.push(d.type() + ': ' + d.message()); return d.dismiss(); });
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	return page;
}



const li = (page, id) => page.locator(`#msg-${id}`);
const side = (page) => page.locator('#side');
const inView = (page, id) => page.evaluate((mid) => {
	const e = document.getElementById('msg-' + mid), box = document.getElementById('messages-scroll');
	if (!e) return false;
	const a = e.getBoundingClientRect(), b = box.getBoundingClientRect();
	return a.bottom > b.top && a.top < b.bottom;
}, id);
// Whether keyboard focus is inside the element with this id.
const focusIn = (page, id) => page.evaluate((i) => !!document.getElementById(i)?.contains(document.activeElement), id);

before(async () => {
	browser = await launch();
	assert.equal((await rest('POST', '/api/auth/register', { username: tess.username, password: PASSWORD, display_name: tess.display })).status, 201);
	assert.equal((await rest('POST', '/api/auth/register', { username: uma.username, password: PASSWORD })).status, 201);
	for (const u of [tess, uma]) {
		const r = await ok('POST', '/api/auth/login', { username: u.username, password: PASSWORD });
		u.token = r.access_token;
		u.id = r.user.id;
	}
	ctxT = await browser.newContext({ viewport: { width: 1200, height: 760 }, locale: 'en-US' });
	ctxU = await browser.newContext({ viewport: { width: 1200, height: 760 }, locale: 'en-US' });
	await ctxT.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
	pageT = await newPage(ctxT);
	pageU = await newPage(ctxU);
	await signIn(pageT, tess); // one at a time: a login is argon2 work
	await signIn(pageU, uma);
});

after(async () => {
	if (browser) await browser.close();
});

// A channel of Tess's that Uma has joined.
async function sharedChannel(name) {
	const ch = await ok('POST', '/api/channels', { name }, tess.token);
	await ok('POST', `/api/channels/${ch.id}/join`, undefined, uma.token);
	return ch;
}

test('a thread opens from its reply count in a side panel; a reply posted there is counted live for the other user; follow toggles', async () => {
	const ch = await sharedChannel(`thread-${tag}`);
	const root = await post(tess.token, ch.id, `the **root** of a thread ${tag}`);
	const replies = [];
	for (const [u, text] of [[uma, 'first reply'], [tess, 'second reply'], [uma, 'third reply']]) {
		replies.push(await post(u.token, ch.id, text, root.id));
	}
	await post(uma.token, ch.id, 'not in the thread');
	await Promise.all([openChannel(pageT, ch.name), openChannel(pageU, ch.name)]);

	// The root says how many replies it has and when the last came.
	const summaryT = li(pageT, root.id).locator('.thread-summary');
	await summaryT.waitFor({ timeout: WAIT });
	assert.match(await summaryT.textContent(), /^3 replies · last reply \S/);
	await li(pageU, root.id).locator('.thread-summary', { hasText: '3 replies' }).waitFor({ timeout: WAIT });
	// Replies stay in the timeline with their quote of the root (the Reply
	// action and its quote work as before).
	await li(pageT, replies[0].id).locator('.reply-quote', { hasText: 'of a thread' }).waitFor({ timeout: WAIT });

	// Opening it: a labelled dialog with the root and the replies in order,
	// focus inside.
	await summaryT.click();
	await pageT.locator('#thread-replies li').nth(2).waitFor({ timeout: WAIT });
	assert.equal(await side(pageT).getAttribute('role'), 'dialog');
	assert.match(await pageT.locator('#side-title').textContent(), new RegExp(`Thread in #thread-${tag}`));
	assert.ok(await focusIn(pageT, 'side'), 'focus moved into the panel');
	assert.equal(await pageT.locator('#thread-root .content strong').textContent(), 'root'); // formatted
	assert.deepEqual(await pageT.locator('#thread-replies li .content').allTextContents(), ['first reply', 'second reply', 'third reply']);
	assert.deepEqual(await pageT.locator('#thread-replies li').evaluateAll((l) => l.map((x) => Number(x.dataset.id))), replies.map((m) => m.id));
	assert.equal(await pageT.locator('#thread-count').textContent(), '3 replies');

	// Follow: the root's author follows (replies came); the toggle says so
	// and changes what GET /follow answers.
	const follow = pageT.locator('#thread-follow');
	await pageT.locator('#thread-follow[aria-pressed="true"]').waitFor({ timeout: WAIT });
	assert.equal(await following(tess.token, root.id), true);
	await follow.click();
	await pageT.locator('#thread-follow[aria-pressed="false"]', { hasText: 'Follow' }).waitFor({ timeout: WAIT });
	assert.equal(await following(tess.token, root.id), false);
	await follow.click();
	await pageT.locator('#thread-follow[aria-pressed="true"]', { hasText: 'Following' }).waitFor({ timeout: WAIT });
	assert.equal(await following(tess.token, root.id), true);

	// A reply from the panel's composer: in the panel, in both timelines,
	// and Uma's count goes to 4 live (thread.updated).
	await pageT.fill('#thread-input', 'a reply from the panel');
	await pageT.press('#thread-input', 'Enter');
	await pageT.locator('#thread-replies li', { hasText: 'a reply from the panel' }).waitFor({ timeout: WAIT });
	await li(pageU, root.id).locator('.thread-summary', { hasText: '4 replies' }).waitFor({ timeout: WAIT });
	await pageT.locator('#thread-count', { hasText: '4 replies' }).waitFor({ timeout: WAIT });
	const posted = pageU.locator('#messages li.msg', { hasText: 'a reply from the panel' });
	await posted.waitFor({ timeout: WAIT });
	assert.equal(Number(await posted.getAttribute('data-reply-to')), root.id);
	assert.equal((await ok('GET', `/api/messages/${root.id}`, undefined, uma.token)).reply_count, 4);

	// Uma has the thread open too: Tess's next reply (REST) shows up there.
	await li(pageU, replies[2].id).getByRole('button', { name: 'Thread', exact: true }).click(); // a reply's Thread opens its root's
	await pageU.locator('#thread-replies li', { hasText: 'a reply from the panel' }).waitFor({ timeout: WAIT });
	await post(tess.token, ch.id, 'live into an open thread', root.id);
	await pageU.locator('#thread-replies li', { hasText: 'live into an open thread' }).waitFor({ timeout: WAIT });
	await pageU.locator('#thread-count', { hasText: '5 replies' }).waitFor({ timeout: WAIT });
	await shot(pageT, 'panels-thread');

	// Escape closes it; focus goes back to the root's message; an unsent
	// reply is still there when the thread opens again.
	await pageT.fill('#thread-input', 'a draft for later');
	await pageT.press('#thread-input', 'Escape');
	await side(pageT).waitFor({ state: 'hidden', timeout: WAIT });
	assert.ok(await focusIn(pageT, `msg-${root.id}`), 'focus went back to the message');
	await li(pageT, root.id).locator('.thread-summary').click();
	await pageT.locator('#thread-replies li').nth(4).waitFor({ timeout: WAIT });
	assert.equal(await pageT.inputValue('#thread-input'), 'a draft for later');
	await pageT.click('#side-close');
	await side(pageT).waitFor({ state: 'hidden', timeout: WAIT });
	// The close button closes Uma's.
	await pageU.click('#side-close');
	await side(pageU).waitFor({ state: 'hidden', timeout: WAIT });
});

test('pins: a member pins, the other browser sees it live in the pins panel; a pin jumps to an old message; unpin removes it', async () => {
	const ch = await sharedChannel(`pins-${tag}`);
	const old = await post(tess.token, ch.id, `the old decision ${tag}`);
	for (let i = 1; i <= 60; i++) await post(tess.token, ch.id, `filler ${i}`);
	const recent = await post(tess.token, ch.id, 'pin me, recent');
	await Promise.all([openChannel(pageT, ch.name), openChannel(pageU, ch.name)]);
	await li(pageT, recent.id).waitFor({ timeout: WAIT });
	await li(pageU, recent.id).waitFor({ timeout: WAIT });
	assert.equal(await li(pageT, old.id).count(), 0, 'the old message is outside the loaded page');

	// Tess opens the (empty) pins panel from the header.
	await pageT.click('#pins-button');
	await pageT.locator('#pins-list li.empty', { hasText: 'Nothing is pinned' }).waitFor({ timeout: WAIT });
	assert.match(await pageT.locator('#side-title').textContent(), /Pinned in #pins-/);

	// Uma (a member, not an admin) pins the recent message from its actions.
	await li(pageU, recent.id).hover();
	await li(pageU, recent.id).getByRole('button', { name: 'Pin', exact: true }).click();
	await li(pageU, recent.id).locator('.pin-line').waitFor({ timeout: WAIT });
	await pageT.locator('#pins-list li.pin-item', { hasText: 'pin me, recent' }).waitFor({ timeout: WAIT });
	await li(pageT, recent.id).locator('.pin-line', { hasText: 'Pinned' }).waitFor({ timeout: WAIT }); // the marker, live
	// And the old message (over REST): newest pin first.
	await ok('PUT', `/api/messages/${old.id}/pin`, undefined, uma.token);
	await pageT.locator('#pins-list li.pin-item').nth(1).waitFor({ timeout: WAIT });
	assert.deepEqual(await pageT.locator('#pins-list li.pin-item').evaluateAll((l) => l.map((x) => Number(x.dataset.messageId))), [old.id, recent.id]);
	await shot(pageT, 'panels-pins');

	// Clicking the old pin loads the stretch around it and shows it.
	await pageT.locator('#pins-list li.pin-item', { hasText: 'the old decision' }).locator('button.result').click();
	await li(pageT, old.id).waitFor({ timeout: WAIT });
	await pageT.waitForFunction((id) => document.getElementById('msg-' + id)?.classList.contains('highlight'), old.id, { timeout: WAIT });
	assert.ok(await inView(pageT, old.id), 'the old message is in view');
	assert.equal(await li(pageT, old.id).locator('.pin-line').count(), 1);

	// Uma unpins: gone from Tess's panel, live.
	await li(pageU, recent.id).hover();
	await li(pageU, recent.id).getByRole('button', { name: 'Unpin' }).click();
	await pageT.locator('#pins-list li.pin-item', { hasText: 'pin me, recent' }).waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await pageT.locator('#pins-list li.pin-item').count(), 1);
	assert.equal((await ok('GET', `/api/channels/${ch.id}/pins`, undefined, tess.token)).length, 1);

	// A refusal (403: where only owners and admins may pin) is said clearly.
	await pageU.route('**/api/messages/*/pin', (r) => r.fulfill({ status: 403, contentType: 'application/json',
		body: JSON.stringify({ error: { code: 'forbidden', message: 'only owners and admins pin here' } }) }));
	await li(pageU, recent.id).hover();
	await li(pageU, recent.id).getByRole('button', { name: 'Pin', exact: true }).click();
	await pageU.locator('.toast', { hasText: 'You may not pin messages in this channel' }).waitFor({ timeout: WAIT });
	await pageU.unroute('**/api/messages/*/pin');
	await pageT.click('#side-close');
});

test('edit history shows the previous versions through the sanitizer; an <img onerror> version runs nothing', async () => {
	const ch = await sharedChannel(`edits-${tag}`);
	const evil = '<img src=x onerror="window.__pwned=1">';
	const m = await post(tess.token, ch.id, evil);
	await ok('PATCH', `/api/messages/${m.id}`, { content: 'second **version**' }, tess.token);
	await ok('PATCH', `/api/messages/${m.id}`, { content: 'the current text' }, tess.token);
	await openChannel(pageU, ch.name);
	const marker = li(pageU, m.id).locator('button.edited');
	await marker.waitFor({ timeout: WAIT });
	await marker.click();
	const versions = pageU.locator('#edits-list li.edit-version');
	await versions.nth(2).waitFor({ timeout: WAIT });
	assert.ok(await focusIn(pageU, 'side'));
	assert.deepEqual(await versions.locator('.content').allTextContents(), [evil, 'second version', 'the current text']);
	assert.equal(await versions.nth(1).locator('.content strong').textContent(), 'version'); // formatted like the timeline
	assert.match(await versions.first().textContent(), /^Original/);
	// Inert: the tag is text, nothing ran or loads.
	assert.equal(await pageU.locator('#side img, #side [onerror]').count(), 0);
	await pageU.waitForTimeout(300);
	assert.equal(await pageU.evaluate(() => window.__pwned), undefined);

	// Another edit while it is open: the list follows.
	await ok('PATCH', `/api/messages/${m.id}`, { content: 'edited once more' }, tess.token);
	await versions.nth(3).waitFor({ timeout: WAIT });
	assert.equal(await versions.last().locator('.content').textContent(), 'edited once more');
	await pageU.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
	await shot(pageU, 'panels-edits');
	await pageU.keyboard.press('Escape');
	await side(pageU).waitFor({ state: 'hidden', timeout: WAIT });
	assert.equal(await pageU.evaluate(() => window.__pwned), undefined);
});

test('"Copy link" gives a permalink that opens the message in a fresh page; a reply\'s opens its thread, paged both ways', async () => {
	const ch = await sharedChannel(`links-${tag}`);
	const target = await post(uma.token, ch.id, `link to me ${tag}`);
	// 56 replies: more than a page of the thread, and they push the root
	// out of the channel's newest page.
	const replies = [await post(tess.token, ch.id, 'a reply worth linking', target.id)];
	for (let i = 1; i <= 55; i++) replies.push(await post(uma.token, ch.id, `later ${i}`, target.id));
	const last = replies.at(-1);
	await openChannel(pageT, ch.name);
	await li(pageT, last.id).waitFor({ timeout: WAIT });
	assert.equal(await li(pageT, target.id).count(), 0);
	await li(pageT, last.id).hover();
	await li(pageT, last.id).getByRole('button', { name: 'Copy link' }).click();
	await pageT.locator('.toast', { hasText: 'Link copied.' }).waitFor({ timeout: WAIT });
	const copied = await pageT.evaluate(() => navigator.clipboard.readText());
	assert.equal(copied, `${BASE}/#/c/${ch.id}/m/${last.id}`);

	// The same link format for the root and for an early reply (both
	// outside the loaded page), opened in fresh pages of a signed-in browser.
	const open = async (id) => {
		const page = await newPage(ctxT);
		await page.goto(`${BASE}/#/c/${ch.id}/m/${id}`);
		await page.locator(`#msg-${id}`).waitFor({ timeout: WAIT });
		await page.waitForFunction((mid) => {
			const e = document.getElementById('msg-' + mid), box = document.getElementById('messages-scroll');
			const a = e.getBoundingClientRect(), b = box.getBoundingClientRect();
			return a.bottom > b.top && a.top < b.bottom;
		}, id, { timeout: WAIT });
		assert.equal(await page.locator('#room-name').textContent(), '#' + ch.name);
		return page;
	};
	const p1 = await open(target.id);
	assert.equal(await p1.locator('#side').isVisible(), false, 'a root opens no thread');
	await p1.close();
	// A reply: its channel at the reply, and its thread at the reply.
	const at = replies[2];
	const p2 = await open(at.id);
	await p2.locator(`#thread-replies li[data-id="${at.id}"]`).waitFor({ timeout: WAIT });
	assert.match(await p2.locator('#thread-root .content').textContent(), /link to me/);
	const shown = () => p2.locator('#thread-replies li').evaluateAll((l) => l.map((x) => Number(x.dataset.id)));
	assert.deepEqual(await shown(), replies.slice(2, 52).map((m) => m.id)); // a page from the reply on
	await p2.click('#thread-older');
	await p2.locator(`#thread-replies li[data-id="${replies[0].id}"]`).waitFor({ timeout: WAIT });
	await p2.locator('#thread-older').waitFor({ state: 'hidden', timeout: WAIT });
	await p2.click('#thread-newer');
	await p2.locator(`#thread-replies li[data-id="${last.id}"]`).waitFor({ timeout: WAIT });
	await p2.locator('#thread-newer').waitFor({ state: 'hidden', timeout: WAIT });
	assert.deepEqual(await shown(), replies.map((m) => m.id));
	await p2.close();
});

test('at phone width the thread panel covers the screen and "Back" returns to the channel', async () => {
	const ctx = await browser.newContext({ viewport: { width: 390, height: 780 }, locale: 'en-US', isMobile: true, hasTouch: true });
	try {
		const ch = await sharedChannel(`phone-${tag}`);
		const root = await post(uma.token, ch.id, 'a question asked on the go');
		await post(tess.token, ch.id, 'an answer in the thread', root.id);
		await post(uma.token, ch.id, 'thanks, that helps', root.id);
		const page = await newPage(ctx);
		await signIn(page, uma);
		await page.evaluate(([c, m]) => { location.hash = `#/c/${c}/m/${m}`; }, [ch.id, root.id]);
		await page.locator(`#msg-${root.id} .thread-summary`, { hasText: '2 replies' }).click();
		await page.locator('#thread-replies li').nth(1).waitFor({ timeout: WAIT });
		const box = await page.locator('#side').boundingBox();
		assert.ok(box.x <= 1 && box.width >= 389 && box.height >= 700, JSON.stringify(box));
		assert.ok(await page.locator('#side-back').isVisible());
		assert.equal(await page.locator('#side-close').isVisible(), false);
		await shot(page, 'panels-thread-phone');
		await page.click('#side-back');
		await page.locator('#side').waitFor({ state: 'hidden', timeout: WAIT });
		assert.ok(await page.locator(`#msg-${root.id}`).isVisible());
	} finally {
		await ctx.close();
	}
	assert.deepEqual(dialogs, []);
	assert.deepEqual(pageErrors, []);
});
