// keyboard.js — the web client without a mouse (issue 17).
//
// - Focus: the composer after sign-in and on every channel switch (on a
//   touch screen the room's heading instead, so that no on-screen keyboard
//   pops up); the side panel takes focus when it opens and gives it back to
//   the button that opened it when it closes.
// - Skip links, the chat's first tab stops: "Skip to message box" and
//   "Skip to messages".
// - The message list is ONE tab stop (a roving tabindex): ArrowUp/ArrowDown,
//   PageUp/PageDown, Home/End move between messages (past the first or last
//   one they load older or newer messages). A focused message shows its
//   actions; Enter or ArrowRight moves into them (then Tab, Shift+Tab and
//   ArrowLeft/ArrowRight move between them, Escape goes back to the
//   message); R replies, E edits one's own message (the focused message is
//   described by a hidden note saying so). Only the buttons and
//   links of the message that holds the focus are tab stops; all others have
//   tabindex=-1. A message re-drawn under the focus (a reaction arrives)
//   gets the focus back.
// - ArrowUp in an empty composer edits one's last message (the message's
//   own edit form: Enter saves, Escape cancels, and the focus comes back to
//   the composer).
// - Escape closes the reaction picker (focus back on "React"), the reply
//   bar, an open "New channel"/"New direct message" box; app.js closes the
//   phone's channel drawer and the side panel with it, js/phone.js the
//   phone's message menu.
// - Alt+ArrowUp / Alt+ArrowDown open the previous / next channel.
//
// Works on the DOM app.js draws (a MutationObserver keeps the tabindexes
// right), with one hook: channelOpened() from openChannel().

import { $, el } from './dom.js';

const list = $('messages');
const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';
const TEXT = 'textarea, input, select, [contenteditable="true"]';
const coarse = () => matchMedia('(pointer: coarse)').matches;

let activeKey = null;   // the message that is the list's tab stop ('id:<id>' / 'cid:<client id>'); null: the newest
let lastFocus = null;   // the element in the list that last had the focus, and its message
let editReturn = null;  // key of a message edited from the composer (ArrowUp): the focus goes back there

const keyOf = (li) => (li.dataset.id ? 'id:' + li.dataset.id : li.dataset.clientId ? 'cid:' + li.dataset.clientId : null);
const messages = () => [...list.querySelectorAll(':scope > li.msg')];
const findKey = (key) => (key ? messages().find((li) => keyOf(li) === key) || null : null);
const msgOf = (node) => (node && node.closest ? node.closest('#messages > li.msg') : null);

function activeLi() {
	const all = messages();
	return findKey(activeKey) || all[all.length - 1] || null;
}

// The tab stops of the list: the active message, and the controls inside it
// while the focus is inside it.
function applyTabindex() {
	const act = activeLi();
	const focus = document.activeElement;
	const inside = !!act && act !== focus && act.contains(focus);
	for (const li of messages()) {
		const on = li === act;
		if (li.tabIndex !== (on ? 0 : -1)) li.tabIndex = on ? 0 : -1;
		if (on) li.setAttribute('aria-describedby', 'msg-keys');
		else if (li.hasAttribute('aria-describedby')) li.removeAttribute('aria-describedby');
		for (const f of li.querySelectorAll(FOCUSABLE)) {
			if (on && inside) { if (f.getAttribute('tabindex') === '-1') f.removeAttribute('tabindex'); }
			else if (f.getAttribute('tabindex') !== '-1') f.setAttribute('tabindex', '-1');
		}
	}
}

// Focuses a message (it becomes the list's tab stop).
function focusMessage(li) {
	if (!li) return;
	activeKey = keyOf(li);
	applyTabindex();
	li.focus();
}

// The first control of a message: its actions first, else anything.
const shown = (f) => f.offsetParent !== null;
function firstControl(li) {
	return [...li.querySelectorAll('.actions button, .more')].find(shown) // (phones: "⋯", js/phone.js)
		|| [...li.querySelectorAll(FOCUSABLE)].find((f) => f !== li && shown(f)) || null;
}

function controlsOf(li) {
	return [...li.querySelectorAll(FOCUSABLE)].filter((f) => f !== li && shown(f) && !f.closest('.edit-form'));
}

export function focusComposer() {
	const c = $('composer-input');
	if (!c.disabled && c.offsetParent !== null) c.focus();
	else focusHeading();
}
function focusHeading() {
	const h = $('room-name');
	h.tabIndex = -1;
	h.focus();
}

// The hook in app.js's openChannel(): `at` is a message being jumped to.
export function channelOpened({ switching, at }) {
	if (!switching) return;
	activeKey = at ? 'id:' + at : null;
	editReturn = null;
	if (at) return; // the focus stays where the jump came from (a search hit)
	if (coarse()) focusHeading();
	else focusComposer();
}

// Signed in without a channel to open: the focus leaves the vanished form.
new MutationObserver(() => {
	const f = document.activeElement;
	if (!$('chat-screen').hidden && (!f || f === document.body || $('auth-screen').contains(f))) focusComposer();
}).observe($('chat-screen'), { attributes: true, attributeFilter: ['hidden'] });

/* ---------- skip links ---------- */

function skipLink(text, run) {
	return el('a', { href: '#', class: 'skip-link', onclick: (ev) => { ev.preventDefault(); run(); } }, text);
}
const skip = el('div', { class: 'skip-links' },
	skipLink('Skip to message box', focusComposer),
	skipLink('Skip to messages', () => { const li = activeLi(); if (li) focusMessage(li); else focusHeading(); }));
$('chat-screen').prepend(skip);

/* ---------- the message list ---------- */

// What the keys do, for screen readers (the focused message points here).
$('chat-screen').append(el('p', { id: 'msg-keys', class: 'sr' },
	'Arrow keys, Home and End move between messages; Enter goes to the message\'s actions, Escape back; R replies; E edits your message.'));

// "Load older/newer messages" are not tab stops of their own: arrows past
// the first or last message load them.
$('older').tabIndex = -1;
$('newer').tabIndex = -1;

// Tabindexes for new and re-drawn messages; the focus back onto a message
// re-drawn under it.
new MutationObserver(() => {
	applyTabindex();
	const f = document.activeElement;
	if (!lastFocus || lastFocus.el.isConnected || (f && f !== document.body)) return;
	const key = lastFocus.key, was = lastFocus.el;
	lastFocus = null;
	if (key && key === editReturn) {
		const li = findKey(key);
		if (li && li.querySelector('.edit-form')) return;
		editReturn = null;
		focusComposer();
		return;
	}
	const li = findKey(key);
	if (!li) return;
	// The same control in the new drawing (by its name), else the message.
	const name = (e) => e.getAttribute('aria-label') || e.textContent;
	const same = was.matches('button, a')
		? controlsOf(li).find((c) => c.tagName === was.tagName && name(c) === name(was)) : null;
	if (same) { activeKey = key; same.focus(); applyTabindex(); } else focusMessage(li);
}).observe(list, { childList: true, subtree: true });

list.addEventListener('focusin', (ev) => {
	const li = msgOf(ev.target);
	if (!li) return;
	activeKey = keyOf(li);
	lastFocus = { el: ev.target, key: activeKey };
	applyTabindex();
});
list.addEventListener('focusout', (ev) => {
	if (list.contains(ev.relatedTarget)) return;
	// Leaving the list: the controls of the message stop being tab stops,
	// and a message re-drawn later does not pull the focus back (unless the
	// focus went because its element went).
	const gone = ev.target;
	queueMicrotask(() => {
		if (lastFocus && lastFocus.el === gone && gone.isConnected) lastFocus = null;
		applyTabindex();
	});
});

function move(li, by) {
	const all = messages();
	let i = all.indexOf(li) + by;
	if (i < 0) {
		if (!$('older').hidden) $('older').click(); // older messages come above; the focus stays
		i = 0;
	} else if (i >= all.length) {
		if (!$('newer').hidden) $('newer').click();
		i = all.length - 1;
	}
	focusMessage(all[i]);
}

const button = (li, text) => [...li.querySelectorAll('.actions button')].find((b) => b.textContent === text);

list.addEventListener('keydown', (ev) => {
	const li = msgOf(ev.target);
	if (!li || ev.altKey || ev.ctrlKey || ev.metaKey) return;
	const onMsg = ev.target === li;
	const inText = ev.target.matches(TEXT);
	// The reaction picker: Escape closes it, the focus goes back to "React".
	if (ev.key === 'Escape' && ev.target.closest('.picker')) {
		ev.preventDefault();
		ev.stopPropagation();
		closePicker(li);
		return;
	}
	if (inText) return; // the edit form has its own keys
	switch (ev.key) {
	case 'ArrowUp': case 'ArrowDown':
		ev.preventDefault();
		move(li, ev.key === 'ArrowUp' ? -1 : 1);
		break;
	case 'PageUp': case 'PageDown':
		if (!onMsg) return;
		ev.preventDefault();
		move(li, ev.key === 'PageUp' ? -10 : 10);
		break;
	case 'Home': case 'End': {
		if (!onMsg) return;
		ev.preventDefault();
		const all = messages();
		const to = ev.key === 'Home' ? all[0] : all[all.length - 1];
		if (to === li) move(li, ev.key === 'Home' ? -1 : 1); // already there: load more
		else focusMessage(to);
		break;
	}
	case 'Enter': case 'ArrowRight': case 'ArrowLeft': {
		if (onMsg) {
			if (ev.key === 'ArrowLeft') return;
			const first = firstControl(li);
			if (!first) return;
			ev.preventDefault();
			activeKey = keyOf(li);
			first.removeAttribute('tabindex');
			first.focus();
		} else if (ev.key !== 'Enter') {
			// Between the controls of the message, like a toolbar.
			const cs = controlsOf(li);
			const i = cs.indexOf(ev.target);
			if (i < 0) return;
			ev.preventDefault();
			const next = cs[(i + (ev.key === 'ArrowRight' ? 1 : -1) + cs.length) % cs.length];
			next.removeAttribute('tabindex');
			next.focus();
		}
		break;
	}
	case 'Escape':
		if (onMsg) return;
		ev.preventDefault();
		ev.stopPropagation();
		focusMessage(li);
		break;
	case 'r': case 'R': case 'e': case 'E': {
		if (!onMsg) return;
		const b = button(li, ev.key.toLowerCase() === 'r' ? 'Reply' : 'Edit');
		if (!b) return;
		ev.preventDefault();
		b.click();
		break;
	}
	default:
		break;
	}
});

function closePicker(li) {
	li.querySelector('.picker')?.remove();
	const react = li.querySelector('.actions button[aria-expanded="true"]');
	if (react) {
		react.setAttribute('aria-expanded', 'false');
		react.removeAttribute('tabindex');
		react.focus();
	} else focusMessage(li);
}

/* ---------- the composer ---------- */

$('composer-input').addEventListener('keydown', (ev) => {
	const input = ev.currentTarget;
	if (ev.key === 'ArrowUp' && !input.value && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) {
		// Edit one's last message.
		const mine = messages().filter((li) => li.classList.contains('mine') && li.dataset.id && !li.classList.contains('deleted'));
		const li = mine[mine.length - 1];
		const edit = li && button(li, 'Edit');
		if (!edit) return;
		ev.preventDefault();
		editReturn = keyOf(li);
		activeKey = editReturn;
		edit.click();
		li.scrollIntoView({ block: 'nearest' });
	} else if (ev.key === 'Escape' && !$('reply-bar').hidden) {
		ev.preventDefault();
		ev.stopPropagation();
		$('reply-cancel').click();
	}
});
$('reply-cancel').addEventListener('click', () => queueMicrotask(focusComposer));

/* ---------- Escape elsewhere, channel keys ---------- */

document.addEventListener('keydown', (ev) => {
	if ($('chat-screen').hidden) return;
	if (ev.key === 'Escape') {
		const box = ev.target.closest && ev.target.closest('details.sidebox[open]');
		if (box) {
			ev.stopPropagation();
			box.open = false;
			box.querySelector('summary').focus();
		}
		return;
	}
	if (ev.altKey && !ev.ctrlKey && !ev.metaKey && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
		const chans = [...document.querySelectorAll('#channel-list .chan, #dm-list .chan')];
		if (!chans.length) return;
		ev.preventDefault();
		const i = chans.findIndex((b) => b.classList.contains('current'));
		const next = i < 0 ? 0 : (i + (ev.key === 'ArrowUp' ? -1 : 1) + chans.length) % chans.length;
		chans[next].click();
	}
}, true);

/* ---------- the side panel ---------- */

// Open: the focus goes to its title; closed: back to what opened it.
const panel = $('panel');
let panelOpen = !panel.hidden, opener = null;
$('panel-title').tabIndex = -1;
new MutationObserver(() => {
	const open = !panel.hidden;
	if (open === panelOpen) return;
	panelOpen = open;
	const f = document.activeElement;
	if (open) {
		opener = f && f !== document.body && !panel.contains(f) ? f : null;
		$('panel-title').focus();
	} else if (!f || f === document.body || panel.contains(f)) {
		if (opener && opener.isConnected && opener.offsetParent !== null) opener.focus();
		else focusComposer();
		opener = null;
	}
}).observe(panel, { attributes: true, attributeFilter: ['hidden'] });
