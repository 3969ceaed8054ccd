// The reading experience of the web client (issue 17) in real Chromium:
// sanitized markdown, grouping and days, jumps to a message (search hits,
// notifications, permalinks), the unread line and "new messages below",
// the composer's character counter and messages queued while offline.
// Two users: Rita reads in the browser (a display name, a time zone far
// from UTC), Walt writes, mostly over REST so that the tests know the ids.
// Run by scripts/check-client.sh (PARLEY_URL set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, PASSWORD, WAIT, launch, ok, openChannel, rest, shot, signIn } from './support.mjs';

const TZ = 'Pacific/Kiritimati'; // UTC+14: local time and day differ from the server's
const tag = Date.now().toString(36).slice(-5) + Math.random().toString(36).slice(2, 5);
const rita = { username: `rita_${tag}`, display: 'Rita Reader' };
const walt = { username: `walt_${tag}` }; // no display name: the username is shown

let browser, ctxR, ctxW, pageR, pageW;
const dialogs = [];
const pageErrors = [];

const post = (token, channel, content) => ok('POST', '/api/messages', { channel_id: channel, content }, token);
const history = (token, channel, q = '') => ok('GET', `/api/messages/history?channel=${channel}&limit=100${q}`, undefined, token);
async function channelOf(token, id) {
	return (await ok('GET', '/api/channels', undefined, token)).channels.find((c) => c.id === id);
}

async function newPage(ctx) {
	const page = await ctx.newPage();
	page.on('dialog', async (d) => { dialogs.push(d.type() + ': ' + d.message()); return d.dismiss(); });
	page.on('pageerror', (e) => pageErrors.push(String(e)));
	return page;
}



const li = (page, id) => page.locator(`#msg-${id}`);
// Whether the element is inside the visible part of the message list.
const inView = (page, id) => page.evaluate((mid) => {
	const e = document.getElementById('msg-' + mid), box = document.getElementById('messages-scroll');
	if (!e) return false;
	const a = e.getBoundingClientRect(), b = box.getBoundingClientRect();
	return a.bottom > b.top && a.top < b.bottom;
}, id);
const shownIds = (page) => page.$$eval('#messages li.msg[data-id]', (l) => l.map((x) => Number(x.dataset.id)));
const norm = (s) => s.replace(/\s+/g, ' ').trim();

// Requests the page makes, for asserting on the API calls behind a click.
function recorder(page) {
	const seen = [];
	page.on('request', (r) => seen.push({ method: r.method(), url: r.url(), body: r.postData() }));
	return seen;
}

before(async () => {
	browser = await launch();
	assert.equal((await rest('POST', '/api/auth/register', { username: rita.username, password: PASSWORD, display_name: rita.display })).status, 201);
	assert.equal((await rest('POST', '/api/auth/register', { username: walt.username, password: PASSWORD })).status, 201);
	for (const u of [rita, walt]) {
		const r = await ok('POST', '/api/auth/login', { username: u.username, password: PASSWORD });
		u.token = r.access_token;
		u.id = r.user.id;
	}
	ctxR = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US', timezoneId: TZ });
	ctxW = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
	pageR = await newPage(ctxR);
	pageW = await newPage(ctxW);
	await signIn(pageR, rita);
});

after(async () => {
	if (browser) await browser.close();
});

// A channel of Walt's that Rita has joined.
async function sharedChannel(name) {
	const ch = await ok('POST', '/api/channels', { name }, walt.token);
	await ok('POST', `/api/channels/${ch.id}/join`, undefined, rita.token);
	return ch;
}

test('markdown is formatted, links open safely, and nothing in it runs or loads', async () => {
	const ch = await sharedChannel(`fmt-${tag}`);
	const formatted = await post(walt.token, ch.id,
		'**bold** and _italic_ and `a <b>code</b> span` see https://example.com/path?q=1 or [write](mailto:someone@example.com)');
	const blocks = await post(walt.token, ch.id,
		'> a quote\n\n- one\n- two\n\n1. first\n2. second\n\n```\nconst tag = "<script>";\n```');
	const image = `${BASE}/bell.svg?from-markdown-${tag}`;
	const evil = [
		'[click me](javascript:window.__pwned=1)',
		'[upper](JAVASCRIPT:window.__pwned=2)',
		'[entity](&#106;avascript:window.__pwned=3)',
		'<javascript:window.__pwned=4>',
		'[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD01PC9zY3JpcHQ+)',
		`![a picture](${image}) and ![inline](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9IndpbmRvdy5fX3B3bmVkPTYiLz4=)`,
		'**<img src=x onerror="window.__pwned=7">**',
		'<script>window.__pwned=8</script>',
		'<a href="https://evil.example/">raw html link</a>',
		'[<img src=x onerror=window.__pwned=9>](https://example.com/nested)',
		'[**bold** js](javascript:window.__pwned=10)',
		'`<img src=x onerror=window.__pwned=11>`',
		'<details open ontoggle="window.__pwned=12">x</details>',
		'<svg><a xlink:href="javascript:window.__pwned=13"><text>svg</text></a></svg>',
		'[vb](vbscript:msgbox(1)) [file](file:///etc/passwd) [rel](/api/health)',
		'<p style="x" onmouseover="window.__pwned=14">hover</p>',
	];
	const evilIds = [];
	for (const t of evil) evilIds.push((await post(walt.token, ch.id, t)).id);

	const requests = recorder(pageR);
	await openChannel(pageR, ch.name);
	await li(pageR, evilIds.at(-1)).waitFor({ timeout: WAIT });

	// Formatting.
	const f = li(pageR, formatted.id).locator('.content');
	assert.equal(await f.locator('strong').textContent(), 'bold');
	assert.equal(await f.locator('em').textContent(), 'italic');
	assert.equal(await f.locator('code').textContent(), 'a <b>code</b> span');
	const web = f.locator('a[href="https://example.com/path?q=1"]');
	assert.equal(await web.textContent(), 'https://example.com/path?q=1'); // autolinked
	assert.equal(await web.getAttribute('target'), '_blank');
	assert.equal(await web.getAttribute('rel'), 'noopener noreferrer');
	assert.equal(await f.locator('a[href="mailto:someone@example.com"]').textContent(), 'write');
	const b = li(pageR, blocks.id).locator('.content');
	assert.equal(norm(await b.locator('blockquote').textContent()), 'a quote');
	assert.deepEqual(await b.locator('ul > li').allTextContents(), ['one', 'two']);
	assert.deepEqual(await b.locator('ol > li').allTextContents(), ['first', 'second']);
	assert.equal(await b.locator('pre > code').textContent(), 'const tag = "<script>";\n');

	// Inert: nothing ran, no dialog, no element that could run or load.
	await pageR.waitForTimeout(500);
	assert.equal(await pageR.evaluate(() => window.__pwned), undefined);
	assert.equal(await pageR.locator('#messages .content :is(img, script, svg, iframe, object, embed, details, style, form, input, video, audio)').count(), 0);
	assert.equal(await pageR.locator('#messages .content [style], #messages .content [onerror], #messages .content [onmouseover]').count(), 0);
	// Every link goes to the web or to mail, in a new tab without an opener.
	const links = await pageR.$$eval('#messages .content a', (as) => as.map((a) => ({
		href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel'), text: a.textContent })));
	assert.ok(links.length >= 3);
	for (const l of links) {
		if (l.href === null) continue; // a link with its address taken away: plain text
		assert.match(l.href, /^(https?:|mailto:)/, JSON.stringify(l));
		assert.equal(l.target, '_blank');
		assert.equal(l.rel, 'noopener noreferrer');
	}
	// The raw HTML link and the tags are shown as the text they are.
	assert.equal(await li(pageR, evilIds[8]).locator('.content').textContent(), '<a href="https://evil.example/">raw html link</a>');
	assert.equal(await li(pageR, evilIds[7]).locator('.content').textContent(), '<script>window.__pwned=8</script>');
	assert.equal(await li(pageR, evilIds[11]).locator('.content code').textContent(), '<img src=x onerror=window.__pwned=11>');
	// The nested link keeps its address and shows the tag as text.
	assert.equal(await li(pageR, evilIds[9]).locator('a[href="https://example.com/nested"]').textContent(), '<img src=x onerror=window.__pwned=9>');
	// Clicking the javascript: links does nothing.
	for (const i of [0, 1, 2, 10]) {
		const a = li(pageR, evilIds[i]).locator('.content a');
		if (await a.count()) await a.first().click();
	}
	await pageR.waitForTimeout(300);
	assert.equal(await pageR.evaluate(() => window.__pwned), undefined);
	assert.equal(ctxR.pages().length, 1, 'a link opened a page');
	// No image from message markdown was fetched.
	assert.ok(!requests.some((r) => r.url.includes('from-markdown')), 'the markdown image was loaded');
	assert.deepEqual(dialogs, []);
	await shot(pageR, '20-markdown');
});

test('messages are grouped by author within five minutes, under day separators, in local time with display names', async () => {
	const ch = await sharedChannel(`group-${tag}`);
	const w1 = await post(walt.token, ch.id, 'walt one');
	const w2 = await post(walt.token, ch.id, 'walt two');
	const w3 = await post(walt.token, ch.id, 'walt three');
	const r1 = await post(rita.token, ch.id, 'rita answers');
	const w4 = await post(walt.token, ch.id, 'walt again');
	// Read up to here (the unread line has a test of its own).
	await ok('POST', `/api/channels/${ch.id}/read`, { message_id: w4.id }, rita.token);
	await pageR.locator('#channel-list li', { hasText: ch.name }).locator('.badge').waitFor({ state: 'detached', timeout: WAIT });
	await openChannel(pageR, ch.name);
	await li(pageR, w4.id).waitFor({ timeout: WAIT });

	// The start of the channel, then one day: "Today" (in Rita's time zone).
	const items = await pageR.$$eval('#messages > li', (l) => l.map((x) => x.className.split(' ')[0] + ':' + (x.dataset.id || x.textContent)));
	assert.equal(items[0], `channel-start:This is the start of #${ch.name}.`);
	assert.equal(items[1], 'day-sep:Today');
	assert.deepEqual(items.slice(2).map((x) => x.split(':')[1]), [w1, w2, w3, r1, w4].map((m) => String(m.id)));
	// Walt's three: one header, two continuations without name or avatar.
	const author = (m) => li(pageR, m.id).locator('.meta .author');
	assert.ok(await author(w1).isVisible());
	assert.equal(await author(w1).textContent(), walt.username); // no display name: the username
	for (const m of [w2, w3]) {
		assert.ok(await li(pageR, m.id).evaluate((e) => e.classList.contains('cont')));
		assert.equal(await author(m).isVisible(), false);
		assert.equal(await li(pageR, m.id).locator('.meta .avatar').isVisible(), false);
	}
	// Another author starts a group, by display name (username as tooltip).
	assert.ok(await author(r1).isVisible());
	assert.equal(await author(r1).textContent(), rita.display);
	assert.equal(await author(r1).getAttribute('title'), '@' + rita.username);
	assert.ok(await author(w4).isVisible());
	// Times: local (UTC+14 here), the full date and time as the tooltip.
	const time = li(pageR, w1.id).locator('time');
	const d = new Date(w1.created_at);
	assert.equal(norm(await time.textContent()), norm(d.toLocaleTimeString('en-US', { timeZone: TZ, hour: '2-digit', minute: '2-digit' })));
	assert.equal(norm(await time.getAttribute('title')), norm(d.toLocaleString('en-US', { timeZone: TZ, dateStyle: 'full', timeStyle: 'medium' })));
	assert.equal(await time.getAttribute('datetime'), w1.created_at);
	// The time is the message's permalink.
	assert.equal(await li(pageR, w1.id).locator('a.permalink').getAttribute('href'), `#/c/${ch.id}/m/${w1.id}`);

	// The grouping and day rules themselves, on messages of other days and
	// gaps (the server stamps messages with the present).
	const t = await pageR.evaluate(async () => {
		const tl = await import('/js/timeline.js');
		const ol = document.createElement('ol');
		const msgs = [
			{ id: 1, user_id: 1, created_at: '2026-03-02T10:00:00' },
			{ id: 2, user_id: 1, created_at: '2026-03-02T10:04:59' }, // same group
			{ id: 3, user_id: 1, created_at: '2026-03-02T10:10:00' }, // 5 min later: new group
			{ id: 4, user_id: 2, created_at: '2026-03-02T10:11:00' },
			{ id: 5, user_id: 2, created_at: '2026-03-03T00:00:30' }, // next day
			{ id: 6, user_id: 2, created_at: '2026-03-03T00:01:00' },
		];
		for (const m of msgs) { const e = document.createElement('li'); e.className = 'msg'; e.dataset.id = m.id; ol.append(e); }
		tl.decorate(ol, (e) => msgs.find((m) => m.id === Number(e.dataset.id)), { unreadFrom: 6 });
		const now = new Date(2026, 2, 4, 12);
		return {
			list: [...ol.children].map((e) => (e.dataset.id ? e.dataset.id + (e.classList.contains('cont') ? 'c' : '') : e.className)),
			labels: [tl.dayLabel(new Date(2026, 2, 4, 0, 1), now), tl.dayLabel(new Date(2026, 2, 3, 23, 59), now), tl.dayLabel(new Date(2026, 2, 2, 9), now)],
			expected: new Date(2026, 2, 2, 9).toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' }),
		};
	});
	assert.deepEqual(t.list, ['day-sep', '1', '2c', '3', '4', 'day-sep', '5', 'unread-line', '6']);
	assert.deepEqual(t.labels, ['Today', 'Yesterday', t.expected]);
	assert.match(t.expected, /Monday, March 2, 2026/);

	// Seen a day later the same messages are "Yesterday", three days later dated.
	for (const [days, want] of [[1, 'Yesterday'], [3, null]]) {
		const later = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US', timezoneId: TZ });
		try {
			const page = await newPage(later);
			const at = new Date(Date.now() + days * 86400000);
			await page.clock.setFixedTime(at);
			await signIn(page, rita);
			await openChannel(page, ch.name);
			await li(page, w4.id).waitFor({ timeout: WAIT });
			const label = want || d.toLocaleDateString('en-US', { timeZone: TZ, weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
			assert.deepEqual(await page.locator('#messages li.day-sep').allTextContents(), [label]);
		} finally {
			await later.close();
		}
	}
	await shot(pageR, '21-groups-days');
});

test('a search hit, a notification and a permalink open the channel at that message', async () => {
	const ch = await sharedChannel(`jump-${tag}`);
	const ids = [];
	const word = `kumquat${tag}`;
	for (let i = 1; i <= 160; i++) ids.push((await post(walt.token, ch.id, i === 30 ? `jump line ${i} ${word}` : `jump line ${i}`)).id);
	const target = ids[29];
	const requests = recorder(pageR);
	await openChannel(pageR, `group-${tag}`);

	// Search by a prefix of the word ("pine" finds "pineapple"), then click the hit.
	await pageR.fill('#search-q', word.slice(0, -3));
	await pageR.press('#search-q', 'Enter');
	const hit = pageR.locator('#panel-list .result', { hasText: word });
	await hit.waitFor({ timeout: WAIT });
	assert.equal(await hit.locator('mark.hit').textContent(), word, 'the match is not marked');
	await hit.click();
	await pageR.locator('#room-name', { hasText: ch.name }).waitFor({ timeout: WAIT });
	await li(pageR, target).waitFor({ timeout: WAIT });
	assert.ok(requests.some((r) => r.url.includes(`/api/messages/history?channel=${ch.id}&around=${target}&limit=50`)));
	assert.ok(await li(pageR, target).evaluate((e) => e.classList.contains('highlight')), 'not highlighted');
	assert.ok(await inView(pageR, target), 'not scrolled into view');
	assert.equal(await pageR.evaluate(() => location.hash), `#/c/${ch.id}/m/${target}`);
	let shown = await shownIds(pageR);
	assert.ok(shown.includes(ids[0] + 5) === false || shown[0] > ids[0], 'the whole channel was loaded');
	assert.ok(!shown.includes(ids.at(-1)), 'the newest message is shown: not a jump');
	await pageR.locator('#jump-latest', { hasText: 'Jump to latest' }).waitFor({ timeout: WAIT });
	await shot(pageR, '22-jump-search');
	await pageR.click('#panel-close');

	// Scrolling down loads newer pages (after=) up to the newest; up, older ones (before=).
	for (let i = 0; i < 20 && !(await li(pageR, ids.at(-1)).count()); i++) {
		await pageR.evaluate(() => { const b = document.getElementById('messages-scroll'); b.scrollTop = b.scrollHeight; });
		await pageR.waitForTimeout(250);
	}
	await li(pageR, ids.at(-1)).waitFor({ timeout: WAIT });
	assert.ok(requests.some((r) => r.url.includes(`channel=${ch.id}&after=`)));
	for (let i = 0; i < 20 && !(await li(pageR, ids[0]).count()); i++) {
		await pageR.evaluate(() => { document.getElementById('messages-scroll').scrollTop = 0; });
		await pageR.waitForTimeout(250);
	}
	await li(pageR, ids[0]).waitFor({ timeout: WAIT });
	assert.ok(requests.some((r) => r.url.includes(`channel=${ch.id}&before=`)));
	shown = await shownIds(pageR);
	assert.deepEqual(shown, ids, 'a hole, a double or a wrong order after paging both ways');
	await pageR.locator('#messages li.channel-start', { hasText: `This is the start of #${ch.name}` }).waitFor({ timeout: WAIT });

	// A permalink on load, then another by hashchange.
	const perma = await newPage(ctxR);
	await perma.goto(`${BASE}/#/c/${ch.id}/m/${ids[99]}`);
	await li(perma, ids[99]).waitFor({ timeout: WAIT });
	assert.ok(await li(perma, ids[99]).evaluate((e) => e.classList.contains('highlight')));
	assert.ok(await inView(perma, ids[99]));
	assert.equal(await perma.locator('#room-name').textContent(), '#' + ch.name);
	await perma.evaluate((h) => { location.hash = h; }, `#/c/${ch.id}/m/${ids[4]}`);
	await perma.waitForFunction((id) => document.getElementById('msg-' + id)?.classList.contains('highlight'), ids[4], { timeout: WAIT });
	assert.ok(await inView(perma, ids[4]));
	await perma.close();

	// A mention in another channel, 60 messages back: the notification opens
	// it there and marks it read.
	const other = await ok('GET', '/api/channels', undefined, walt.token).then((r) => r.channels.find((c) => c.name === `fmt-${tag}`));
	const mention = await post(walt.token, other.id, `@${rita.username} look at this kiwi ${tag}`);
	for (let i = 1; i <= 60; i++) await post(walt.token, other.id, `after the mention ${i}`);
	await pageR.locator('#notif-count', { hasText: /[1-9]/ }).waitFor({ timeout: WAIT });
	const before = Number(await pageR.locator('#notif-count').textContent());
	const notes = await ok('GET', '/api/notifications?limit=50', undefined, rita.token);
	const note = notes.notifications.find((n) => n.message && n.message.id === mention.id);
	assert.ok(note && !note.read);
	await pageR.click('#notif-button');
	const [req] = await Promise.all([
		pageR.waitForRequest((r) => r.url().endsWith('/api/notifications/read') && r.method() === 'POST', { timeout: WAIT }),
		pageR.locator('#panel-list .result', { hasText: `kiwi ${tag}` }).click(),
	]);
	assert.deepEqual(JSON.parse(req.postData()), { ids: [note.id] });
	await li(pageR, mention.id).waitFor({ timeout: WAIT });
	assert.ok(await inView(pageR, mention.id));
	assert.ok(await li(pageR, mention.id).evaluate((e) => e.classList.contains('highlight')));
	// At the mention, not at the bottom of the channel (its messages came
	// live while Rita was elsewhere, so no around= request is needed here).
	const newest = (await history(rita.token, other.id)).at(-1);
	assert.match(newest.content, /^after the mention 60$/);
	assert.equal(await inView(pageR, newest.id), false);
	await pageR.waitForFunction((n) => Number(document.getElementById('notif-count').textContent) < n
		|| document.getElementById('notif-count').hidden, before, { timeout: WAIT });
	const after = await ok('GET', '/api/notifications?limit=50', undefined, rita.token);
	assert.equal(after.notifications.find((n) => n.id === note.id).read, true);
	await pageR.click('#panel-close');
});

test('the unread line, "new messages below" and jump to latest; the read marker waits for the reader', async () => {
	const ch = await sharedChannel(`unread-${tag}`);
	const ids = [];
	for (let i = 1; i <= 10; i++) ids.push((await post(walt.token, ch.id, `unread test ${i}`)).id);
	await ok('POST', `/api/channels/${ch.id}/read`, { message_id: ids.at(-1) }, rita.token);
	for (let i = 11; i <= 40; i++) ids.push((await post(walt.token, ch.id, `unread test ${i}`)).id);
	const firstUnread = ids[10];
	assert.equal((await channelOf(rita.token, ch.id)).unread_count, 30);
	// A fresh start: the channel list as the server counts it.
	await pageR.reload();
	await pageR.waitForFunction(() => document.getElementById('conn').dataset.state === 'online', null, { timeout: WAIT });
	await pageR.locator('#channel-list li', { hasText: ch.name }).locator('.badge', { hasText: '30' }).waitFor({ timeout: WAIT });

	await openChannel(pageR, ch.name);
	await li(pageR, firstUnread).waitFor({ timeout: WAIT });
	// The "New" line sits right above the first unread message, in view.
	assert.equal(await pageR.evaluate((id) => {
		const prev = document.getElementById('msg-' + id).previousElementSibling;
		return prev && prev.className + ':' + prev.textContent;
	}, firstUnread), 'unread-line:New');
	assert.ok(await pageR.locator('#messages li.unread-line').isVisible());
	assert.equal(await pageR.locator('#messages li.unread-line').count(), 1);
	assert.ok(await inView(pageR, firstUnread));
	// Not at the bottom: "Jump to latest", and the marker has not moved.
	await pageR.locator('#jump-latest', { hasText: 'Jump to latest' }).waitFor({ timeout: WAIT });
	await pageR.waitForTimeout(800);
	assert.equal((await channelOf(rita.token, ch.id)).unread_count, 30);
	await shot(pageR, '23-unread-line');

	// A live message while scrolled up: a bar, and still no read.
	const live = await post(walt.token, ch.id, `a live one ${tag}`);
	await li(pageR, live.id).waitFor({ state: 'attached', timeout: WAIT });
	await pageR.locator('#jump-latest', { hasText: 'New messages below' }).waitFor({ timeout: WAIT });
	assert.equal(await inView(pageR, live.id), false);
	await pageR.waitForTimeout(800);
	assert.equal((await channelOf(rita.token, ch.id)).unread_count, 31);
	await shot(pageR, '24-new-below');

	// The bar jumps to the latest and reads it.
	await pageR.click('#jump-latest');
	await pageR.locator('#jump-latest').waitFor({ state: 'hidden', timeout: WAIT });
	assert.ok(await inView(pageR, live.id));
	for (let i = 0; i < 40 && (await channelOf(rita.token, ch.id)).unread_count !== 0; i++) await pageR.waitForTimeout(150);
	assert.equal((await channelOf(rita.token, ch.id)).unread_count, 0);
	// At the bottom, live messages are read as they come.
	const next = await post(walt.token, ch.id, `read at once ${tag}`);
	await li(pageR, next.id).waitFor({ timeout: WAIT });
	for (let i = 0; i < 40 && (await channelOf(rita.token, ch.id)).unread_count !== 0; i++) await pageR.waitForTimeout(150);
	assert.equal((await channelOf(rita.token, ch.id)).unread_count, 0);
	assert.ok(await pageR.locator('#jump-latest').isHidden());
	// Scrolled up again: the button offers the way back.
	await pageR.evaluate(() => { document.getElementById('messages-scroll').scrollTop = 0; });
	await pageR.locator('#jump-latest', { hasText: 'Jump to latest' }).waitFor({ timeout: WAIT });
	await pageR.click('#jump-latest');
	await pageR.locator('#jump-latest').waitFor({ state: 'hidden', timeout: WAIT });
	assert.ok(await inView(pageR, next.id));
});

test('the composer counts characters near the limit and refuses more than 4000, keeping the text', async () => {
	await openChannel(pageR, `group-${tag}`);
	const posts = recorder(pageR);
	const box = pageR.locator('#composer-input');
	assert.ok(await pageR.locator('#composer-count').isHidden());
	// Code points, not UTF-16 units: 3990 emoji are 7980 units.
	await box.fill('😀'.repeat(3990));
	await pageR.locator('#composer-count', { hasText: '10 characters left' }).waitFor({ timeout: WAIT });
	await box.fill('  ' + '😀'.repeat(4010) + '\n');
	await pageR.locator('#composer-count.over', { hasText: '10 characters over the limit of 4000' }).waitFor({ timeout: WAIT });
	await box.press('Enter');
	await pageR.locator('#composer-error', { hasText: 'This message is 10 characters too long' }).waitFor({ timeout: WAIT });
	assert.equal(await box.inputValue(), '  ' + '😀'.repeat(4010) + '\n', 'the text was changed');
	await pageR.waitForTimeout(300);
	assert.ok(!posts.some((r) => r.method === 'POST' && r.url.endsWith('/api/messages')), 'it was sent');
	await shot(pageR, '25-too-long');
	// Shortened to the limit (spaces around do not count), it goes.
	await box.fill('  ' + 'é'.repeat(4000) + '  ');
	await pageR.locator('#composer-count', { hasText: '0 characters left' }).waitFor({ timeout: WAIT });
	assert.equal(await pageR.locator('#composer-error').textContent(), '');
	await box.press('Enter');
	await pageR.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: WAIT });
	assert.equal(await box.inputValue(), '');
	const ch = (await ok('GET', '/api/channels', undefined, rita.token)).channels.find((c) => c.name === `group-${tag}`);
	const last = (await history(rita.token, ch.id)).at(-1);
	assert.equal([...last.content].length, 4000);
	assert.equal(last.content, 'é'.repeat(4000));
});

test('messages written offline are queued and sent once the connection is back, exactly once', async () => {
	const ch = (await ok('GET', '/api/channels', undefined, rita.token)).channels.find((c) => c.name === `group-${tag}`);
	await signIn(pageW, walt);
	await openChannel(pageW, ch.name);
	await openChannel(pageR, ch.name);

	// 1. The network goes away; two messages are typed; no "Retry" is clicked.
	await ctxR.setOffline(true);
	await pageR.evaluate(() => window.parley.rt.ws && window.parley.rt.ws.close());
	const texts = [`written offline 1 ${tag}`, `written offline 2 ${tag}`];
	for (const t of texts) {
		await pageR.fill('#composer-input', t);
		await pageR.press('#composer-input', 'Enter');
	}
	await pageR.locator('#messages li.pending.queued', { hasText: texts[1] }).waitFor({ timeout: WAIT });
	assert.equal(await pageR.locator('#messages li.pending', { hasText: 'Retry' }).count(), 0);
	await pageR.waitForTimeout(1500);
	assert.equal((await history(walt.token, ch.id)).filter((m) => texts.includes(m.content)).length, 0, 'sent while offline?');
	await ctxR.setOffline(false);
	for (const t of texts) await pageW.locator('#messages li.msg[data-id]', { hasText: t }).waitFor({ timeout: WAIT });
	await pageR.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: WAIT });
	await pageR.waitForTimeout(1000);
	const got = (await history(walt.token, ch.id)).filter((m) => texts.includes(m.content));
	assert.deepEqual(got.map((m) => m.content), texts, 'not exactly once each, in order');
	for (const t of texts) assert.equal(await pageW.locator('#messages li.msg[data-id]', { hasText: t }).count(), 1);

	// 2. The message reaches the server but the answer is lost: the client
	// sends it again with the same client_msg_id, and the server keeps one.
	const text = `answer lost ${tag}`;
	let cut = 0, aborted;
	const handled = new Promise((resolve) => { aborted = resolve; });
	await pageR.route('**/api/messages', async (route) => {
		if (route.request().method() !== 'POST' || cut > 0) return route.continue();
		cut++;
		try {
			await route.fetch(); // the server stores it
			await route.abort('connectionreset');
		} finally {
			aborted();
		}
	});
	await pageR.fill('#composer-input', text);
	await pageR.press('#composer-input', 'Enter');
	await pageW.locator('#messages li.msg[data-id]', { hasText: text }).waitFor({ timeout: WAIT });
	await pageR.waitForFunction(() => !document.querySelector('#messages li.pending'), null, { timeout: WAIT });
	// The echo over the WebSocket can come before the handler's abort: the
	// route is removed only once the handler is done with it.
	await handled;
	await pageR.unroute('**/api/messages');
	assert.equal(cut, 1);
	await pageR.waitForTimeout(500);
	const same = (await history(walt.token, ch.id)).filter((m) => m.content === text);
	assert.equal(same.length, 1);
	assert.equal(await pageR.locator('#messages li.msg[data-id]', { hasText: text }).count(), 1);
	assert.equal(await pageW.locator('#messages li.msg[data-id]', { hasText: text }).count(), 1);
	assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
});

test('an error notice never covers the composer, at desktop and phone widths, and a click dismisses it', async () => {
	const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
	for (const size of [{ width: 1100, height: 760 }, { width: 390, height: 844 }]) {
		await pageR.setViewportSize(size);
		// A permalink to a channel nobody can read: the client says so.
		// (another message each time: the same hash again fires no hashchange)
		await pageR.evaluate((w) => { location.hash = `#/c/987654321/m/${w}`; }, size.width);
		const t = pageR.locator('.toast', { hasText: 'You cannot read that channel.' }).last();
		await t.waitFor({ timeout: WAIT });
		const tb = await t.boundingBox(), cb = await pageR.locator('#composer').boundingBox();
		assert.ok(tb && cb, 'toast or composer not laid out');
		assert.ok(!overlap(tb, cb), `the notice ${JSON.stringify(tb)} covers the composer ${JSON.stringify(cb)} at ${size.width} px`);
		if (size.width > 600) await shot(pageR, '27-notice');
		await t.click();
		await pageR.waitForFunction(() => ![...document.querySelectorAll('.toast')].some((x) => x.textContent.includes('cannot read that channel')), null, { timeout: WAIT });
	}
	await pageR.setViewportSize({ width: 1100, height: 760 });
});

test('search: a quoted phrase matches exactly, matches are marked, and markup in a hit stays text', async () => {
	const ch = await sharedChannel(`search-${tag}`);
	const w = `quince${tag}`;
	await post(walt.token, ch.id, `<img src=x onerror="window.__pwned=1"> **ripe** ${w} tart`);
	await post(walt.token, ch.id, `tart ${w} ripe`);
	const search = async (q) => {
		await pageR.fill('#search-q', q);
		await pageR.press('#search-q', 'Enter');
		await pageR.locator('#panel-title', { hasText: q }).waitFor({ timeout: WAIT });
		await pageR.waitForFunction(() => document.querySelectorAll('#panel-list li').length > 0, null, { timeout: WAIT });
		return pageR.locator('#panel-list .result');
	};
	let hits = await search(`${w.slice(0, -2)} tart`);  // two words, each a prefix: both messages
	await pageR.waitForFunction(() => document.querySelectorAll('#panel-list .result').length === 2, null, { timeout: WAIT });
	hits = await search(`"${w} tart"`);                  // the phrase: the first only
	await pageR.waitForFunction(() => document.querySelectorAll('#panel-list .result').length === 1, null, { timeout: WAIT });
	const one = hits.first();
	// (a phrase may be marked as one stretch or word by word)
	assert.equal((await one.locator('mark.hit').allTextContents()).join(' ').replace(/\s+/g, ' '), `${w} tart`);
	assert.match(await one.locator('.content').textContent(), /<img src=x onerror="window.__pwned=1">/);
	assert.equal(await pageR.locator('#panel-list img, #panel-list b, #panel-list strong:not(.author)').count(), 0, 'markup in a hit was parsed');
	assert.equal(await pageR.evaluate(() => window.__pwned), undefined);
	await shot(pageR, '28-search-marks');
	await pageR.click('#panel-close');
});

test('the client is served compressed and revalidated, with a favicon, as Chromium fetches it', async () => {
	const ctx = await browser.newContext();
	const page = await ctx.newPage();
	const seen = new Map();
	page.on('response', (r) => { seen.set(new URL(r.url()).pathname, r); });
	await page.goto(BASE + '/');
	await page.locator('#auth-screen').waitFor({ timeout: WAIT });
	for (const p of ['/', '/app.js', '/style.css']) {
		const r = seen.get(p);
		assert.ok(r, `${p} not fetched`);
		const h = await r.allHeaders();
		assert.match(h['content-encoding'] || '', /^(br|gzip)$/, `${p} not compressed: ${JSON.stringify(h)}`);
		assert.match(h['cache-control'] || '', /no-cache/, `${p}: no Cache-Control`);
		assert.ok(h.etag, `${p}: no ETag to revalidate with`);
	}
	// Chromium asks for /favicon.ico on its own; answer it either way.
	const fav = await page.request.get(BASE + '/favicon.ico');
	assert.equal(fav.status(), 200);
	assert.match(fav.headers()['content-type'] || '', /^image\//);
	await ctx.close();
});
