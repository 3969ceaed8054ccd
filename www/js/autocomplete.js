// autocomplete.js — suggestions while writing a message, for the composer
// and the edit box: "@al" lists people (the users search, GET
// /api/users?q=, asked at most every DEBOUNCE ms; an answer to an older
// query is dropped), ":ta" lists emoji shortcodes (js/emoji.js). ArrowUp /
// ArrowDown move, Enter or Tab inserts ("@username " or the emoji), Escape
// closes; the mouse works too.
//
// ARIA: the textarea keeps its textbox role (a message box is multi-line,
// which a combobox is not) with aria-autocomplete="list", aria-controls
// naming the role="listbox" of role="option"s and aria-activedescendant
// naming the active one (aria-selected="true"): focus never leaves the box.
// A polite status says how many suggestions there are. The list is
// position: fixed next to the box, so that no scrolling ancestor clips it,
// and lives inside the box's parent, so that it goes when the box goes.
// Every text is set with textContent.

const DEBOUNCE = 150;
const LIMIT = 8;
let seqIds = 0;

// "@name" right before the caret: an "@" not after a name character
// (lib/notifications.c reads mentions the same way), 1-32 name characters.
const MENTION_AT = /(?:^|[^A-Za-z0-9_.\-@])@([A-Za-z0-9_.-]{1,32})$/;
// ":sh" right before the caret, at the start or after a space or bracket,
// two or more shortcode characters ("10:30" and ":)" do not count).
const SHORTCODE_AT = /(?:^|[\s([{>"'])(:)([a-z0-9_+-]{2,40})$/i;

export class Autocomplete {
	// input: the textarea; searchUsers(prefix) -> Promise of user objects.
	constructor(input, { searchUsers, shortcodes }) {
		this.input = input;
		this.searchUsers = searchUsers;
		this.shortcodes = shortcodes;
		this.token = null;   // { kind: '@' | ':', query, start, end }
		this.items = [];
		this.active = -1;
		this.seq = 0;        // the newest users query; older answers are dropped
		this.timer = null;
		const id = 'ac-' + ++seqIds;
		this.list = document.createElement('ul');
		this.list.id = id;
		this.list.className = 'ac-list';
		this.list.setAttribute('role', 'listbox');
		this.list.setAttribute('aria-label', 'Suggestions');
		this.list.hidden = true;
		this.status = document.createElement('p');
		this.status.className = 'sr';
		this.status.setAttribute('role', 'status');
		input.setAttribute('aria-autocomplete', 'list');
		input.parentElement.append(this.list, this.status);
		input.addEventListener('input', () => this.update());
		input.addEventListener('click', () => this.update());
		input.addEventListener('keyup', (ev) => {
			if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) this.update();
		});
		input.addEventListener('keydown', (ev) => this.onKey(ev), true);
		input.addEventListener('blur', () => this.close());
		this.list.addEventListener('mousedown', (ev) => ev.preventDefault()); // the box keeps the focus
		this.reposition = () => {
			if (!this.input.isConnected) this.destroy();
			else if (!this.list.hidden) this.place();
		};
		window.addEventListener('resize', this.reposition);
		window.addEventListener('scroll', this.reposition, true);
	}

	get open() { return !this.list.hidden; }

	// Reads the word at the caret and opens, updates or closes the list.
	update() {
		const v = this.input.value, end = this.input.selectionStart;
		if (end !== this.input.selectionEnd || !this.input.isConnected) { this.close(); return; }
		const before = v.slice(0, end);
		let m = MENTION_AT.exec(before), token = null;
		if (m) token = { kind: '@', query: m[1], start: end - m[1].length - 1, end };
		else if ((m = SHORTCODE_AT.exec(before))) token = { kind: ':', query: m[2].toLowerCase(), start: end - m[2].length - 1, end };
		if (!token) { this.close(); return; }
		const same = this.token && this.token.kind === token.kind && this.token.query === token.query;
		this.token = token;
		if (same && this.open) return;
		if (token.kind === ':') {
			this.seq++;
			this.show(this.shortcodes(token.query, LIMIT).map((e) => ({ kind: ':', ...e })));
			return;
		}
		// People: what is shown already narrows at once; the server's answer follows.
		const q = token.query.toLowerCase();
		const starts = (s) => String(s || '').toLowerCase().startsWith(q);
		if (this.open && this.items[0]?.kind === '@') this.show(this.items.filter((u) => starts(u.username) || starts(u.display_name)), true);
		const seq = ++this.seq;
		clearTimeout(this.timer);
		this.timer = setTimeout(async () => {
			let users;
			try { users = await this.searchUsers(token.query, LIMIT); } catch { return; }
			if (seq !== this.seq) return; // typed on meanwhile: a newer query answers
			this.show(users.slice(0, LIMIT).map((u) => ({ kind: '@', username: u.username, display_name: u.display_name, id: u.id })));
		}, DEBOUNCE);
	}

	// Shows `items` (keeping the active one if it is still there).
	show(items, keep) {
		const was = keep && this.items[this.active];
		this.items = items;
		if (!items.length) { this.hideList(); return; }
		const again = was ? items.findIndex((x) => x === was) : -1;
		this.active = again >= 0 ? again : 0;
		this.list.replaceChildren(...items.map((it, i) => this.option(it, i)));
		this.list.hidden = false;
		this.input.setAttribute('aria-controls', this.list.id);
		this.status.textContent = `${items.length} ${items.length === 1 ? 'suggestion' : 'suggestions'}, up and down arrows to choose, Enter to insert`;
		this.place();
		this.highlight();
	}

	option(it, i) {
		const li = document.createElement('li');
		li.id = `${this.list.id}-${i}`;
		li.setAttribute('role', 'option');
		li.className = 'ac-option';
		const main = document.createElement('span'), sub = document.createElement('span');
		sub.className = 'ac-sub';
		if (it.kind === '@') {
			main.className = 'ac-name';
			main.textContent = it.display_name || it.username;
			sub.textContent = '@' + it.username;
		} else {
			main.className = 'ac-emoji';
			main.textContent = it.char;
			sub.textContent = `:${it.name}:`;
		}
		li.append(main, ' ', sub);
		li.addEventListener('mousemove', () => { if (this.active !== i) { this.active = i; this.highlight(); } });
		li.addEventListener('click', () => this.pick(i));
		return li;
	}

	highlight() {
		[...this.list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === this.active)));
		const cur = this.list.children[this.active];
		if (cur) {
			this.input.setAttribute('aria-activedescendant', cur.id);
			cur.scrollIntoView({ block: 'nearest' });
		}
	}

	// Next to the box: above it when there is more room there.
	place() {
		const r = this.input.getBoundingClientRect(), s = this.list.style;
		const width = Math.min(Math.max(r.width, 200), 360, window.innerWidth - 8);
		s.width = width + 'px';
		s.left = Math.max(4, Math.min(r.left, window.innerWidth - width - 4)) + 'px';
		if (r.top > window.innerHeight - r.bottom) { s.top = ''; s.bottom = (window.innerHeight - r.top + 4) + 'px'; }
		else { s.bottom = ''; s.top = (r.bottom + 4) + 'px'; }
	}

	onKey(ev) {
		if (!this.open || ev.isComposing) return;
		const n = this.items.length;
		let handled = true;
		if (ev.key === 'ArrowDown') { this.active = (this.active + 1) % n; this.highlight(); }
		else if (ev.key === 'ArrowUp') { this.active = (this.active - 1 + n) % n; this.highlight(); }
		else if ((ev.key === 'Enter' && !ev.shiftKey) || (ev.key === 'Tab' && !ev.shiftKey)) this.pick(this.active);
		else if (ev.key === 'Escape') this.close();
		else handled = false;
		if (handled) {
			// Before the box's own keys (Enter sends, Escape cancels an edit).
			ev.preventDefault();
			ev.stopImmediatePropagation();
		}
	}

	// Replaces the word at the caret with the suggestion, undoably.
	pick(i) {
		const it = this.items[i], t = this.token;
		if (!it || !t) return;
		const text = (it.kind === '@' ? '@' + it.username : it.char) + ' ';
		this.close();
		this.input.focus();
		this.input.setSelectionRange(t.start, t.end);
		if (!document.execCommand('insertText', false, text)) {
			this.input.setRangeText(text, t.start, t.end, 'end');
			this.input.dispatchEvent(new Event('input', { bubbles: true }));
		}
	}

	hideList() {
		this.list.hidden = true;
		this.list.replaceChildren();
		this.items = [];
		this.active = -1;
		this.input.removeAttribute('aria-activedescendant');
		this.input.removeAttribute('aria-controls');
		this.status.textContent = '';
	}

	close() {
		this.seq++;
		clearTimeout(this.timer);
		this.token = null;
		if (this.open || this.items.length) this.hideList();
	}

	// For a box that goes away (the edit box): its window listeners go too.
	destroy() {
		this.close();
		window.removeEventListener('resize', this.reposition);
		window.removeEventListener('scroll', this.reposition, true);
	}
}
