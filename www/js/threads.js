// threads.js — a message's thread in the side panel (js/sidepanel.js).
//
// A message with replies shows "N replies · last reply <time>" (its
// `reply_count` and `last_reply_at`); that line, or a message's "Thread"
// action, opens the panel: the root, its replies (GET
// /api/messages/{id}/replies, oldest first, in pages: the newest page
// first, "Load older replies" with before=, and "Load newer replies" with
// after= when opened at a reply further back), a composer that posts a
// reply (POST /api/messages with `reply_to` = the root), and a
// Follow/Following toggle (GET/PUT/DELETE /api/messages/{id}/follow).
// A reply to a reply answers the root, as the channel's Reply does
// (docs/DECISIONS.md, "Threads"). Live: message.* events of the replies and
// the root, thread.updated for the root's counts.

import { el, clear, setText, fmtTime, newClientId } from './dom.js';
import { formatMessage } from './format.js';
import { shortTime, fullTime } from './timeline.js';

const PAGE = 50;
const MAX_CHARS = 4000;
const NEWEST = Number.MAX_SAFE_INTEGER; // before= this: the newest page

export class Threads {
	// ctx: the app's helpers (js/panels.js lists them); side: the SidePanel.
	constructor(ctx, side) {
		this.ctx = ctx;
		this.side = side;
		this.t = null; // the open thread: { rootId, root, replies: Map, hasOlder, hasNewer, following, at }
		this.drafts = new Map(); // root id -> unsent text of its composer (kept across close and open)
	}

	/* ---------- on a channel message ---------- */

	// "N replies · last reply <time>", or null.
	summaryEl(m) {
		if (!m.reply_count) return null;
		const n = m.reply_count;
		return el('button', { type: 'button', class: 'thread-summary', 'aria-haspopup': 'dialog', 'aria-controls': 'side',
			title: m.last_reply_at ? 'Last reply ' + fullTime(m.last_reply_at) : null,
			onclick: (ev) => this.open(m.id, null, ev.currentTarget) },
		el('span', { class: 'thread-count' }, `${n} ${n === 1 ? 'reply' : 'replies'}`),
		m.last_reply_at ? el('span', { class: 'hint' }, ' · last reply ' + fmtTime(m.last_reply_at)) : null);
	}

	// The "Thread" action (reply in thread).
	actionEl(m) {
		return el('button', { type: 'button', class: 'thread-action', title: 'Reply in thread', 'aria-controls': 'side',
			onclick: (ev) => this.open(m.reply_to || m.id, null, ev.currentTarget) }, 'Thread');
	}

	/* ---------- the panel ---------- */

	// Opens the thread of `rootId`; with `at`, at that reply (highlighted).
	async open(rootId, at) {
		const ctx = this.ctx;
		const t = { rootId, root: ctx.held(rootId), replies: new Map(), hasOlder: false, hasNewer: false,
			following: null, at: at || null, sending: false };
		this.t = t;
		const { body, tools, foot } = this.side.show('thread', rootId, 'Thread', () => {
			const input = document.getElementById('thread-input');
			if (input) { if (input.value.trim()) this.drafts.set(rootId, input.value); else this.drafts.delete(rootId); }
			if (this.t === t) this.t = null;
		});
		const follow = el('button', { type: 'button', id: 'thread-follow', class: 'small', 'aria-pressed': 'false', disabled: true,
			onclick: () => this.toggleFollow(t) }, 'Follow');
		tools.append(follow);
		body.append(el('p', { class: 'hint', id: 'thread-status' }, 'Loading…'));
		this.side.focus();
		try {
			if (!t.root) t.root = await ctx.api.get(`/api/messages/${rootId}`);
			if (this.t !== t) return;
			const q = at ? `after=${at - 1}` : `before=${NEWEST}`;
			const page = await ctx.api.get(`/api/messages/${rootId}/replies?limit=${PAGE}&${q}`);
			if (this.t !== t) return;
			for (const m of page) t.replies.set(m.id, m);
			if (at) { t.hasOlder = true; t.hasNewer = page.length >= PAGE; } else t.hasOlder = page.length >= PAGE;
			this.build(t, body, foot);
			this.loadFollow(t);
			if (at) this.highlight(at);
			else this.scrollToEnd();
		} catch (e) {
			if (this.t !== t) return;
			setText(body.querySelector('#thread-status'), e.status === 404 ? 'You cannot read that thread.' : 'The thread did not load: ' + e.message);
		}
	}

	build(t, body, foot) {
		const ctx = this.ctx;
		const c = ctx.channel(t.root.channel_id);
		this.side.setTitle('Thread' + (c ? ' in ' + ctx.label(c) : ''));
		clear(body).append(
			el('div', { class: 'thread-root', id: 'thread-root' }, this.itemEl(t.root, 'div')),
			el('p', { class: 'thread-count-line', id: 'thread-count' }),
			el('button', { type: 'button', id: 'thread-older', class: 'older', onclick: () => this.loadOlder(t) }, 'Load older replies'),
			el('ol', { class: 'thread-replies', id: 'thread-replies', 'aria-label': 'Replies' }),
			// Live replies are announced here (the list is rebuilt on changes).
			el('p', { class: 'sr', id: 'thread-live', role: 'status', 'aria-live': 'polite' }),
			el('button', { type: 'button', id: 'thread-newer', class: 'older', onclick: () => this.loadNewer(t) }, 'Load newer replies'));
		const input = el('textarea', { id: 'thread-input', rows: 2, placeholder: 'Reply in thread', 'aria-label': 'Reply in thread' });
		input.value = this.drafts.get(t.rootId) || '';
		const error = el('p', { id: 'thread-error', class: 'error', role: 'alert' });
		const form = el('form', { id: 'thread-composer', class: 'thread-composer' }, input,
			el('button', { type: 'submit', class: 'primary', id: 'thread-send' }, 'Reply'), error);
		form.addEventListener('submit', (ev) => { ev.preventDefault(); this.send(t, input, error); });
		input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
		});
		clear(foot).append(form);
		this.renderReplies(t);
	}

	// A message in the panel: author, time (a permalink), text through the
	// sanitizing formatter, files; the (edited) marker opens its history.
	itemEl(m, tag = 'li') {
		const ctx = this.ctx;
		const node = el(tag, { class: 'thread-msg' + (m.deleted ? ' deleted' : ''), dataset: { id: m.id } },
			el('div', { class: 'meta' },
				ctx.avatarOf(m.user_id, false, m.username),
				el('strong', { class: 'author', dataset: { authorUser: m.user_id } }, m.username ? ctx.nameOf(m.user_id, m.username) : 'deleted user'),
				' ',
				el('a', { class: 'permalink', href: `#/c/${m.channel_id}/m/${m.id}` },
					el('time', { datetime: m.created_at, title: fullTime(m.created_at) }, shortTime(m.created_at))),
				m.edited_at && !m.deleted ? ctx.editedEl(m) : null,
				m.pinned ? el('span', { class: 'pin-mark', title: 'Pinned' }, '📌') : null));
		const atts = !m.deleted && Array.isArray(m.attachments) ? m.attachments : [];
		if (m.deleted || m.content || !atts.length) {
			node.append(el('div', { class: 'content' }, m.deleted ? 'This message was deleted.' : formatMessage(m.content)));
		}
		if (atts.length) node.append(el('div', { class: 'attachments' }, ...atts.map((f) => ctx.files.attachment(f))));
		return node;
	}

	renderReplies(t) {
		const list = document.getElementById('thread-replies');
		if (!list || this.t !== t) return;
		const box = this.side.scroller();
		const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
		clear(list);
		for (const m of [...t.replies.values()].sort((a, b) => a.id - b.id)) list.append(this.itemEl(m));
		document.getElementById('thread-older').hidden = !t.hasOlder;
		document.getElementById('thread-newer').hidden = !t.hasNewer;
		this.renderCount(t);
		if (atEnd && !t.hasNewer) this.scrollToEnd();
	}

	renderCount(t) {
		const p = document.getElementById('thread-count');
		if (!p) return;
		const n = t.root.reply_count || 0;
		setText(p, n ? `${n} ${n === 1 ? 'reply' : 'replies'}` : 'No replies yet.');
	}

	scrollToEnd() { const b = this.side.scroller(); b.scrollTop = b.scrollHeight; }

	highlight(id) {
		const n = document.querySelector(`#thread-replies li[data-id="${id}"]`);
		if (!n) return;
		n.scrollIntoView({ block: 'center' });
		n.classList.add('highlight');
		setTimeout(() => n.classList.remove('highlight'), 3000);
	}

	async loadOlder(t) {
		if (t.loading || !t.hasOlder) return;
		t.loading = true;
		try {
			const oldest = Math.min(...t.replies.keys(), NEWEST);
			const page = await this.ctx.api.get(`/api/messages/${t.rootId}/replies?limit=${PAGE}&before=${oldest}`);
			if (this.t !== t) return;
			const box = this.side.scroller(), fromEnd = box.scrollHeight - box.scrollTop;
			for (const m of page) t.replies.set(m.id, m);
			t.hasOlder = page.length >= PAGE;
			this.renderReplies(t);
			box.scrollTop = box.scrollHeight - fromEnd; // the reader's place stays
		} catch (e) { this.ctx.report(e); } finally { t.loading = false; }
	}

	async loadNewer(t) {
		if (t.loading || !t.hasNewer) return;
		t.loading = true;
		try {
			const newest = Math.max(...t.replies.keys(), t.rootId);
			const page = await this.ctx.api.get(`/api/messages/${t.rootId}/replies?limit=${PAGE}&after=${newest}`);
			if (this.t !== t) return;
			for (const m of page) t.replies.set(m.id, m);
			t.hasNewer = page.length >= PAGE;
			this.renderReplies(t);
		} catch (e) { this.ctx.report(e); } finally { t.loading = false; }
	}

	async loadFollow(t) {
		try {
			const r = await this.ctx.api.get(`/api/messages/${t.rootId}/follow`);
			if (this.t === t) this.renderFollow(t, !!r.following);
		} catch (e) { console.warn(e); }
	}

	renderFollow(t, on) {
		t.following = on;
		const b = document.getElementById('thread-follow');
		if (!b) return;
		b.disabled = false;
		b.setAttribute('aria-pressed', String(on));
		b.classList.toggle('on', on);
		b.title = on ? 'You hear about new replies: click to stop' : 'Hear about new replies';
		setText(b, on ? 'Following' : 'Follow');
	}

	async toggleFollow(t) {
		const on = !t.following;
		try {
			await (on ? this.ctx.api.put : this.ctx.api.del).call(this.ctx.api, `/api/messages/${t.rootId}/follow`);
			if (this.t === t) this.renderFollow(t, on);
		} catch (e) { this.ctx.report(e); }
	}

	async send(t, input, error) {
		const content = input.value.trim();
		setText(error, '');
		if (!content || t.sending) return;
		const n = [...content].length;
		if (n > MAX_CHARS) { setText(error, `This reply is ${n - MAX_CHARS} characters too long (at most ${MAX_CHARS}).`); return; }
		t.sending = true;
		document.getElementById('thread-send').disabled = true;
		try {
			const m = await this.ctx.api.post('/api/messages', { channel_id: t.root.channel_id, content,
				reply_to: t.rootId, client_msg_id: newClientId() });
			input.value = '';
			this.drafts.delete(t.rootId);
			this.ctx.sent(m); // the channel's timeline, as a reply sent from its composer
			if (this.t !== t) return;
			if (!t.hasNewer) t.replies.set(m.id, m);
			this.renderReplies(t);
			this.scrollToEnd();
			this.loadFollow(t); // replying follows the thread (unless unfollowed)
		} catch (e) {
			setText(error, e.message);
		} finally {
			t.sending = false;
			const b = document.getElementById('thread-send');
			if (b) b.disabled = false;
			if (this.t === t) input.focus();
		}
	}

	/* ---------- live ---------- */

	onEvent(ev) {
		const t = this.t;
		if (!t || !t.root) return;
		const m = ev.message;
		switch (ev.type) {
		case 'message.created':
			if (m && m.reply_to === t.rootId && !t.hasNewer && !t.replies.has(m.id)) {
				t.replies.set(m.id, m);
				this.renderReplies(t);
				const live = document.getElementById('thread-live');
				if (live && m.user_id !== this.ctx.me().id) setText(live, `New reply from ${this.ctx.nameOf(m.user_id, m.username)}`);
			}
			break;
		case 'message.updated':
		case 'message.deleted':
			if (!m) break;
			if (t.replies.has(m.id)) { t.replies.set(m.id, m); this.renderReplies(t); }
			if (m.id === t.rootId) this.updateRoot(t, m);
			break;
		case 'thread.updated':
			if (m && m.id === t.rootId) this.updateRoot(t, m);
			break;
		case 'pin.added':
		case 'pin.removed':
			if (ev.message_id === t.rootId) this.updateRoot(t, { ...t.root, pinned: ev.type === 'pin.added' });
			else if (t.replies.has(ev.message_id)) {
				t.replies.set(ev.message_id, { ...t.replies.get(ev.message_id), pinned: ev.type === 'pin.added' });
				this.renderReplies(t);
			}
			break;
		default:
			break;
		}
	}

	updateRoot(t, m) {
		t.root = m;
		const box = document.getElementById('thread-root');
		if (box) clear(box).append(this.itemEl(m, 'div'));
		this.renderCount(t);
	}

	// The thread's root id when a thread is open.
	get openRoot() { return this.t ? this.t.rootId : null; }
}
