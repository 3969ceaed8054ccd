// pins.js — pinned messages: the "Pin"/"Unpin" action of a channel member
// (PUT/DELETE /api/messages/{id}/pin; a 403 — the server lets only owners
// and admins pin when `pins_by_members = 0` — says so in a toast), the
// "📌 Pinned" line on a pinned message (messages carry `pinned`), and the
// pins panel behind the room header's "Pinned" button: GET
// /api/channels/{id}/pins, most recently pinned first, kept live by
// pin.added / pin.removed; clicking a pin jumps to the message (app.js's
// goToMessage, which loads the stretch around it when it is not held).

import { el, clear, fmtTime } from './dom.js';
import { fullTime } from './timeline.js';

export class Pins {
	constructor(ctx, side) {
		this.ctx = ctx;
		this.side = side;
		this.seq = 0; // the newest load of the panel wins
	}

	/* ---------- on a channel message ---------- */

	markEl(m) {
		return m.pinned && !m.deleted ? el('div', { class: 'pin-line' }, '📌 Pinned') : null;
	}

	// Members pin (the server may narrow that to owners and admins: 403).
	actionEl(m) {
		const c = this.ctx.channel(m.channel_id);
		if (!c || !c.role) return null;
		return el('button', { type: 'button', class: 'pin-action', 'aria-pressed': String(!!m.pinned),
			onclick: () => this.setPinned(m, !m.pinned) }, m.pinned ? 'Unpin' : 'Pin');
	}

	async setPinned(m, on) {
		const ctx = this.ctx;
		try {
			await (on ? ctx.api.put : ctx.api.del).call(ctx.api, `/api/messages/${m.id}/pin`);
			ctx.patchHeld(m.id, { pinned: on }); // the event says it too
			if (this.side.is('pins', m.channel_id)) this.load(m.channel_id);
		} catch (e) {
			if (e.status === 403) ctx.toast(`You may not ${on ? 'pin' : 'unpin'} messages in this channel: only its owners and admins can.`);
			else if (e.status === 409) ctx.toast(on ? `This message cannot be pinned: ${e.message}` : e.message);
			else ctx.report(e);
		}
	}

	/* ---------- the panel ---------- */

	// `focus`: move focus into the panel (not when it follows a channel switch).
	show(channelId, focus = true) {
		const c = this.ctx.channel(channelId);
		if (!c) return;
		const { body } = this.side.show('pins', channelId, 'Pinned in ' + this.ctx.label(c));
		body.append(el('ul', { class: 'panel-list pins-list', id: 'pins-list', 'aria-label': 'Pinned messages' },
			el('li', { class: 'empty' }, 'Loading…')));
		if (focus) this.side.focus();
		this.load(channelId);
	}

	toggle(channelId) {
		if (this.side.is('pins', channelId)) this.side.close();
		else this.show(channelId);
	}

	async load(channelId) {
		const seq = ++this.seq;
		try {
			const pins = await this.ctx.api.get(`/api/channels/${channelId}/pins`);
			if (seq !== this.seq || !this.side.is('pins', channelId)) return;
			this.render(channelId, pins);
		} catch (e) {
			if (seq !== this.seq || !this.side.is('pins', channelId)) return;
			const list = document.getElementById('pins-list');
			if (list) clear(list).append(el('li', { class: 'empty' }, 'The pins did not load: ' + e.message));
		}
	}

	render(channelId, pins) {
		const ctx = this.ctx;
		const list = document.getElementById('pins-list');
		if (!list) return;
		clear(list);
		if (!pins.length) list.append(el('li', { class: 'empty' }, 'Nothing is pinned here yet. Pin a message with its "Pin" action.'));
		const c = ctx.channel(channelId);
		for (const m of pins) {
			const by = m.pinned_by ? ctx.nameOf(m.pinned_by, ctx.userName(m.pinned_by)) : null;
			list.append(el('li', { class: 'pin-item', dataset: { messageId: m.id } },
				el('button', { type: 'button', class: 'result', onclick: () => ctx.goToMessage(m.channel_id, m.id) },
					el('span', { class: 'hint', title: fullTime(m.created_at) },
						(m.username ? ctx.nameOf(m.user_id, m.username) : 'deleted user') + ' · ' + fmtTime(m.created_at)),
					// As text, like a search hit: a link inside this button
					// would be a control inside a control.
					el('span', { class: 'content' }, m.deleted ? '(deleted)' : ctx.summary(m)),
					m.pinned_at ? el('span', { class: 'hint' }, 'pinned ' + (by ? 'by ' + by + ' ' : '') + fmtTime(m.pinned_at)) : null),
				c && c.role ? el('button', { type: 'button', class: 'small', 'aria-label': 'Unpin this message',
					onclick: () => this.setPinned(m, false) }, 'Unpin') : null));
		}
	}

	/* ---------- live ---------- */

	onEvent(ev) {
		if (ev.type !== 'pin.added' && ev.type !== 'pin.removed') return;
		const held = this.ctx.held(ev.message_id);
		if (held) this.ctx.patchHeld(ev.message_id, { pinned: ev.type === 'pin.added' });
		const ch = ev.channel_id || (held && held.channel_id);
		if (this.side.kind === 'pins' && (!ch || this.side.key === ch)) this.load(this.side.key);
	}

	// A message edited or deleted changes its pin's entry.
	onMessage(m) {
		if (m && this.side.is('pins', m.channel_id) && (m.pinned || m.deleted)) this.load(m.channel_id);
	}
}
