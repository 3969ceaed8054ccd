// outbox.js — messages on their way to the server (POST /api/messages),
// each under its client_msg_id, so that sending one again is safe: the
// server answers a repeat with the first message and stores nothing new.
//
// A send that fails for want of a network (or with a 5xx) leaves the
// message queued, in order; the queue goes out by itself on flush() (the
// app calls it on every WebSocket hello), on the browser's `online` event
// and on a 2-30 s backoff, oldest first, stopping at the first that still
// cannot get through. Any other error (4xx) marks it failed, for the user
// to retry or discard.

import { ApiError } from './api.js';

const isNetworkError = (e) => e instanceof TypeError || (e instanceof ApiError && e.status === 0);

export class Outbox {
	// items: Map client_msg_id -> { channel_id, content, reply_to,
	// attachments, failed, queued }; h: { sent(message), changed(cid),
	// error(e) }.
	constructor(api, items, h) {
		this.api = api;
		this.items = items;
		this.h = h;
		this.flushing = false;
		this.timer = null;
		this.delay = 2000;
		window.addEventListener('online', () => { this.delay = 2000; this.flush(); });
	}

	async send(cid) {
		const p = this.items.get(cid);
		if (!p || p.sending) return;
		const body = { channel_id: p.channel_id, content: p.content, client_msg_id: cid };
		if (p.reply_to) body.reply_to = p.reply_to;
		if (p.attachments.length) body.attachments = p.attachments.map((f) => f.id);
		if (p.failed) { p.failed = false; this.h.changed(cid); }
		p.sending = true;
		try {
			this.h.sent(await this.api.post('/api/messages', body));
		} catch (e) {
			if (!this.items.has(cid)) return; // discarded meanwhile
			if (isNetworkError(e) || e.status >= 500) {
				p.queued = true;
				this.retrySoon();
			} else {
				p.failed = true;
				this.h.error(e);
			}
			this.h.changed(cid);
		} finally {
			p.sending = false;
		}
	}

	async flush() {
		if (this.flushing) return;
		this.flushing = true;
		clearTimeout(this.timer);
		this.timer = null;
		try {
			for (const [cid, p] of [...this.items]) {
				if (!p.queued || !this.items.has(cid)) continue;
				p.queued = false;
				await this.send(cid);
				if (this.items.get(cid)?.queued) return; // still offline: the timer tries again
			}
			this.delay = 2000;
		} finally {
			this.flushing = false;
		}
	}

	retrySoon() {
		if (this.timer) return;
		this.timer = setTimeout(() => { this.timer = null; this.flush(); }, this.delay);
		this.delay = Math.min(this.delay * 2, 30000);
	}
}
