// channel-browser.js — the "Browse channels" dialog: every public channel
// (GET /api/channels lists them all, joined or not: API.md) with its topic
// and member count, a filter box (name and topic, as you type), and Join
// (or Open, for a channel already joined) on each; joining opens the channel
// and closes the dialog. A modal <dialog>: Escape or Close leaves it.

import { el, clear, setText } from './dom.js';
import { members } from './welcome.js';

export class ChannelBrowser {
	// hooks: { join(id): Promise<bool> (joins and opens it; false: failed, said why), open(id) }
	constructor(api, hooks) {
		this.api = api;
		this.hooks = hooks;
		this.channels = [];
		this.filter = el('input', { type: 'text', role: 'searchbox', id: 'browse-filter', placeholder: 'Filter by name or topic',
			'aria-label': 'Filter channels', autocomplete: 'off', maxlength: 80 });
		this.count = el('p', { class: 'hint browse-count', role: 'status', 'aria-live': 'polite' });
		this.list = el('ul', { class: 'browse-channels', id: 'browse-channels', 'aria-label': 'Public channels' });
		this.dialog = el('dialog', { id: 'channel-browser', class: 'channel-browser', 'aria-labelledby': 'browse-title' },
			el('div', { class: 'browse-head' },
				el('h2', { id: 'browse-title' }, 'Browse channels'),
				el('button', { type: 'button', class: 'icon', id: 'browse-close', title: 'Close',
					onclick: () => this.dialog.close() }, '✕', el('span', { class: 'sr' }, 'Close'))),
			this.filter, this.count, this.list);
		this.filter.addEventListener('input', () => this.render());
		document.body.append(this.dialog);
	}

	async show() {
		if (!this.dialog.open) this.dialog.showModal();
		this.filter.focus();
		setText(this.count, 'Loading…');
		try {
			const data = await this.api.get('/api/channels');
			this.channels = data.channels.filter((c) => c.kind === 'public')
				.sort((a, b) => String(a.name).localeCompare(String(b.name)));
			this.render();
		} catch (e) {
			setText(this.count, 'The channels could not be loaded: ' + e.message);
		}
	}

	render() {
		const q = this.filter.value.trim().toLowerCase();
		const shown = this.channels.filter((c) => !q || String(c.name).toLowerCase().includes(q)
			|| String(c.topic || '').toLowerCase().includes(q));
		clear(this.list);
		for (const c of shown) this.list.append(this.item(c));
		setText(this.count, !this.channels.length ? 'There are no public channels yet.'
			: !shown.length ? `No channel matches “${this.filter.value.trim()}”.`
				: q ? `${shown.length} of ${this.channels.length} channels` : `${shown.length} ${shown.length === 1 ? 'channel' : 'channels'}`);
	}

	item(c) {
		const joined = !!c.role;
		const btn = el('button', { type: 'button', class: joined ? 'small' : 'primary small',
			'aria-label': (joined ? 'Open #' : 'Join #') + c.name }, joined ? 'Open' : 'Join');
		btn.addEventListener('click', async () => {
			if (joined) { this.dialog.close(); this.hooks.open(c.id); return; }
			btn.disabled = true;
			if (await this.hooks.join(c.id)) this.dialog.close();
			else btn.disabled = false; // the hook said why
		});
		return el('li', { class: 'browse-item', dataset: { channelId: c.id } },
			el('div', { class: 'browse-info' },
				el('span', { class: 'browse-name' }, '#' + c.name),
				el('span', { class: 'hint' }, ' · ' + members(c.member_count) + (joined ? ' · joined' : '') + (c.archived ? ' · archived' : '')),
				c.topic ? el('div', { class: 'browse-topic' }, c.topic) : null),
			btn);
	}
}
