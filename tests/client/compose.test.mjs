// Composing in the web client (issue 17) in real Chromium: @mention
// suggestions by keyboard (and answers to older queries dropped), your own
// mentions highlighted, :shortcode: emoji in messages and in the composer,
// the fuller reaction picker, and the edit box's character counter and its
// place under the hover toolbar. Three users: Ann writes in the browser,
// Mona is mentioned (and reads in a second browser), Moritz shares Mona's
// prefix. Run by scripts/check-client.sh (PARLEY_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, WAIT, launch, ok, openChannel, rest, shot, signIn } from './support.mjs';

// A prefix of our own, so that other tests' users never match the searches.
const P = 'k' + Date.now().toString(36).slice(-5) + Math.random().toString(36).slice(2, 5);
const ann = { username: `${P}_ann`, display: 'Ann Author' };
const mona = { username: `${P}_mona`, display: 'Mona Lisa' };
const moritz = { username: `${P}_moritz`, display: 'Moritz' };

let browser, ctxA, ctxM, pageA, pageM, ch;
const pageErrors = [];

const post = (token, content) => ok('POST', '/api/messages', { channel_id: ch.id, content }, token);
// Polls a REST read until `pred` holds (the server's work is asynchronous
// to the browser's).
async function until(read, pred, what) {
	const end = Date.now() + WAIT;
	for (;;) {
		const v = await read();
		if (pred(v)) return v;
		if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 400)}`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

async function newPage(ctx) {
	const page = await ctx.newPage();
	page.on('dialog', (d) => d.dismiss());
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	return page;
}



const li = (page, id) => page.locator(`#msg-${id}`);
const options = (page) => page.locator('.ac-list:not([hidden]) [role=option]');
const subs = (page) => options(page).locator('.ac-sub').allTextContents();
// The option the box names as active (aria-activedescendant), checked to be
// the one marked selected in a listbox.
async function activeOption(page, box) {
	return page.evaluate((sel) => {
		const input = document.querySelector(sel);
		const o = document.getElementById(input.getAttribute('aria-activedescendant') || '');
		if (!o || o.getAttribute('aria-selected') !== 'true' || o.closest('[role=listbox]')?.id !== input.getAttribute('aria-controls')) return null;
		return o.querySelector('.ac-sub').textContent;
	}, box);
}

before(async () => {
	browser = await launch();
	for (const u of [ann, mona, moritz]) {
		assert.equal((await rest('POST', '/api/auth/register', { username: u.username, password: PASSWORD, display_name: u.display })).status, 201);
		const r = await ok('POST', '/api/auth/login', { username: u.username, password: PASSWORD });
		u.token = r.access_token;
		u.id = r.user.id;
	}
	ch = await ok('POST', '/api/channels', { name: `compose-${P}` }, ann.token);
	await ok('POST', `/api/channels/${ch.id}/join`, undefined, mona.token);
	await ok('POST', `/api/channels/${ch.id}/join`, undefined, moritz.token);
	ctxA = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
	ctxM = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
	pageA = await newPage(ctxA);
	pageM = await newPage(ctxM);
	await signIn(pageA, ann);
	await openChannel(pageA, ch.name);
});

after(async () => {
	if (browser) await browser.close();
	assert.deepEqual(pageErrors, []);
});

test('@mention suggestions by keyboard insert the username, and the mentioned user is notified', async () => {
	const box = pageA.locator('#composer-input');
	await box.click();
	await box.pressSequentially(`Hello @${P}_mo`);
	// Both people of the prefix, with display name and @username.
	await pageA.waitForFunction((p) => {
		const s = [...document.querySelectorAll('.ac-list:not([hidden]) .ac-sub')].map((e) => e.textContent).sort();
		return s.join() === [`@${p}_mona`, `@${p}_moritz`].sort().join();
	}, P, { timeout: WAIT });
	assert.deepEqual((await options(pageA).locator('.ac-name').allTextContents()).sort(), ['Mona Lisa', 'Moritz']);
	assert.equal(await pageA.locator('.ac-list').getAttribute('role'), 'listbox');
	assert.equal(await box.getAttribute('aria-autocomplete'), 'list');
	const first = await activeOption(pageA, '#composer-input');
	assert.ok(first, 'no active option named by aria-activedescendant');
	// ArrowDown and ArrowUp move the active option (wrapping), Escape closes.
	await box.press('ArrowDown');
	const second = await activeOption(pageA, '#composer-input');
	assert.ok(second && second !== first, `${first} -> ${second}`);
	await box.press('ArrowDown');
	assert.equal(await activeOption(pageA, '#composer-input'), first);
	await box.press('ArrowUp');
	assert.equal(await activeOption(pageA, '#composer-input'), second);
	await box.press('Escape');
	await pageA.locator('.ac-list').first().waitFor({ state: 'hidden', timeout: WAIT });
	assert.equal(await box.getAttribute('aria-activedescendant'), null);
	assert.equal(await box.inputValue(), `Hello @${P}_mo`, 'Escape changed the text');
	// Typing on narrows to Mona; Enter inserts her name (and does not send).
	await box.pressSequentially('n');
	await pageA.waitForFunction((p) => {
		const s = [...document.querySelectorAll('.ac-list:not([hidden]) .ac-sub')].map((e) => e.textContent);
		return s.join() === `@${p}_mona`;
	}, P, { timeout: WAIT });
	assert.equal(await activeOption(pageA, '#composer-input'), `@${P}_mona`);
	await shot(pageA, 'compose-mention');
	await box.press('Enter');
	assert.equal(await box.inputValue(), `Hello @${P}_mona `);
	await pageA.locator('.ac-list').first().waitFor({ state: 'hidden', timeout: WAIT });
	assert.equal(await pageA.locator('#messages li.pending').count(), 0, 'Enter sent the message');
	// Tab inserts too.
	await box.pressSequentially(`and @${P}_mori`);
	await options(pageA).first().waitFor({ timeout: WAIT });
	await box.press('Tab');
	assert.equal(await box.inputValue(), `Hello @${P}_mona and @${P}_moritz `);
	await box.pressSequentially('look');
	await box.press('Enter');
	const text = `Hello @${P}_mona and @${P}_moritz look`;
	await pageA.locator('#messages li.msg[data-id] .content', { hasText: 'look' }).waitFor({ timeout: WAIT });
	// The server read the mentions: Mona's notifications say so.
	const notes = await until(() => ok('GET', '/api/notifications?limit=50', undefined, mona.token),
		(r) => r.notifications.some((n) => n.kind === 'mention' && n.message && n.message.content === text), 'the mention notification');
	assert.equal(notes.notifications.find((n) => n.message && n.message.content === text).message.user_id, ann.id);
});

test('your own mentions are highlighted, others\' are marked lightly, none in code', async () => {
	const m = await post(ann.token, `ping @${mona.username}, and \`@${mona.username}\` in code, mail ${mona.username}@example.com`);
	const back = await post(mona.token, `thanks @${ann.username.toUpperCase()}!`);
	await signIn(pageM, mona);
	await openChannel(pageM, ch.name);
	await li(pageM, back.id).waitFor({ timeout: WAIT });
	// Mona sees her mention marked, once (not in code, not in the address).
	const mine = li(pageM, m.id).locator('.content mark.mention.me');
	await mine.waitFor({ timeout: WAIT });
	assert.equal(await mine.count(), 1);
	assert.equal(await mine.textContent(), `@${mona.username}`);
	assert.equal(await li(pageM, m.id).locator('code').textContent(), `@${mona.username}`);
	// Ann's name in Mona's view: a mention, not hers.
	const other = li(pageM, back.id).locator('.content .mention');
	assert.equal(await other.textContent(), `@${ann.username.toUpperCase()}`);
	assert.equal(await li(pageM, back.id).locator('.content .mention.me').count(), 0);
	// Ann sees the opposite.
	await li(pageA, back.id).waitFor({ timeout: WAIT });
	assert.equal(await li(pageA, back.id).locator('.content mark.mention.me').textContent(), `@${ann.username.toUpperCase()}`);
	assert.equal(await li(pageA, m.id).locator('.content .mention.me').count(), 0);
	assert.equal(await li(pageA, m.id).locator('.content .mention').count(), 1);
	// The two styles differ.
	const bg = (loc) => loc.evaluate((e) => getComputedStyle(e).backgroundColor + ' ' + getComputedStyle(e).fontWeight);
	assert.notEqual(await bg(mine), await bg(other));
	await pageM.close();
});

test('an answer to an older @ query never replaces the newer one', async () => {
	const box = pageA.locator('#composer-input');
	await box.fill('');
	const order = [];
	// The answer for "<P>_mo" (Mona and Moritz) is held back until the one
	// for "<P>_mor" (Moritz) has arrived.
	let release;
	const held = new Promise((r) => { release = r; });
	await pageA.route('**/api/users?*', async (route) => {
		const q = new URL(route.request().url()).searchParams.get('q');
		if (q === `${P}_mo`) await held;
		await route.continue();
		order.push(q);
	});
	try {
		const asked = pageA.waitForRequest((r) => new URL(r.url()).searchParams.get('q') === `${P}_mo`, { timeout: WAIT });
		await box.pressSequentially(`@${P}_mo`);
		await asked;
		const answered = pageA.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === `${P}_mor`, { timeout: WAIT });
		await box.pressSequentially('r');
		await answered;
		await pageA.waitForFunction((p) => {
			const s = [...document.querySelectorAll('.ac-list:not([hidden]) .ac-sub')].map((e) => e.textContent);
			return s.join() === `@${p}_moritz`;
		}, P, { timeout: WAIT });
		const late = pageA.waitForEvent('requestfinished', { predicate: (r) => new URL(r.url()).searchParams.get('q') === `${P}_mo`, timeout: WAIT });
		release();
		await late;
		// Give the page a turn to (wrongly) apply the late answer.
		await pageA.evaluate(() => new Promise((r) => setTimeout(r, 300)));
		assert.deepEqual(order.filter((q) => q === `${P}_mo` || q === `${P}_mor`), [`${P}_mor`, `${P}_mo`]);
		assert.deepEqual(await subs(pageA), [`@${P}_moritz`]);
	} finally {
		release();
		await pageA.unroute('**/api/users?*');
	}
	await box.press('Escape');
	await box.fill('');
});

test(':shortcodes: render as emoji, shortcode-like markup stays inert, and :ta suggests shortcodes', async () => {
	const party = await post(mona.token, 'party :tada: time, `:tada:` in code, and :not_an_emoji_name:');
	const evil = [
		':<img src=x onerror="window.__pwned=1">:',
		':tada:<script>window.__pwned=2</script>',
		':smile:<img src=x onerror=window.__pwned=3>:tada:',
		'[:tada:](javascript:window.__pwned=4)',
		':tada" onmouseover="window.__pwned=5":',
		`@${P}_ann<img src=x onerror=window.__pwned=6>`,
		'<b>:tada:</b>',
	];
	const ids = [];
	for (const t of evil) ids.push((await post(mona.token, t)).id);
	await li(pageA, ids.at(-1)).waitFor({ timeout: WAIT });
	const c = li(pageA, party.id).locator('.content');
	assert.equal(await c.locator('code').textContent(), ':tada:');
	assert.match(await c.textContent(), /^party 🎉 time, :tada: in code, and :not_an_emoji_name:$/);
	await pageA.evaluate(() => new Promise((r) => setTimeout(r, 300)));
	assert.equal(await pageA.evaluate(() => window.__pwned), undefined);
	assert.equal(await pageA.locator('#messages .content :is(img, script, svg, iframe, b)').count(), 0);
	assert.equal(await pageA.locator('#messages .content [onerror], #messages .content [onmouseover]').count(), 0);
	const texts = [];
	for (const id of ids) texts.push(await li(pageA, id).locator('.content').textContent());
	assert.equal(texts[0], ':<img src=x onerror="window.__pwned=1">:');
	assert.equal(texts[1], '🎉<script>window.__pwned=2</script>');
	assert.equal(texts[2], '😄<img src=x onerror=window.__pwned=3>🎉');
	assert.equal(await li(pageA, ids[3]).locator('.content a').count(), 0); // no javascript: link
	assert.equal(texts[5], `@${P}_ann<img src=x onerror=window.__pwned=6>`);
	assert.equal(await li(pageA, ids[5]).locator('mark.mention.me').textContent(), `@${P}_ann`);
	assert.equal(texts[6], '<b>🎉</b>');

	// In the composer: ":ta" suggests, Enter inserts the emoji.
	const box = pageA.locator('#composer-input');
	await box.fill('');
	await box.pressSequentially('so :tad');
	await pageA.waitForFunction(() => [...document.querySelectorAll('.ac-list:not([hidden]) .ac-sub')].some((e) => e.textContent === ':tada:'), null, { timeout: WAIT });
	assert.equal(await activeOption(pageA, '#composer-input'), ':tada:');
	assert.equal(await options(pageA).first().locator('.ac-emoji').textContent(), '🎉');
	await box.press('Enter');
	assert.equal(await box.inputValue(), 'so 🎉 ');
	// A time is not a shortcode.
	await box.pressSequentially('at 10:30');
	await pageA.evaluate(() => new Promise((r) => setTimeout(r, 200)));
	assert.equal(await options(pageA).count(), 0);
	await box.fill('');
});

test('the fuller reaction picker finds an emoji by search and reacts with it', async () => {
	const m = await post(mona.token, 'react to me');
	const item = li(pageA, m.id);
	await item.waitFor({ timeout: WAIT });
	await item.hover();
	await item.getByRole('button', { name: 'React', exact: true }).click();
	const picker = item.locator('.picker');
	await picker.waitFor({ timeout: WAIT });
	// The six quick reactions stay.
	assert.deepEqual(await picker.locator('.picker-quick button').allTextContents(), ['👍', '❤️', '😂', '🎉', '👀', '🙏']);
	const search = picker.getByRole('searchbox', { name: 'Search emoji' });
	assert.ok(await search.evaluate((e) => e === document.activeElement), 'the search box has no focus');
	// A category by its button.
	await picker.getByRole('button', { name: 'Food' }).click();
	await picker.locator('[role=listbox][aria-label=Food] [role=option]', { hasText: '🍕' }).waitFor({ timeout: WAIT });
	// Search by name; arrows move through the grid; Enter reacts.
	await search.fill('unico');
	const grid = picker.getByRole('listbox');
	await grid.locator('[role=option][title=":unicorn:"]').waitFor({ timeout: WAIT });
	await search.fill('heart');
	await grid.locator('[role=option][title=":heart:"]').waitFor({ timeout: WAIT });
	const active = () => search.evaluate((e) => {
		const o = document.getElementById(e.getAttribute('aria-activedescendant') || '');
		return o && o.getAttribute('aria-selected') === 'true' ? o.title : null;
	});
	assert.equal(await active(), ':heart:');
	await search.press('ArrowRight');
	const next = await active();
	assert.ok(next && next !== ':heart:', next);
	await search.press('ArrowLeft');
	assert.equal(await active(), ':heart:');
	await search.fill('unicorn');
	await grid.locator('[role=option][title=":unicorn:"][aria-selected=true]').waitFor({ timeout: WAIT });
	await shot(pageA, 'compose-emoji-picker');
	await search.press('Enter');
	await picker.waitFor({ state: 'detached', timeout: WAIT });
	await item.locator('.reaction.me', { hasText: '🦄 1' }).waitFor({ timeout: WAIT });
	const got = await ok('GET', `/api/messages/${m.id}`, undefined, ann.token);
	assert.deepEqual(got.reactions, [{ emoji: '🦄', count: 1, me: true }]);
	// Escape closes the picker and gives the focus back to its button.
	await item.hover();
	await item.getByRole('button', { name: 'React', exact: true }).click();
	await picker.waitFor({ timeout: WAIT });
	await pageA.keyboard.press('Escape');
	await picker.waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await pageA.evaluate(() => document.activeElement.textContent), 'React');
});

test('the edit box counts, refuses over 4000 characters without cutting, and is not covered by the toolbar', async () => {
	await post(ann.token, 'a first line');
	const m = await post(ann.token, 'a message to edit'); // a continuation: no name line above it
	const item = li(pageA, m.id);
	await item.waitFor({ timeout: WAIT });
	await pageA.waitForFunction((id) => document.getElementById('msg-' + id).classList.contains('cont'), m.id, { timeout: WAIT });
	const patches = [];
	pageA.on('request', (r) => { if (r.method() === 'PATCH') patches.push(r.url()); });
	await item.hover();
	await item.getByRole('button', { name: 'Edit' }).click();
	const box = item.getByLabel('Edit message');
	await box.waitFor({ timeout: WAIT });

	// Not covered: with the toolbar showing (hovered), the box and its
	// buttons are clear of it, and the box's top right corner is the box.
	await item.hover();
	const toolbar = item.locator('.actions');
	assert.equal(await toolbar.evaluate((e) => getComputedStyle(e).opacity), '1');
	const bar = await toolbar.boundingBox();
	const overlaps = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
	for (const part of [box, item.getByRole('button', { name: 'Save' }), item.getByRole('button', { name: 'Cancel' })]) {
		const r = await part.boundingBox();
		assert.ok(!overlaps(bar, r), `toolbar ${JSON.stringify(bar)} covers ${JSON.stringify(r)}`);
	}
	assert.ok(await box.evaluate((e) => {
		const r = e.getBoundingClientRect();
		return document.elementFromPoint(r.right - 6, r.top + 6) === e;
	}), 'something lies over the edit box');

	// Suggestions work here too; Escape closes them, not the edit.
	await box.fill('for ');
	await box.press('End');
	await box.pressSequentially(`@${P}_mon`);
	await options(pageA).filter({ hasText: `@${P}_mona` }).waitFor({ timeout: WAIT });
	await box.press('Escape');
	await pageA.locator('.ac-list:not([hidden])').waitFor({ state: 'detached', timeout: WAIT });
	assert.equal(await box.inputValue(), `for @${P}_mon`);

	// The composer's counter, under the edit box.
	const count = item.locator('.edit-count');
	assert.ok(await count.isHidden());
	await box.fill('😀'.repeat(3990));
	await count.filter({ hasText: '10 characters left' }).waitFor({ timeout: WAIT });
	const long = ' ' + '😀'.repeat(4010) + '\n';
	await box.fill(long);
	await item.locator('.edit-count.over', { hasText: '10 characters over the limit of 4000' }).waitFor({ timeout: WAIT });
	await box.press('Enter');
	await item.locator('.edit-error', { hasText: 'This message is 10 characters too long' }).waitFor({ timeout: WAIT });
	assert.equal(await box.inputValue(), long, 'the text was cut or changed');
	assert.equal(await box.evaluate((e) => e === document.activeElement), true);
	await pageA.evaluate(() => new Promise((r) => setTimeout(r, 300)));
	assert.deepEqual(patches, [], 'it was sent');
	assert.equal((await ok('GET', `/api/messages/${m.id}`, undefined, ann.token)).content, 'a message to edit');
	// At the limit it goes, and the refusal goes away.
	await box.fill('é'.repeat(4000));
	await count.filter({ hasText: /^0 characters left$/ }).waitFor({ timeout: WAIT });
	assert.equal(await item.locator('.edit-error').textContent(), '');
	await box.press('Enter');
	await item.locator('.edited').waitFor({ timeout: WAIT });
	assert.equal((await ok('GET', `/api/messages/${m.id}`, undefined, ann.token)).content, 'é'.repeat(4000));
	assert.equal(patches.length, 1);
});
