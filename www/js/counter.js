// counter.js — the message length limit, for every box that edits a
// message (the composer and the edit box): a counter shown near the limit
// (red over it) and the refusal of a text over it, which is never cut — the
// text stays in the box to be shortened.

export const MAX_CHARS = 4000;   // code points after trimming (API.md)
const COUNT_FROM = 500;          // the counter shows when this few are left

// The length the server checks: code points after trimming.
export const charCount = (text) => [...String(text).trim()].length;

const chars = (n) => `${n} ${n === 1 ? 'character' : 'characters'}`;

// Updates the counter `countEl` for the text of `input`; clears a
// "too long" refusal shown in `errorEl` once the text fits again.
// Returns the characters left (negative: over the limit).
export function renderCount(input, countEl, errorEl) {
	const left = MAX_CHARS - charCount(input.value);
	countEl.hidden = left > COUNT_FROM;
	countEl.classList.toggle('over', left < 0);
	countEl.textContent = left >= 0 ? `${chars(left)} left` : `${chars(-left)} over the limit of ${MAX_CHARS}`;
	if (left >= 0 && errorEl && errorEl.dataset.tooLong) {
		errorEl.textContent = '';
		delete errorEl.dataset.tooLong;
	}
	return left;
}

// Whether `text` is over the limit; if so, says so in `errorEl` and puts
// the focus back in `input` (whose text is left as it is).
export function refuseTooLong(text, input, errorEl) {
	const n = charCount(text);
	if (n <= MAX_CHARS) return false;
	errorEl.textContent = `This message is ${chars(n - MAX_CHARS)} too long: at most ${MAX_CHARS} can be sent (it has ${n}).`;
	errorEl.dataset.tooLong = '1';
	input.focus();
	return true;
}
