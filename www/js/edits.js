// edits.js — a message's edit history. The "(edited)" marker of an edited
// message is a button that opens, in the side panel, its previous versions
// (GET /api/messages/{id}/edits, oldest first, paged by `after`) and the
// current text. Every version goes through the same sanitizing formatter as
// the timeline (js/format.js): old text is never put in as HTML, so an edit
// away from `<img src=x onerror=...>` shows those characters. Live: the
// view follows message.updated / message.deleted of its message.

import { el, clear } from './dom.js';
import { formatMessage } from './format.js';
import { fullTime } from './timeline.js';

const PAGE = 50;
const MAX_PAGES = 20; // 1,000 versions are plenty to show

export class Edits {
	constructor(ctx, side) {
		this.ctx = ctx;
		this.side = side;
		this.msg = null; // the message whose history is open
		this.seq = 0;
	}

	// The "(edited)" marker, a button (class "edited", as before).
	markerEl(m) {
		return el('button', { type: 'button', class: 'edited link', 'aria-haspopup': 'dialog', 'aria-controls': 'side',
			title: 'edited ' + fullTime(m.edited_at) + ' — show previous versions',
			onclick: () => this.show(m) }, '(edited)');
	}

	show(m) {
		this.msg = m;
		const { body } = this.side.show('edits', m.id, 'Edit history', () => { this.msg = null; });
		body.append(el('ol', { class: 'panel-list edits-list', id: 'edits-list', 'aria-label': 'Versions, oldest first' },
			el('li', { class: 'empty' }, 'Loading…')));
		this.side.focus();
		this.load(m);
	}

	async load(m) {
		const seq = ++this.seq;
		const versions = [];
		try {
			let after = 0;
			for (let i = 0; i < MAX_PAGES; i++) {
				const page = await this.ctx.api.get(`/api/messages/${m.id}/edits?limit=${PAGE}` + (after ? `&after=${after}` : ''));
				versions.push(...page);
				if (page.length < PAGE || !page.at(-1).id) break;
				after = page.at(-1).id;
			}
		} catch (e) {
			if (seq === this.seq && this.side.is('edits', m.id)) {
				clear(document.getElementById('edits-list')).append(el('li', { class: 'empty' }, 'The history did not load: ' + e.message));
			}
			return;
		}
		if (seq !== this.seq || !this.side.is('edits', m.id)) return;
		this.render(m, versions);
	}

	render(m, versions) {
		const list = clear(document.getElementById('edits-list'));
		const entry = (cls, head, when, content) => el('li', { class: 'edit-version ' + cls },
			el('div', { class: 'hint' }, head, when ? el('time', { datetime: when, title: fullTime(when) }, ' · ' + fullTime(when)) : null),
			el('div', { class: 'content' }, formatMessage(content)));
		if (m.deleted) {
			list.append(el('li', { class: 'empty' }, 'This message was deleted, and its history with it.'));
			return;
		}
		if (!versions.length) list.append(el('li', { class: 'empty' }, 'No earlier versions are kept.'));
		versions.forEach((v, i) => {
			const item = entry('previous', i === 0 && !v.edited_at ? 'Original' : `Version ${i + 1}`, v.written_at || v.edited_at, v.content);
			if (v.replaced_at) item.append(el('div', { class: 'hint' }, 'replaced ' + fullTime(v.replaced_at)));
			list.append(item);
		});
		list.append(entry('current', 'Current version', m.edited_at, m.content));
	}

	onMessage(m) {
		if (m && this.msg && m.id === this.msg.id && this.side.is('edits', m.id)) {
			this.msg = m;
			this.load(m);
		}
	}
}
