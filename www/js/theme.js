// theme.js — the colour theme: System (follows the device's light or dark
// setting), Light or Dark (issue 17). The choice is kept in localStorage
// ("parley.theme") and shown as data-theme="system|light|dark" on <html>,
// which style.css's custom properties follow. A classic script loaded
// synchronously in <head> (not a module: those run after parsing), so the
// theme is set before anything is painted — no flash of the other theme.
// It also puts the switch (a <select>) in the chat's top bar, and follows a
// change made in another tab.
(function () {
	'use strict';
	var KEY = 'parley.theme';
	var CHOICES = [['system', 'System'], ['light', 'Light'], ['dark', 'Dark']];

	function stored() {
		try {
			var v = localStorage.getItem(KEY);
			return v === 'light' || v === 'dark' ? v : 'system';
		} catch (e) {
			return 'system';
		}
	}
	function apply(v) {
		document.documentElement.setAttribute('data-theme', v);
	}
	apply(stored());

	var select = null;
	function build() {
		var bar = document.querySelector('#chat-screen .topbar');
		if (!bar || select) return;
		var label = document.createElement('label');
		label.htmlFor = 'theme-select';
		label.className = 'sr';
		label.textContent = 'Theme';
		select = document.createElement('select');
		select.id = 'theme-select';
		select.className = 'theme-select';
		select.title = 'Theme';
		CHOICES.forEach(function (c) {
			var o = document.createElement('option');
			o.value = c[0];
			o.textContent = c[1];
			select.appendChild(o);
		});
		select.value = stored();
		select.addEventListener('change', function () {
			var v = select.value;
			try {
				if (v === 'system') localStorage.removeItem(KEY);
				else localStorage.setItem(KEY, v);
			} catch (e) { /* private mode: this page only */ }
			apply(v);
		});
		var before = document.getElementById('logout');
		bar.insertBefore(label, before);
		bar.insertBefore(select, before);
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', build);
	else build();

	window.addEventListener('storage', function (e) {
		if (e.key !== KEY && e.key !== null) return;
		var v = stored();
		apply(v);
		if (select) select.value = v;
	});
}());
