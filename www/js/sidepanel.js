// sidepanel.js — the side panel that threads, pins and edit history open in
// (#side in index.html): a labelled, non-modal dialog in the right-hand
// column on a desktop, covering the screen with a "Back" button on a phone
// (style.css, "side panels"). One view at a time: open() replaces what it
// shows. Focus moves into it on open (to the heading, or a given element)
// and back to what had it (the opener) on close; Escape or the close/back
// button closes it. The members/search/notifications panel (#panel) and this
// one share the column: opening one closes the other.

import { $, clear, setText } from './dom.js';

export class SidePanel {
	// onOpen: called before a view opens (app.js closes #panel there).
	constructor(onOpen) {
		this.root = $('side');
		this.kind = '';       // 'thread' | 'pins' | 'edits' | ''
		this.key = null;      // what the view shows (a root id, a channel id, a message id)
		this.opener = null;   // the element to give focus back to
		this.onClose = null;  // the view's own clean-up
		this.onOpen = onOpen || (() => {});
		$('side-close').addEventListener('click', () => this.close());
		$('side-back').addEventListener('click', () => this.close());
		document.addEventListener('keydown', (ev) => {
			if (ev.key !== 'Escape' || this.root.hidden || ev.defaultPrevented) return;
			// Escape in a message's edit form or picker belongs to it; the
			// phone's channel drawer closes first (app.js).
			if (!this.root.contains(ev.target) && ev.target.closest && ev.target.closest('.msg')) return;
			if (document.body.classList.contains('nav-open')) return;
			ev.preventDefault();
			this.close();
		});
	}

	get open() { return !this.root.hidden; }
	is(kind, key) { return this.open && this.kind === kind && (key === undefined || this.key === key); }

	// Shows an empty view titled `title`; returns { body, tools } to fill.
	// `focus`: what gets focus (default: the heading).
	show(kind, key, title, onClose) {
		const wasOpen = this.open;
		if (wasOpen && this.onClose) this.onClose();
		this.onOpen();
		const active = document.activeElement;
		if (!wasOpen || !this.root.contains(active)) {
			this.opener = active && active !== document.body ? active : null;
			// A message re-rendered meanwhile (a live count) loses the
			// button: its message's element gets focus instead.
			const li = this.opener && this.opener.closest && this.opener.closest('li.msg[id]');
			this.openerMsg = li ? li.id : null;
		}
		this.kind = kind;
		this.key = key;
		this.onClose = onClose || null;
		this.root.dataset.kind = kind;
		setText($('side-title'), title);
		clear($('side-tools'));
		clear($('side-foot'));
		const body = clear($('side-body'));
		this.root.hidden = false;
		document.body.classList.add('side-open');
		return { body, tools: $('side-tools'), foot: $('side-foot') };
	}

	// Moves focus into the panel (after the view has been filled).
	focus(elem) {
		(elem && elem.isConnected ? elem : $('side-title')).focus({ preventScroll: !!elem });
	}

	// The element that scrolls (the view's body).
	scroller() { return $('side-body'); }

	setTitle(title) { setText($('side-title'), title); }

	// Closes the view; focus goes back to the opener unless `restore` is
	// false (another panel is opening and takes it).
	close(restore = true) {
		if (!this.open) return;
		if (this.onClose) this.onClose();
		this.onClose = null;
		this.root.hidden = true;
		this.kind = '';
		this.key = null;
		this.root.dataset.kind = '';
		clear($('side-body'));
		clear($('side-tools'));
		clear($('side-foot'));
		document.body.classList.remove('side-open');
		const back = this.opener, msg = this.openerMsg && document.getElementById(this.openerMsg);
		this.opener = this.openerMsg = null;
		if (!restore) return;
		if (back && back.isConnected && !back.disabled) back.focus();
		else if (msg) msg.querySelector('a, button')?.focus();
		else if (!$('composer-input').disabled) $('composer-input').focus();
	}
}
