// files.js — attachments and avatars. A file's bytes (GET /api/files/...)
// need the Authorization header, which <img src> and links cannot send: the
// client fetches them and shows them through blob: URLs, one per path,
// shared by every element that uses it and revoked once none of those
// elements is in the document any more. Names are only ever text or
// attribute values, never markup.

import { el, fmtSize } from './dom.js';

// The types the server sends inline, and the only ones shown as images or
// opened in a tab. Any other blob is typed application/octet-stream, so a
// blob: URL of an uploaded HTML or SVG file can never render in our origin.
export const INLINE_IMAGE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const PREVIEW_W = 320, PREVIEW_H = 240;

export class Files {
	constructor(api, report) {
		this.api = api;
		this.report = report;
		this.entries = new Map(); // path -> { users: Set of elements, url, promise }
		this.timer = null;
	}

	// A blob: URL for the file at path; `user` is the element showing it.
	url(path, user) {
		let e = this.entries.get(path);
		if (!e) {
			e = { users: new Set(), url: null, promise: null };
			e.promise = this.api.blob(path).then((b) => {
				const safe = INLINE_IMAGE.has(b.type) ? b : new Blob([b], { type: 'application/octet-stream' });
				e.url = URL.createObjectURL(safe);
				return e.url;
			});
			e.promise.catch(() => { if (this.entries.get(path) === e) this.entries.delete(path); });
			this.entries.set(path, e);
		}
		if (user) e.users.add(user);
		if (!this.timer) this.timer = setInterval(() => this.sweep(), 5000);
		return e.promise;
	}

	// Revokes the URLs no element in the document uses any more.
	sweep() {
		for (const [path, e] of this.entries) {
			for (const u of e.users) if (!u.isConnected) e.users.delete(u);
			if (!e.users.size && e.url) {
				URL.revokeObjectURL(e.url);
				this.entries.delete(path);
			}
		}
		if (!this.entries.size) { clearInterval(this.timer); this.timer = null; }
	}

	// One attachment of a message: an inline image preview (the thumbnail
	// when there is one) that opens the full image in a new tab, or a card
	// with a download button.
	attachment(f) {
		const size = fmtSize(f.size);
		if (!INLINE_IMAGE.has(f.content_type)) {
			const card = el('div', { class: 'att att-file', dataset: { fileId: f.id } },
				el('span', { class: 'att-icon', 'aria-hidden': 'true' }, '📄'),
				el('span', { class: 'att-name' }, f.name),
				el('span', { class: 'hint' }, size));
			card.append(el('button', { type: 'button', class: 'small', 'aria-label': `Download ${f.name} (${size})`,
				onclick: () => this.download(f, card) }, 'Download'));
			return card;
		}
		const dims = {};
		if (f.width > 0 && f.height > 0) {
			const k = Math.min(1, PREVIEW_W / f.width, PREVIEW_H / f.height);
			dims.width = Math.max(1, Math.round(f.width * k));
			dims.height = Math.max(1, Math.round(f.height * k));
		}
		const img = el('img', { class: 'att-img', alt: f.name, ...dims });
		const fig = el('figure', { class: 'att att-image', dataset: { fileId: f.id } });
		const open = el('button', { type: 'button', class: 'att-open', 'aria-label': `Open ${f.name} (${size}) in a new tab`,
			title: f.name, onclick: () => this.openImage(f, fig) }, img);
		fig.append(open, el('figcaption', { class: 'hint' }, el('span', { class: 'att-name' }, f.name), ' · ' + size));
		const full = () => this.url(f.url, img);
		(f.thumbnail_url ? this.url(f.thumbnail_url, img).catch(full) : full())
			.then((u) => { img.src = u; })
			.catch(() => open.replaceWith(el('span', { class: 'att-broken' }, 'image not available')));
		return fig;
	}

	async openImage(f, keeper) {
		try {
			const u = await this.url(f.url, keeper);
			el('a', { href: u, target: '_blank', rel: 'noopener' }).click();
		} catch (e) { this.report(e); }
	}

	async download(f, keeper) {
		try {
			const u = await this.url(f.url, keeper);
			const a = el('a', { href: u, download: f.name || 'file', hidden: true });
			document.body.append(a);
			a.click();
			a.remove();
		} catch (e) { this.report(e); }
	}

	// A user's avatar: their picture (a file of this server, fetched with the
	// token, or an external http(s) URL used as it is), else their initials.
	avatar(user, id, big) {
		const cls = 'avatar' + (big ? ' big' : '');
		const name = (user && (user.display_name || user.username)) || '?';
		const initials = () => el('span', { class: cls + ' initials', 'aria-hidden': 'true', dataset: { avatarUser: id } },
			initialsOf(name));
		const src = user && user.avatar_url ? String(user.avatar_url) : '';
		if (!src.startsWith('/api/files/') && !/^https?:\/\//i.test(src)) return initials();
		const img = el('img', { class: cls, alt: '', dataset: { avatarUser: id, avatarUrl: src }, referrerpolicy: 'no-referrer' });
		img.addEventListener('error', () => img.replaceWith(initials()));
		if (src.startsWith('/api/files/')) {
			this.url(src, img).then((u) => { img.src = u; }, () => img.replaceWith(initials()));
		} else {
			img.src = src;
		}
		return img;
	}
}

export function initialsOf(name) {
	const words = String(name).trim().split(/\s+/).filter(Boolean);
	return words.slice(0, 2).map((w) => (Array.from(w)[0] || '').toUpperCase()).join('') || '?';
}
