// format.js — the one place where message text becomes markup.
//
// markdown-it (www/vendor/markdown-it.min.js) with raw HTML disabled
// (html: false: "<b>" stays the text "<b>") and links found in plain text
// (linkify), then DOMPurify (www/vendor/purify.min.js) over its output with
// a short allow-list: no images (markdown's image rule is off and <img> is
// not allowed), links only to http(s): and mailto:, opened in a new tab with
// rel="noopener noreferrer". :shortcodes: become emoji (the vendored
// markdown-it-emoji plugin with its table, js/emoji.js; names only, no
// emoticons such as ":)"); the plugin's tokens are plain text, escaped and
// sanitized like the rest. After sanitizing, @mentions in the text nodes
// (not in code or links) are wrapped, by DOM calls, in <span class=mention>,
// or <mark class="mention me"> for the signed-in user (setSelf()).
// Returns a DocumentFragment: nothing here or in the callers assigns
// innerHTML. Without the vendored libraries (a broken install) the text is
// shown as text.

import { DEFS } from './emoji.js';

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 's', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li',
	'a', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];
const SAFE_HREF = /^(?:https?:|mailto:)/i;

let md = null, purify = null, self = '';

// The signed-in user's name: their mentions are highlighted.
export function setSelf(username) { self = String(username || '').toLowerCase(); }

function setup() {
	if (md || !globalThis.markdownit || !globalThis.DOMPurify) return !!md;
	md = globalThis.markdownit({ html: false, linkify: true, breaks: true, typographer: false });
	md.disable(['image']);
	if (globalThis.markdownitEmoji) md.use(globalThis.markdownitEmoji, { defs: DEFS, shortcuts: {} });
	// No link to anything but the web and mail (markdown-it already refuses
	// javascript:, vbscript:, file: and data: links; this is the whitelist).
	md.validateLink = (url) => SAFE_HREF.test(url.trim());
	purify = globalThis.DOMPurify;
	purify.addHook('afterSanitizeAttributes', (node) => {
		if (node.nodeName !== 'A') return;
		const href = node.getAttribute('href');
		if (!href || !SAFE_HREF.test(href)) {
			node.removeAttribute('href');
		} else {
			node.setAttribute('target', '_blank');
			node.setAttribute('rel', 'noopener noreferrer');
		}
	});
	return true;
}

// A message's content as a DocumentFragment of sanitized formatting.
export function formatMessage(text) {
	const s = String(text ?? '');
	if (!setup()) {
		const f = document.createDocumentFragment();
		f.append(document.createTextNode(s));
		return f;
	}
	const frag = purify.sanitize(md.render(s).trim(), {
		ALLOWED_TAGS, ALLOWED_ATTR: ['href', 'target', 'rel', 'start'],
		ALLOWED_URI_REGEXP: SAFE_HREF, ALLOW_DATA_ATTR: false, RETURN_DOM_FRAGMENT: true,
	});
	markMentions(frag);
	return frag;
}

// @name as the server reads it (lib/notifications.c, pl_mention_next): an
// "@" not after a name character, then name characters without trailing
// dots and dashes, 1-32 of them.
const MENTION = /(^|[^A-Za-z0-9_.-])@([A-Za-z0-9_.-]+)/g;

// Wraps the mentions in the fragment's text nodes; the names stay text.
function markMentions(frag) {
	const walker = document.createTreeWalker(frag, NodeFilter.SHOW_TEXT, {
		acceptNode: (n) => (n.parentElement && n.parentElement.closest('code, pre, a')
			? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
	});
	const nodes = [];
	for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.includes('@')) nodes.push(n);
	for (const n of nodes) {
		const text = n.data, parts = [];
		let last = 0;
		for (const m of text.matchAll(MENTION)) {
			const name = m[2].replace(/[.-]+$/, '');
			if (!name || name.length > 32) continue;
			const at = m.index + m[1].length;
			if (at > last) parts.push(document.createTextNode(text.slice(last, at)));
			const mine = self && name.toLowerCase() === self;
			const tag = document.createElement(mine ? 'mark' : 'span');
			tag.className = mine ? 'mention me' : 'mention';
			if (mine) tag.title = 'Mentions you';
			tag.textContent = '@' + name;
			parts.push(tag);
			last = at + 1 + name.length;
		}
		if (!parts.length) continue;
		if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
		n.replaceWith(...parts);
	}
}
