// notify.js — desktop notifications and a sound for new mentions, replies
// and direct messages that arrive while the tab is hidden
// (document.visibilityState), and the settings behind them.
//
// Politeness: the browser's permission is asked only from a click — the
// dismissible banner "Enable desktop notifications" or the toggle in the
// notifications panel — never on load. Settings live in localStorage
// ("parley.notify": {desktop, sound, dismissed}); desktop notifications are
// on once the permission is granted unless turned off here, the sound is off
// until turned on. A notification's title names the author and the channel
// or DM; its body is plain text (the message's text without its markup,
// never HTML); clicking it focuses the window and jumps to the message. The
// sound is two short sine tones made with WebAudio (no asset).

import { el, setText } from './dom.js';

const KEY = 'parley.notify';
const EXCERPT = 180; // code points in a notification's body

const supported = () => typeof window.Notification === 'function';
const permission = () => (supported() ? window.Notification.permission : 'unsupported');

// The text of formatted message content (a DocumentFragment from
// js/format.js), blocks and line breaks as spaces, shortened.
export function plainText(fragment, max = EXCERPT) {
	const copy = fragment.cloneNode(true);
	for (const b of copy.querySelectorAll('br, p, li, pre, blockquote, h1, h2, h3, h4, h5, h6, tr, td, th')) {
		b.after(document.createTextNode(' '));
	}
	const text = copy.textContent.replace(/\s+/g, ' ').trim();
	const cps = [...text];
	return cps.length > max ? cps.slice(0, max - 1).join('').trimEnd() + '…' : text;
}

export class Notifier {
	// hooks: {
	//   title(n): Promise<string> — who wrote it, and where,
	//   body(message): string — its plain text,
	//   open(n) — show the notification's message (the jump-to-message code),
	//   say(text) — a short message to the user (a toast),
	// }
	constructor(hooks) {
		this.hooks = hooks;
		this.settings = this.load();
		this.seen = new Set();   // notification ids already announced
		this.audio = null;       // the AudioContext, made on a user gesture
		this.banner = null;
		// Browsers start audio only after a user gesture: the first click or
		// key of the page unlocks it when the sound is on.
		const unlock = () => { if (this.settings.sound) this.audioContext(); };
		document.addEventListener('pointerdown', unlock, { capture: true, once: true });
		document.addEventListener('keydown', unlock, { capture: true, once: true });
	}

	load() {
		try {
			const s = JSON.parse(localStorage.getItem(KEY) || '{}');
			return s && typeof s === 'object' ? s : {};
		} catch { return {}; }
	}

	save(change) {
		this.settings = { ...this.settings, ...change };
		try { localStorage.setItem(KEY, JSON.stringify(this.settings)); } catch { /* private mode: this page only */ }
	}

	// Desktop notifications will show: the browser allows them and the user
	// has not turned them off here.
	desktopOn() {
		return permission() === 'granted' && this.settings.desktop !== false;
	}

	/* ---------- asking ---------- */

	// Asks the browser (call from a click only). Returns whether granted.
	async ask() {
		if (!supported()) {
			this.hooks.say(window.isSecureContext ? 'This browser has no desktop notifications.'
				: 'Desktop notifications need parley to be served over HTTPS.');
			return false;
		}
		let p = permission();
		if (p === 'default') {
			try { p = await window.Notification.requestPermission(); } catch { p = permission(); }
		}
		if (p === 'granted') {
			this.save({ desktop: true, dismissed: true });
		} else {
			this.save({ desktop: false });
			this.hooks.say(p === 'denied'
				? 'Desktop notifications are blocked for this site: allow them in the browser\'s site settings.'
				: 'Desktop notifications were not allowed.');
		}
		this.renderBanner();
		return p === 'granted';
	}

	// The banner above the messages, while the browser has not been asked
	// and the user has not said "Not now". `after`: the element it follows.
	mountBanner(after) {
		this.bannerHome = after;
		this.renderBanner();
	}

	renderBanner() {
		const want = supported() && permission() === 'default' && !this.settings.dismissed && this.settings.desktop !== false;
		if (!want) { this.banner?.remove(); this.banner = null; return; }
		if (this.banner || !this.bannerHome) return;
		this.banner = el('div', { class: 'notify-banner', role: 'region', 'aria-label': 'Desktop notifications' },
			el('span', {}, 'Get a desktop notification when someone mentions you, replies to you or writes to you directly while parley is in the background.'),
			el('button', { type: 'button', class: 'primary small', id: 'notify-enable', onclick: () => this.ask() },
				'Enable desktop notifications'),
			el('button', { type: 'button', class: 'small', id: 'notify-dismiss', onclick: () => { this.save({ dismissed: true }); this.renderBanner(); } },
				'Not now'));
		this.bannerHome.after(this.banner);
	}

	/* ---------- the settings (in the notifications panel) ---------- */

	// A list item with the two toggles.
	settingsItem() {
		const state = el('span', { class: 'hint notify-state', role: 'status' });
		const desktop = el('input', { type: 'checkbox', id: 'notify-desktop' });
		const sound = el('input', { type: 'checkbox', id: 'notify-sound' });
		const show = () => {
			desktop.checked = this.desktopOn();
			desktop.disabled = !supported();
			sound.checked = !!this.settings.sound;
			const p = permission();
			setText(state, p === 'unsupported' ? (window.isSecureContext ? 'This browser has no desktop notifications.'
				: 'Desktop notifications need parley to be served over HTTPS.')
				: p === 'denied' ? 'Blocked in the browser\'s site settings.' : '');
		};
		desktop.addEventListener('change', async () => {
			if (desktop.checked) await this.ask();
			else { this.save({ desktop: false }); this.renderBanner(); }
			show();
		});
		sound.addEventListener('change', () => {
			this.save({ sound: sound.checked });
			if (sound.checked) this.beep(); // a sample, and the click unlocks the audio
			show();
		});
		show();
		return el('li', { class: 'notify-settings' },
			el('label', { class: 'toggle' }, desktop, ' Desktop notifications while parley is in the background'),
			el('label', { class: 'toggle' }, sound, ' Play a sound'),
			state);
	}

	/* ---------- announcing ---------- */

	// A new notification (the `notification` event): mention, reply or dm.
	async notify(n) {
		if (!n || !n.message || n.read || this.seen.has(n.id)) return;
		if (document.visibilityState !== 'hidden') return; // the reader sees the badge
		this.seen.add(n.id);
		if (this.settings.sound) this.beep();
		if (!this.desktopOn()) return;
		let title = 'parley';
		try { title = await this.hooks.title(n); } catch { /* the generic title */ }
		let note;
		try {
			note = new window.Notification(title, {
				body: this.hooks.body(n.message), tag: 'parley-notification-' + n.id, icon: 'favicon.ico',
			});
		} catch (e) {
			console.warn('no desktop notification:', e); // e.g. browsers that want a service worker
			return;
		}
		note.addEventListener('click', () => {
			window.focus();
			note.close();
			this.hooks.open(n);
		});
	}

	audioContext() {
		const AC = window.AudioContext || window.webkitAudioContext;
		if (!AC) return null;
		if (!this.audio) {
			try { this.audio = new AC(); } catch { return null; }
		}
		if (this.audio.state === 'suspended') this.audio.resume().catch(() => {});
		return this.audio;
	}

	// Two soft rising tones, a quarter of a second in all.
	beep() {
		const ctx = this.audioContext();
		if (!ctx) return;
		const t = ctx.currentTime + 0.01;
		[880, 1320].forEach((freq, i) => {
			const start = t + i * 0.12;
			const osc = ctx.createOscillator(), gain = ctx.createGain();
			osc.type = 'sine';
			osc.frequency.value = freq;
			gain.gain.setValueAtTime(0.0001, start);
			gain.gain.exponentialRampToValueAtTime(0.12, start + 0.02);
			gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.11);
			osc.connect(gain).connect(ctx.destination);
			osc.start(start);
			osc.stop(start + 0.12);
		});
	}
}
