// topic.js — editing the open channel's topic in its header. Only the
// channel's owner and admins may (PATCH /api/channels/{id} {"topic"}, 403
// for others: API.md), so only they get the "Edit topic" button; Enter
// saves, Escape cancels, a refusal or an invalid topic is said next to the
// field, which stays open. Everyone else sees the change live: the
// channel.updated event sets the header's text (app.js).

import { el, setText } from './dom.js';

const TOPIC_MAX = 250; // code points (the server's limit)

export class TopicEditor {
	// topicEl: the header's topic <span>.
	// hooks: { channel(): the open channel object or null, saved(channel) }
	constructor(api, topicEl, hooks) {
		this.api = api;
		this.topicEl = topicEl;
		this.hooks = hooks;
		this.editing = null; // { id, form }
		this.button = el('button', { type: 'button', id: 'topic-edit', class: 'link small topic-edit', hidden: true,
			onclick: () => this.start() }, 'Edit topic');
		topicEl.after(this.button);
	}

	static allowed(c) {
		return !!c && c.kind !== 'dm' && (c.role === 'owner' || c.role === 'admin');
	}

	// Matches the button to the open channel (after a switch, a role
	// change, or a new channel list); an editor of another channel closes.
	render() {
		const c = this.hooks.channel();
		if (this.editing && (!c || c.id !== this.editing.id)) this.stop();
		const may = TopicEditor.allowed(c);
		this.button.hidden = !may || !!this.editing;
		setText(this.button, c && c.topic ? 'Edit topic' : 'Add a topic');
		this.button.setAttribute('aria-label', c && c.topic ? 'Edit the topic' : 'Add a topic');
	}

	start() {
		const c = this.hooks.channel();
		if (!TopicEditor.allowed(c) || this.editing) return;
		const input = el('input', { id: 'topic-input', class: 'topic-input', maxlength: TOPIC_MAX * 2,
			'aria-label': `Topic of #${c.name}`, 'aria-describedby': 'topic-help topic-error', autocomplete: 'off' });
		input.value = c.topic || '';
		const error = el('span', { id: 'topic-error', class: 'error topic-error', role: 'alert' });
		const form = el('form', { class: 'topic-form', id: 'topic-form' }, input,
			el('span', { id: 'topic-help', class: 'hint' }, 'Enter to save, Escape to cancel'), error);
		form.addEventListener('submit', (ev) => { ev.preventDefault(); this.save(c.id, input, error); });
		input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Escape') { ev.preventDefault(); ev.stopPropagation(); this.stop(true); }
		});
		this.editing = { id: c.id, form };
		this.topicEl.hidden = true;
		this.button.hidden = true;
		this.button.after(form);
		input.focus();
		input.select();
	}

	async save(id, input, error) {
		const topic = input.value.trim();
		const c = this.hooks.channel();
		if (c && c.id === id && topic === (c.topic || '')) { this.stop(true); return; }
		if ([...topic].length > TOPIC_MAX) {
			setText(error, `The topic is ${[...topic].length - TOPIC_MAX} characters too long (at most ${TOPIC_MAX}).`);
			return;
		}
		setText(error, '');
		input.disabled = true;
		try {
			const ch = await this.api.patch(`/api/channels/${id}`, { topic });
			this.hooks.saved(ch);
			if (this.editing && this.editing.id === id) this.stop(true);
		} catch (e) {
			input.disabled = false;
			input.focus();
			setText(error, e.status === 403 ? 'Only the channel\'s owner and admins can change its topic.'
				: e.status === 404 ? 'This channel is gone.'
					: e.status ? `Not saved: ${e.message}` : 'Not saved: the server cannot be reached.');
		}
	}

	// Closes the editor; `refocus`: back to the button (keyboard users).
	stop(refocus) {
		if (!this.editing) return;
		this.editing.form.remove();
		this.editing = null;
		this.topicEl.hidden = false;
		this.render();
		if (refocus && !this.button.hidden) this.button.focus();
	}
}
