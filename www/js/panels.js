// panels.js — wires threads (js/threads.js), pins (js/pins.js), edit
// history (js/edits.js) and permalinks (js/permalink.js) to the app: the
// hooks app.js calls are decorate() (a message element gets its thread
// line, pin line, (edited) button and actions), onEvent() (every event),
// channelChanged(), openedAt() (after a permalink) and closeSide() (when
// app.js opens its own #panel). `ctx` is the app's helpers:
//   api, me(), channel(id), label(c), held(id) (a message the client holds,
//   or undefined), patchHeld(id, fields), sent(m) (a message this client
//   posted), goToMessage(channel, id), avatarOf(id, big, username),
//   nameOf(id, username), userName(id), summary(m), files, report(e),
//   toast(text), closePanel() (hides #panel).

import { $, el } from './dom.js';
import { SidePanel } from './sidepanel.js';
import { Threads } from './threads.js';
import { Pins } from './pins.js';
import { Edits } from './edits.js';
import { copyLinkEl } from './permalink.js';

export class Panels {
	constructor(ctx) {
		this.ctx = ctx;
		this.side = new SidePanel(() => ctx.closePanel());
		ctx.editedEl = (m) => this.edits.markerEl(m);
		this.threads = new Threads(ctx, this.side);
		this.pins = new Pins(ctx, this.side);
		this.edits = new Edits(ctx, this.side);
		$('pins-button').addEventListener('click', () => { const id = ctx.current(); if (id) this.pins.toggle(id); });
	}

	// A channel message's element (app.js messageEl): the pin line under its
	// meta, the (edited) button in place of the marker, the thread line
	// before its actions, and the Thread, Pin and Copy link actions.
	decorate(li, m) {
		const meta = li.querySelector(':scope > .meta');
		const pin = this.pins.markEl(m);
		if (pin && meta) meta.after(pin);
		li.classList.toggle('pinned', !!m.pinned && !m.deleted);
		const edited = meta && meta.querySelector('.edited');
		if (edited) edited.replaceWith(this.edits.markerEl(m));
		const actions = li.querySelector(':scope > .actions');
		const summary = this.threads.summaryEl(m);
		if (summary) li.insertBefore(el('div', { class: 'thread-line' }, summary), actions);
		if (actions) {
			const first = actions.firstChild ? actions.firstChild.nextSibling : null; // after Reply
			actions.insertBefore(this.threads.actionEl(m), first);
			const pinBtn = this.pins.actionEl(m);
			if (pinBtn) actions.append(pinBtn);
			actions.append(copyLinkEl(m, (t) => this.ctx.toast(t)));
		}
	}

	onEvent(ev) {
		const ctx = this.ctx;
		if (ev.type === 'thread.updated' && ev.message && ctx.held(ev.message.id)) {
			// The root's new reply_count / last_reply_at; only a message
			// already held (an old root is not added out of its place).
			ctx.patchHeld(ev.message.id, ev.message);
		}
		this.threads.onEvent(ev);
		this.pins.onEvent(ev);
		if (ev.type === 'message.updated' || ev.type === 'message.deleted') {
			this.edits.onMessage(ev.message);
			this.pins.onMessage(ev.message);
		}
	}

	// The open channel changed: views of another channel close (focus stays
	// where the reader put it, unless it was in the panel).
	channelChanged(id) {
		const s = this.side;
		if (!s.open) return;
		const inside = s.root.contains(document.activeElement);
		if (s.kind === 'pins' && s.key !== id) this.pins.show(id, inside);
		else if (s.kind === 'thread' && this.threads.t && this.threads.t.root && this.threads.t.root.channel_id !== id) s.close(inside);
		else if (s.kind === 'edits' && this.edits.msg && this.edits.msg.channel_id !== id) s.close(inside);
	}

	// After app.js opened a permalink (#/c/<channel>/m/<id>) at message
	// `mid`. Replies are ordinary messages of their channel's timeline in
	// parley (history lists them, reply_to names the root), so a permalink
	// to a reply opens its channel at the reply like any other message —
	// and, so that the conversation it belongs to is in view, the thread
	// panel of its root opens too, at that reply (on a phone it covers the
	// timeline; "Back" shows the reply there). When the reply is not in the
	// channel's timeline (app.js could not load the stretch around it), the
	// thread panel is where it is shown.
	async openedAt(channel, mid) {
		const ctx = this.ctx;
		let m = ctx.held(mid);
		if (!m) {
			try { m = await ctx.api.get(`/api/messages/${mid}`); } catch { return; }
		}
		if (m && m.reply_to && m.channel_id === channel && ctx.current() === channel) {
			if (!this.side.is('thread', m.reply_to)) await this.threads.open(m.reply_to, mid);
			else this.threads.highlight(mid);
		}
	}

	// app.js opens #panel (members, search, notifications, profile).
	closeSide() { if (this.side.open) this.side.close(false); }
}
