// welcome.js — the first screen of someone who belongs to no channel yet
// (a new user, or one who left them all): instead of an empty pane, what to
// do next — join #general when the server has it, browse the public
// channels, create a channel or start a direct message. Shown in place of
// the message list while no channel is open and the user has none.

import { el, clear } from './dom.js';

export class Welcome {
	// room: the <main> it lives in (before `before`, the message list).
	// hooks: {
	//   state(): { current, channels: iterable of channel objects, name },
	//   join(id), browse(), create(), dm(),
	// }
	constructor(room, before, hooks) {
		this.hooks = hooks;
		this.room = room;
		this.node = el('section', { id: 'welcome', class: 'welcome', 'aria-labelledby': 'welcome-title', hidden: true });
		before.before(this.node);
		this.key = '';
	}

	// Shows or hides it to match the state (called whenever the channel list
	// or the open channel changes); rebuilt only when its content changes.
	update() {
		const { current, channels, name } = this.hooks.state();
		const all = [...channels];
		const show = !current && !all.some((c) => c.role);
		this.node.hidden = !show;
		this.room.classList.toggle('welcoming', show);
		if (!show) return;
		const publics = all.filter((c) => c.kind === 'public' && !c.archived);
		const general = publics.find((c) => String(c.name).toLowerCase() === 'general');
		const key = JSON.stringify([name, publics.length, general ? [general.id, general.member_count] : null]);
		if (key === this.key) return;
		this.key = key;
		const focused = this.node.contains(document.activeElement) ? document.activeElement.id : null;
		clear(this.node).append(...[
			el('h2', { id: 'welcome-title' }, `Welcome to parley, ${name}!`),
			el('p', {}, 'You are not in any channel yet. Channels are where conversations happen: join one to read along and talk.'),
			el('div', { class: 'welcome-actions' },
				general ? el('button', { type: 'button', class: 'primary', id: 'welcome-join-general',
					onclick: () => this.hooks.join(general.id) }, 'Join #' + general.name) : null,
				publics.length ? el('button', { type: 'button', id: 'welcome-browse', class: general ? null : 'primary',
					onclick: () => this.hooks.browse() }, `Browse channels (${publics.length})`) : null,
				el('button', { type: 'button', id: 'welcome-create', class: publics.length ? null : 'primary',
					onclick: () => this.hooks.create() }, 'Create a channel'),
				el('button', { type: 'button', id: 'welcome-dm', onclick: () => this.hooks.dm() }, 'Message someone directly')),
			general ? el('p', { class: 'hint' }, `#${general.name} has ${members(general.member_count)}`
				+ (general.topic ? ': ' + general.topic : '.')) : null,
			!publics.length ? el('p', { class: 'hint' }, 'There are no public channels yet: yours can be the first.') : null,
		].filter(Boolean));
		if (focused) document.getElementById(focused)?.focus();
	}
}

export const members = (n) => `${n || 0} ${n === 1 ? 'member' : 'members'}`;
