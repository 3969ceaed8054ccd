// picker.js — the reaction picker: the six quick reactions, then every emoji
// of the vendored shortcode table (js/emoji.js) by category or by searching
// its names ("heart" finds ❤️ first, then 😍, 💔 and more; "unic" finds 🦄).
//
// Keyboard: the focus starts in the search box and stays there while
// ArrowDown / ArrowUp move by rows and ArrowLeft / ArrowRight by one through
// the grid (a role="listbox" named by aria-activedescendant, the same
// pattern as js/autocomplete.js); Enter reacts with the active emoji (the
// first match while searching), Escape closes. The category buttons and
// the quick reactions are ordinary buttons in the tab order. Text goes in
// as text.

import { emojiCategories, searchEmoji } from './emoji.js';

export const QUICK = ['👍', '❤️', '😂', '🎉', '👀', '🙏'];
const COLS = 8;  // the grid's columns (style.css: .picker-grid)
let pickers = 0;

function node(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (k === 'class') e.className = v;
		else if (k === 'text') e.textContent = v;
		else e.setAttribute(k, v);
	}
	e.append(...kids);
	return e;
}

// A picker element; pick(emoji) when one is chosen, close() on Escape.
export function emojiPicker({ pick, close }) {
	const id = 'picker-' + ++pickers;
	const root = node('div', { class: 'picker', role: 'group', 'aria-label': 'Pick a reaction' });
	const quick = node('div', { class: 'picker-quick', role: 'group', 'aria-label': 'Quick reactions' },
		...QUICK.map((e) => {
			const b = node('button', { type: 'button', text: e });
			b.addEventListener('click', () => pick(e));
			return b;
		}));
	const search = node('input', { type: 'search', class: 'picker-search', placeholder: 'Search emoji',
		'aria-label': 'Search emoji', 'aria-autocomplete': 'list', 'aria-controls': id + '-grid', autocomplete: 'off',
		spellcheck: 'false' });
	const cats = node('div', { class: 'picker-cats', role: 'group', 'aria-label': 'Categories' });
	const grid = node('ul', { class: 'picker-grid', role: 'listbox', id: id + '-grid' });
	const label = node('p', { class: 'picker-label hint', 'aria-hidden': 'true' });
	root.append(quick, search, cats, grid, label);

	let items = [], active = -1, cat = 0;
	const categories = emojiCategories();

	function render(list, name) {
		items = list;
		active = -1;
		grid.setAttribute('aria-label', name);
		grid.replaceChildren(...list.map((it, i) => {
			const li = node('li', { role: 'option', id: `${id}-${i}`, class: 'picker-emoji', title: `:${it.name}:`,
				'aria-label': it.name.replace(/_/g, ' '), 'aria-selected': 'false', text: it.char });
			li.addEventListener('mousedown', (ev) => ev.preventDefault());
			li.addEventListener('click', () => pick(it.char));
			li.addEventListener('mousemove', () => setActive(i, false));
			return li;
		}));
		if (!list.length) grid.append(node('li', { class: 'picker-none', role: 'presentation', text: 'No emoji found' }));
		search.removeAttribute('aria-activedescendant');
		label.textContent = '';
	}

	function setActive(i, scroll = true) {
		if (grid.children[active]) grid.children[active].setAttribute('aria-selected', 'false');
		active = i;
		const li = grid.children[i];
		if (!li || !items[i]) { search.removeAttribute('aria-activedescendant'); label.textContent = ''; return; }
		li.setAttribute('aria-selected', 'true');
		search.setAttribute('aria-activedescendant', li.id);
		label.textContent = `${items[i].char} :${items[i].name}:`;
		if (scroll) li.scrollIntoView({ block: 'nearest' });
	}

	function showCategory(i) {
		cat = i;
		[...cats.children].forEach((b, j) => b.setAttribute('aria-pressed', String(j === i)));
		render(categories[i].items, categories[i].name);
	}

	categories.forEach((c, i) => {
		const b = node('button', { type: 'button', class: 'picker-cat', title: c.name, 'aria-label': c.name, text: c.icon });
		b.addEventListener('click', () => { search.value = ''; showCategory(i); search.focus(); });
		cats.append(b);
	});

	search.addEventListener('input', () => {
		const q = search.value.trim();
		if (!q) { showCategory(cat); return; }
		[...cats.children].forEach((b) => b.setAttribute('aria-pressed', 'false'));
		render(searchEmoji(q, 96), `Emoji matching ${q}`);
		if (items.length) setActive(0);
	});

	search.addEventListener('keydown', (ev) => {
		const n = items.length;
		let handled = true;
		if (ev.key === 'ArrowDown' && n) setActive(active < 0 ? 0 : Math.min(n - 1, active + COLS));
		else if (ev.key === 'ArrowUp' && n && active >= 0) setActive(active - COLS >= 0 ? active - COLS : -1);
		else if (ev.key === 'ArrowRight' && active >= 0) setActive(Math.min(n - 1, active + 1));
		else if (ev.key === 'ArrowLeft' && active >= 0) setActive(Math.max(0, active - 1));
		else if (ev.key === 'Enter') {
			// The active emoji; while searching, the first match.
			const it = items[active >= 0 ? active : search.value.trim() ? 0 : -1];
			if (it) pick(it.char);
		}
		else handled = false;
		if (handled) ev.preventDefault();
	});

	root.addEventListener('keydown', (ev) => {
		if (ev.key !== 'Escape') return;
		ev.preventDefault();
		ev.stopPropagation();
		close();
	});

	showCategory(0);
	return root;
}
