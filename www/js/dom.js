// dom.js — builds elements. User text only ever goes in as text nodes
// (never innerHTML), so a message such as <img src=x onerror=...> shows as
// those characters and runs nothing.

export const $ = (id) => document.getElementById(id);

// el('button', {class: 'x', type: 'button', onclick: fn, dataset: {id: 1}}, 'text', child, ...)
export function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
		else if (k === 'dataset') Object.assign(e.dataset, v);
		else if (k === 'class') e.className = v;
		else e.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

export function clear(e) {
	while (e.firstChild) e.removeChild(e.firstChild);
	return e;
}

export function setText(e, text) {
	e.textContent = text === null || text === undefined ? '' : String(text);
}

export function fmtTime(iso) {
	const d = new Date(iso);
	if (isNaN(d)) return '';
	const now = new Date();
	const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
	return d.toDateString() === now.toDateString() ? t : d.toLocaleDateString() + ' ' + t;
}

// A client_msg_id: random, 1-64 bytes (crypto.randomUUID needs a secure context).
export function newClientId() {
	const b = new Uint8Array(16);
	crypto.getRandomValues(b);
	return 'c-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// A byte count for people: 512 B, 1.5 KB, 23 MB (powers of 1024).
export function fmtSize(n) {
	const units = ['B', 'KB', 'MB', 'GB', 'TB'];
	let i = 0;
	n = Number(n) || 0;
	while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
	return (i === 0 || n >= 10 ? Math.round(n) : Math.round(n * 10) / 10) + ' ' + units[i];
}
