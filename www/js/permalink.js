// permalink.js — a message's permanent address and its "Copy link" action.
// The address is <origin><path>#/c/<channel id>/m/<message id> (for the
// client served at the root: <origin>/#/c/<channel>/m/<id>), which app.js
// routes (followHash): it opens the channel at the message, and for a
// reply also its thread (js/panels.js, openedAt).

import { el } from './dom.js';

export const permalinkOf = (m) => `${location.origin}${location.pathname}#/c/${m.channel_id}/m/${m.id}`;

// Puts `text` on the clipboard: the Clipboard API where the page may use it
// (a secure context, and permission), else a selected textarea and the old
// copy command. Resolves to whether it worked.
export async function copyText(text) {
	try {
		if (navigator.clipboard && window.isSecureContext) {
			await navigator.clipboard.writeText(text);
			return true;
		}
	} catch { /* fall back below */ }
	const ta = el('textarea', { class: 'sr', readonly: true, 'aria-hidden': 'true' });
	ta.value = text;
	const had = document.activeElement;
	document.body.append(ta);
	ta.select();
	let ok = false;
	try { ok = document.execCommand('copy'); } catch { ok = false; }
	ta.remove();
	if (had && had.focus) had.focus();
	return ok;
}

// The "Copy link" action; `say` shows the outcome (a toast).
export function copyLinkEl(m, say) {
	return el('button', { type: 'button', class: 'copy-link', title: 'Copy a link to this message',
		onclick: async () => {
			const link = permalinkOf(m);
			say(await copyText(link) ? 'Link copied.' : 'Copy this link: ' + link);
		} }, 'Copy link');
}
