// timeline.js — how the message list reads: messages by one author within
// five minutes of each other form a group (the first shows the name and
// avatar, the rest only their text), a separator names each day ("Today",
// "Yesterday" or the date, in local time), a "New" line sits above the
// first unread message, and the start of a channel is marked. The separators
// are <li>s without data-id, rebuilt by decorate() after each change.

import { el } from './dom.js';

export const GROUP_MS = 5 * 60 * 1000;

const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());

// "Today", "Yesterday" or the date (local), relative to `now`.
export function dayLabel(date, now = new Date()) {
	const d = new Date(date);
	const diff = Math.round((day(now) - day(d)) / 86400000);
	if (diff === 0) return 'Today';
	if (diff === 1) return 'Yesterday';
	return d.toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

export const sameDay = (a, b) => new Date(a).toDateString() === new Date(b).toDateString();

// A message's time of day, local (the day is in its separator).
export function shortTime(iso) {
	const d = new Date(iso);
	return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// The full local date and time, for a tooltip.
export function fullTime(iso) {
	const d = new Date(iso);
	return isNaN(d) ? '' : d.toLocaleString([], { dateStyle: 'full', timeStyle: 'medium' });
}

// Whether `m` continues the group of `prev` (both { user_id, created_at,
// deleted? }): same author, same day, at most five minutes apart.
export function continues(prev, m) {
	if (!prev || !m || prev.user_id !== m.user_id || prev.deleted || m.deleted) return false;
	const gap = new Date(m.created_at) - new Date(prev.created_at);
	return gap >= 0 && gap <= GROUP_MS && sameDay(prev.created_at, m.created_at);
}

// Brings the separators of `list` (an <ol> of li.msg) and the grouping up to
// date, touching only what changed (a reader's scroll position rests on
// these elements). info(li) gives { user_id, created_at, deleted } for a
// message element; opts: { unreadFrom: message id or null, start: text of
// the start marker or null (the channel's oldest message is not loaded) }.
const SEP = ['day-sep', 'unread-line', 'channel-start'];
const isSep = (e) => !!e && SEP.some((c) => e.classList.contains(c));
const sepKey = (e) => e.className + ':' + e.textContent;

function sepEl(kind, text) {
	if (kind === 'channel-start') return el('li', { class: kind }, text);
	// (The role is on the <span>: an <ol> holds list items only.)
	return el('li', { class: kind },
		el('span', { role: 'separator', 'aria-label': kind === 'unread-line' ? 'New messages' : text }, text));
}

export function decorate(list, info, opts = {}) {
	const plan = []; // [li, [[kind, text], ...]]
	let prev = null, first = true;
	for (const li of list.children) {
		if (!li.classList.contains('msg')) continue;
		const m = info(li);
		if (!m) continue;
		const seps = [];
		if (first && opts.start) seps.push(['channel-start', opts.start]);
		const newDay = !prev || !sameDay(prev.created_at, m.created_at);
		if (newDay) seps.push(['day-sep', dayLabel(m.created_at)]);
		const unread = !!opts.unreadFrom && !!li.dataset.id && Number(li.dataset.id) === opts.unreadFrom;
		if (unread) seps.push(['unread-line', 'New']);
		plan.push([li, seps, !newDay && !unread && continues(prev, m)]);
		prev = m;
		first = false;
	}
	const keep = new Set();
	for (const [li, seps, cont] of plan) {
		const have = [];
		for (let e = li.previousElementSibling; isSep(e); e = e.previousElementSibling) have.unshift(e);
		const want = seps.map(([k, t]) => k + ':' + t);
		if (have.length !== want.length || have.some((e, i) => sepKey(e) !== want[i])) {
			for (const e of have) e.remove();
			for (const [k, t] of seps) list.insertBefore(sepEl(k, t), li);
		}
		for (let e = li.previousElementSibling; isSep(e); e = e.previousElementSibling) keep.add(e);
		if (li.classList.contains('cont') !== cont) li.classList.toggle('cont', cont);
	}
	for (const e of [...list.children]) if (isSep(e) && !keep.has(e)) e.remove();
	if (!plan.length && opts.start) list.prepend(sepEl('channel-start', opts.start));
}
