// app.js — parley's bundled browser client: plain ES modules, no build step.
// REST in js/api.js, the event stream in js/realtime.js, element helpers
// (text-only rendering of user data) in js/dom.js, attachments and avatars
// (file bytes through blob: URLs) in js/files.js, sending and the offline
// queue in js/outbox.js, message markdown (the one
// sanitized markup path) in js/format.js, grouping, day separators and the
// unread line in js/timeline.js; composing: the length limit in
// js/counter.js, @mention and :shortcode: suggestions in js/autocomplete.js,
// emoji shortcodes in js/emoji.js, the reaction picker in js/picker.js;
// threads, pins, edit history and permalinks (the side panel) in
// js/panels.js and the modules it wires; desktop notifications and their
// sound in js/notify.js, the first screen of a user without channels in
// js/welcome.js, the "Browse channels" dialog in js/channel-browser.js,
// topic editing in js/topic.js.

import { Api, ApiError } from './js/api.js';
import { Realtime } from './js/realtime.js';
import { $, el, clear, setText, fmtTime, fmtSize, newClientId } from './js/dom.js';
import { Files } from './js/files.js';
import { Outbox } from './js/outbox.js';
import { formatMessage, setSelf } from './js/format.js';
import { decorate, shortTime, fullTime } from './js/timeline.js';
import { renderCount as renderCounter, refuseTooLong } from './js/counter.js';
import { Autocomplete } from './js/autocomplete.js';
import { shortcodesFor } from './js/emoji.js';
import { emojiPicker } from './js/picker.js';
import { Panels } from './js/panels.js'; // --- panels hook
import { Notifier, plainText } from './js/notify.js';
import { Welcome } from './js/welcome.js';
import { ChannelBrowser } from './js/channel-browser.js';
import { TopicEditor } from './js/topic.js';
// a11y hooks (issue 17): keyboard use and focus, the phone's message menu
// and unread badge (js/theme.js, the colour theme, is a classic script in <head>).
import * as keyboard from './js/keyboard.js';
import * as phone from './js/phone.js';

const PAGE = 50;
const MAX_ATTACHMENTS = 10;

const api = new Api();
const S = {
	channels: new Map(),   // id -> channel object
	current: null,         // id of the open channel
	rooms: new Map(),      // channel id -> { byId: Map, complete: bool (oldest held), latest: bool (newest held), loaded: bool }
	pending: new Map(),    // client_msg_id -> { channel_id, content, reply_to, attachments, failed, queued, at }
	unreadFrom: null,      // open channel: id of the first unread message (the "New" line)
	newBelow: false,       // open channel: live messages arrived while scrolled up
	users: new Map(),      // user id -> username
	profiles: new Map(),   // user id -> user object (null: not found), for avatars
	profileLoads: new Set(), // user ids asked for
	uploads: [],           // the composer's files: { key, file, state, loaded, total, result, error }
	stick: true,           // the message list was scrolled to the bottom
	online: new Map(),     // user id -> status ('online' | 'away' | 'dnd')
	typing: new Map(),     // user id -> timer (open channel only)
	replyTo: null,         // message being replied to
	notifications: [],
	lastTypingSent: 0,
	readTimer: null,
};
const rt = new Realtime(api, {
	event: onEvent,
	status: (s) => { const c = $('conn'); c.dataset.state = s; setText(c, s); },
	hello: onHello,
	resync: () => reloadAll(),
});
const files = new Files(api, (e) => report(e));
// Messages being sent, queued while offline (js/outbox.js).
const outbox = new Outbox(api, S.pending, {
	sent: (m) => onSent(m),
	changed: (cid) => {
		const p = S.pending.get(cid);
		if (p) document.querySelector(`li[data-client-id="${CSS.escape(cid)}"]`)?.replaceWith(pendingEl(cid, p));
	},
	error: (e) => report(e),
});
// --- panels hook: threads, pins, edit history, permalinks (js/panels.js).
const panels = new Panels({
	api, files, me: () => api.user, current: () => S.current,
	channel: (id) => S.channels.get(id), label: (c) => label(c),
	held: (id) => { for (const r of S.rooms.values()) if (r.byId.has(id)) return r.byId.get(id); return undefined; },
	patchHeld: (id, fields) => { for (const r of S.rooms.values()) if (r.byId.has(id)) upsert({ ...r.byId.get(id), ...fields }, false); },
	sent: (m) => onSent(m), goToMessage: (c, m) => goToMessage(c, m),
	avatarOf: (...a) => avatarOf(...a), nameOf: (...a) => nameOf(...a), userName: (id) => S.users.get(id),
	summary: (m) => summary(m), report: (e) => report(e), toast: (t) => toast(t),
	closePanel: () => { $('panel').hidden = true; $('panel').dataset.kind = ''; },
});
// --- screens (issue 17): notifications, first screen, channel browser, topic ---
// Desktop notifications and their sound while the tab is hidden (js/notify.js).
const notifier = new Notifier({
	title: async (n) => {
		const m = n.message;
		if (!S.profiles.has(m.user_id)) {
			try { learnUser(await api.get('/api/users/' + m.user_id)); } catch { /* the username will do */ }
		}
		if (!S.channels.has(m.channel_id)) await loadChannels().catch(() => {});
		const c = S.channels.get(m.channel_id), who = nameOf(m.user_id, m.username);
		if (!c) return who;
		return c.kind === 'dm' ? `${who} (direct message)` : `${who} ${n.kind === 'reply' ? 'replied' : 'mentioned you'} in ${label(c)}`;
	},
	body: (m) => (m.content ? plainText(formatMessage(m.content)) : summary(m)),
	open: (n) => { markNotificationRead(n); goToMessage(n.message.channel_id, n.message.id); },
	say: (text) => toast(text),
});
notifier.mountBanner($('room').querySelector('.room-head'));
// The first screen of a user in no channel (js/welcome.js).
const welcome = new Welcome($('room'), $('messages-scroll'), {
	state: () => ({ current: S.current, channels: S.channels.values(), name: me() ? me().display_name || me().username : '' }),
	join: (id) => joinChannel(id),
	browse: () => channelBrowser.show(),
	create: () => openSidebox('new-channel-form', 'nc-name'),
	dm: () => openSidebox('new-dm-form', 'dm-user'),
});
// "Browse channels" (js/channel-browser.js), from the sidebar and the first screen.
const channelBrowser = new ChannelBrowser(api, { join: (id) => joinChannel(id), open: (id) => openChannel(id) });
$('browse-list').after(el('button', { type: 'button', id: 'browse-button', class: 'link small browse-button',
	onclick: () => channelBrowser.show() }, 'Browse all channels'));
// The open channel's topic, editable by its owner and admins (js/topic.js).
const topicEditor = new TopicEditor(api, $('room-topic'), {
	channel: () => (S.current ? S.channels.get(S.current) || null : null),
	saved: (ch) => {
		const c = S.channels.get(ch.id);
		S.channels.set(ch.id, { ...c, ...ch, role: ch.role || (c && c.role) });
		if (ch.id === S.current) setText($('room-topic'), ch.topic || '');
		renderChannels();
	},
});
// Opens one of the sidebar's forms (New channel, New direct message), on a
// phone in the channel drawer.
function openSidebox(formId, inputId) {
	if (matchMedia('(max-width: 720px)').matches) {
		document.body.classList.add('nav-open');
		$('nav-toggle').setAttribute('aria-expanded', 'true');
	}
	$(formId).closest('details').open = true;
	$(inputId).focus();
}
// --- end screens ---

// Handles for tests and debugging in the console.
window.parley = { api, rt, files, outbox, panels, state: S, notifier };

const me = () => api.user;
const room = (id) => {
	if (!S.rooms.has(id)) S.rooms.set(id, { byId: new Map(), complete: false, latest: true, loaded: false });
	return S.rooms.get(id);
};

// Errors and notices, stacked at the top of the window: never over the
// composer (the bottom is where people type); a click dismisses one.
function toast(text) {
	let box = document.getElementById('toasts');
	if (!box) {
		box = el('div', { id: 'toasts', class: 'toasts' });
		document.body.append(box);
	}
	const t = el('div', { class: 'toast', role: 'alert', title: 'Click to dismiss', onclick: () => t.remove() }, text);
	box.append(t);
	setTimeout(() => t.remove(), 5000);
}

function report(e) {
	console.warn(e);
	toast(e instanceof ApiError ? e.message : 'Something went wrong: ' + e.message);
}

/* ---------- sign in / register ---------- */

let registering = false;

function showAuth() {
	rt.stop();
	$('chat-screen').hidden = true;
	$('auth-screen').hidden = false;
	$('auth-username').focus();
}

function setAuthMode(reg) {
	registering = reg;
	setText($('auth-title'), reg ? 'Create an account' : 'Sign in');
	setText($('auth-submit'), reg ? 'Create account' : 'Sign in');
	setText($('auth-switch-text'), reg ? 'Have an account?' : 'New here?');
	setText($('auth-switch'), reg ? 'Sign in instead' : 'Create an account');
	$('auth-register-fields').hidden = !reg;
	$('auth-password').autocomplete = reg ? 'new-password' : 'current-password';
	setText($('auth-error'), '');
}

$('auth-switch').addEventListener('click', () => setAuthMode(!registering));
$('auth-form').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	const u = $('auth-username').value.trim(), p = $('auth-password').value;
	setText($('auth-error'), '');
	$('auth-submit').disabled = true;
	try {
		if (registering) await api.register(u, p, $('auth-display').value.trim());
		await api.login(u, p);
		$('auth-password').value = '';
		await enterChat();
	} catch (e) {
		setText($('auth-error'), e instanceof ApiError ? e.message : 'Cannot reach the server');
	} finally {
		$('auth-submit').disabled = false;
	}
});

$('logout').addEventListener('click', async () => {
	rt.stop();
	await api.logout();
	location.reload();
});
api.onSessionEnd = () => { toast('Your session ended; please sign in again.'); showAuth(); };

/* ---------- entering the chat ---------- */

async function enterChat() {
	$('auth-screen').hidden = true;
	$('chat-screen').hidden = false;
	setSelf(me().username); // compose: your mentions are highlighted (js/format.js)
	S.users.set(me().id, me().username);
	S.profiles.set(me().id, me());
	renderMe();
	api.get('/api/users/me').then(learnUser, (e) => console.warn(e));
	S.online.set(me().id, 'online');
	await loadChannels();
	rt.start();
	loadPresence();
	loadNotifications();
	if (parseHash() && await followHash()) return;
	const want = Number(sessionStorage.getItem('parley.current')) || 0;
	const first = S.channels.has(want) ? want
		: [...S.channels.values()].find((c) => c.role)?.id;
	if (first) openChannel(first);
	else setComposer(false);
}

function setComposer(on) {
	$('composer-input').disabled = $('send').disabled = $('attach').disabled = !on;
}

// The first hello: events from now on come live. A first page of history
// is asked for after it (afterHello), so that nothing falls between the
// page and the stream and one request is enough; a page asked for before it
// (no hello in time) is caught up with after= once it is in. A later hello
// (reconnect with since=) needs nothing: missed events follow. Queued
// messages go out on every (re)connect.
let helloSeen = false;
const helloWaiters = [];
function afterHello(ms = 3000) {
	if (helloSeen) return Promise.resolve();
	return new Promise((resolve) => { helloWaiters.push(resolve); setTimeout(resolve, ms); });
}
function onHello(_msg, first) {
	if (first) {
		helloSeen = true;
		for (const resolve of helloWaiters.splice(0)) resolve();
		if (S.current) {
			const r = room(S.current);
			if (r.loading === 'sent') r.catchUp = true;
			else if (r.loaded && r.latest) loadHistory(S.current, false, true);
			else if (!r.loaded && !r.loading) loadHistory(S.current, true);
		}
	}
	outbox.flush();
}

async function reloadAll() {
	S.rooms.clear();
	await loadChannels();
	if (S.current) {
		clear($('messages'));
		await loadHistory(S.current, true);
	}
}

/* ---------- channels ---------- */

function dmName(c) {
	const mine = me().username.toLowerCase();
	const others = String(c.name || '').split(', ').filter((n) => n.toLowerCase() !== mine);
	return others.length ? others.join(', ') : c.name;
}
const label = (c) => (c.kind === 'dm' ? dmName(c) : '#' + c.name);

async function loadChannels() {
	const data = await api.get('/api/channels');
	S.channels.clear();
	for (const c of data.channels) S.channels.set(c.id, c);
	renderChannels();
}

// Reloads the channel list (roles and unread counts are per caller), once
// for a burst of events.
function reloadChannelsSoon() {
	S.reloadWanted = true;
	if (S.reloadTimer || S.reloading) return;
	S.reloadTimer = setTimeout(async () => {
		S.reloadTimer = null;
		S.reloading = true;
		while (S.reloadWanted) {
			S.reloadWanted = false;
			try { await loadChannels(); } catch (e) { console.warn(e); }
		}
		S.reloading = false;
	}, 150);
}

function presenceDot(userId) {
	const st = S.online.get(userId);
	return el('span', { class: 'dot ' + (st || 'offline'), dataset: { presenceUser: userId },
		title: st || 'offline', 'aria-label': st || 'offline', role: 'img' });
}

function renderChannels() {
	// Keep keyboard focus on the same channel across a re-render.
	const active = document.activeElement;
	const focusId = active && active.closest && active.closest('#sidebar') ? active.dataset.channelId : null;
	const lists = { ch: clear($('channel-list')), dm: clear($('dm-list')), browse: clear($('browse-list')) };
	const sorted = [...S.channels.values()].sort((a, b) => label(a).localeCompare(label(b)));
	for (const c of sorted) {
		const target = c.kind === 'dm' ? lists.dm : c.role ? lists.ch : lists.browse;
		const unread = c.role && c.unread_count > 0 && c.id !== S.current;
		const btn = el('button', {
			type: 'button', class: 'chan' + (c.id === S.current ? ' current' : ''),
			'aria-current': c.id === S.current ? 'page' : null,
			dataset: { channelId: c.id }, onclick: () => openChannel(c.id),
		},
		c.kind === 'private' ? el('span', { class: 'lock', 'aria-label': 'private', role: 'img' }, '🔒') : null,
		c.kind === 'dm' && dmPeer(c) ? presenceDot(dmPeer(c)) : null,
		el('span', { class: 'name' }, label(c)),
		unread ? el('span', { class: 'badge', 'aria-label': c.unread_count + ' unread' }, String(c.unread_count)) : null);
		const li = el('li', {}, btn);
		if (!c.role && c.kind === 'public') {
			li.append(el('button', { type: 'button', class: 'small', onclick: () => joinChannel(c.id),
				'aria-label': 'Join ' + c.name }, 'Join'));
		}
		target.append(li);
	}
	for (const [k, l] of Object.entries(lists)) {
		if (!l.children.length) l.append(el('li', { class: 'empty' }, k === 'browse' ? 'None' : 'None yet'));
	}
	if (focusId) document.querySelector(`#sidebar button[data-channel-id="${focusId}"]`)?.focus();
	updateTitle();
	welcome.update();      // screens: the first screen, when in no channel
	topicEditor.render();  // screens: "Edit topic" for owners and admins
}

// The other person of a one-to-one DM, when their id is known (messages,
// members and presence teach usernames): their presence dot in the list.
function dmPeer(c) {
	const name = dmName(c).toLowerCase();
	if (name.includes(', ')) return null;
	for (const [id, u] of S.users) if (id !== me().id && String(u).toLowerCase() === name) return id;
	return null;
}

function updateTitle() {
	let n = 0;
	for (const c of S.channels.values()) if (c.role && c.id !== S.current) n += c.unread_count || 0;
	document.title = (n ? `(${n}) ` : '') + 'parley';
	phone.setUnread(n); // a11y hook: the badge on the channel-list button
}

// Joins a public channel and opens it; false (and a toast) if that failed.
async function joinChannel(id) {
	try {
		const c = await api.post(`/api/channels/${id}/join`);
		S.channels.set(c.id, { ...S.channels.get(id), ...c, role: c.role || 'member' });
		renderChannels();
		loadPresenceSoon();
		openChannel(id);
		return true;
	} catch (e) { report(e); return false; }
}

$('join-button').addEventListener('click', () => S.current && joinChannel(S.current));

$('leave-button').addEventListener('click', async () => {
	const c = S.channels.get(S.current);
	if (!c || !confirm(`Leave ${label(c)}?`)) return;
	try {
		await api.del(`/api/channels/${c.id}/members/${me().id}`);
		S.current = null;
		sessionStorage.removeItem('parley.current');
		await loadChannels();
		clear($('messages'));
		setText($('room-name'), 'Pick a channel');
		setText($('room-topic'), '');
		for (const b of ['join-button', 'leave-button', 'members-button', 'pins-button', 'older']) $(b).hidden = true;
		panels.closeSide(); // --- panels hook
		setComposer(false);
	} catch (e) { report(e); }
});

$('new-channel-form').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	setText($('nc-error'), '');
	const body = { name: $('nc-name').value.trim(), kind: $('nc-kind').value };
	const topic = $('nc-topic').value.trim();
	if (topic) body.topic = topic;
	try {
		const c = await api.post('/api/channels', body);
		S.channels.set(c.id, c);
		renderChannels();
		ev.target.reset();
		ev.target.closest('details').open = false;
		openChannel(c.id);
	} catch (e) { setText($('nc-error'), e.message); }
});

$('new-dm-form').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	setText($('dm-error'), '');
	const names = $('dm-user').value.split(',').map((s) => s.trim()).filter(Boolean);
	try {
		const ids = [];
		for (const n of names) {
			const r = await api.get('/api/users?limit=20&q=' + encodeURIComponent(n));
			const u = r.users.find((x) => x.username.toLowerCase() === n.toLowerCase());
			if (!u) throw new ApiError(404, 'not_found', `No user named ${n}`);
			learnUser(u);
			ids.push(u.id);
		}
		const c = await api.post('/api/channels/dm', { user_ids: ids });
		S.channels.set(c.id, c);
		renderChannels();
		ev.target.reset();
		ev.target.closest('details').open = false;
		openChannel(c.id);
	} catch (e) { setText($('dm-error'), e.message); }
});

$('nav-toggle').addEventListener('click', () => {
	const open = document.body.classList.toggle('nav-open');
	$('nav-toggle').setAttribute('aria-expanded', String(open));
});

/* ---------- a channel's messages ---------- */

// Opens a channel; with `at`, at that message (GET history?around=), which
// is scrolled into view and highlighted.
async function openChannel(id, at) {
	const c = S.channels.get(id);
	if (!c) return;
	const switching = S.current !== id;
	// A permalink in the address bar names the message it opened; leave it
	// behind when the reader goes elsewhere.
	if (!at && location.hash.startsWith('#/c/')) history.replaceState(null, '', location.pathname + location.search);
	const unread = c.role && switching ? c.unread_count || 0 : 0;
	S.current = id;
	sessionStorage.setItem('parley.current', String(id));
	document.body.classList.remove('nav-open');
	if (switching) {
		S.replyTo = null;
		$('reply-bar').hidden = true;
		for (const t of S.typing.values()) clearTimeout(t);
		S.typing.clear();
		renderTyping();
		S.unreadFrom = null;
		S.newBelow = false;
	}
	setText($('room-name'), label(c));
	setText($('room-topic'), c.topic || '');
	$('join-button').hidden = !!c.role || c.kind !== 'public';
	$('leave-button').hidden = !c.role;
	$('members-button').hidden = false;
	$('pins-button').hidden = false; // --- panels hook
	if (switching) panels.channelChanged(id); // --- panels hook
	setComposer(true);
	$('composer-input').placeholder = 'Message ' + label(c);
	renderChannels();
	keyboard.channelOpened({ switching, at }); // a11y hook: focus to the composer
	// Messages of a channel never opened came from events only: start from
	// its newest page so that scroll-back has no holes.
	if (S.rooms.has(id) && !S.rooms.get(id).loaded) S.rooms.delete(id);
	const r = room(id);
	if (at) {
		if (!r.byId.has(at)) await loadAround(id, at);
		else renderRoom(id);
		if (S.current === id) {
			showMessage(at);
			// The next page below (appended, so the view stays): whether
			// this stretch reaches the newest message.
			await loadNewer();
			if (S.current === id && room(id).latest && S.stick) markRead();
		}
	} else if (r.loaded && r.latest) {
		if (switching) {
			S.unreadFrom = firstUnread(r, unread);
			renderRoom(id);
			scrollToUnread();
		}
		await loadHistory(id, false, true); // catch up on anything newer
	} else {
		S.rooms.delete(id);
		clear($('messages'));
		await loadHistory(id, true, false, unread);
	}
	if (!$('panel').hidden && $('panel').dataset.kind === 'members') showMembers();
}

// The first unread message: `count` back from the newest, counting what
// the server counts (others' messages, not deleted).
function firstUnread(r, count) {
	if (!count) return null;
	let first = null;
	for (const m of [...r.byId.values()].sort((a, b) => b.id - a.id)) {
		if (m.deleted || m.user_id === me().id) continue;
		first = m.id;
		if (--count === 0) break;
	}
	return first;
}

function renderRoom(id) {
	const list = clear($('messages'));
	const r = room(id);
	for (const m of [...r.byId.values()].sort((a, b) => a.id - b.id)) list.append(messageEl(m));
	if (r.latest) for (const [cid, p] of S.pending) if (p.channel_id === id) list.append(pendingEl(cid, p));
	redecorate();
}

// The timeline's separators and groups (js/timeline.js), now or once
// after a burst of changes.
function redecorate() {
	S.decorateWanted = false;
	const id = S.current;
	if (!id) return;
	const r = room(id), c = S.channels.get(id);
	decorate($('messages'), (li) => {
		if (li.dataset.id) return r.byId.get(Number(li.dataset.id));
		const p = S.pending.get(li.dataset.clientId);
		return p ? { user_id: me().id, created_at: p.at } : null;
	}, {
		unreadFrom: S.unreadFrom,
		start: r.complete && c ? (c.kind === 'dm' ? `This is the start of your conversation with ${dmName(c)}.`
			: `This is the start of ${label(c)}.`) : null,
	});
	$('older').hidden = r.complete;
	$('newer').hidden = r.latest;
	renderJump();
}
function redecorateSoon() {
	if (S.decorateWanted) return;
	S.decorateWanted = true;
	queueMicrotask(() => { if (S.decorateWanted) redecorate(); });
}

// "Jump to latest" while scrolled up (or holding an older stretch);
// "New messages below" when live ones arrived meanwhile.
function renderJump() {
	const r = S.current ? room(S.current) : null;
	const show = !!r && r.loaded && (!r.latest || !atBottom() || S.newBelow);
	const b = $('jump-latest');
	b.hidden = !show;
	setText(b, S.newBelow ? 'New messages below' : 'Jump to latest');
}
$('jump-latest').addEventListener('click', jumpToLatest);
async function jumpToLatest() {
	const id = S.current;
	if (!id) return;
	S.newBelow = false;
	if (!room(id).latest) {
		S.rooms.delete(id);
		clear($('messages'));
		await loadHistory(id, true);
	} else {
		S.stick = true;
		scrollToBottom();
		markRead();
		renderJump();
	}
}

// Scrolls the message into view and highlights it for a moment.
function showMessage(mid) {
	redecorate();
	const li = document.getElementById('msg-' + mid);
	if (!li) { toast('That message is not there any more.'); return; }
	li.scrollIntoView({ block: 'center' });
	S.stick = atBottom();
	li.classList.remove('highlight');
	void li.offsetWidth; // restart the animation
	li.classList.add('highlight');
	setTimeout(() => li.classList.remove('highlight'), 3000);
	renderJump();
	if (room(S.current).latest && S.stick) markRead();
}

// Shows the "New" line near the top when it would be out of view, or the
// bottom; the read marker moves only once the reader is at the bottom.
function scrollToUnread() {
	redecorate();
	const line = $('messages').querySelector('li.unread-line');
	const box = $('messages-scroll');
	scrollToBottom();
	if (line && line.getBoundingClientRect().top < box.getBoundingClientRect().top) {
		line.scrollIntoView({ block: 'start' });
	}
	S.stick = atBottom();
	if (S.stick) markRead();
	renderJump();
}

// Loads the newest page (initial) or, with `newer`, the messages after the
// newest one held.
async function loadHistory(id, initial, newer, unread) {
	const r = room(id);
	const first = initial && !r.loaded;
	if (first) {
		if (r.loading) return; // one first page at a time
		r.loading = 'waiting';
		await afterHello();
		if (room(id) !== r) return;
		r.loading = 'sent';
	}
	let q = `/api/messages/history?channel=${id}&limit=${PAGE}`;
	if (newer && r.byId.size) q += '&after=' + Math.max(...r.byId.keys());
	try {
		const msgs = await api.get(q).finally(() => {
			if (!first) return;
			r.loading = null;
			if (r.catchUp) { r.catchUp = false; queueMicrotask(() => { if (room(id) === r && r.loaded && r.latest) loadHistory(id, false, true); }); }
		});
		if (room(id) !== r) return; // a jump replaced this stretch meanwhile
		if (initial && !r.loaded) { r.complete = msgs.length < PAGE; r.latest = true; }
		r.loaded = true;
		for (const m of msgs) upsert(m, false, true);
		if (S.current === id) {
			if (initial && unread) S.unreadFrom = firstUnread(r, unread) || [...r.byId.keys()].sort((a, b) => a - b)[0];
			if (initial) scrollToUnread();
			else if (S.stick) { scrollToBottom(); markRead(); }
			redecorate();
		}
		if (newer && msgs.length >= PAGE) await loadHistory(id, false, true);
	} catch (e) {
		if (e.status === 404 || e.status === 403) toast('You cannot read that channel.');
		else report(e);
	}
}

// The stretch of a channel around one message: what was held is replaced
// (it may not join up with it); older and newer pages follow on scrolling.
async function loadAround(id, mid) {
	// As loadHistory: asked after the first hello, the stream covers what
	// comes after it (the marks tell onHello that a load is under way).
	const was = room(id);
	was.loading = 'waiting';
	await afterHello();
	was.loading = 'sent';
	try {
		const msgs = await api.get(`/api/messages/history?channel=${id}&around=${mid}&limit=${PAGE}`)
			.finally(() => { was.loading = null; });
		S.rooms.delete(id);
		const r = room(id);
		r.loaded = true;
		r.complete = false;
		r.latest = false;
		for (const m of msgs) { r.byId.set(m.id, m); S.users.set(m.user_id, m.username); }
		// Holding the channel's newest message (the list's last_message_id,
		// kept current by message.created): no page after it to ask for.
		const c = S.channels.get(id);
		if (!msgs.length || (c && c.last_message_id && msgs[msgs.length - 1].id >= c.last_message_id)) r.latest = true;
		if (was.catchUp && r.latest) queueMicrotask(() => { if (room(id) === r) loadHistory(id, false, true); });
		if (S.current === id) renderRoom(id);
	} catch (e) {
		if (e.status === 404 || e.status === 403) toast('You cannot read that message.');
		else report(e);
	}
}

async function loadOlder() {
	const id = S.current, r = room(id);
	if (!id || r.complete || r.loadingOlder || !r.byId.size) return;
	r.loadingOlder = true;
	const box = $('messages-scroll');
	try {
		const oldest = Math.min(...r.byId.keys());
		const msgs = await api.get(`/api/messages/history?channel=${id}&before=${oldest}&limit=${PAGE}`);
		if (S.current !== id || room(id) !== r) return; // another channel or stretch meanwhile
		// Measured now, not before the request: the reader (or a jump) may
		// have scrolled meanwhile.
		const before = box.scrollHeight - box.scrollTop;
		if (msgs.length < PAGE) r.complete = true;
		for (const m of msgs) upsert(m, false, true);
		if (S.current === id) {
			redecorate();
			box.scrollTop = box.scrollHeight - before; // keep the reader's place
			S.stick = atBottom();
		}
	} catch (e) { report(e); } finally { r.loadingOlder = false; }
}

// After a jump into the past: the next page towards the present (after=).
async function loadNewer() {
	const id = S.current, r = room(id);
	if (!id || r.latest || r.loadingNewer || !r.byId.size) return;
	r.loadingNewer = true;
	try {
		const newest = Math.max(...r.byId.keys());
		const msgs = await api.get(`/api/messages/history?channel=${id}&after=${newest}&limit=${PAGE}`);
		if (room(id) !== r) return; // a jump elsewhere meanwhile
		if (msgs.length < PAGE) r.latest = true;
		for (const m of msgs) upsert(m, false, true);
		if (S.current === id) {
			if (r.latest) for (const [cid, p] of S.pending) if (p.channel_id === id) $('messages').append(pendingEl(cid, p));
			redecorate();
		}
	} catch (e) { report(e); } finally { r.loadingNewer = false; }
}
$('older').addEventListener('click', loadOlder);
$('newer').addEventListener('click', loadNewer);
$('messages-scroll').addEventListener('scroll', () => {
	const box = $('messages-scroll');
	S.stick = atBottom();
	if (box.scrollTop < 40) loadOlder();
	const r = S.current ? room(S.current) : null;
	if (r && !r.latest && box.scrollHeight - box.scrollTop - box.clientHeight < 200) loadNewer();
	if (S.stick && r && r.latest && (S.newBelow || (S.channels.get(S.current)?.unread_count || 0) > 0)) {
		S.newBelow = false;
		markRead();
	}
	renderJump();
});

const atBottom = () => {
	const b = $('messages-scroll');
	return b.scrollHeight - b.scrollTop - b.clientHeight < 60;
};
const scrollToBottom = () => { const b = $('messages-scroll'); b.scrollTop = b.scrollHeight; };
// A reader at the bottom stays there when the list grows by itself (image
// previews arriving) or its box shrinks (attachment chips above the composer).
const stickObserver = new ResizeObserver(() => { if (S.stick && room(S.current).latest) scrollToBottom(); });
stickObserver.observe($('messages'));
stickObserver.observe($('messages-scroll'));

// Adds or replaces a message (deduped by id; a pending echo with the same
// client_msg_id is replaced by it).
function upsert(m, live, paged) {
	if (!m || typeof m.id !== 'number') return;
	S.users.set(m.user_id, m.username);
	const r = room(m.channel_id);
	const prev = r.byId.get(m.id);
	const had = !!prev;
	if (m.client_msg_id && S.pending.has(m.client_msg_id) && m.user_id === me().id) {
		S.pending.delete(m.client_msg_id);
		document.querySelector(`li[data-client-id="${CSS.escape(m.client_msg_id)}"]`)?.remove();
	}
	// Holding an older stretch (after a jump): a newer message is fetched
	// with its page when the reader gets there, not added past a gap.
	if (!had && !paged && !r.latest && r.byId.size && m.id > Math.max(...r.byId.keys())) return had;
	r.byId.set(m.id, m);
	if (m.channel_id !== S.current) return had;
	const stick = atBottom();
	const list = $('messages');
	const node = messageEl(m);
	const old = list.querySelector(`li[data-id="${m.id}"]`);
	if (old) {
		// The same message again (the REST answer and its event): keep the
		// element, and with it an open edit form or reaction picker.
		if (prev && JSON.stringify(prev) === JSON.stringify(m)) return had;
		old.replaceWith(node);
	} else {
		let next = null;
		for (const li of list.children) {
			if (li.dataset.clientId || (li.dataset.id && Number(li.dataset.id) > m.id)) { next = li; break; }
		}
		list.insertBefore(node, next);
	}
	// Replies quoting this message show its new text too.
	for (const q of list.querySelectorAll(`li[data-reply-to="${m.id}"]`)) {
		const mm = r.byId.get(Number(q.dataset.id));
		if (mm) q.replaceWith(messageEl(mm));
	}
	redecorateSoon();
	if (live && (stick || m.user_id === me().id)) scrollToBottom();
	return had;
}

// The name a user goes by in the message list: their display name when they
// have one (from their profile), else their username.
function nameOf(id, username) {
	const u = S.profiles.get(id);
	return (u && u.display_name) || username || (u && u.username) || S.users.get(id) || 'deleted user';
}
function authorEl(id, username) {
	return el('strong', { class: 'author', dataset: { authorUser: id }, title: '@' + (username || S.users.get(id) || '') },
		nameOf(id, username));
}

function messageEl(m) {
	const mine = m.user_id === me().id;
	const r = room(m.channel_id);
	const parent = m.reply_to ? r.byId.get(m.reply_to) : null;
	const li = el('li', {
		class: 'msg' + (mine ? ' mine' : '') + (m.deleted ? ' deleted' : ''),
		dataset: { id: m.id, replyTo: m.reply_to || null, userId: m.user_id }, id: 'msg-' + m.id,
	});
	li.append(el('div', { class: 'meta' },
		avatarOf(m.user_id, false, m.username),
		presenceDot(m.user_id),
		m.username ? authorEl(m.user_id, m.username) : el('strong', { class: 'author' }, 'deleted user'),
		' ',
		// The time links to the message (#/c/<channel>/m/<id>: copy it to share).
		el('a', { class: 'permalink', href: `#/c/${m.channel_id}/m/${m.id}` },
			el('time', { datetime: m.created_at, title: fullTime(m.created_at) }, shortTime(m.created_at))),
		m.edited_at && !m.deleted ? el('span', { class: 'edited', title: 'edited ' + fullTime(m.edited_at) }, ' (edited)') : null));
	if (m.reply_to) {
		li.append(el('a', { class: 'reply-quote', href: `#/c/${m.channel_id}/m/${m.reply_to}` },
			'↪ ', parent ? el('span', { dataset: { authorUser: parent.user_id } }, nameOf(parent.user_id, parent.username)) : 'a message',
			parent ? ': ' : '',
			parent ? (parent.deleted ? '(deleted)' : summary(parent).slice(0, 140)) : ''));
	}
	const atts = !m.deleted && Array.isArray(m.attachments) ? m.attachments : [];
	if (m.deleted || m.content || !atts.length) {
		li.append(el('div', { class: 'content' }, m.deleted ? 'This message was deleted.' : formatMessage(m.content)));
	}
	if (atts.length) li.append(el('div', { class: 'attachments' }, ...atts.map((f) => files.attachment(f))));
	if (!m.deleted && m.reactions && m.reactions.length) {
		const rx = el('div', { class: 'reactions' });
		for (const x of m.reactions) {
			rx.append(el('button', {
				type: 'button', class: 'reaction' + (x.me ? ' me' : ''), 'aria-pressed': String(!!x.me),
				'aria-label': `${x.emoji} ${x.count}, ${x.me ? 'remove your reaction' : 'react'}`,
				onclick: () => react(m, x.emoji, !x.me),
			}, `${x.emoji} ${x.count}`));
		}
		li.append(rx);
	}
	if (!m.deleted) {
		const c = S.channels.get(m.channel_id);
		const mod = c && (c.role === 'owner' || c.role === 'admin');
		const actions = el('div', { class: 'actions' },
			el('button', { type: 'button', onclick: () => startReply(m) }, 'Reply'),
			el('button', { type: 'button', 'aria-expanded': 'false', onclick: (e) => togglePicker(e.currentTarget, m) }, 'React'),
			mine ? el('button', { type: 'button', onclick: () => startEdit(li, m) }, 'Edit') : null,
			mine || mod ? el('button', { type: 'button', onclick: () => removeMessage(m) }, 'Delete') : null);
		li.append(actions);
	}
	panels.decorate(li, m); // --- panels hook: thread line, pin line, (edited) history, more actions
	return li;
}

// A message's text, or for one with files only, their names.
function summary(m) {
	if (m.content || !m.attachments || !m.attachments.length) return m.content || '';
	return '📎 ' + m.attachments.map((f) => f.name).join(', ');
}

function pendingEl(cid, p) {
	return el('li', { class: 'msg mine pending' + (p.failed ? ' failed' : '') + (p.queued ? ' queued' : ''), dataset: { clientId: cid } },
		el('div', { class: 'meta' }, avatarOf(me().id), presenceDot(me().id), authorEl(me().id, me().username), ' ',
			el('span', { class: 'state' }, p.failed ? 'not sent' : p.queued ? 'waiting for the connection…' : 'sending…')),
		p.content ? el('div', { class: 'content' }, p.content) : null,
		p.attachments.length ? el('div', { class: 'hint' }, summary({ content: '', attachments: p.attachments })) : null,
		p.failed ? el('div', { class: 'actions' },
			el('button', { type: 'button', onclick: () => outbox.send(cid) }, 'Retry'),
			el('button', { type: 'button', onclick: () => { S.pending.delete(cid); renderRoom(S.current); } }, 'Discard'))
			: p.queued ? el('div', { class: 'actions' },
				el('button', { type: 'button', onclick: () => { S.pending.delete(cid); renderRoom(S.current); } }, 'Discard')) : null);
}

function togglePicker(btn, m) {
	const li = btn.closest('li');
	const open = li.querySelector('.picker');
	if (open) { open.remove(); btn.setAttribute('aria-expanded', 'false'); return; }
	btn.setAttribute('aria-expanded', 'true');
	// compose: quick reactions, categories and search (js/picker.js).
	const done = () => { picker.remove(); btn.setAttribute('aria-expanded', 'false'); };
	const picker = emojiPicker({
		pick: (e) => { done(); react(m, e, true); },
		close: () => { done(); btn.focus(); },
	});
	li.append(picker);
	picker.querySelector('.picker-search').focus();
}

async function react(m, emoji, add) {
	try {
		await (add ? api.put : api.del).call(api, `/api/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);
	} catch (e) { report(e); }
}

// A reply joins the thread of the message's root (a reply to a reply
// answers the same root: docs/DECISIONS.md, "Threads"); the bar shows the
// root when it is loaded.
function startReply(m) {
	const room = S.rooms.get(m.channel_id);
	const root = (m.reply_to && room && room.byId.get(m.reply_to)) || m;
	S.replyTo = { id: m.reply_to || m.id };
	setText($('reply-author'), nameOf(root.user_id, root.username));
	setText($('reply-text'), summary(root).slice(0, 80));
	$('reply-bar').hidden = false;
	$('composer-input').focus();
}
$('reply-cancel').addEventListener('click', () => { S.replyTo = null; $('reply-bar').hidden = true; });

function startEdit(li, m) {
	if (li.querySelector('.edit-form')) { li.querySelector('.edit').focus(); return; } // editing already
	const content = li.querySelector('.content');
	// compose: no maxlength (it would cut a paste); the composer's counter
	// and refusal instead (js/counter.js), and suggestions (js/autocomplete.js).
	const count = el('p', { class: 'composer-count edit-count', id: 'edit-count-' + m.id, 'aria-live': 'polite' });
	const error = el('p', { class: 'error edit-error', role: 'alert' });
	const input = el('textarea', { class: 'edit', 'aria-label': 'Edit message', rows: 2, 'aria-describedby': count.id });
	input.value = m.content;
	input.addEventListener('input', () => renderCounter(input, count, error));
	const form = el('form', { class: 'edit-form' }, input,
		el('button', { type: 'submit', class: 'primary small' }, 'Save'),
		el('button', { type: 'button', class: 'small', onclick: () => li.replaceWith(messageEl(room(m.channel_id).byId.get(m.id) || m)) }, 'Cancel'),
		count, error);
	renderCounter(input, count, error);
	autocomplete(input);
	li.classList.add('editing');
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const text = input.value.trim();
		if (refuseTooLong(text, input, error)) return;
		if (!text || text === m.content) { li.replaceWith(messageEl(m)); return; }
		try {
			upsert(await api.patch(`/api/messages/${m.id}`, { content: text }), false);
		} catch (e) { report(e); }
	});
	input.addEventListener('keydown', (ev) => {
		if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
		if (ev.key === 'Escape') form.querySelector('button[type=button]').click();
	});
	content.replaceWith(form);
	input.focus();
}

async function removeMessage(m) {
	if (!confirm('Delete this message?')) return;
	try {
		await api.del(`/api/messages/${m.id}`);
		upsert({ ...m, deleted: true, content: '', reactions: [] }, false);
	} catch (e) { report(e); }
}

/* ---------- sending ---------- */

// compose: @mention and :shortcode: suggestions in a message box (js/autocomplete.js).
const autocomplete = (input) => new Autocomplete(input, {
	searchUsers: (q, limit) => api.get(`/api/users?limit=${limit}&q=${encodeURIComponent(q)}`).then((r) => r.users),
	shortcodes: shortcodesFor,
});
autocomplete($('composer-input'));

// The composer's counter: shown near the limit, red over it (js/counter.js,
// shared with the edit box).
const renderCount = () => renderCounter($('composer-input'), $('composer-count'), $('composer-error'));

$('composer').addEventListener('submit', (ev) => {
	ev.preventDefault();
	const input = $('composer-input');
	const content = input.value.trim();
	if (!S.current) return;
	// Refused here, never cut: the text stays in the box to be shortened.
	if (refuseTooLong(content, input, $('composer-error'))) return;
	if (S.uploads.some((u) => u.state === 'uploading')) {
		composerError('Wait until the uploads finish, or remove them.');
		return;
	}
	const ready = S.uploads.filter((u) => u.state === 'done');
	if (!content && !ready.length) return;
	composerError('');
	S.uploads = S.uploads.filter((u) => u.state !== 'done');
	renderUploads();
	const cid = newClientId();
	S.pending.set(cid, { channel_id: S.current, content, reply_to: S.replyTo ? S.replyTo.id : null, failed: false,
		queued: false, at: new Date().toISOString(), attachments: ready.map((u) => u.result) });
	input.value = '';
	renderCount();
	S.replyTo = null;
	S.lastTypingSent = 0;
	$('reply-bar').hidden = true;
	S.newBelow = false;
	if (room(S.current).latest) {
		$('messages').append(pendingEl(cid, S.pending.get(cid)));
		redecorate();
		S.stick = true;
		scrollToBottom();
	} else {
		jumpToLatest(); // the newest page, with the pending echo at its end
	}
	outbox.send(cid);
});

// The server's message replaces the pending echo (upsert); sending
// makes the sender a member of a public channel.
function onSent(m) {
	upsert(m, true);
	const c = S.channels.get(m.channel_id);
	if (c && !c.role) { c.role = 'member'; renderChannels(); $('join-button').hidden = true; $('leave-button').hidden = false; }
	if (m.channel_id === S.current && S.stick) markRead();
}

$('composer-input').addEventListener('keydown', (ev) => {
	if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
		ev.preventDefault();
		$('composer').requestSubmit();
	}
});
$('composer-input').addEventListener('input', () => {
	renderCount();
	const now = Date.now();
	if (!S.current || now - S.lastTypingSent < 3000 || !$('composer-input').value) return;
	S.lastTypingSent = now;
	if (!rt.send({ type: 'typing', channel_id: S.current })) {
		api.post(`/api/channels/${S.current}/typing`).catch(() => {});
	}
});

/* ---------- attachments: button, drag and drop, paste ---------- */

let uploadSeq = 0;
const announce = (text) => setText($('upload-status'), text);
const composerError = (text) => setText($('composer-error'), text);

function addFiles(list) {
	composerError('');
	if (!S.current || $('composer-input').disabled) return;
	for (const file of list) {
		if (S.uploads.filter((u) => u.state !== 'failed').length >= MAX_ATTACHMENTS) {
			composerError(`At most ${MAX_ATTACHMENTS} files per message.`);
			break;
		}
		startUpload(file);
	}
	renderUploads();
}

// Uploads at once (POST /api/files); the message names the ids when sent.
function startUpload(file) {
	const u = { key: ++uploadSeq, file, state: 'uploading', loaded: 0, total: file.size, result: null, error: '', step: 0 };
	S.uploads.push(u);
	announce(`Uploading ${file.name}…`);
	const job = api.upload('POST', '/api/files', file, (loaded, total) => {
		u.loaded = loaded;
		u.total = total || u.total;
		const pct = percent(u);
		const bar = u.li && u.li.querySelector('progress');
		if (bar) { bar.value = pct; setText(u.li.querySelector('.chip-pct'), pct + '%'); }
		if (pct >= (u.step + 1) * 25 && pct < 100) {
			u.step = Math.floor(pct / 25);
			announce(`${file.name}: ${pct}% uploaded`);
		}
	});
	u.abort = job.abort;
	job.done.then((f) => {
		u.state = 'done';
		u.result = f;
		announce(`${file.name} uploaded`);
		renderChip(u);
	}, (e) => {
		if (e.code === 'aborted' || !S.uploads.includes(u)) return;
		u.state = 'failed';
		u.error = e.status === 413 ? 'Too large: ' + e.message : e.status === 0 ? 'Upload failed: ' + e.message : e.message;
		announce(`${file.name} was not uploaded. ${u.error}`);
		renderChip(u);
	});
}

const percent = (u) => (u.total ? Math.min(100, Math.floor((u.loaded * 100) / u.total)) : 0);

function chipEl(u) {
	const name = u.file.name || 'file';
	const li = el('li', { class: 'chip ' + u.state, dataset: { upload: u.key } },
		el('span', { class: 'chip-name', title: name }, name),
		el('span', { class: 'hint' }, fmtSize(u.file.size)));
	if (u.state === 'uploading') {
		li.append(el('progress', { max: 100, value: percent(u), 'aria-label': 'Uploading ' + name }),
			el('span', { class: 'hint chip-pct' }, percent(u) + '%'));
	} else if (u.state === 'failed') {
		li.append(el('span', { class: 'chip-error' }, u.error));
	}
	const verb = u.state === 'uploading' ? 'Cancel upload of ' : 'Remove ';
	li.append(el('button', { type: 'button', class: 'icon chip-remove', 'aria-label': verb + name, title: verb + name,
		onclick: () => removeUpload(u) }, '✕'));
	u.li = li;
	return li;
}

function renderChip(u) {
	if (!u.li || !u.li.isConnected) return;
	const focused = u.li.contains(document.activeElement);
	u.li.replaceWith(chipEl(u));
	if (focused) u.li.querySelector('button').focus();
}

function renderUploads() {
	const list = clear($('uploads'));
	for (const u of S.uploads) list.append(chipEl(u));
	list.hidden = !S.uploads.length;
}

function removeUpload(u) {
	if (u.state === 'uploading' && u.abort) u.abort();
	S.uploads = S.uploads.filter((x) => x !== u);
	renderUploads();
	announce(`${u.file.name} removed`);
	composerError('');
	$('composer-input').focus();
}

$('attach').addEventListener('click', () => $('file-input').click());
$('file-input').addEventListener('change', () => {
	addFiles([...$('file-input').files]);
	$('file-input').value = '';
});
$('composer-input').addEventListener('paste', (ev) => {
	const dt = ev.clipboardData;
	const list = dt ? [...dt.files] : [];
	if (!list.length) return;
	if (![...dt.types].includes('text/plain')) ev.preventDefault();
	addFiles(list);
});

// Files dropped on the conversation or the composer; a drop anywhere else
// is ignored rather than navigating away to the file.
const hasFiles = (ev) => !!ev.dataTransfer && [...ev.dataTransfer.types].includes('Files');
let dragDepth = 0;
const dropZone = $('room');
dropZone.addEventListener('dragenter', (ev) => {
	if (!hasFiles(ev) || !S.current) return;
	dragDepth++;
	dropZone.classList.add('dropping');
});
dropZone.addEventListener('dragleave', () => {
	if (--dragDepth > 0) return;
	dragDepth = 0;
	dropZone.classList.remove('dropping');
});
dropZone.addEventListener('drop', (ev) => {
	dragDepth = 0;
	dropZone.classList.remove('dropping');
	if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
	ev.preventDefault();
	addFiles([...ev.dataTransfer.files]);
});
for (const type of ['dragover', 'drop']) {
	window.addEventListener(type, (ev) => {
		if (!hasFiles(ev)) return;
		ev.preventDefault();
		if (type === 'dragover') ev.dataTransfer.dropEffect = dropZone.contains(ev.target) && S.current ? 'copy' : 'none';
	});
}

// Moves the read marker to the newest message of the open channel.
function markRead() {
	const id = S.current, c = S.channels.get(id);
	if (!c || !c.role) return;
	const r = room(id);
	if (!r.byId.size || !r.latest) return;
	const newest = Math.max(...r.byId.keys());
	c.unread_count = 0;
	S.newBelow = false;
	renderChannels();
	clearTimeout(S.readTimer);
	S.readTimer = setTimeout(() => {
		if (document.visibilityState === 'hidden' && S.current === id) return;
		api.post(`/api/channels/${id}/read`, { message_id: newest }).catch(() => {});
	}, 300);
}
document.addEventListener('visibilitychange', () => {
	if (document.visibilityState === 'visible') { if (S.stick) markRead(); rt.nudge(); }
});
window.addEventListener('online', () => rt.nudge());

/* ---------- live events ---------- */

function onEvent(ev) {
	panels.onEvent(ev); // --- panels hook: thread.updated, pin.*, open panels
	switch (ev.type) {
	case 'message.created': {
		const m = ev.message;
		const had = room(m.channel_id).byId.has(m.id);
		upsert(m, true);
		const c = S.channels.get(m.channel_id);
		if (!c) { reloadChannelsSoon(); break; }
		c.last_message_id = Math.max(c.last_message_id || 0, m.id);
		if (had || m.user_id === me().id) break;
		if (m.channel_id === S.current && document.visibilityState !== 'hidden' && (!S.stick || !room(m.channel_id).latest)) {
			// Scrolled up: the read marker stays; a bar says there is more below.
			c.unread_count = (c.unread_count || 0) + 1;
			if (!S.unreadFrom) S.unreadFrom = m.id;
			S.newBelow = true;
			redecorate();
		} else if (m.channel_id === S.current && document.visibilityState !== 'hidden') markRead();
		else {
			c.unread_count = (c.unread_count || 0) + 1;
			renderChannels();
			if (S.reloading || S.reloadTimer) S.reloadWanted = true; // a list in flight may predate it
		}
		clearTyping(m.user_id);
		break;
	}
	case 'message.updated':
	case 'message.deleted':
		upsert(ev.message, false);
		break;
	case 'reaction.added':
	case 'reaction.removed': {
		for (const r of S.rooms.values()) {
			const m = r.byId.get(ev.message_id);
			if (!m) continue;
			const list = (m.reactions || []).map((x) => ({ ...x }));
			let x = list.find((y) => y.emoji === ev.emoji);
			const add = ev.type === 'reaction.added';
			if (!x && add) { x = { emoji: ev.emoji, count: 0, me: false }; list.push(x); }
			if (x) {
				x.count += add ? 1 : -1;
				if (ev.user_id === me().id) x.me = add;
			}
			upsert({ ...m, reactions: list.filter((y) => y.count > 0) }, false);
		}
		break;
	}
	case 'channel.created':
	case 'channel.updated':
		// The event's channel carries no caller-specific role/unread: ask.
		if (ev.channel && ev.channel.id === S.current) setText($('room-topic'), ev.channel.topic || '');
		if (ev.type === 'channel.updated' && ev.channel && S.channels.has(ev.channel.id)) {
			const c = S.channels.get(ev.channel.id);
			c.topic = ev.channel.topic;
			if (ev.channel.name) c.name = ev.channel.name;
			if (ev.channel.id === S.current) topicEditor.render();
		}
		reloadChannelsSoon();
		break;
	case 'channel.deleted': {
		const id = ev.channel ? ev.channel.id : ev.channel_id;
		S.channels.delete(id);
		S.rooms.delete(id);
		if (S.current === id) { S.current = null; clear($('messages')); setText($('room-name'), 'Channel deleted'); }
		renderChannels();
		break;
	}
	case 'member.joined':
	case 'member.left':
		if (ev.user_id === me().id) reloadChannelsSoon();
		if (ev.type === 'member.joined') loadPresenceSoon(); // a new shared channel: new peers
		if (ev.user_id !== me().id && ev.channel_id === S.current && $('panel').dataset.kind === 'members' && !$('panel').hidden) showMembers();
		break;
	case 'member.updated':
		// A role changed (screens: "Edit topic" follows the caller's own).
		if (ev.user_id === me().id) reloadChannelsSoon();
		if (ev.channel_id === S.current && $('panel').dataset.kind === 'members' && !$('panel').hidden) showMembers();
		break;
	case 'read':
		if (ev.user_id === me().id && S.channels.has(ev.channel_id) && ev.channel_id !== S.current) {
			S.channels.get(ev.channel_id).unread_count = 0;
			renderChannels();
			if (S.reloading || S.reloadTimer) S.reloadWanted = true; // a list in flight may predate it
		}
		break;
	case 'typing':
		if (ev.channel_id === S.current && ev.user_id !== me().id) showTyping(ev.user_id);
		break;
	case 'presence':
		if (ev.online) S.online.set(ev.user_id, ev.status || 'online');
		else S.online.delete(ev.user_id);
		for (const d of document.querySelectorAll(`[data-presence-user="${ev.user_id}"]`)) d.replaceWith(presenceDot(ev.user_id));
		break;
	case 'notification':
		if (ev.notification) {
			S.notifications.unshift(ev.notification);
			renderNotifCount();
			notifier.notify(ev.notification); // screens: desktop notification / sound while hidden
			if ($('panel').dataset.kind === 'notifications' && !$('panel').hidden) showNotifications();
		}
		break;
	case 'notification.read': {
		// This or another device read them (a read marker or "mark read").
		const ids = new Set(ev.ids || []);
		for (const n of S.notifications) if (ids.has(n.id)) n.read = true;
		renderNotifCount();
		if ($('panel').dataset.kind === 'notifications' && !$('panel').hidden) showNotifications();
		break;
	}
	default:
		break;
	}
}

async function userName(id) {
	if (S.users.has(id)) return S.users.get(id);
	try {
		const u = await api.get('/api/users/' + id);
		S.users.set(id, u.username);
		return u.username;
	} catch { return 'someone'; }
}

async function showTyping(uid) {
	clearTimeout(S.typing.get(uid));
	S.typing.set(uid, setTimeout(() => clearTyping(uid), 6000));
	await userName(uid);
	renderTyping();
}
function clearTyping(uid) {
	if (!S.typing.has(uid)) return;
	clearTimeout(S.typing.get(uid));
	S.typing.delete(uid);
	renderTyping();
}
function renderTyping() {
	const names = [...S.typing.keys()].map((id) => (S.users.has(id) || S.profiles.get(id) ? nameOf(id, S.users.get(id)) : 'someone'));
	setText($('typing'), names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…`
		: `${names.join(', ')} are typing…`);
}

/* ---------- presence, members, search, notifications ---------- */

// A new shared channel may reveal who is online (presence goes to users who
// share a channel).
function loadPresenceSoon() {
	clearTimeout(S.presenceTimer);
	S.presenceTimer = setTimeout(loadPresence, 200);
}
setInterval(() => { if (api.session && !$('chat-screen').hidden) loadPresence(); }, 60000);

async function loadPresence() {
	try {
		const data = await api.get('/api/presence');
		// The answer is the whole truth about the people sharing a channel.
		S.online.clear();
		S.online.set(me().id, 'online'); // this client is running
		for (const p of data.online_users) {
			S.online.set(p.user_id, p.status || 'online');
			S.users.set(p.user_id, p.username);
		}
		for (const d of document.querySelectorAll('[data-presence-user]')) d.replaceWith(presenceDot(Number(d.dataset.presenceUser)));
		if ([...S.channels.values()].some((c) => c.kind === 'dm')) renderChannels(); // DM peers learnt
	} catch (e) { console.warn(e); }
}

function openPanel(kind, title, action) {
	panels.closeSide(); // --- panels hook: one side column at a time
	const p = $('panel');
	p.hidden = false;
	p.dataset.kind = kind;
	setText($('panel-title'), title);
	const a = $('panel-action');
	a.hidden = !action;
	if (action) { setText(a, action.text); a.onclick = action.run; }
	return clear($('panel-list'));
}
$('panel-close').addEventListener('click', () => { $('panel').hidden = true; $('panel').dataset.kind = ''; });

async function showMembers() {
	const id = S.current;
	if (!id) return;
	try {
		const data = await api.get(`/api/channels/${id}/members`);
		const list = openPanel('members', `Members of ${label(S.channels.get(id))}`);
		for (const mbr of data.members) {
			learnUser(mbr.user);
			list.append(el('li', {}, avatarOf(mbr.user.id), presenceDot(mbr.user.id), ' ',
				el('span', { class: 'author' }, mbr.user.display_name || mbr.user.username),
				' ', el('span', { class: 'hint' }, '@' + mbr.user.username + (mbr.role !== 'member' ? ' · ' + mbr.role : ''))));
		}
	} catch (e) { report(e); }
}
$('members-button').addEventListener('click', showMembers);

/* ---------- avatars and the profile panel ---------- */

// Remembers a user object; their avatars on screen follow a change.
function learnUser(u) {
	if (!u || typeof u.id !== 'number') return;
	const old = S.profiles.get(u.id);
	S.profiles.set(u.id, u);
	S.users.set(u.id, u.username);
	if (me() && u.id === me().id) {
		api.save({ ...api.session, user: { ...api.session.user, ...u } });
		renderMe();
	}
	if (!old || old.avatar_url !== u.avatar_url || old.display_name !== u.display_name) {
		for (const n of document.querySelectorAll(`[data-avatar-user="${u.id}"]`)) n.replaceWith(avatarOf(u.id, n.classList.contains('big')));
	}
	if (!old || old.display_name !== u.display_name || old.username !== u.username) {
		for (const n of document.querySelectorAll(`[data-author-user="${u.id}"]`)) setText(n, nameOf(u.id, u.username));
		if (S.typing.has(u.id)) renderTyping();
	}
}

// A user's avatar; their profile is asked for once (messages carry no avatar).
function avatarOf(id, big, username) {
	const u = S.profiles.get(id);
	if (u === undefined && typeof id === 'number' && !S.profileLoads.has(id)) {
		S.profileLoads.add(id);
		api.get('/api/users/' + id).then(learnUser, () => S.profiles.set(id, null));
	}
	return files.avatar(u || { username: username || S.users.get(id) || '?' }, id, big);
}

function renderMe() {
	clear($('me')).append(avatarOf(me().id), el('span', { class: 'me-name' }, me().display_name || me().username));
}

function showProfile() {
	const u = S.profiles.get(me().id) || me();
	const list = openPanel('profile', 'Your profile');
	list.append(el('li', { class: 'profile' }, avatarOf(u.id, true),
		el('span', {}, el('strong', {}, u.display_name || u.username), ' ', el('span', { class: 'hint' }, '@' + u.username))));
	list.append(el('li', {},
		el('button', { type: 'button', id: 'avatar-change', onclick: () => $('avatar-input').click() },
			u.avatar_url ? 'Change avatar' : 'Upload an avatar'),
		u.avatar_url ? el('button', { type: 'button', id: 'avatar-remove', onclick: removeAvatar }, 'Remove avatar') : null));
	list.append(el('li', {}, el('p', { id: 'avatar-status', class: 'avatar-status' })));
}
function avatarStatus(text, bad) {
	announce(text);
	const p = $('avatar-status');
	if (!p) return;
	setText(p, text);
	p.classList.toggle('error', !!bad);
}
function avatarError(e) {
	avatarStatus(e.status === 404 || e.status === 405 ? 'This server does not take avatar uploads yet.'
		: e.status === 413 ? 'Too large: ' + e.message : e.message, true);
}
$('me').addEventListener('click', () => {
	if (!$('panel').hidden && $('panel').dataset.kind === 'profile') $('panel-close').click();
	else showProfile();
});
$('avatar-input').addEventListener('change', async () => {
	const file = $('avatar-input').files[0];
	$('avatar-input').value = '';
	if (!file) return;
	avatarStatus(`Uploading ${file.name}…`);
	try {
		learnUser(await api.upload('PUT', '/api/users/me/avatar', file).done);
		showProfile();
		avatarStatus('Avatar updated.');
		$('avatar-change').focus();
	} catch (e) { avatarError(e); }
});
async function removeAvatar() {
	try {
		learnUser(await api.del('/api/users/me/avatar'));
		showProfile();
		avatarStatus('Avatar removed.');
		$('avatar-change').focus();
	} catch (e) { avatarError(e); }
}

$('search-form').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	const q = $('search-q').value.trim();
	if (!q) return;
	try {
		const data = await api.get('/api/messages/search?limit=50&q=' + encodeURIComponent(q));
		const list = openPanel('search', `Search: ${q}`);
		if (!data.messages.length) list.append(el('li', { class: 'empty' }, 'No messages found.'));
		for (const m of data.messages) list.append(resultItem(m, null));
	} catch (e) { report(e); }
});

// A search hit or a notification: a click opens its channel at it.
function resultItem(m, prefix, onopen) {
	const c = S.channels.get(m.channel_id);
	return el('li', {}, el('button', { type: 'button', class: 'result', dataset: { messageId: m.id },
		onclick: () => { if (onopen) onopen(); goToMessage(m.channel_id, m.id); } },
		el('span', { class: 'hint', title: fullTime(m.created_at) }, (prefix ? prefix + ' · ' : '') + (c ? label(c) : 'channel ' + m.channel_id) + ' · ' + fmtTime(m.created_at)),
		el('strong', { class: 'author' }, m.username ? nameOf(m.user_id, m.username) : ''),
		el('span', { class: 'content' }, ...(m.deleted ? ['(deleted)'] : m.snippet ? snippetNodes(m.snippet) : [summary(m)]))));
}

// A search hit's snippet (API.md): plain text with each match between
// U+0002 and U+0003, shown as text nodes and <mark>s, never parsed as markup.
function snippetNodes(snippet) {
	const out = [];
	for (const [i, part] of snippet.split(/[\u0002\u0003]/).entries()) {
		if (part) out.push(i % 2 ? el('mark', { class: 'hit' }, part) : document.createTextNode(part));
	}
	return out;
}

async function loadNotifications() {
	try {
		const data = await api.get('/api/notifications?limit=50');
		S.notifications = data.notifications;
		renderNotifCount();
	} catch (e) { console.warn(e); }
}
function renderNotifCount() {
	const n = S.notifications.filter((x) => !x.read).length;
	const b = $('notif-count');
	b.hidden = n === 0;
	setText(b, String(n));
	$('notif-button').setAttribute('aria-label', `Notifications, ${n} unread`);
}
function showNotifications() {
	const list = openPanel('notifications', 'Notifications', { text: 'Mark all read', run: markAllRead });
	list.append(notifier.settingsItem()); // screens: desktop notifications and sound
	if (!S.notifications.length) list.append(el('li', { class: 'empty' }, 'Nothing yet.'));
	for (const n of S.notifications) {
		const kind = n.kind === 'dm' ? 'Direct message' : n.kind === 'reply' ? 'Reply' : 'Mention';
		const item = n.message ? resultItem(n.message, kind, () => markNotificationRead(n)) : el('li', {}, n.kind);
		if (!n.read) item.classList.add('unread');
		list.append(item);
	}
}
async function markNotificationRead(n) {
	if (n.read) return;
	n.read = true;
	renderNotifCount();
	try {
		await api.post('/api/notifications/read', { ids: [n.id] });
	} catch (e) { n.read = false; renderNotifCount(); report(e); }
}

async function markAllRead() {
	try {
		await api.post('/api/notifications/read', { all: true });
		for (const n of S.notifications) n.read = true;
		renderNotifCount();
		showNotifications();
	} catch (e) { report(e); }
}
$('notif-button').addEventListener('click', () => {
	if (!$('panel').hidden && $('panel').dataset.kind === 'notifications') $('panel-close').click();
	else showNotifications();
});

// Escape closes the phone's channel drawer, then the side panel.
document.addEventListener('keydown', (ev) => {
	if (ev.key !== 'Escape' || $('chat-screen').hidden) return;
	if (document.body.classList.contains('nav-open')) {
		document.body.classList.remove('nav-open');
		$('nav-toggle').setAttribute('aria-expanded', 'false');
		$('nav-toggle').focus();
	} else if (!$('panel').hidden && !ev.target.closest('.msg')) {
		$('panel-close').click();
	}
});

/* ---------- permalinks: #/c/<channel id>/m/<message id> ---------- */

function parseHash() {
	const mm = /^#\/c\/(\d+)(?:\/m\/(\d+))?$/.exec(location.hash);
	return mm ? { channel: Number(mm[1]), message: mm[2] ? Number(mm[2]) : null } : null;
}

// Opens a channel at a message, and says so in the address bar (a link to
// copy); the same hash again re-opens it.
function goToMessage(channel, message) {
	const hash = `#/c/${channel}/m/${message}`;
	if (location.hash === hash) followHash();
	else location.hash = hash;
}

async function followHash() {
	const h = parseHash();
	if (!h || !api.session || $('chat-screen').hidden) return false;
	if (!S.channels.has(h.channel)) {
		try { await loadChannels(); } catch (e) { console.warn(e); }
	}
	if (!S.channels.has(h.channel)) { toast('You cannot read that channel.'); return false; }
	await openChannel(h.channel, h.message);
	if (h.message) await panels.openedAt(h.channel, h.message); // --- panels hook: a reply opens its thread
	return true;
}
window.addEventListener('hashchange', followHash);

/* ---------- start ---------- */

setAuthMode(false);
if (api.session) {
	enterChat().catch((e) => {
		if (e.status === 401) showAuth();
		else report(e);
	});
} else {
	showAuth();
}
