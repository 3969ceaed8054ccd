// phone.js — the web client on a phone (at most 600 px wide; issue 17).
//
// - Message actions live in a menu instead of a row under every message:
//   each message gets a "⋯" button (shown by style.css on phones only), and
//   a long press on a message opens the same menu. The menu is the
//   message's own action buttons (Reply, React, Edit, Delete), shown as a
//   list; choosing one, Escape or a tap elsewhere closes it (Escape gives the
//   focus back to "⋯").
// - The channel-list button (☰) carries a badge with the number of unread
//   messages in the other channels while the list is hidden: setUnread(),
//   a hook in app.js's updateTitle().

import { $, el, setText } from './dom.js';

const list = $('messages');
const PHONE = matchMedia('(max-width: 600px)');
const LONG_PRESS_MS = 500;

let openLi = null; // the message whose menu is open

function moreButton() {
	return el('button', { type: 'button', class: 'more icon', 'aria-haspopup': 'true', 'aria-expanded': 'false',
		'aria-label': 'Message actions', title: 'Message actions' }, '⋯');
}

// Every message with actions (not one being sent) gets its "⋯".
function addButtons() {
	for (const li of list.querySelectorAll(':scope > li.msg[data-id]:not(.deleted)')) {
		const actions = li.querySelector(':scope > .actions');
		if (!actions || li.querySelector(':scope > .more')) continue;
		actions.setAttribute('role', 'group');
		actions.setAttribute('aria-label', 'Message actions');
		if (!actions.id) actions.id = 'actions-' + li.dataset.id;
		const more = moreButton();
		more.setAttribute('aria-controls', actions.id);
		li.insertBefore(more, actions);
	}
	if (openLi && !openLi.isConnected) openLi = null;
}
new MutationObserver(addButtons).observe(list, { childList: true });

export function openMenu(li) {
	if (openLi && openLi !== li) closeMenu(false);
	const actions = li.querySelector(':scope > .actions');
	const more = li.querySelector(':scope > .more');
	if (!actions || !more) return;
	openLi = li;
	li.classList.add('menu-open');
	more.setAttribute('aria-expanded', 'true');
	const first = actions.querySelector('button');
	if (first) { first.removeAttribute('tabindex'); first.focus(); }
}

export function closeMenu(refocus) {
	const li = openLi;
	openLi = null;
	if (!li) return;
	li.classList.remove('menu-open');
	const more = li.querySelector(':scope > .more');
	if (more) {
		more.setAttribute('aria-expanded', 'false');
		if (refocus && li.isConnected) { more.removeAttribute('tabindex'); more.focus(); }
	}
}

list.addEventListener('click', (ev) => {
	const more = ev.target.closest('.more');
	if (more) {
		const li = more.closest('li.msg');
		if (openLi === li) closeMenu(true);
		else openMenu(li);
		return;
	}
	// An action was chosen: its own handler has run; the menu goes.
	if (openLi && ev.target.closest('.actions') && openLi.contains(ev.target)) closeMenu(false);
});

list.addEventListener('keydown', (ev) => {
	if (ev.key !== 'Escape' || !openLi || !openLi.contains(ev.target) || ev.target.closest('.picker, .edit-form')) return;
	ev.preventDefault();
	ev.stopPropagation();
	closeMenu(true);
});

// A tap elsewhere closes the menu.
document.addEventListener('pointerdown', (ev) => {
	if (!openLi) return;
	if (ev.target.closest && (ev.target.closest('.menu-open > .actions') || ev.target.closest('.menu-open > .more'))) return;
	closeMenu(false);
}, true);

// A long press on a message (not on a link or button) opens its menu.
let press = null;
const interactive = (t) => !!(t.closest && t.closest('a, button, input, textarea, select, video, audio, .edit-form'));
list.addEventListener('touchstart', (ev) => {
	if (!PHONE.matches || ev.touches.length !== 1 || interactive(ev.target)) return;
	const li = ev.target.closest('li.msg[data-id]');
	if (!li || !li.querySelector(':scope > .more')) return;
	const t = ev.touches[0];
	clearTimeout(press && press.timer);
	press = { x: t.clientX, y: t.clientY, li, fired: false };
	press.timer = setTimeout(() => { press.fired = true; openMenu(li); }, LONG_PRESS_MS);
}, { passive: true });
list.addEventListener('touchmove', (ev) => {
	if (!press) return;
	const t = ev.touches[0];
	if (Math.abs(t.clientX - press.x) > 10 || Math.abs(t.clientY - press.y) > 10) { clearTimeout(press.timer); press = null; }
}, { passive: true });
for (const type of ['touchend', 'touchcancel']) {
	list.addEventListener(type, (ev) => {
		if (!press) return;
		clearTimeout(press.timer);
		// The press opened the menu: the tap that ends it is not a click.
		if (press.fired && ev.cancelable) ev.preventDefault();
		press = null;
	});
}
// Browsers that turn a long press into a context menu: ours instead.
list.addEventListener('contextmenu', (ev) => {
	if (!PHONE.matches || interactive(ev.target)) return;
	const li = ev.target.closest('li.msg[data-id]');
	if (!li || !li.querySelector(':scope > .more')) return;
	ev.preventDefault();
	if (openLi !== li) openMenu(li);
});

/* ---------- the unread badge on the channel-list button ---------- */

const badge = el('span', { id: 'nav-unread', class: 'badge', hidden: true, 'aria-hidden': 'true' }, '0');
$('nav-toggle').append(badge);

export function setUnread(n) {
	badge.hidden = !n;
	setText(badge, String(n));
	$('nav-toggle').setAttribute('aria-label', n ? `Channels, ${n} unread` : 'Channels');
}
