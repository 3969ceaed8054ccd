// format.js — the one place where message text becomes markup.
//
// markdown-it (www/vendor/markdown-it.min.js) with raw HTML disabled
// (html: false: "<b>" stays the text "<b>") and links found in plain text
// (linkify), then DOMPurify (www/vendor/purify.min.js) over its output with
// a short allow-list: no images (markdown's image rule is off and <img> is
// not allowed), links only to http(s): and mailto:, opened in a new tab with
// rel="noopener noreferrer". Returns a DocumentFragment: nothing here or in
// the callers assigns innerHTML. Without the vendored libraries (a broken
// install) the text is shown as text.

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 's', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li',
	'a', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];
const SAFE_HREF = /^(?:https?:|mailto:)/i;

let md = null, purify = null;

function setup() {
	if (md || !globalThis.markdownit || !globalThis.DOMPurify) return !!md;
	md = globalThis.markdownit({ html: false, linkify: true, breaks: true, typographer: false });
	md.disable(['image']);
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
	return purify.sanitize(md.render(s).trim(), {
		ALLOWED_TAGS, ALLOWED_ATTR: ['href', 'target', 'rel', 'start'],
		ALLOWED_URI_REGEXP: SAFE_HREF, ALLOW_DATA_ATTR: false, RETURN_DOM_FRAGMENT: true,
	});
}
