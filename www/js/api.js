// api.js — parley's REST API (docs/openapi.yaml) with transparent token refresh.
//
// The session (access + refresh token and the signed-in user) lives in
// localStorage so a reload keeps the user signed in. An access token that is
// about to expire, or a request answered 401, triggers one POST
// /api/auth/refresh (shared by concurrent callers); the request is then
// retried once with the new token. A refresh that fails ends the session.

const KEY = 'parley.session';

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message || code || `HTTP ${status}`);
		this.status = status;
		this.code = code || 'http_' + status;
	}
}

function decodeExp(jwt) {
	try {
		const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
		const json = JSON.parse(atob(part + '==='.slice((part.length + 3) % 4)));
		return typeof json.exp === 'number' ? json.exp : 0;
	} catch {
		return 0;
	}
}

export class Api {
	constructor() {
		this.session = null;
		this.refreshing = null;
		this.onSessionEnd = () => {};
		try {
			this.session = JSON.parse(localStorage.getItem(KEY) || 'null');
		} catch {
			this.session = null;
		}
	}

	get user() { return this.session ? this.session.user : null; }

	save(session) {
		this.session = session;
		if (session) localStorage.setItem(KEY, JSON.stringify(session));
		else localStorage.removeItem(KEY);
	}

	adopt(body, user) {
		this.save({
			access: body.access_token || body.token,
			refresh: body.refresh_token,
			user: body.user || user || (this.session && this.session.user),
		});
	}

	async raw(method, path, body, token) {
		const headers = { Accept: 'application/json' };
		const init = { method, headers };
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		} else if (method !== 'GET' && method !== 'HEAD') {
			init.body = ''; // lighttpd wants a Content-Length on POST
		}
		if (token) headers.Authorization = 'Bearer ' + token;
		const res = await fetch(path, init);
		let data = null;
		if (res.status !== 204) {
			const text = await res.text();
			if (text) {
				try { data = JSON.parse(text); } catch { data = null; }
			}
		}
		return { res, data };
	}

	static fail(res, data) {
		const e = data && data.error;
		throw new ApiError(res.status, e && e.code, e && e.message);
	}

	// One refresh at a time; every caller waits for the same one.
	refresh() {
		if (!this.refreshing) {
			this.refreshing = (async () => {
				const s = this.session;
				if (!s || !s.refresh) throw new ApiError(401, 'unauthorized', 'not signed in');
				const { res, data } = await this.raw('POST', '/api/auth/refresh', { refresh_token: s.refresh });
				if (!res.ok) {
					this.save(null);
					this.onSessionEnd();
					Api.fail(res, data);
				}
				this.adopt(data);
			})().finally(() => { this.refreshing = null; });
		}
		return this.refreshing;
	}

	// A valid access token, refreshed first when it expires within 30 s.
	async token() {
		if (!this.session) throw new ApiError(401, 'unauthorized', 'not signed in');
		const exp = decodeExp(this.session.access);
		if (exp && exp - Date.now() / 1000 < 30) await this.refresh();
		return this.session.access;
	}

	async call(method, path, body) {
		let { res, data } = await this.raw(method, path, body, await this.token());
		if (res.status === 401 && this.session) {
			await this.refresh();
			({ res, data } = await this.raw(method, path, body, this.session.access));
		}
		if (!res.ok) Api.fail(res, data);
		return data;
	}

	// The bytes of a file (GET /api/files/...) as a Blob: an <img src> or a
	// link cannot send the Authorization header, so the client fetches.
	async blob(path) {
		const get = async (token) => fetch(path, { headers: { Authorization: 'Bearer ' + token } });
		let res = await get(await this.token());
		if (res.status === 401 && this.session) {
			await this.refresh();
			res = await get(this.session.access);
		}
		if (!res.ok) {
			let data = null;
			try { data = await res.json(); } catch { data = null; }
			Api.fail(res, data);
		}
		return res.blob();
	}

	// Sends a file as multipart/form-data (part "file") by XMLHttpRequest,
	// for its upload progress events: onProgress(loaded, total). Returns
	// { done: Promise of the parsed answer, abort() }; an aborted upload
	// rejects with an ApiError whose code is "aborted". A 401 refreshes the
	// token once and sends again.
	upload(method, path, file, onProgress) {
		let xhr = null, aborted = false;
		const once = (token) => new Promise((resolve, reject) => {
			if (aborted) { reject(new ApiError(0, 'aborted', 'cancelled')); return; }
			xhr = new XMLHttpRequest();
			xhr.open(method, path);
			xhr.setRequestHeader('Authorization', 'Bearer ' + token);
			xhr.setRequestHeader('Accept', 'application/json');
			xhr.upload.onprogress = (e) => { if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : file.size); };
			xhr.onload = () => {
				let data = null;
				try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
				resolve({ status: xhr.status, data });
			};
			xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload did not reach the server'));
			xhr.onabort = () => reject(new ApiError(0, 'aborted', 'cancelled'));
			const form = new FormData();
			form.append('file', file, file.name || 'file');
			xhr.send(form);
		});
		const done = (async () => {
			let r = await once(await this.token());
			if (r.status === 401 && this.session && !aborted) {
				await this.refresh();
				r = await once(this.session.access);
			}
			if (r.status < 200 || r.status > 299) Api.fail({ status: r.status }, r.data);
			return r.data;
		})();
		return { done, abort: () => { aborted = true; if (xhr) xhr.abort(); } };
	}

	get(path) { return this.call('GET', path); }
	post(path, body) { return this.call('POST', path, body); }
	patch(path, body) { return this.call('PATCH', path, body); }
	put(path, body) { return this.call('PUT', path, body); }
	del(path, body) { return this.call('DELETE', path, body); }

	async register(username, password, display_name) {
		const body = { username, password };
		if (display_name) body.display_name = display_name;
		const { res, data } = await this.raw('POST', '/api/auth/register', body);
		if (!res.ok) Api.fail(res, data);
		return data;
	}

	async login(username, password) {
		const { res, data } = await this.raw('POST', '/api/auth/login', { username, password });
		if (!res.ok) Api.fail(res, data);
		this.adopt(data);
		return data.user;
	}

	async logout() {
		const s = this.session;
		if (s) {
			try {
				await this.raw('POST', '/api/auth/logout', { refresh_token: s.refresh }, s.access);
			} catch { /* signed out locally in any case */ }
		}
		this.save(null);
	}
}
