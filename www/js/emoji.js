// emoji.js — the emoji shortcodes (:tada: -> 🎉) from the vendored
// markdown-it-emoji table (www/vendor/markdown-it-emoji-data.js: GitHub's
// names, in Unicode's category order), for the message renderer
// (js/format.js), the composer's :shortcode suggestions (js/autocomplete.js)
// and the reaction picker's search and categories (js/picker.js). No emoji
// table of our own: only the names where the categories begin.

import DEFS from '../vendor/markdown-it-emoji-data.js';

export { DEFS };

// Where each category begins in the table's order (the first name of each).
const STARTS = [
	['Smileys', '😀', 'grinning'], ['People', '👋', 'wave'], ['Nature', '🐵', 'monkey_face'],
	['Food', '🍇', 'grapes'], ['Travel', '🌍', 'earth_africa'], ['Activities', '🎃', 'jack_o_lantern'],
	['Objects', '💡', 'eyeglasses'], ['Symbols', '🔣', 'atm'], ['Flags', '🏁', 'checkered_flag'],
];

// All names, in the table's order (numeric names such as "100" come first
// in a JS object; they are symbols).
const NAMES = Object.keys(DEFS);

// [{ name, icon, items: [{ name, char, names }] }], each emoji once (with
// its first name; `names` lists its aliases: "+1", "thumbsup").
let categories = null;
export function emojiCategories() {
	if (categories) return categories;
	const seen = new Map();
	categories = STARTS.map(([name, icon]) => ({ name, icon, items: [] }));
	let cat = 0;
	const numeric = [];
	for (const n of NAMES) {
		const next = STARTS.findIndex((s) => s[2] === n);
		if (next >= 0) cat = next;
		const ch = DEFS[n];
		if (seen.has(ch)) { seen.get(ch).names.push(n); continue; }
		const item = { name: n, char: ch, names: [n] };
		seen.set(ch, item);
		(/^\d+$/.test(n) ? numeric : categories[cat].items).push(item);
	}
	categories[categories.length - 2].items.push(...numeric);
	return categories;
}

// Emoji whose names match `query` (lower case; spaces as "_"): the name
// itself first, then names that begin with it, then names with a word that
// begins with it, then names containing it; each emoji once.
// [{ name, char }], at most `limit`.
export function searchEmoji(query, limit = 60) {
	const q = String(query).trim().toLowerCase().replace(/\s+/g, '_');
	if (!q) return [];
	const ranks = [[], [], [], []];
	for (const n of NAMES) {
		const i = n.indexOf(q);
		if (i < 0) continue;
		ranks[n === q ? 0 : i === 0 ? 1 : n[i - 1] === '_' ? 2 : 3].push(n);
	}
	const out = [], seen = new Set();
	for (const n of ranks.flat()) {
		const ch = DEFS[n];
		if (seen.has(ch)) continue;
		seen.add(ch);
		out.push({ name: n, char: ch });
		if (out.length >= limit) break;
	}
	return out;
}

// Shortcodes that begin with `prefix`, for the composer (every name: the
// writer may be typing an alias), the exact name first. [{ name, char }], at most `limit`.
export function shortcodesFor(prefix, limit = 8) {
	const p = String(prefix).toLowerCase();
	const out = Object.hasOwn(DEFS, p) ? [{ name: p, char: DEFS[p] }] : [];
	for (const n of NAMES) {
		if (out.length >= limit) break;
		if (n !== p && n.startsWith(p)) out.push({ name: n, char: DEFS[n] });
	}
	return out;
}
