// realtime.js — the event stream over the WebSocket (/ws), with automatic
// reconnect that resumes with ?since=<last event_id seen>.
//
// Credentials: a single-use ticket from POST /api/auth/ws-ticket
// (/ws?ticket=), or, if that endpoint is not available, /ws?token=.
// Events whose event_id is not above the last one seen are dropped, so an
// event replayed across a reconnect is applied once; the UI additionally
// dedupes messages by id.
//
// Where no WebSocket gets through (a host without the daemon: three
// attempts in a row fail before a hello), the same stream is read from the
// long-poll fallback GET /api/events?since=&timeout= instead.

export class Realtime {
	constructor(api, handlers) {
		this.api = api;
		this.h = handlers; // { event(ev), status(state), resync(), hello(msg) }
		this.ws = null;
		this.lastEventId = null;
		this.wanted = false;
		this.paused = false;
		this.backoff = 500;
		this.timer = null;
		this.connects = 0;
		this.failures = 0;    // WebSocket attempts in a row that got no hello
		this.mode = 'ws';     // or 'poll'
		this.polling = false;
	}

	async url() {
		const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
		let cred;
		try {
			const t = await this.api.post('/api/auth/ws-ticket');
			cred = 'ticket=' + encodeURIComponent(t.ticket);
		} catch (e) {
			// Only a server without the ticket endpoint gets the token in the
			// URL; anything else (no network, 401, 5xx) is retried later.
			if (e.status !== 404 && e.status !== 405) throw e;
			cred = 'token=' + encodeURIComponent(await this.api.token());
		}
		const since = this.lastEventId !== null ? '&since=' + this.lastEventId : '';
		return `${proto}//${location.host}/ws?${cred}${since}`;
	}

	start() {
		this.wanted = true;
		if (!this.ws && !this.timer) this.connect();
	}

	stop() {
		this.wanted = false;
		clearTimeout(this.timer);
		this.timer = null;
		if (this.ws) {
			const ws = this.ws;
			this.ws = null;
			ws.close(1000);
		}
		this.h.status('offline');
	}

	// The network came back or the tab became visible: try now, not after
	// the backoff.
	nudge() {
		if (!this.wanted || this.paused || this.ws) return;
		clearTimeout(this.timer);
		this.timer = null;
		this.backoff = 500;
		this.connect();
	}

	// Test and debugging hooks: drop the socket and stay away until resume().
	pause() { this.paused = true; this.stop(); }
	resume() { this.paused = false; this.mode = 'ws'; this.failures = 0; this.backoff = 500; this.start(); }

	schedule() {
		if (!this.wanted || this.paused || this.timer) return;
		const delay = this.backoff;
		this.backoff = Math.min(this.backoff * 2, 10000);
		this.timer = setTimeout(() => { this.timer = null; this.connect(); }, delay);
	}

	async connect() {
		if (!this.wanted || this.paused) return;
		if (this.mode === 'poll') { this.poll(); return; }
		this.h.status('connecting');
		let url;
		try {
			url = await this.url();
		} catch (e) {
			if (e.status === 401) return; // the session ended; the app shows the login screen
			this.schedule();
			return;
		}
		if (!this.wanted || this.paused || this.ws) return;
		const ws = new WebSocket(url);
		this.ws = ws;
		ws.onmessage = (m) => {
			let ev;
			try { ev = JSON.parse(m.data); } catch { return; }
			this.dispatch(ev);
		};
		ws.onclose = () => {
			if (this.ws !== ws) return;
			this.ws = null;
			if (++this.failures >= 3) this.mode = 'poll';
			this.h.status('offline');
			this.schedule();
		};
		ws.onerror = () => { /* onclose follows */ };
	}

	dispatch(ev) {
		if (ev.type === 'hello') {
			this.connects++;
			this.failures = 0;
			this.backoff = 500;
			const first = this.lastEventId === null;
			if (first) this.lastEventId = ev.last_event_id || 0;
			this.h.status('online');
			this.h.hello(ev, first);
			return;
		}
		if (ev.type === 'resync_required') {
			this.lastEventId = null;
			this.h.resync();
			return;
		}
		if (ev.type === 'pong' || ev.type === 'ack' || ev.type === 'error') return;
		if (typeof ev.event_id === 'number') {
			if (this.lastEventId !== null && ev.event_id <= this.lastEventId) return;
			this.lastEventId = ev.event_id;
		}
		this.h.event(ev);
	}

	// The long-poll loop: one request at a time, each waiting up to 25 s.
	async poll() {
		if (this.polling) return;
		this.polling = true;
		try {
			while (this.wanted && !this.paused && this.mode === 'poll') {
				try {
					if (this.lastEventId === null) {
						// No cursor yet: start at the newest event, like a hello.
						const r = await this.api.get('/api/events?timeout=0');
						this.lastEventId = r.last_event_id || 0;
						this.connects++;
						this.h.status('online');
						this.h.hello({ type: 'hello', last_event_id: this.lastEventId }, true);
						continue;
					}
					const r = await this.api.get(`/api/events?timeout=25&since=${this.lastEventId}`);
					this.h.status('online');
					this.backoff = 500;
					for (const ev of r.events) this.dispatch(ev);
					if (this.lastEventId !== null && r.last_event_id > this.lastEventId) this.lastEventId = r.last_event_id;
				} catch (e) {
					if (e.status === 401) return;
					this.h.status('offline');
					await new Promise((res) => setTimeout(res, this.backoff));
					this.backoff = Math.min(this.backoff * 2, 10000);
				}
			}
		} finally {
			this.polling = false;
		}
	}

	// Test hook: read the stream by long-poll from now on (resume() goes back
	// to the WebSocket).
	usePolling() {
		this.mode = 'poll';
		if (this.ws) { const ws = this.ws; this.ws = null; ws.close(1000); }
		this.paused = false;
		this.wanted = true;
		this.poll();
	}

	send(frame) {
		if (this.ws && this.ws.readyState === WebSocket.OPEN) {
			this.ws.send(JSON.stringify(frame));
			return true;
		}
		return false;
	}
}
